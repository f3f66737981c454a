//! A module compiled once, with what it says of itself: the `guestmem.interface` section is read
//! from the module's own bytes, so every instance made from it has the interface's guards
//! (calls checked against the kinds, owned arguments passed owned) without the user setting it.

use std::path::Path;
use std::sync::Arc;

use wasmtime::{Engine, Linker, Module, Store};

use crate::{Error, Guest, Interface};

/// A compiled guest module and its interface section, ready to be instantiated many times.
/// Cheap to clone (the module and the interface are shared), `Send` and `Sync`.
#[derive(Clone)]
pub struct Plugin {
    module: Module,
    interface: Option<Arc<Interface>>,
}

impl Plugin {
    /// Compiles `wasm` (a module in binary or, with wasmtime's `wat` feature, text form) and
    /// reads its interface section.
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if it does not compile, [`Error::Interface`] if its interface section
    /// is malformed.
    #[cfg(feature = "compile")]
    pub fn new(engine: &Engine, wasm: &[u8]) -> Result<Self, Error> {
        let module = Module::new(engine, wasm)?;
        Self::from_module(module, wasm)
    }

    /// Reads and compiles the module in the file `path`, as [`Plugin::new`].
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if the file cannot be read or does not compile, [`Error::Interface`]
    /// if its interface section is malformed.
    #[cfg(feature = "compile")]
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let wasm = std::fs::read(path).map_err(|error| {
            Error::Wasmtime(wasmtime::Error::new(error).context(format!("{}", path.display())))
        })?;
        Self::new(engine, &wasm)
    }

    /// A module compiled elsewhere (deserialized from a cache, say), with the bytes it was
    /// compiled from, whose interface section is read.
    ///
    /// # Errors
    ///
    /// [`Error::Interface`] if the interface section is malformed.
    pub fn from_module(module: Module, wasm: &[u8]) -> Result<Self, Error> {
        // A module in text form has no custom sections to read.
        let interface = if wasm.starts_with(b"\0asm") {
            Interface::read(wasm)?.map(Arc::new)
        } else {
            None
        };
        Ok(Self { module, interface })
    }

    /// The compiled module.
    #[must_use]
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// What the module says of itself, or `None` for a module built without guestmem's
    /// macros.
    #[must_use]
    pub fn interface(&self) -> Option<&Interface> {
        self.interface.as_deref()
    }

    /// Instantiates it with the imports of `linker` in `store`, checks it as [`Guest::new`]
    /// does, and gives the instance the module's interface ([`Guest::set_interface`]).
    ///
    /// # Errors
    ///
    /// What [`Guest::instantiate`] and [`Guest::set_interface`] return.
    pub fn instantiate<T: 'static>(
        &self,
        store: Store<T>,
        linker: &Linker<T>,
    ) -> Result<Guest<T>, Error> {
        let mut guest = Guest::instantiate(store, linker, &self.module)?;
        if let Some(interface) = &self.interface {
            guest.set_interface(Interface::clone(interface))?;
        }
        Ok(guest)
    }

    /// [`Plugin::instantiate`] for linkers with async host functions
    /// ([`HostFunctions::new_async`](crate::HostFunctions::new_async)): the instance is then
    /// called with the `_async` calls.
    ///
    /// # Errors
    ///
    /// What [`Guest::instantiate_async`] and [`Guest::set_interface`] return.
    #[cfg(feature = "async")]
    pub async fn instantiate_async<T: Send + 'static>(
        &self,
        store: Store<T>,
        linker: &Linker<T>,
    ) -> Result<Guest<T>, Error> {
        let mut guest = Guest::instantiate_async(store, linker, &self.module).await?;
        if let Some(interface) = &self.interface {
            guest.set_interface(Interface::clone(interface))?;
        }
        Ok(guest)
    }
}
