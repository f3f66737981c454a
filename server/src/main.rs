//! `guestmem-server PLUGIN_DIR`: serves every guestmem module of a directory over HTTP
//! (server/README.md).

use std::process::ExitCode;
use std::sync::Arc;

use guestmem_server::{Config, Plugins, router};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(args.first().map(String::as_str), Some("-h" | "--help")) {
        println!("{}", guestmem_server::USAGE);
        return ExitCode::SUCCESS;
    }
    let config = match Config::parse(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("guestmem-server: {message}\n\n{}", guestmem_server::USAGE);
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("guestmem-server: the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("guestmem-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let plugins = Arc::new(Plugins::load(&config)?);
    let app = router(Arc::clone(&plugins), &config);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|error| format!("{}: {error}", config.addr))?;
    let addr = listener.local_addr().map_err(|error| error.to_string())?;
    tracing::info!(%addr, plugins = plugins.served().count(), "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            // Ends on Ctrl-C; the requests in flight are answered first.
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|error| error.to_string())
}
