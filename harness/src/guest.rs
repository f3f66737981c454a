//! A guest module and its instances, seen through the ABI of `docs/ABI.md`.
//!
//! [`GuestModule`] is a compiled `.wasm` (or `.wat`); [`Guest`] is one instance of it with its own
//! store. Every access to linear memory takes a fresh view after the last call into the guest
//! (wasmtime's borrow of the store makes any other order a compile error), every offset is checked,
//! a `0` result becomes [`HostError::Guest`] with `last_error`'s message, and a trap becomes
//! [`HostError::Trap`] with the reason the guest recorded.

use std::collections::HashMap;
use std::path::Path;

use wasmtime::{
    Engine, Func, Instance, Memory, Module, Store, StoreLimits, StoreLimitsBuilder, TypedFunc, Val,
};

use crate::error::{HostError, ResultProblem};
use crate::result_block;

/// Default cap on the length of a result block the host agrees to copy out: 256 MiB.
pub const DEFAULT_RESULT_CAP: u32 = 256 << 20;

/// A compiled guest module.
#[derive(Clone)]
pub struct GuestModule {
    name: String,
    module: Module,
}

impl GuestModule {
    /// Compiles the module in `path` (binary `.wasm` or text `.wat`), named after the file stem.
    ///
    /// # Errors
    ///
    /// [`HostError::Io`] if the file cannot be read, [`HostError::Wasmtime`] if it does not
    /// compile.
    pub fn from_file(engine: &Engine, path: &Path) -> Result<Self, HostError> {
        let bytes = std::fs::read(path).map_err(|source| HostError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_bytes(engine, &module_name(path), &bytes)
    }

    /// A module compiled elsewhere, named after the stem of `path`.
    #[must_use]
    pub fn from_module(path: &Path, module: Module) -> Self {
        Self {
            name: module_name(path),
            module,
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
        })
    }

    /// The module's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
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

    /// A new instance, in a store of its own.
    ///
    /// # Errors
    ///
    /// [`HostError::Wasmtime`] if instantiation fails, [`HostError::Export`] if an ABI export is
    /// missing or has the wrong type (`live_blocks` and `heap_bytes` are optional).
    pub fn instantiate_with(&self, options: &GuestOptions) -> Result<Guest, HostError> {
        let mut limits = StoreLimitsBuilder::new();
        if let Some(limit) = options.memory_limit {
            limits = limits.memory_size(limit);
        }
        let mut store = Store::new(self.module.engine(), limits.build());
        store.limiter(|limits| limits);
        let instance = Instance::new(&mut store, &self.module, &[])?;
        let memory =
            instance
                .get_memory(&mut store, "memory")
                .ok_or_else(|| HostError::Export {
                    name: "memory".to_owned(),
                    message: "no exported memory".to_owned(),
                })?;
        let abi = AbiExports::new(&instance, &mut store)?;
        Ok(Guest {
            name: self.name.clone(),
            store,
            instance,
            memory,
            abi,
            functions: HashMap::new(),
            result_cap: options.result_cap,
        })
    }
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
    /// Result blocks longer than this are rejected with [`ResultProblem::TooLong`].
    pub result_cap: u32,
}

impl Default for GuestOptions {
    fn default() -> Self {
        Self {
            memory_limit: None,
            result_cap: DEFAULT_RESULT_CAP,
        }
    }
}

/// The ABI exports, looked up once per instance.
struct AbiExports {
    alloc: TypedFunc<u32, u32>,
    dealloc: TypedFunc<(u32, u32), ()>,
    free: TypedFunc<u32, ()>,
    realloc: TypedFunc<(u32, u32), u32>,
    last_error: TypedFunc<(), u32>,
    abi_version: TypedFunc<(), u32>,
    live_blocks: Option<TypedFunc<(), u32>>,
    heap_bytes: Option<TypedFunc<(), u32>>,
}

impl AbiExports {
    fn new(instance: &Instance, store: &mut Store<StoreLimits>) -> Result<Self, HostError> {
        Ok(Self {
            alloc: typed(instance, store, "alloc")?,
            dealloc: typed(instance, store, "dealloc")?,
            free: typed(instance, store, "free")?,
            realloc: typed(instance, store, "realloc")?,
            last_error: typed(instance, store, "last_error")?,
            abi_version: typed(instance, store, "abi_version")?,
            live_blocks: optional_typed(instance, store, "live_blocks")?,
            heap_bytes: optional_typed(instance, store, "heap_bytes")?,
        })
    }
}

fn typed<Params, Results>(
    instance: &Instance,
    store: &mut Store<StoreLimits>,
    name: &str,
) -> Result<TypedFunc<Params, Results>, HostError>
where
    Params: wasmtime::WasmParams,
    Results: wasmtime::WasmResults,
{
    optional_typed(instance, store, name)?.ok_or_else(|| HostError::Export {
        name: name.to_owned(),
        message: "missing".to_owned(),
    })
}

fn optional_typed<Params, Results>(
    instance: &Instance,
    store: &mut Store<StoreLimits>,
    name: &str,
) -> Result<Option<TypedFunc<Params, Results>>, HostError>
where
    Params: wasmtime::WasmParams,
    Results: wasmtime::WasmResults,
{
    let Some(func) = instance.get_func(&mut *store, name) else {
        return Ok(None);
    };
    func.typed(&*store)
        .map(Some)
        .map_err(|error| HostError::Export {
            name: name.to_owned(),
            message: format!("{error:#}"),
        })
}

/// One instance of a guest module.
pub struct Guest {
    name: String,
    store: Store<StoreLimits>,
    instance: Instance,
    memory: Memory,
    abi: AbiExports,
    /// Exports called by name so far, looked up once: the lookup and the untyped call cost more
    /// than a small guest function does.
    functions: HashMap<String, Export>,
    result_cap: u32,
}

/// An export called through [`Guest::call_raw`]: typed when it takes one `(ptr, len)` pair, the
/// common case, and checked at each call otherwise.
#[derive(Clone)]
enum Export {
    Pair(TypedFunc<(u32, u32), u32>),
    Any(Func),
}

impl Guest {
    /// The module's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
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

    /// Changes the cap on result lengths.
    pub fn set_result_cap(&mut self, cap: u32) {
        self.result_cap = cap;
    }

    /// `alloc(len)`, returning the raw pointer (`0` on failure).
    ///
    /// # Errors
    ///
    /// [`HostError::Trap`] if the guest traps.
    pub fn alloc(&mut self, len: u32) -> Result<u32, HostError> {
        let func = self.abi.alloc.clone();
        let outcome = func.call(&mut self.store, len);
        self.settle("alloc", outcome)
    }

    /// `dealloc(ptr, len)`.
    ///
    /// # Errors
    ///
    /// [`HostError::Trap`] if the guest traps (a wrong length or a bad pointer).
    pub fn dealloc(&mut self, ptr: u32, len: u32) -> Result<(), HostError> {
        let func = self.abi.dealloc.clone();
        let outcome = func.call(&mut self.store, (ptr, len));
        self.settle("dealloc", outcome)
    }

    /// `free(ptr)`.
    ///
    /// # Errors
    ///
    /// [`HostError::Trap`] if the guest traps (a bad pointer).
    pub fn free(&mut self, ptr: u32) -> Result<(), HostError> {
        let func = self.abi.free.clone();
        let outcome = func.call(&mut self.store, ptr);
        self.settle("free", outcome)
    }

    /// `realloc(ptr, new_len)`, returning the raw pointer (`0` on failure).
    ///
    /// # Errors
    ///
    /// [`HostError::Trap`] if the guest traps (a bad pointer).
    pub fn realloc(&mut self, ptr: u32, new_len: u32) -> Result<u32, HostError> {
        let func = self.abi.realloc.clone();
        let outcome = func.call(&mut self.store, (ptr, new_len));
        self.settle("realloc", outcome)
    }

    /// `abi_version()`.
    ///
    /// # Errors
    ///
    /// [`HostError::Trap`] if the guest traps.
    pub fn abi_version(&mut self) -> Result<u32, HostError> {
        let func = self.abi.abi_version.clone();
        let outcome = func.call(&mut self.store, ());
        self.settle("abi_version", outcome)
    }

    /// `live_blocks()`, or `None` if the guest was built without the `stats` feature.
    ///
    /// # Errors
    ///
    /// [`HostError::Trap`] if the guest traps.
    pub fn live_blocks(&mut self) -> Result<Option<u32>, HostError> {
        let Some(func) = self.abi.live_blocks.clone() else {
            return Ok(None);
        };
        let outcome = func.call(&mut self.store, ());
        self.settle("live_blocks", outcome).map(Some)
    }

    /// `heap_bytes()`, or `None` if the guest was built without the `stats` feature.
    ///
    /// # Errors
    ///
    /// [`HostError::Trap`] if the guest traps.
    pub fn heap_bytes(&mut self) -> Result<Option<u32>, HostError> {
        let Some(func) = self.abi.heap_bytes.clone() else {
            return Ok(None);
        };
        let outcome = func.call(&mut self.store, ());
        self.settle("heap_bytes", outcome).map(Some)
    }

    /// Takes the pending error message: `last_error()`, then reads and frees the result block.
    ///
    /// # Errors
    ///
    /// [`HostError::Trap`] if the guest traps, [`HostError::BadResult`] if the block cannot be
    /// read or is not UTF-8.
    pub fn last_error(&mut self) -> Result<Option<String>, HostError> {
        let func = self.abi.last_error.clone();
        let ptr = match func.call(&mut self.store, ()) {
            Ok(ptr) => ptr,
            // Asking the trap's reason again would recurse into the same trap.
            Err(error) => return Err(trap_or_wasmtime("last_error", error, None)),
        };
        if ptr == 0 {
            return Ok(None);
        }
        // Freed without asking for a reason if that traps: the reason would be another message
        // block to free, and a guest whose `free` always traps would recurse without end.
        let bytes = self.take_result_block("last_error", ptr, Self::free_without_reason)?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| HostError::BadResult {
                function: "last_error".to_owned(),
                problem: ResultProblem::NotUtf8,
            })
    }

    /// Copies `bytes` into linear memory at `ptr`.
    ///
    /// # Errors
    ///
    /// [`HostError::OutOfBounds`] if the range is not inside linear memory.
    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), HostError> {
        let range = self.checked_range(ptr, bytes.len())?;
        self.memory.data_mut(&mut self.store)[range].copy_from_slice(bytes);
        Ok(())
    }

    /// Copies `len` bytes out of linear memory at `ptr`.
    ///
    /// # Errors
    ///
    /// [`HostError::OutOfBounds`] if the range is not inside linear memory.
    pub fn read(&self, ptr: u32, len: usize) -> Result<Vec<u8>, HostError> {
        let range = self.checked_range(ptr, len)?;
        Ok(self.memory.data(&self.store)[range].to_vec())
    }

    fn checked_range(&self, ptr: u32, len: usize) -> Result<std::ops::Range<usize>, HostError> {
        let memory = self.memory_size();
        let out_of_bounds = || HostError::OutOfBounds {
            ptr,
            len: u64::try_from(len).unwrap_or(u64::MAX),
            memory,
        };
        let start = usize::try_from(ptr).map_err(|_| out_of_bounds())?;
        let end = start
            .checked_add(len)
            .filter(|&end| end <= memory)
            .ok_or_else(out_of_bounds)?;
        Ok(start..end)
    }

    /// Allocates a block for `bytes` and copies them in: an input the host owns.
    ///
    /// # Errors
    ///
    /// [`HostError::InputTooLong`], [`HostError::AllocFailed`], or a trap in `alloc`.
    pub fn put(&mut self, bytes: &[u8]) -> Result<u32, HostError> {
        let len =
            u32::try_from(bytes.len()).map_err(|_| HostError::InputTooLong { len: bytes.len() })?;
        let ptr = self.alloc(len)?;
        if ptr == 0 {
            return Err(HostError::AllocFailed { len });
        }
        self.write(ptr, bytes)?;
        Ok(ptr)
    }

    /// Calls export `function` with `i32` arguments and one `i32` result, returned raw.
    ///
    /// # Errors
    ///
    /// [`HostError::Export`] if there is no such function or it has another type,
    /// [`HostError::Trap`] if it traps.
    pub fn call_raw(&mut self, function: &str, args: &[u32]) -> Result<u32, HostError> {
        let export = match self.functions.get(function) {
            Some(export) => export.clone(),
            None => {
                let func = self
                    .instance
                    .get_func(&mut self.store, function)
                    .ok_or_else(|| HostError::Export {
                        name: function.to_owned(),
                        message: "missing".to_owned(),
                    })?;
                let export = match func.typed::<(u32, u32), u32>(&self.store) {
                    Ok(typed) => Export::Pair(typed),
                    Err(_) => Export::Any(func),
                };
                self.functions.insert(function.to_owned(), export.clone());
                export
            }
        };
        if let (Export::Pair(typed), &[ptr, len]) = (&export, args) {
            let outcome = typed.call(&mut self.store, (ptr, len));
            return self.settle(function, outcome);
        }
        let func = match export {
            Export::Pair(typed) => *typed.func(),
            Export::Any(func) => func,
        };
        let params: Vec<Val> = args
            .iter()
            .map(|&arg| Val::I32(arg.cast_signed()))
            .collect();
        let mut results = [Val::I32(0)];
        let outcome = func.call(&mut self.store, &params, &mut results);
        self.settle(function, outcome)?;
        match results {
            [Val::I32(value)] => Ok(value.cast_unsigned()),
            _ => Err(HostError::Export {
                name: function.to_owned(),
                message: "does not return an i32".to_owned(),
            }),
        }
    }

    /// Passes each input as a `(ptr, len)` pair to `function` and returns its raw `i32` result.
    ///
    /// The inputs are allocated and written first, and freed after the call returns: the guest only
    /// borrows them. If the call traps they are not freed (the instance should be dropped).
    ///
    /// # Errors
    ///
    /// Whatever [`Guest::put`], [`Guest::call_raw`] or [`Guest::free`] returns.
    pub fn call_with_inputs(&mut self, function: &str, inputs: &[&[u8]]) -> Result<u32, HostError> {
        let mut args = Vec::with_capacity(inputs.len() * 2);
        for input in inputs {
            let ptr = self.put(input)?;
            args.push(ptr);
            args.push(
                u32::try_from(input.len())
                    .map_err(|_| HostError::InputTooLong { len: input.len() })?,
            );
        }
        let outcome = self.call_raw(function, &args)?;
        for pair in args.chunks_exact(2) {
            self.free(pair[0])?;
        }
        Ok(outcome)
    }

    /// Calls a function that returns a result block, and returns the result's bytes.
    ///
    /// # Errors
    ///
    /// [`HostError::Guest`] if it returned `0`, [`HostError::BadResult`] if the block cannot be
    /// trusted, or whatever [`Guest::call_with_inputs`] returns.
    pub fn call_result(&mut self, function: &str, inputs: &[&[u8]]) -> Result<Vec<u8>, HostError> {
        let ptr = self.call_with_inputs(function, inputs)?;
        self.take_result(function, ptr)
    }

    /// Calls a function that returns an integer, telling a `0` answer from a failure through
    /// `last_error`.
    ///
    /// # Errors
    ///
    /// [`HostError::Guest`] if it returned `0` and an error is pending, or whatever
    /// [`Guest::call_with_inputs`] returns.
    pub fn call_u32(&mut self, function: &str, inputs: &[&[u8]]) -> Result<u32, HostError> {
        let value = self.call_with_inputs(function, inputs)?;
        if value == 0
            && let Some(message) = self.last_error()?
        {
            return Err(HostError::Guest {
                function: function.to_owned(),
                message,
            });
        }
        Ok(value)
    }

    /// Turns the raw result `ptr` of `function` into its bytes, freeing the block.
    ///
    /// # Errors
    ///
    /// [`HostError::Guest`] if `ptr` is `0` (with `last_error`'s message),
    /// [`HostError::BadResult`] if the block cannot be trusted.
    pub fn take_result(&mut self, function: &str, ptr: u32) -> Result<Vec<u8>, HostError> {
        if ptr == 0 {
            let message = match self.last_error() {
                Ok(Some(message)) => message,
                Ok(None) => "returned 0 and no error is pending".to_owned(),
                Err(error) => format!("returned 0 and last_error failed: {error}"),
            };
            return Err(HostError::Guest {
                function: function.to_owned(),
                message,
            });
        }
        self.take_result_block(function, ptr, Self::free)
    }

    /// `free(ptr)`, reporting a trap without its reason.
    fn free_without_reason(&mut self, ptr: u32) -> Result<(), HostError> {
        let func = self.abi.free.clone();
        func.call(&mut self.store, ptr)
            .map_err(|error| trap_or_wasmtime("free", error, None))
    }

    /// Reads the result block at `ptr` and gives it back with `free`.
    fn take_result_block(
        &mut self,
        function: &str,
        ptr: u32,
        free: fn(&mut Self, u32) -> Result<(), HostError>,
    ) -> Result<Vec<u8>, HostError> {
        let outcome = result_block::payload(self.memory.data(&self.store), ptr, self.result_cap)
            .map(<[u8]>::to_vec);
        match outcome {
            Ok(bytes) => {
                free(self, ptr)?;
                Ok(bytes)
            }
            Err(problem) => {
                // A block that is only too long is still a block: give it back. Anything else is
                // not a block, and freeing it would only make the guest trap.
                if matches!(problem, ResultProblem::TooLong { .. }) {
                    free(self, ptr)?;
                }
                Err(HostError::BadResult {
                    function: function.to_owned(),
                    problem,
                })
            }
        }
    }

    /// Converts the outcome of a call, reading the recorded reason if it trapped.
    fn settle<T>(&mut self, function: &str, outcome: wasmtime::Result<T>) -> Result<T, HostError> {
        outcome.map_err(|error| {
            let reason = if error.is::<wasmtime::Trap>() {
                self.last_error().ok().flatten()
            } else {
                None
            };
            trap_or_wasmtime(function, error, reason)
        })
    }
}

fn trap_or_wasmtime(function: &str, error: wasmtime::Error, reason: Option<String>) -> HostError {
    match error.downcast::<wasmtime::Trap>() {
        Ok(trap) => HostError::Trap {
            function: function.to_owned(),
            trap,
            reason,
        },
        Err(error) => HostError::Wasmtime(error),
    }
}

#[cfg(test)]
mod tests {
    use super::{GuestModule, GuestOptions};
    use crate::error::HostError;

    /// The ABI exports over a bump allocator, and `zero(ptr, len)`, which returns 0 and records
    /// an error when `len` is odd, `grow()`, which is `memory.grow(1)`, and `boom()`, which traps
    /// after recording its reason.
    const GUEST: &str = r#"
    (module
      (memory (export "memory") 1)
      (data (i32.const 64) "\04\00\00\00odd!")
      (global $next (mut i32) (i32.const 1024))
      (global $error (mut i32) (i32.const 0))
      (func (export "alloc") (param $len i32) (result i32)
        (local $ptr i32)
        (local.set $ptr (global.get $next))
        (global.set $next
          (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
        (local.get $ptr))
      (func (export "free") (param i32))
      (func (export "dealloc") (param i32 i32))
      (func (export "realloc") (param i32 i32) (result i32) (i32.const 0))
      (func (export "abi_version") (result i32) (i32.const 1))
      (func (export "last_error") (result i32)
        (local $error i32)
        (local.set $error (global.get $error))
        (global.set $error (i32.const 0))
        (local.get $error))
      (func (export "zero") (param i32 i32) (result i32)
        (if (i32.and (local.get 1) (i32.const 1)) (then (global.set $error (i32.const 64))))
        (i32.const 0))
      (func (export "grow") (result i32) (memory.grow (i32.const 1)))
      (func (export "boom") (result i32)
        (global.set $error (i32.const 64))
        (unreachable)))
    "#;

    fn module() -> GuestModule {
        let engine = wasmtime::Engine::default();
        GuestModule::from_bytes(&engine, "test", GUEST.as_bytes()).expect("compile")
    }

    #[test]
    fn zero_is_an_answer_unless_an_error_is_pending() {
        let mut guest = module().instantiate().expect("instantiate");
        assert_eq!(guest.call_u32("zero", &[b"ab"]).expect("even"), 0);
        let error = guest.call_u32("zero", &[b"abc"]).unwrap_err();
        assert!(
            matches!(&error, HostError::Guest { message, .. } if message == "odd!"),
            "{error}"
        );
    }

    #[test]
    fn a_trap_carries_the_recorded_reason() {
        let mut guest = module().instantiate().expect("instantiate");
        let error = guest.call_raw("boom", &[]).unwrap_err();
        assert_eq!(error.trap_reason(), Some("odd!"), "{error}");
        // The reason was taken: none is pending any more.
        assert_eq!(guest.last_error().expect("last_error"), None);
    }

    #[test]
    fn accesses_outside_memory_are_errors() {
        let mut guest = module().instantiate().expect("instantiate");
        for (ptr, len) in [(u32::MAX, 1), (65_535, 2), (0, 65_537)] {
            let error = guest.read(ptr, len).unwrap_err();
            assert!(matches!(error, HostError::OutOfBounds { .. }), "{error}");
        }
        let error = guest.write(65_533, b"four").unwrap_err();
        assert!(matches!(error, HostError::OutOfBounds { .. }), "{error}");
        assert!(guest.read(65_532, 4).is_ok());
    }

    /// A guest whose `free` always records a reason and traps, and whose `last_error` always has
    /// one: reading the reason of a trap in `free` means freeing a message block, which traps
    /// again.
    const FREE_TRAPS: &str = r#"
    (module
      (memory (export "memory") 1)
      (data (i32.const 64) "\04\00\00\00bad!")
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "free") (param i32) (unreachable))
      (func (export "dealloc") (param i32 i32))
      (func (export "realloc") (param i32 i32) (result i32) (i32.const 0))
      (func (export "abi_version") (result i32) (i32.const 1))
      (func (export "last_error") (result i32) (i32.const 64)))
    "#;

    #[test]
    fn a_free_that_always_traps_ends_in_an_error_not_a_recursion() {
        let engine = wasmtime::Engine::default();
        let module =
            GuestModule::from_bytes(&engine, "free-traps", FREE_TRAPS.as_bytes()).expect("compile");
        let mut guest = module.instantiate().expect("instantiate");
        let error = guest.free(1024).unwrap_err();
        assert!(error.is_trap(), "{error}");
        assert_eq!(error.trap_reason(), None, "{error}");
    }

    #[test]
    fn a_memory_limit_refuses_growth() {
        let options = GuestOptions {
            memory_limit: Some(65_536),
            ..GuestOptions::default()
        };
        let mut capped = module().instantiate_with(&options).expect("instantiate");
        assert_eq!(capped.call_raw("grow", &[]).expect("grow"), u32::MAX);
        assert_eq!(capped.memory_pages(), 1);
        let mut free = module().instantiate().expect("instantiate");
        assert_eq!(free.call_raw("grow", &[]).expect("grow"), 1);
        assert_eq!(free.memory_pages(), 2);
    }
}
