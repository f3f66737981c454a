//! The server's settings, from its command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What the server serves and how.
#[derive(Clone, Debug)]
pub struct Config {
    /// The directory whose `.wasm` files are the plugins.
    pub plugins: PathBuf,
    /// The address to listen on.
    pub addr: SocketAddr,
    /// The longest a call may run: longer is a 504.
    pub deadline: Duration,
    /// How long a request waits for an instance when all are busy: longer is a 503.
    pub checkout_timeout: Duration,
    /// Instances per plugin, at most.
    pub max_instances: u32,
    /// An instance whose linear memory is past this many 64 KiB pages after a call is recycled.
    pub recycle_above_pages: u64,
    /// The most linear memory an instance may have, in bytes.
    pub max_memory: usize,
    /// The longest request body, in bytes: longer is a 413.
    pub max_body: usize,
    /// Serves the built-in `native` plugin too: `upper` in Rust, no wasm at all (the load
    /// test's limit).
    pub native: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            plugins: PathBuf::from("plugins"),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            deadline: Duration::from_millis(1000),
            checkout_timeout: Duration::from_millis(1000),
            max_instances: 8,
            recycle_above_pages: 256,
            max_memory: 256 << 20,
            max_body: 2 << 20,
            native: false,
        }
    }
}

/// The command line's help.
pub const USAGE: &str = "\
usage: guestmem-server [OPTIONS] PLUGIN_DIR

Serves every guestmem module (*.wasm) of PLUGIN_DIR:
  POST /plugins/{plugin}/{export}   call an export with the request body as its input
  GET  /plugins                     the plugins and their interfaces, as JSON
  GET  /metrics                     the pools' metrics, in the Prometheus text format

options (defaults in brackets):
  --addr ADDR                 listen on ADDR [127.0.0.1:8080]
  --deadline-ms N             a call running longer is ended with 504 [1000]
  --checkout-timeout-ms N     a request waiting longer for an instance gets 503 [1000]
  --max-instances N           instances per plugin [8]
  --recycle-above-pages N     recycle an instance above N 64 KiB pages after a call [256]
  --max-memory-mib N          linear memory an instance may have [256]
  --max-body-bytes N          a longer request body gets 413 [2097152]
  --native                    also serve the plugin `native`: upper in Rust, no wasm";

impl Config {
    /// Reads the command line's arguments (without the program's name).
    ///
    /// # Errors
    ///
    /// What is wrong with them, for the user.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut config = Self::default();
        let mut dir = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| format!("{name} needs a value"))
                    .cloned()
            };
            match arg.as_str() {
                "--addr" => {
                    let text = value(arg)?;
                    config.addr = text
                        .parse()
                        .map_err(|_| format!("--addr: not an address: {text}"))?;
                }
                "--deadline-ms" => {
                    config.deadline = Duration::from_millis(number(arg, &value(arg)?)?)
                }
                "--checkout-timeout-ms" => {
                    config.checkout_timeout = Duration::from_millis(number(arg, &value(arg)?)?);
                }
                "--max-instances" => {
                    config.max_instances = u32::try_from(number(arg, &value(arg)?)?)
                        .map_err(|_| "--max-instances: too many".to_owned())?
                        .max(1);
                }
                "--recycle-above-pages" => config.recycle_above_pages = number(arg, &value(arg)?)?,
                "--max-memory-mib" => {
                    config.max_memory = usize::try_from(number(arg, &value(arg)?)?)
                        .ok()
                        .and_then(|mib| mib.checked_mul(1 << 20))
                        .filter(|bytes| *bytes <= 4 << 30)
                        .ok_or_else(|| "--max-memory-mib: at most 4096".to_owned())?;
                }
                "--max-body-bytes" => {
                    config.max_body = usize::try_from(number(arg, &value(arg)?)?)
                        .map_err(|_| "--max-body-bytes: too large".to_owned())?;
                }
                "--native" => config.native = true,
                option if option.starts_with('-') => {
                    return Err(format!("unknown option {option}"));
                }
                path if dir.is_none() => dir = Some(PathBuf::from(path)),
                extra => return Err(format!("one plugin directory only, not also {extra}")),
            }
        }
        config.plugins = dir.ok_or("no plugin directory given")?;
        Ok(config)
    }
}

fn number(option: &str, text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{option}: not a whole number: {text}"))
}

#[cfg(test)]
mod tests {
    use super::Config;

    fn parse(args: &[&str]) -> Result<Config, String> {
        Config::parse(&args.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn options_are_read() {
        let config = parse(&[
            "--deadline-ms",
            "250",
            "dir",
            "--max-memory-mib",
            "64",
            "--native",
        ])
        .expect("valid");
        assert_eq!(config.deadline.as_millis(), 250);
        assert_eq!(config.max_memory, 64 << 20);
        assert!(config.native);
        assert_eq!(config.plugins.to_str(), Some("dir"));
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        assert_eq!(parse(&[]).unwrap_err(), "no plugin directory given");
        assert_eq!(
            parse(&["d", "--deadline-ms"]).unwrap_err(),
            "--deadline-ms needs a value"
        );
        assert_eq!(
            parse(&["d", "--deadline-ms", "x"]).unwrap_err(),
            "--deadline-ms: not a whole number: x"
        );
        assert_eq!(
            parse(&["d", "--frob"]).unwrap_err(),
            "unknown option --frob"
        );
        assert_eq!(
            parse(&["d", "e"]).unwrap_err(),
            "one plugin directory only, not also e"
        );
        assert_eq!(
            parse(&["d", "--max-memory-mib", "5000"]).unwrap_err(),
            "--max-memory-mib: at most 4096"
        );
    }
}
