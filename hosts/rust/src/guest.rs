//! One instance of a guest module, seen through the ABI of guestmem's `docs/ABI.md`.
//!
//! Every access to linear memory takes a fresh view after the last call into the guest
//! (wasmtime's borrow of the store makes any other order a compile error), every offset is checked,
//! a `0` result becomes [`Error::Guest`] with `last_error`'s message, and a trap becomes
//! [`Error::Trap`] with the reason the guest recorded.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::{Instance, Linker, Memory, Module, Store, Val, ValType};

use crate::exports::AbiExports;
use crate::func::GuestFunc;
use crate::imports::HostTrap;
use crate::inputs::{InputBlock, OWNED_ROOM, Placed};
use crate::{ABI_VERSION, Error, Interface, ResultProblem, result_block};

/// Default cap on the length of a result block the host agrees to read: 256 MiB.
pub const DEFAULT_RESULT_CAP: u32 = 256 << 20;

/// Tells instances apart, so that a [`GuestFunc`] is never called on another store (wasmtime
/// would panic).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One instance of a guestmem guest, in the user's own [`Store`].
///
/// Calls take inputs as bytes (a string is its UTF-8), copy them into guest memory, and give
/// results back as `Vec<u8>`, `String` or integers, or lend them in place
/// ([`GuestFunc::call_with`]); every block the host allocates or receives is freed, on success and
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
    pub fn new(mut store: Store<T>, instance: Instance) -> Result<Self, Error> {
        if let Some(initialize) = instance.get_func(&mut store, "_initialize") {
            let initialize = initialize
                .typed::<(), ()>(&store)
                .map_err(|error| Error::Export {
                    name: "_initialize".to_owned(),
                    message: format!("{error:#}"),
                })?;
            initialize
                .call(&mut store, ())
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
            named: HashMap::new(),
            interface: None,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        };
        let found = guest.abi_version()?;
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

    /// Export `name` for the by-name calls, looked up on its first call only.
    fn named(&mut self, name: &str) -> Result<Arc<GuestFunc>, Error> {
        if let Some(func) = self.named.get(name) {
            return Ok(Arc::clone(func));
        }
        let func = Arc::new(self.func(name)?);
        self.named.insert(name.into(), Arc::clone(&func));
        Ok(func)
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
    /// [`ResultProblem::TooLong`], freed without being read.
    pub fn set_result_cap(&mut self, cap: u32) {
        self.result_cap = cap;
    }

    /// `alloc(len)`, returning the raw pointer (`0` on failure).
    ///
    /// # Errors
    ///
    /// [`Error::Trap`] if the guest traps.
    pub fn alloc(&mut self, len: u32) -> Result<u32, Error> {
        self.return_lent()?;
        let outcome = self.abi.alloc.call(&mut self.store, len);
        self.settle("alloc", outcome)
    }

    /// `dealloc(ptr, len)`.
    ///
    /// # Errors
    ///
    /// [`Error::Trap`] if the guest traps (a wrong length or a bad pointer).
    pub fn dealloc(&mut self, ptr: u32, len: u32) -> Result<(), Error> {
        self.return_lent()?;
        let outcome = self.abi.dealloc.call(&mut self.store, (ptr, len));
        self.settle("dealloc", outcome)
    }

    /// `free(ptr)`.
    ///
    /// # Errors
    ///
    /// [`Error::Trap`] if the guest traps (a bad pointer).
    pub fn free(&mut self, ptr: u32) -> Result<(), Error> {
        self.return_lent()?;
        let outcome = self.abi.free.call(&mut self.store, ptr);
        self.settle("free", outcome)
    }

    /// `realloc(ptr, new_len)`, returning the raw pointer (`0` on failure).
    ///
    /// # Errors
    ///
    /// [`Error::Trap`] if the guest traps (a bad pointer).
    pub fn realloc(&mut self, ptr: u32, new_len: u32) -> Result<u32, Error> {
        self.return_lent()?;
        let outcome = self.abi.realloc.call(&mut self.store, (ptr, new_len));
        self.settle("realloc", outcome)
    }

    /// `abi_version()`.
    ///
    /// # Errors
    ///
    /// [`Error::Trap`] if the guest traps.
    pub fn abi_version(&mut self) -> Result<u32, Error> {
        self.return_lent()?;
        let outcome = self.abi.abi_version.call(&mut self.store, ());
        self.settle("abi_version", outcome)
    }

    /// `live_blocks()`, less the one block this host keeps for inputs (see
    /// [`Guest::release_input_block`]), or `None` if the guest was built without `stats`.
    ///
    /// # Errors
    ///
    /// [`Error::Trap`] if the guest traps.
    pub fn live_blocks(&mut self) -> Result<Option<u32>, Error> {
        self.return_lent()?;
        let Some(func) = &self.abi.live_blocks else {
            return Ok(None);
        };
        let outcome = func.call(&mut self.store, ());
        let blocks = self.settle("live_blocks", outcome)?;
        Ok(Some(blocks.saturating_sub(self.inputs.blocks())))
    }

    /// `heap_bytes()`, or `None` if the guest was built without `stats`. It counts the block this
    /// host keeps for inputs: release it first to compare with an empty heap.
    ///
    /// # Errors
    ///
    /// [`Error::Trap`] if the guest traps.
    pub fn heap_bytes(&mut self) -> Result<Option<u32>, Error> {
        self.return_lent()?;
        let Some(func) = &self.abi.heap_bytes else {
            return Ok(None);
        };
        let outcome = func.call(&mut self.store, ());
        self.settle("heap_bytes", outcome).map(Some)
    }

    /// Frees the block this host keeps for small inputs, if it has one; the next call allocates
    /// a new one.
    ///
    /// # Errors
    ///
    /// [`Error::Trap`] if the guest traps.
    pub fn release_input_block(&mut self) -> Result<(), Error> {
        match self.inputs.take() {
            Some(ptr) => self.free(ptr),
            None => Ok(()),
        }
    }

    /// Takes the pending error message: `last_error()`, then reads and frees the result block.
    ///
    /// # Errors
    ///
    /// [`Error::Trap`] if the guest traps, [`Error::BadResult`] if the block cannot be read or
    /// is not UTF-8.
    pub fn last_error(&mut self) -> Result<Option<String>, Error> {
        self.return_lent()?;
        self.error_pending = false;
        let ptr = match self.abi.last_error.call(&mut self.store, ()) {
            Ok(ptr) => ptr,
            // Asking the trap's reason again would recurse into the same trap.
            Err(error) => return Err(trap_or_wasmtime("last_error", error, None)),
        };
        if ptr == 0 {
            return Ok(None);
        }
        // Freed without asking for a reason if that traps: the reason would be another message
        // block to free, and a guest whose `free` always traps would recurse without end.
        let message = self.read_result("last_error", ptr, Self::free_without_reason, |bytes| {
            String::from_utf8(bytes.to_vec()).ok()
        })?;
        message.map(Some).ok_or_else(|| Error::BadResult {
            function: "last_error".to_owned(),
            problem: ResultProblem::NotUtf8,
        })
    }

    /// Copies `bytes` into linear memory at `ptr`.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range is not inside linear memory.
    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Error> {
        let range = self.checked_range(ptr, bytes.len())?;
        self.memory.data_mut(&mut self.store)[range].copy_from_slice(bytes);
        Ok(())
    }

    /// Copies `len` bytes out of linear memory at `ptr`.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range is not inside linear memory.
    pub fn read(&self, ptr: u32, len: usize) -> Result<Vec<u8>, Error> {
        let range = self.checked_range(ptr, len)?;
        Ok(self.memory.data(&self.store)[range].to_vec())
    }

    fn checked_range(&self, ptr: u32, len: usize) -> Result<Range<usize>, Error> {
        let memory = self.memory_size();
        let out_of_bounds = || Error::OutOfBounds {
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

    /// Allocates a block for `bytes` and copies them in: a block the caller owns and frees.
    ///
    /// # Errors
    ///
    /// [`Error::InputTooLong`], [`Error::AllocFailed`], [`Error::OutOfBounds`] if `alloc`
    /// returned a block outside memory, or a trap in `alloc`.
    pub fn put(&mut self, bytes: &[u8]) -> Result<u32, Error> {
        self.put_for("alloc", bytes)
    }

    fn put_for(&mut self, function: &str, bytes: &[u8]) -> Result<u32, Error> {
        let len =
            u32::try_from(bytes.len()).map_err(|_| Error::InputTooLong { len: bytes.len() })?;
        let ptr = self.alloc(len)?;
        if ptr == 0 {
            return Err(Error::AllocFailed {
                function: function.to_owned(),
                len,
            });
        }
        self.write(ptr, bytes)?;
        Ok(ptr)
    }

    /// Copies `inputs` into guest memory and returns their `(ptr, len)` arguments: into the
    /// block kept for inputs when they are small, into blocks of their own (freed by
    /// [`Guest::release_inputs`]) when they are not. On an error nothing stays allocated but the
    /// kept block.
    pub(crate) fn place_inputs<I: AsRef<[u8]>>(
        &mut self,
        function: &str,
        inputs: &[I],
        owned: u16,
        args: &mut [u32],
    ) -> Result<Placed, Error> {
        if inputs.is_empty() {
            return Ok(Placed::Kept);
        }
        if owned != 0 {
            return self.place_apart(function, inputs, owned, args);
        }
        let lens = inputs.iter().map(|input| input.as_ref().len());
        let Some(total) = InputBlock::packed_len(lens) else {
            return self.place_apart(function, inputs, 0, args);
        };
        let block = self.input_block(function, total)?;
        // One view of memory for every input: `input_block` was the last call into the guest.
        let memory = self.memory.data_mut(&mut self.store);
        let mut offset = block as usize;
        for (input, pair) in inputs.iter().zip(args.chunks_exact_mut(2)) {
            let input = input.as_ref();
            let end = offset.checked_add(input.len());
            let Some(destination) = end.and_then(|end| memory.get_mut(offset..end)) else {
                let memory = memory.len();
                // `alloc` gave a block outside memory: it is not one, and freeing it would trap.
                self.inputs.take();
                return Err(Error::OutOfBounds {
                    ptr: block,
                    len: u64::from(total),
                    memory,
                });
            };
            destination.copy_from_slice(input);
            // The range is inside linear memory (at most 4 GiB), and `packed_len` checked that
            // each length fits in a u32.
            pair.copy_from_slice(&[offset as u32, input.len() as u32]);
            offset = offset.saturating_add(InputBlock::stride(input.len() as u32) as usize);
        }
        Ok(Placed::Kept)
    }

    /// The kept input block, at least `len` bytes long. A block too small is freed and a larger
    /// one allocated: its bytes need not be kept, so `realloc` would copy for nothing.
    fn input_block(&mut self, function: &str, len: u32) -> Result<u32, Error> {
        let Some(capacity) = self.inputs.grow_to(len) else {
            return Ok(self.inputs.ptr());
        };
        self.release_input_block()?;
        let ptr = self.alloc(capacity)?;
        if ptr == 0 {
            return Err(Error::AllocFailed {
                function: function.to_owned(),
                len: capacity,
            });
        }
        self.inputs.set(ptr, capacity);
        Ok(ptr)
    }

    /// Large inputs, and the inputs of a call with owned arguments: a block each, all freed
    /// again if one cannot be had. An owned input's block has 4 bytes of room in front of the
    /// bytes, and its argument points past them (guestmem's `docs/ABI.md`, "Owned arguments").
    fn place_apart<I: AsRef<[u8]>>(
        &mut self,
        function: &str,
        inputs: &[I],
        owned: u16,
        args: &mut [u32],
    ) -> Result<Placed, Error> {
        for (placed, (input, pair)) in inputs.iter().zip(args.chunks_exact_mut(2)).enumerate() {
            let input = input.as_ref();
            let is_owned = owned & (1 << placed) != 0;
            match self.put_owned(function, input, is_owned) {
                // `put_owned` checked that the length fits in a u32.
                Ok(ptr) => pair.copy_from_slice(&[ptr, input.len() as u32]),
                Err(error) => {
                    if !error.is_trap() {
                        // Not called yet: the owned blocks are still the host's to free.
                        self.release_inputs(
                            Placed::Apart { owned: 0 },
                            &args[..placed * 2],
                            owned,
                        )?;
                    }
                    return Err(error);
                }
            }
        }
        Ok(Placed::Apart { owned })
    }

    /// A block holding `bytes`, with 4 bytes of room in front when `owned`; returns where the
    /// bytes start.
    fn put_owned(&mut self, function: &str, bytes: &[u8], owned: bool) -> Result<u32, Error> {
        if !owned {
            return self.put_for(function, bytes);
        }
        let len = u32::try_from(bytes.len())
            .ok()
            .and_then(|len| len.checked_add(OWNED_ROOM))
            .ok_or(Error::InputTooLong { len: bytes.len() })?;
        let block = self.alloc(len)?;
        if block == 0 {
            return Err(Error::AllocFailed {
                function: function.to_owned(),
                len,
            });
        }
        // `alloc` returned a block inside memory, or `write` says it did not.
        let start = block.checked_add(OWNED_ROOM).ok_or(Error::OutOfBounds {
            ptr: block,
            len: u64::from(len),
            memory: self.memory_size(),
        })?;
        self.write(start, bytes)?;
        Ok(start)
    }

    /// Frees the inputs of a call made with [`Guest::place_inputs`]'s arguments `args`, but for
    /// those the guest owns. `room` marks the inputs whose block starts 4 bytes in front of them.
    pub(crate) fn release_inputs(
        &mut self,
        placed: Placed,
        args: &[u32],
        room: u16,
    ) -> Result<(), Error> {
        if let Placed::Apart { owned } = placed {
            for (index, pair) in args.chunks_exact(2).enumerate() {
                if owned & (1 << index) != 0 {
                    continue;
                }
                let block = if room & (1 << index) != 0 {
                    pair[0].wrapping_sub(OWNED_ROOM)
                } else {
                    pair[0]
                };
                self.free(block)?;
            }
        }
        Ok(())
    }

    /// Calls export `function` with `i32` arguments and one `i32` result, returned raw: a result
    /// block's pointer is the caller's to take ([`Guest::take_result`]).
    ///
    /// # Errors
    ///
    /// [`Error::Export`] if there is no such function or it has another type, [`Error::Trap`]
    /// if it traps.
    pub fn call_raw(&mut self, function: &str, args: &[u32]) -> Result<u32, Error> {
        self.return_lent()?;
        let func = self
            .instance
            .get_func(&mut self.store, function)
            .ok_or_else(|| Error::Export {
                name: function.to_owned(),
                message: "missing".to_owned(),
            })?;
        let params: Vec<Val> = args
            .iter()
            .map(|&arg| Val::I32(arg.cast_signed()))
            .collect();
        let mut results = [Val::I32(0)];
        let outcome = func.call(&mut self.store, &params, &mut results);
        self.settle(function, outcome)?;
        match results {
            [Val::I32(0)] => {
                self.error_pending = true;
                Ok(0)
            }
            [Val::I32(value)] => Ok(value.cast_unsigned()),
            _ => Err(Error::Export {
                name: function.to_owned(),
                message: "does not return an i32".to_owned(),
            }),
        }
    }

    /// Passes each input as a `(ptr, len)` pair to `function` and returns its raw `i32` result.
    ///
    /// The guest only borrows the inputs; the host frees them (or keeps the block they were
    /// copied into for the next call). `function` is looked up on its first call and found in a
    /// map after that: a [`GuestFunc`] skips the map.
    ///
    /// # Errors
    ///
    /// [`Error::Arity`] for the wrong number of inputs, or what [`GuestFunc::call_raw`] returns.
    pub fn call_with_inputs(&mut self, function: &str, inputs: &[&[u8]]) -> Result<u32, Error> {
        self.named(function)?.call_raw(self, inputs)
    }

    /// Calls a function that returns a result block, and returns the result's bytes.
    ///
    /// # Errors
    ///
    /// See [`GuestFunc::call_bytes`].
    pub fn call_result(&mut self, function: &str, inputs: &[&[u8]]) -> Result<Vec<u8>, Error> {
        self.named(function)?.call_bytes(self, inputs)
    }

    /// Calls a function that returns a result block holding UTF-8 text.
    ///
    /// # Errors
    ///
    /// See [`GuestFunc::call_string`].
    pub fn call_string(&mut self, function: &str, inputs: &[&[u8]]) -> Result<String, Error> {
        self.named(function)?.call_string(self, inputs)
    }

    /// Calls a function that returns an integer, telling a `0` answer from a failure through
    /// `last_error`.
    ///
    /// # Errors
    ///
    /// See [`GuestFunc::call_u32`].
    pub fn call_u32(&mut self, function: &str, inputs: &[&[u8]]) -> Result<u32, Error> {
        self.named(function)?.call_u32(self, inputs)
    }

    /// Clears an error an earlier call left pending, so that the next integer answer of `0` is
    /// told apart from a failure by this call's own error.
    /// Notes that a call returned `0`, which may have left an error pending.
    pub(crate) fn set_error_pending(&mut self) {
        self.error_pending = true;
    }

    pub(crate) fn clear_pending_error(&mut self) -> Result<(), Error> {
        if self.error_pending {
            self.last_error()?;
        }
        Ok(())
    }

    /// The failure of `function`, which returned `0`, with `last_error`'s message.
    pub(crate) fn failure(&mut self, function: &str) -> Error {
        let message = match self.last_error() {
            Ok(Some(message)) => message,
            Ok(None) => "returned 0 and no error is pending".to_owned(),
            Err(error) => format!("returned 0 and last_error failed: {error}"),
        };
        Error::Guest {
            function: function.to_owned(),
            message,
        }
    }

    /// Turns the raw result `ptr` of `function` into its bytes, freeing the block.
    ///
    /// # Errors
    ///
    /// [`Error::Guest`] if `ptr` is `0` (with `last_error`'s message), [`Error::BadResult`] if
    /// the block cannot be trusted.
    pub fn take_result(&mut self, function: &str, ptr: u32) -> Result<Vec<u8>, Error> {
        self.take_result_with(function, ptr, <[u8]>::to_vec)
    }

    /// Lends the payload of the raw result `ptr` of `function` to `read`, in place, then frees
    /// the block.
    ///
    /// # Errors
    ///
    /// As [`Guest::take_result`].
    pub fn take_result_with<R>(
        &mut self,
        function: &str,
        ptr: u32,
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        if ptr == 0 {
            return Err(self.failure(function));
        }
        self.read_result(function, ptr, Self::free, read)
    }

    /// Frees the result block lent out by the last [`GuestFunc::call_borrowed`], if any: every
    /// call into the guest does this first, so a borrowed result never outlives the next call
    /// (the borrow checker ends the slice's life there too).
    pub(crate) fn return_lent(&mut self) -> Result<(), Error> {
        let ptr = std::mem::take(&mut self.lent);
        if ptr == 0 {
            return Ok(());
        }
        let outcome = self.abi.free.call(&mut self.store, ptr);
        self.settle("free", outcome)
    }

    /// Reads the raw result `ptr` of `function` in place and lends it until the next call into
    /// the guest, which frees it.
    ///
    /// # Errors
    ///
    /// As [`Guest::take_result`].
    pub(crate) fn lend_result(&mut self, function: &str, ptr: u32) -> Result<&[u8], Error> {
        if ptr == 0 {
            return Err(self.failure(function));
        }
        let memory = self.memory.data(&self.store);
        // Where the payload lies, so that it can be lent after `lent` is set.
        let outcome = result_block::payload(memory, ptr, self.result_cap).map(|payload| {
            let start = payload.as_ptr().addr() - memory.as_ptr().addr();
            start..start + payload.len()
        });
        match outcome {
            Ok(range) => {
                self.lent = ptr;
                Ok(&self.memory.data(&self.store)[range])
            }
            Err(problem) => {
                if matches!(problem, ResultProblem::TooLong { .. }) {
                    self.free(ptr)?;
                }
                Err(Error::BadResult {
                    function: function.to_owned(),
                    problem,
                })
            }
        }
    }

    /// `free(ptr)`, reporting a trap without its reason.
    fn free_without_reason(&mut self, ptr: u32) -> Result<(), Error> {
        self.abi
            .free
            .call(&mut self.store, ptr)
            .map_err(|error| trap_or_wasmtime("free", error, None))
    }

    /// Lends the payload of the result block at `ptr` to `read`, then gives the block back with
    /// `free`.
    fn read_result<R>(
        &mut self,
        function: &str,
        ptr: u32,
        free: fn(&mut Self, u32) -> Result<(), Error>,
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        let outcome =
            result_block::payload(self.memory.data(&self.store), ptr, self.result_cap).map(read);
        match outcome {
            Ok(value) => {
                free(self, ptr)?;
                Ok(value)
            }
            Err(problem) => {
                // A block that is only too long is still a block: give it back. Anything else is
                // not a block, and freeing it would only make the guest trap.
                if matches!(problem, ResultProblem::TooLong { .. }) {
                    free(self, ptr)?;
                }
                Err(Error::BadResult {
                    function: function.to_owned(),
                    problem,
                })
            }
        }
    }

    /// Converts the outcome of a call, reading the recorded reason if it trapped.
    pub(crate) fn settle<R>(
        &mut self,
        function: &str,
        outcome: wasmtime::Result<R>,
    ) -> Result<R, Error> {
        outcome.map_err(|error| {
            if let Some(host) = error.downcast_ref::<HostTrap>() {
                return Error::HostFunction {
                    function: function.to_owned(),
                    host_function: host.function.clone(),
                    message: host.message.clone(),
                };
            }
            let reason = if error.is::<wasmtime::Trap>() {
                self.last_error().ok().flatten()
            } else {
                None
            };
            trap_or_wasmtime(function, error, reason)
        })
    }
}

fn trap_or_wasmtime(function: &str, error: wasmtime::Error, reason: Option<String>) -> Error {
    match error.downcast::<wasmtime::Trap>() {
        Ok(trap) => Error::Trap {
            function: function.to_owned(),
            trap,
            reason,
        },
        Err(error) => Error::Wasmtime(error),
    }
}
