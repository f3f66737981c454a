//! The plugins: every `.wasm` of the plugin directory compiled once, checked against the host
//! functions, and served through a pool of its instances.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use guestmem_host::pool::{EpochTicker, Pool, recommended_config};
use guestmem_host::{Function, Interface, Plugin};
use wasmtime::{Engine, Linker};

use crate::answer::{self, Answer};
use crate::config::Config;
use crate::error::ApiError;
use crate::host::{self, Request, Session};

/// The plugin the server serves with `--native`: `upper` in Rust, for the load test's limit.
pub const NATIVE: &str = "native";

/// Every plugin the server serves, and the files it refused.
pub struct Plugins {
    served: BTreeMap<String, Served>,
    refused: Vec<Refused>,
    checkout_timeout: Duration,
    /// Moves the engine's epoch on for the deadlines while the server runs.
    _ticker: Option<EpochTicker>,
}

/// A plugin being served.
pub struct Served {
    /// Its name in the routes: the file's name without `.wasm`.
    pub name: String,
    /// The file it came from (`None` for the native plugin).
    pub file: Option<PathBuf>,
    /// What its interface section says.
    pub interface: Interface,
    /// What runs its calls.
    pub backend: Backend,
}

/// What runs a plugin's calls.
pub enum Backend {
    /// A pool of wasm instances.
    Wasm(Pool<Session>),
    /// Rust code, no wasm: the native plugin's `upper`.
    Native,
}

/// A `.wasm` file that is not served, and why.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Refused {
    /// The file.
    pub file: PathBuf,
    /// Why it is not served.
    pub reason: String,
}

impl Plugins {
    /// Compiles and checks every `.wasm` of `config.plugins`, in name order; a file that cannot
    /// be served is refused (and logged), not fatal.
    ///
    /// # Errors
    ///
    /// The directory cannot be read, or the engine cannot be made.
    pub fn load(config: &Config) -> Result<Self, String> {
        let dir = &config.plugins;
        let mut files = std::fs::read_dir(dir)
            .map_err(|error| format!("{}: {error}", dir.display()))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
            .collect::<Vec<_>>();
        files.sort();
        let slots = u32::try_from(files.len().max(1))
            .ok()
            .and_then(|count| count.checked_mul(config.max_instances))
            .ok_or("too many plugins for the instance slots")?;
        let engine = Engine::new(&recommended_config(slots, config.max_memory))
            .map_err(|error| format!("the engine: {error}"))?;
        // Ticks a tenth of the deadline apart (1-10 ms): a call ends within about one tick of it.
        let period =
            (config.deadline / 10).clamp(Duration::from_millis(1), Duration::from_millis(10));
        let ticker =
            EpochTicker::new(&engine, period).map_err(|error| format!("the ticker: {error}"))?;

        let mut linker = Linker::new(&engine);
        let mut refused = Vec::new();
        let mut checked = Vec::new();
        {
            let host =
                host::define(&mut linker).map_err(|error| format!("host functions: {error}"))?;
            for file in files {
                match compile(&engine, &file).and_then(|(plugin, interface)| {
                    host.check(&interface).map_err(|error| error.to_string())?;
                    Ok((plugin, interface))
                }) {
                    Ok((plugin, interface)) => checked.push((file, plugin, interface)),
                    Err(reason) => refused.push(Refused { file, reason }),
                }
            }
        }
        let mut served = BTreeMap::new();
        if config.native {
            served.insert(NATIVE.to_owned(), Served::native());
        }
        for (file, plugin, interface) in checked {
            let name = name_of(&file);
            if served.contains_key(&name) {
                let reason = format!("a plugin named {name} is served already");
                refused.push(Refused { file, reason });
                continue;
            }
            let session_name = name.clone();
            // One instance made now: a module whose instantiation fails is refused here, not on
            // its first request.
            let pool = Pool::builder(&plugin, move || Session::new(&session_name))
                .max_instances(config.max_instances as usize)
                .prewarm(1)
                .deadline(config.deadline, &ticker)
                .recycle_above_pages(config.recycle_above_pages)
                .build(&linker);
            match pool {
                Ok(pool) => {
                    served.insert(
                        name.clone(),
                        Served {
                            name,
                            file: Some(file),
                            interface,
                            backend: Backend::Wasm(pool),
                        },
                    );
                }
                Err(error) => refused.push(Refused {
                    file,
                    reason: error.to_string(),
                }),
            }
        }
        for refused in &refused {
            tracing::error!(file = %refused.file.display(), "not served: {}", refused.reason);
        }
        for plugin in served.values() {
            tracing::info!(plugin = %plugin.name, exports = plugin.interface.exports.len(), "serving");
        }
        Ok(Self {
            served,
            refused,
            checkout_timeout: config.checkout_timeout,
            _ticker: Some(ticker),
        })
    }

    /// The plugin named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Served> {
        self.served.get(name)
    }

    /// The plugins served, in name order.
    pub fn served(&self) -> impl Iterator<Item = &Served> {
        self.served.values()
    }

    /// The files refused at start.
    #[must_use]
    pub fn refused(&self) -> &[Refused] {
        &self.refused
    }

    /// Calls `export` of `plugin` with `body` as its input for `request`: blocks while it waits
    /// for an instance and while the guest runs.
    ///
    /// # Errors
    ///
    /// An unknown plugin or export (404), a body the export's arguments refuse (400), or what
    /// the call met (server/README.md, "Statuses").
    pub fn call(
        &self,
        plugin: &str,
        export: &str,
        body: &[u8],
        request: Request,
    ) -> Result<Answer, ApiError> {
        let served = self
            .get(plugin)
            .ok_or_else(|| ApiError::not_found(format!("no plugin named {plugin}")))?;
        let function = served.interface.export(export).ok_or_else(|| {
            ApiError::not_found(format!("plugin {plugin} has no export named {export}"))
        })?;
        answer::check_served(function)?;
        let inputs = answer::inputs(function, body)?;
        match &served.backend {
            Backend::Native => Ok(answer::native_upper(&inputs[0])),
            Backend::Wasm(pool) => {
                let mut guest = pool.checkout(self.checkout_timeout)?;
                let outcome = guest.call(|guest| {
                    guest.store_mut().data_mut().request = Some(request);
                    let outcome = answer::call(guest, function, &inputs);
                    guest.store_mut().data_mut().request = None;
                    outcome
                });
                // A guest that answered a block it did not make is not trusted again (the pool
                // itself recycles after traps and timeouts).
                if matches!(outcome, Err(guestmem_host::Error::BadResult { .. })) {
                    guest.recycle();
                }
                Ok(outcome?)
            }
        }
    }
}

impl Served {
    fn native() -> Self {
        let text = guestmem_host::Argument {
            name: "text".to_owned(),
            kind: guestmem_host::Kind::String,
            owned: false,
        };
        let upper = Function {
            module: None,
            name: "upper".to_owned(),
            args: vec![text],
            result: guestmem_host::Kind::String,
            fallible: false,
        };
        Self {
            name: NATIVE.to_owned(),
            file: None,
            interface: Interface {
                exports: vec![upper],
                imports: Vec::new(),
            },
            backend: Backend::Native,
        }
    }
}

/// A module compiled, with its interface section: the server needs the section to know what
/// each export takes and returns.
fn compile(engine: &Engine, file: &Path) -> Result<(Plugin, Interface), String> {
    let plugin = Plugin::from_file(engine, file).map_err(|error| error.to_string())?;
    let interface = plugin.interface().cloned().ok_or(
        "no guestmem.interface section: the server needs it to know what each export takes \
         (build the module with guestmem's export! macro)",
    )?;
    Ok((plugin, interface))
}

fn name_of(file: &Path) -> String {
    file.file_stem()
        .map_or_else(String::new, |stem| stem.to_string_lossy().into_owned())
}
