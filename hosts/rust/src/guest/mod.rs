//! One instance of a guest module, seen through the ABI of guestmem's `docs/ABI.md`: its
//! construction, its store and its interface. A call goes one way through the modules below:
//! [`placement`] copies the inputs in, [`abi_calls`] calls into the guest and settles traps, and
//! [`results`] reads the result block and gives it back.
//!
//! Every access to linear memory takes a fresh view after the last call into the guest
//! (wasmtime's borrow of the store makes any other order a compile error), every offset is checked,
//! a `0` result becomes [`Error::Guest`] with `last_error`'s message, and a trap becomes
//! [`Error::Trap`] with the reason the guest recorded.

mod abi_calls;
mod placement;
mod results;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::{Instance, Linker, Memory, Module, Store, ValType};

use crate::drive::{Blocking, Drive, now};
use crate::exports::AbiExports;
use crate::func::GuestFunc;
use crate::inputs::InputBlock;
use crate::{ABI_VERSION, Error, Interface};

pub(crate) use abi_calls::{entered, settled, trap_or_wasmtime};

/// Default cap on the length of a result block the host agrees to read: 256 MiB.
pub const DEFAULT_RESULT_CAP: u32 = 256 << 20;

/// Tells instances apart, so that a [`GuestFunc`] is never called on another store (wasmtime
/// would panic).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One instance of a guestmem guest, in the user's own [`Store`].
///
/// Calls take inputs as bytes (a string is its UTF-8), copy them into guest memory, and give
/// results back as `Vec<u8>`, `String` or integers, or lend them in place
/// ([`GuestFunc::call_view`]); every block the host allocates or receives is freed, on success and
/// on every error short of a trap. After a trap ([`Error::Trap`]) drop the instance, as the
/// contract says: whatever the call was doing is lost.
pub struct Guest<T: 'static> {
    store: Store<T>,
    instance: Instance,
    memory: Memory,
    abi: AbiExports,
    result_cap: u32,
    /// The block small inputs are copied into, kept from call to call: the guest only borrows
    /// inputs, so the contract allows it, and it saves an `alloc` and a `free` per call.
    inputs: InputBlock,
    /// A call left an error pending that the host has not read: an integer call must clear it
    /// first, or it would report that error as its own.
    error_pending: bool,
    /// A result block lent out by [`GuestFunc::call_borrowed`]: freed before the next call.
    lent: u32,
    /// A call into the guest is under way: still set when the next one starts, it was abandoned
    /// (its future dropped), and the instance is refused ([`Error::Abandoned`]).
    running: bool,
    id: u64,
    /// The exports called by name so far, looked up once each.
    named: HashMap<Box<str>, Arc<GuestFunc>>,
    /// What the module says of itself, when the user gave its section ([`Guest::set_interface`]).
    interface: Option<Interface>,
}

impl<T: 'static> Guest<T> {
    /// Instantiates `module` with the imports of `linker` (WASI, host functions: the user's to
    /// add) in `store`, and checks it as [`Guest::new`] does.
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if instantiation fails, or what [`Guest::new`] returns.
    pub fn instantiate(
        mut store: Store<T>,
        linker: &Linker<T>,
        module: &Module,
    ) -> Result<Self, Error> {
        let instance = linker.instantiate(&mut store, module)?;
        Self::new(store, instance)
    }

    /// Wraps an instance made by the user: runs its `_initialize` export if it has one (a WASI
    /// reactor, such as a wasm32-wasip1 library), looks up the ABI exports, and checks
    /// `abi_version()`.
    ///
    /// # Errors
    ///
    /// [`Error::Export`] if `memory` or an ABI export is missing or has the wrong type
    /// (`live_blocks` and `heap_bytes` are optional), [`Error::AbiVersion`] if the guest speaks
    /// another version, [`Error::Trap`] if `_initialize` or `abi_version` traps.
    pub fn new(store: Store<T>, instance: Instance) -> Result<Self, Error> {
        now(Self::new_by::<Blocking>(store, instance))
    }

    /// [`Guest::instantiate`] for linkers with async host functions
    /// ([`HostFunctions::func_async`](crate::HostFunctions::func_async)) and stores with async
    /// yields: instantiates with wasmtime's `instantiate_async`, and checks the instance on one
    /// of its fibers.
    ///
    /// # Errors
    ///
    /// As [`Guest::instantiate`].
    #[cfg(feature = "async")]
    pub async fn instantiate_async(
        mut store: Store<T>,
        linker: &Linker<T>,
        module: &Module,
    ) -> Result<Self, Error>
    where
        T: Send,
    {
        let instance = linker.instantiate_async(&mut store, module).await?;
        Self::new_async(store, instance).await
    }

    /// [`Guest::new`] on one of wasmtime's fibers, for an instance made with
    /// `instantiate_async`.
    ///
    /// # Errors
    ///
    /// As [`Guest::new`].
    #[cfg(feature = "async")]
    pub async fn new_async(store: Store<T>, instance: Instance) -> Result<Self, Error>
    where
        T: Send,
    {
        Self::new_by::<crate::drive::Fiber>(store, instance).await
    }

    async fn new_by<D: Drive<T>>(mut store: Store<T>, instance: Instance) -> Result<Self, Error> {
        if let Some(initialize) = instance.get_func(&mut store, "_initialize") {
            let initialize = initialize
                .typed::<(), ()>(&store)
                .map_err(|error| Error::Export {
                    name: "_initialize".to_owned(),
                    message: format!("{error:#}"),
                })?;
            D::call(&initialize, &mut store, ())
                .await
                .map_err(|error| trap_or_wasmtime("_initialize", error, None))?;
        }
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| Error::Export {
                name: "memory".to_owned(),
                message: "no exported memory".to_owned(),
            })?;
        let abi = AbiExports::new(&instance, &mut store)?;
        let mut guest = Self {
            store,
            instance,
            memory,
            abi,
            result_cap: DEFAULT_RESULT_CAP,
            inputs: InputBlock::default(),
            error_pending: false,
            lent: 0,
            running: false,
            named: HashMap::new(),
            interface: None,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        };
        let found = guest.abi_version_by::<D>().await?;
        if found != ABI_VERSION {
            return Err(Error::AbiVersion {
                found,
                expected: ABI_VERSION,
            });
        }
        Ok(guest)
    }

    /// The store, for the user's own data and settings.
    #[must_use]
    pub fn store(&self) -> &Store<T> {
        &self.store
    }

    /// The store, mutably: fuel, epoch deadlines, the user's data.
    pub fn store_mut(&mut self) -> &mut Store<T> {
        &mut self.store
    }

    /// The wasmtime instance, for exports this library does not wrap.
    #[must_use]
    pub fn instance(&self) -> Instance {
        self.instance
    }

    /// Gives the store back.
    #[must_use]
    pub fn into_store(self) -> Store<T> {
        self.store
    }

    /// Looks up export `name`, a function taking `(ptr, len)` pairs and returning an `i32`, once,
    /// for typed calls.
    ///
    /// # Errors
    ///
    /// [`Error::Export`] if there is no such function, or it has another type.
    pub fn func(&mut self, name: &str) -> Result<GuestFunc, Error> {
        let signature = self
            .interface
            .as_ref()
            .and_then(|interface| interface.export(name))
            .cloned();
        GuestFunc::new(&self.instance, &mut self.store, self.id, name, signature)
    }

    /// Gives the guest the interface its module describes ([`Interface::read`] of the module's
    /// bytes): from then on [`Guest::func`] checks calls against it before the guest runs (the
    /// result a call reads, text inputs that must be UTF-8).
    ///
    /// # Errors
    ///
    /// [`Error::Interface`] if an export the interface describes is missing, or its wasm type is
    /// not the one its kinds make.
    pub fn set_interface(&mut self, interface: Interface) -> Result<(), Error> {
        for function in &interface.exports {
            // Exports take (ptr, len) pairs only: any other argument would shift every input.
            if let Some(arg) = function.args.iter().find(|arg| !arg.kind.is_bytes()) {
                return Err(Error::Interface(format!(
                    "`{}`: argument `{}` is {}, but exports take bytes only",
                    function.name, arg.name, arg.kind
                )));
            }
            let ty = self
                .instance
                .get_func(&mut self.store, &function.name)
                .map(|func| func.ty(&self.store))
                .ok_or_else(|| {
                    Error::Interface(format!("`{}` is described but not exported", function.name))
                })?;
            let params: Vec<ValType> = ty.params().collect();
            let results: Vec<ValType> = ty.results().collect();
            let (expected_params, expected_results) = crate::interface::wasm_type(function);
            let same = |found: &[ValType], expected: &[ValType]| {
                found.len() == expected.len()
                    && found.iter().zip(expected).all(|(a, b)| ValType::eq(a, b))
            };
            if !same(&params, &expected_params) || !same(&results, &expected_results) {
                return Err(Error::Interface(format!(
                    "`{function}` does not match the export's wasm type `{ty}`"
                )));
            }
        }
        self.named.clear();
        self.interface = Some(interface);
        Ok(())
    }

    /// The interface given with [`Guest::set_interface`].
    #[must_use]
    pub fn interface(&self) -> Option<&Interface> {
        self.interface.as_ref()
    }

    /// Export `name` as looked up by an earlier by-name call.
    pub(crate) fn cached_func(&self, name: &str) -> Option<Arc<GuestFunc>> {
        self.named.get(name).map(Arc::clone)
    }

    /// Keeps export `name` for the next by-name call.
    pub(crate) fn cache_func(&mut self, name: &str, func: Arc<GuestFunc>) {
        self.named.insert(name.into(), func);
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The current size of linear memory, in bytes.
    #[must_use]
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// The current size of linear memory, in 64 KiB pages (`memory.size`).
    #[must_use]
    pub fn memory_pages(&self) -> u64 {
        self.memory.size(&self.store)
    }

    /// Changes the cap on result lengths ([`DEFAULT_RESULT_CAP`] by default): a longer result is
    /// [`ResultProblem::TooLong`](crate::ResultProblem::TooLong), freed without being read.
    pub fn set_result_cap(&mut self, cap: u32) {
        self.result_cap = cap;
    }
}
