//! Hosts the `greet` example guest on tokio: its salutation is an async host function that looks
//! the calling tenant up in a "database" (a sleep stands in for the query), and many tenants'
//! instances are called at once from tasks on a multi-threaded runtime.
//! `cargo run -p guestmem-host --features async --example async_greet --
//! target/wasm32-unknown-unknown/guest/greet.wasm`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use guestmem_host::{GuestmemCtx, GuestmemView, HostFunctions, Plugin};
use wasmtime::{Engine, Linker, Store};

/// Each store's data: the tenant calling, the database, and guestmem's state.
struct Tenant {
    name: String,
    salutations: Arc<HashMap<&'static str, &'static str>>,
    guestmem: GuestmemCtx,
}

impl GuestmemView for Tenant {
    fn guestmem(&mut self) -> &mut GuestmemCtx {
        &mut self.guestmem
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: async_greet GREET.wasm")?;
    let engine = Engine::default();
    let plugin = Plugin::from_file(&engine, path)?;
    let mut linker = Linker::new(&engine);
    HostFunctions::new_async(&mut linker)?
        // Runs at once with the caller's data; the guest waits for its future.
        .func_async("env", "salutation", |tenant: &mut Tenant| {
            let found = tenant.salutations.get(tenant.name.as_str()).copied();
            let name = tenant.name.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await; // the query
                found
                    .map(str::to_owned)
                    .ok_or_else(|| format!("no salutation for {name}"))
            }
        })?
        .func("env", "log", |line: &str| println!("log: {line}"))?
        .check(
            plugin
                .interface()
                .ok_or("greet.wasm has an interface section")?,
        )?;
    let linker = Arc::new(linker);

    let salutations = Arc::new(HashMap::from([("ada", "Hello"), ("grace", "Ahoy")]));
    let mut tasks = Vec::new();
    for name in ["ada", "grace", "alan"] {
        let (engine, plugin, linker) = (engine.clone(), plugin.clone(), Arc::clone(&linker));
        let tenant = Tenant {
            name: name.to_owned(),
            salutations: Arc::clone(&salutations),
            guestmem: GuestmemCtx::default(),
        };
        tasks.push(tokio::spawn(async move {
            let store = Store::new(&engine, tenant);
            let mut guest = plugin.instantiate_async(store, &linker).await?;
            let greeting = guest.call_string_async("greet", &[b"guestmem"]).await;
            let live = guest.live_blocks_async().await?;
            Ok::<_, guestmem_host::Error>((name, greeting, live))
        }));
    }
    for task in tasks {
        let (name, greeting, live) = task.await??;
        match greeting {
            Ok(greeting) => println!("{name}: {greeting}"),
            Err(error) => println!("{name}: {error}"),
        }
        assert_eq!(live, Some(0), "no block left behind");
    }
    Ok(())
}
