//! How the harness loads guests: a compiled module with a name, instantiated through
//! `guestmem-host` as any user would, with WASI preview 1 in its linker (for wasm32-wasip1
//! guests; others import nothing) and a memory cap when a check wants one.

use std::path::Path;

use guestmem_host::{Error as HostError, HostFunctions};
use wasmtime::{Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::{self, WasiP1Ctx};

/// What the harness keeps in each store: the limits and, for a guest that imports WASI, its
/// state (made on the first WASI call: most guests import nothing, and Valgrind runs thousands of
/// instances).
pub struct HostState {
    limits: StoreLimits,
    wasi: Option<WasiP1Ctx>,
    guestmem: guestmem_host::GuestmemCtx,
}

impl guestmem_host::GuestmemView for HostState {
    fn guestmem(&mut self) -> &mut guestmem_host::GuestmemCtx {
        &mut self.guestmem
    }
}

impl HostState {
    fn wasi(&mut self) -> &mut WasiP1Ctx {
        self.wasi
            .get_or_insert_with(|| WasiCtxBuilder::new().envs(&WASI_ENV).build_p1())
    }
}

pub use crate::driven::{Calls, Guest};

/// The environment WASI guests see: the wasi example reads it.
pub const WASI_ENV: [(&str, &str); 1] = [("GUESTMEM_GREETING", "hello from the host")];

/// A compiled guest module, named after its file.
#[derive(Clone)]
pub struct GuestModule {
    name: String,
    module: Module,
    calls: Calls,
}

impl GuestModule {
    /// Compiles the module in `path` (binary `.wasm` or text `.wat`), named after the file stem.
    ///
    /// # Errors
    ///
    /// [`HostError::Wasmtime`] if the file cannot be read or does not compile.
    pub fn from_file(engine: &Engine, path: &Path) -> Result<Self, HostError> {
        let bytes = std::fs::read(path).map_err(|source| io_error(path, source))?;
        Self::from_bytes(engine, &module_name(path), &bytes)
    }

    /// A module compiled elsewhere, named after the stem of `path`.
    #[must_use]
    pub fn from_module(path: &Path, module: Module) -> Self {
        Self {
            name: module_name(path),
            module,
            calls: Calls::Blocking,
        }
    }

    /// Compiles a module from its binary or text form.
    ///
    /// # Errors
    ///
    /// [`HostError::Wasmtime`] if it does not compile.
    pub fn from_bytes(engine: &Engine, name: &str, bytes: &[u8]) -> Result<Self, HostError> {
        Ok(Self {
            name: name.to_owned(),
            module: Module::new(engine, bytes)?,
            calls: Calls::Blocking,
        })
    }

    /// The module's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same module, its instances called through `calls`: a check run on it runs through
    /// guestmem-host's `_async` calls and async host functions with [`Calls::Async`].
    #[must_use]
    pub fn with_calls(&self, calls: Calls) -> Self {
        Self {
            calls,
            ..self.clone()
        }
    }

    /// How its instances are called.
    #[must_use]
    pub fn calls(&self) -> Calls {
        self.calls
    }

    /// Its name in a report row: the name, and how its instances are called when that is not
    /// the blocking default.
    #[must_use]
    pub fn label(&self) -> String {
        match self.calls {
            Calls::Blocking => self.name.clone(),
            Calls::Async => format!("{} (async calls)", self.name),
        }
    }

    /// Host functions on `linker`, for the calls its instances get: [`HostFunctions::new`] or,
    /// for [`Calls::Async`], [`HostFunctions::new_async`].
    ///
    /// # Errors
    ///
    /// What those return.
    pub fn host_functions<'l>(
        &self,
        linker: &'l mut Linker<HostState>,
    ) -> Result<HostFunctions<'l, HostState>, HostError> {
        match self.calls {
            Calls::Blocking => HostFunctions::new(linker),
            Calls::Async => HostFunctions::new_async(linker),
        }
    }

    /// The compiled module.
    #[must_use]
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Returns `true` if the module exports `name`.
    #[must_use]
    pub fn exports(&self, name: &str) -> bool {
        self.module.get_export(name).is_some()
    }

    /// A new instance with default options.
    ///
    /// # Errors
    ///
    /// See [`GuestModule::instantiate_with`].
    pub fn instantiate(&self) -> Result<Guest, HostError> {
        self.instantiate_with(&GuestOptions::default())
    }

    /// A new instance, in a store of its own, with WASI preview 1 as its only imports (when it
    /// imports WASI at all).
    ///
    /// # Errors
    ///
    /// What [`guestmem_host::Guest::instantiate`] returns.
    pub fn instantiate_with(&self, options: &GuestOptions) -> Result<Guest, HostError> {
        self.instantiate_linked(options, |_| Ok(()))
    }

    /// A new instance as [`GuestModule::instantiate_with`] makes it, with the imports `link`
    /// adds to its linker (host functions).
    ///
    /// # Errors
    ///
    /// What `link` or [`guestmem_host::Guest::instantiate`] returns.
    pub fn instantiate_linked(
        &self,
        options: &GuestOptions,
        link: impl FnOnce(&mut Linker<HostState>) -> Result<(), HostError>,
    ) -> Result<Guest, HostError> {
        let mut limits = StoreLimitsBuilder::new();
        if let Some(limit) = options.memory_limit {
            limits = limits.memory_size(limit);
        }
        let state = HostState {
            limits: limits.build(),
            wasi: None,
            guestmem: guestmem_host::GuestmemCtx::default(),
        };
        let mut store = Store::new(self.module.engine(), state);
        store.limiter(|state| &mut state.limits);
        let mut linker = Linker::new(self.module.engine());
        let imports_wasi = self
            .module
            .imports()
            .any(|import| import.module() == "wasi_snapshot_preview1");
        if imports_wasi {
            p1::add_to_linker_sync(&mut linker, HostState::wasi)?;
        }
        link(&mut linker)?;
        let mut guest = Guest::instantiate(self.calls, store, &linker, &self.module)?;
        guest.set_result_cap(options.result_cap);
        Ok(guest)
    }
}

/// A file that cannot be read, as the host library's error.
pub fn io_error(path: &Path, source: std::io::Error) -> HostError {
    HostError::Wasmtime(wasmtime::Error::from(source).context(format!("{}", path.display())))
}

/// The name of the module in `path`: its file stem.
fn module_name(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |stem| stem.to_string_lossy().into_owned(),
    )
}

/// How an instance is set up.
#[derive(Debug, Clone)]
pub struct GuestOptions {
    /// The most bytes linear memory may grow to; `memory.grow` past it returns -1. `None`: no
    /// limit beyond wasm32's 4 GiB.
    pub memory_limit: Option<usize>,
    /// Result blocks longer than this are rejected with `ResultProblem::TooLong`.
    pub result_cap: u32,
}

impl Default for GuestOptions {
    fn default() -> Self {
        Self {
            memory_limit: None,
            result_cap: guestmem_host::DEFAULT_RESULT_CAP,
        }
    }
}
