//! The raw ABI calls into the guest (`alloc`, `dealloc`, `free`, `realloc`, `last_error`,
//! `abi_version`, the `stats` exports, an export called with raw arguments), and what a call's
//! outcome becomes: a trap with the reason the guest recorded, or a failure with `last_error`'s
//! message.

use wasmtime::Val;

use super::Guest;
use crate::imports::HostTrap;
use crate::{Error, ResultProblem};

impl<T: 'static> Guest<T> {
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

    /// Notes that a call returned `0`, which may have left an error pending.
    pub(crate) fn set_error_pending(&mut self) {
        self.error_pending = true;
    }

    /// Clears an error an earlier call left pending, so that the next integer answer of `0` is
    /// told apart from a failure by this call's own error.
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

    /// `free(ptr)`, reporting a trap without its reason.
    pub(super) fn free_without_reason(&mut self, ptr: u32) -> Result<(), Error> {
        self.abi
            .free
            .call(&mut self.store, ptr)
            .map_err(|error| trap_or_wasmtime("free", error, None))
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

pub(crate) fn trap_or_wasmtime(
    function: &str,
    error: wasmtime::Error,
    reason: Option<String>,
) -> Error {
    match error.downcast::<wasmtime::Trap>() {
        Ok(trap) => Error::Trap {
            function: function.to_owned(),
            trap,
            reason,
        },
        Err(error) => Error::Wasmtime(error),
    }
}
