//! The raw ABI calls into the guest (`alloc`, `dealloc`, `free`, `realloc`, `last_error`,
//! `abi_version`, the `stats` exports, an export called with raw arguments), and what a call's
//! outcome becomes: a trap with the reason the guest recorded, or a failure with `last_error`'s
//! message.
//!
//! Each is written once, generic over the [`Drive`] that runs wasm; the public methods are its
//! blocking form and, with the `async` feature, its `_async` form.

use wasmtime::{Store, TypedFunc, Val, WasmParams, WasmResults};

use super::Guest;
use crate::Error;
use crate::drive::{Blocking, Drive, now};
use crate::imports::HostTrap;

/// The outcome of a call into the guest, its error settled by `Guest::settle_error`: a
/// `Result<R, Error>`.
macro_rules! settled {
    ($guest:expr, $drive:ty, $function:expr, $outcome:expr) => {
        match $outcome {
            Ok(value) => Ok(value),
            Err(error) => Err($guest.settle_error::<$drive>($function, error).await),
        }
    };
}
pub(crate) use settled;

/// Enters the guest for `$function`, as `Guest::check_entry` says: `?` on an abandoned instance,
/// and the lent block given back first, if there is one (without a future otherwise).
macro_rules! entered {
    ($guest:expr, $drive:ty, $function:expr) => {
        if $guest.check_entry($function)? {
            $guest.return_lent::<$drive>().await?;
        }
    };
}
pub(crate) use entered;

/// The blocking method, and with the `async` feature the `_async` one, over the generic `$by`.
macro_rules! blocking_and_async {
    ($(
        $(#[$doc:meta])*
        fn $name:ident / $name_async:ident ($($arg:ident: $ty:ty),*) -> $ret:ty = $by:ident;
    )*) => {$(
        $(#[$doc])*
        pub fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, Error> {
            now(self.$by::<Blocking>($($arg),*))
        }

        #[doc = concat!("[`Guest::", stringify!($name), "`] for stores with async host functions \
            or async yields: the call runs on one of wasmtime's fibers, and this future waits \
            while the guest waits. Drop it half way and the instance refuses every later call \
            ([`Error::Abandoned`]).")]
        ///
        /// # Errors
        ///
        #[doc = concat!("As [`Guest::", stringify!($name), "`].")]
        #[cfg(feature = "async")]
        pub async fn $name_async(&mut self, $($arg: $ty),*) -> Result<$ret, Error>
        where
            T: Send,
        {
            self.$by::<crate::drive::Fiber>($($arg),*).await
        }
    )*};
}

impl<T: 'static> Guest<T> {
    blocking_and_async! {
        /// `alloc(len)`, returning the raw pointer (`0` on failure).
        ///
        /// # Errors
        ///
        /// [`Error::Trap`] if the guest traps.
        fn alloc / alloc_async(len: u32) -> u32 = alloc_by;

        /// `dealloc(ptr, len)`.
        ///
        /// # Errors
        ///
        /// [`Error::Trap`] if the guest traps (a wrong length or a bad pointer).
        fn dealloc / dealloc_async(ptr: u32, len: u32) -> () = dealloc_by;

        /// `free(ptr)`.
        ///
        /// # Errors
        ///
        /// [`Error::Trap`] if the guest traps (a bad pointer).
        fn free / free_async(ptr: u32) -> () = free_by;

        /// `realloc(ptr, new_len)`, returning the raw pointer (`0` on failure).
        ///
        /// # Errors
        ///
        /// [`Error::Trap`] if the guest traps (a bad pointer).
        fn realloc / realloc_async(ptr: u32, new_len: u32) -> u32 = realloc_by;

        /// `abi_version()`.
        ///
        /// # Errors
        ///
        /// [`Error::Trap`] if the guest traps.
        fn abi_version / abi_version_async() -> u32 = abi_version_by;

        /// `live_blocks()`, less the one block this host keeps for inputs (see
        /// [`Guest::release_input_block`]), or `None` if the guest was built without `stats`.
        ///
        /// # Errors
        ///
        /// [`Error::Trap`] if the guest traps.
        fn live_blocks / live_blocks_async() -> Option<u32> = live_blocks_by;

        /// `heap_bytes()`, or `None` if the guest was built without `stats`. It counts the block
        /// this host keeps for inputs: release it first to compare with an empty heap.
        ///
        /// # Errors
        ///
        /// [`Error::Trap`] if the guest traps.
        fn heap_bytes / heap_bytes_async() -> Option<u32> = heap_bytes_by;

        /// Frees the block this host keeps for small inputs, if it has one; the next call
        /// allocates a new one.
        ///
        /// # Errors
        ///
        /// [`Error::Trap`] if the guest traps.
        fn release_input_block / release_input_block_async() -> () = release_input_block_by;

        /// Takes the pending error message: `last_error()`, then reads and frees the result
        /// block.
        ///
        /// # Errors
        ///
        /// [`Error::Trap`] if the guest traps, [`Error::BadResult`] if the block cannot be read
        /// or is not UTF-8.
        fn last_error / last_error_async() -> Option<String> = last_error_by;

        /// Calls export `function` with `i32` arguments and one `i32` result, returned raw: a
        /// result block's pointer is the caller's to take ([`Guest::take_result`]).
        ///
        /// # Errors
        ///
        /// [`Error::Export`] if there is no such function or it has another type,
        /// [`Error::Trap`] if it traps.
        fn call_raw / call_raw_async(function: &str, args: &[u32]) -> u32 = call_raw_by;
    }

    /// Runs `func(params)` in `store`: the one way the call path enters the guest. `running`
    /// stays set if the call never returns (its future was dropped): the instance is then in
    /// the middle of a call, and `Guest::check_entry` refuses every later one.
    #[inline]
    pub(crate) async fn run<D: Drive<T>, P, R>(
        store: &mut Store<T>,
        running: &mut bool,
        func: &TypedFunc<P, R>,
        params: P,
    ) -> wasmtime::Result<R>
    where
        P: WasmParams + Send + Sync,
        R: WasmResults + Send + Sync,
    {
        *running = true;
        let outcome = D::call(func, store, params).await;
        *running = false;
        outcome
    }

    /// Calls export `func` with `args`, marked running as [`Guest::run`] does.
    #[inline]
    pub(crate) async fn invoke<D: Drive<T>>(
        &mut self,
        func: &crate::GuestFunc,
        args: &[u32],
    ) -> Option<wasmtime::Result<u32>> {
        self.running = true;
        let outcome = func.call_by::<D, T>(&mut self.store, args).await;
        self.running = false;
        outcome
    }

    /// What every operation does first (`entered!`): refuses an instance whose last call was
    /// abandoned, and says whether the result block lent out by the last
    /// [`GuestFunc::call_borrowed`] is to be given back first ([`Guest::return_lent`]), so that a
    /// borrowed result never outlives the next call (the borrow checker ends the slice's life
    /// there too).
    ///
    /// [`GuestFunc::call_borrowed`]: crate::GuestFunc::call_borrowed
    #[inline]
    pub(crate) fn check_entry(&self, function: &str) -> Result<bool, Error> {
        if self.running {
            return Err(Error::Abandoned {
                function: function.to_owned(),
            });
        }
        Ok(self.lent != 0)
    }

    /// Frees the lent result block.
    pub(crate) async fn return_lent<D: Drive<T>>(&mut self) -> Result<(), Error> {
        let ptr = std::mem::take(&mut self.lent);
        let outcome =
            Self::run::<D, _, _>(&mut self.store, &mut self.running, &self.abi.free, ptr).await;
        settled!(self, D, "free", outcome)
    }

    #[inline]
    pub(crate) async fn alloc_by<D: Drive<T>>(&mut self, len: u32) -> Result<u32, Error> {
        entered!(self, D, "alloc");
        let outcome =
            Self::run::<D, _, _>(&mut self.store, &mut self.running, &self.abi.alloc, len).await;
        settled!(self, D, "alloc", outcome)
    }

    #[inline]
    async fn dealloc_by<D: Drive<T>>(&mut self, ptr: u32, len: u32) -> Result<(), Error> {
        entered!(self, D, "dealloc");
        let outcome = Self::run::<D, _, _>(
            &mut self.store,
            &mut self.running,
            &self.abi.dealloc,
            (ptr, len),
        )
        .await;
        settled!(self, D, "dealloc", outcome)
    }

    #[inline]
    pub(crate) async fn free_by<D: Drive<T>>(&mut self, ptr: u32) -> Result<(), Error> {
        entered!(self, D, "free");
        let outcome =
            Self::run::<D, _, _>(&mut self.store, &mut self.running, &self.abi.free, ptr).await;
        settled!(self, D, "free", outcome)
    }

    #[inline]
    async fn realloc_by<D: Drive<T>>(&mut self, ptr: u32, new_len: u32) -> Result<u32, Error> {
        entered!(self, D, "realloc");
        let outcome = Self::run::<D, _, _>(
            &mut self.store,
            &mut self.running,
            &self.abi.realloc,
            (ptr, new_len),
        )
        .await;
        settled!(self, D, "realloc", outcome)
    }

    #[inline]
    pub(super) async fn abi_version_by<D: Drive<T>>(&mut self) -> Result<u32, Error> {
        entered!(self, D, "abi_version");
        let outcome = Self::run::<D, _, _>(
            &mut self.store,
            &mut self.running,
            &self.abi.abi_version,
            (),
        )
        .await;
        settled!(self, D, "abi_version", outcome)
    }

    #[inline]
    async fn live_blocks_by<D: Drive<T>>(&mut self) -> Result<Option<u32>, Error> {
        entered!(self, D, "live_blocks");
        let Some(func) = self.abi.live_blocks.clone() else {
            return Ok(None);
        };
        let outcome = Self::run::<D, _, _>(&mut self.store, &mut self.running, &func, ()).await;
        let blocks = settled!(self, D, "live_blocks", outcome)?;
        Ok(Some(blocks.saturating_sub(self.inputs.blocks())))
    }

    #[inline]
    async fn heap_bytes_by<D: Drive<T>>(&mut self) -> Result<Option<u32>, Error> {
        entered!(self, D, "heap_bytes");
        let Some(func) = self.abi.heap_bytes.clone() else {
            return Ok(None);
        };
        let outcome = Self::run::<D, _, _>(&mut self.store, &mut self.running, &func, ()).await;
        settled!(self, D, "heap_bytes", outcome).map(Some)
    }

    #[inline]
    pub(super) async fn release_input_block_by<D: Drive<T>>(&mut self) -> Result<(), Error> {
        match self.inputs.take() {
            Some(ptr) => self.free_by::<D>(ptr).await,
            None => Ok(()),
        }
    }

    #[inline]
    pub(crate) async fn last_error_by<D: Drive<T>>(&mut self) -> Result<Option<String>, Error> {
        entered!(self, D, "last_error");
        self.take_last_error::<D>().await
    }

    /// `last_error()` and its message, without `entered!`: the reason of a trap is read
    /// this way (the lent block, if any, was given back by the call that trapped).
    #[inline]
    async fn take_last_error<D: Drive<T>>(&mut self) -> Result<Option<String>, Error> {
        self.error_pending = false;
        let ptr = match Self::run::<D, _, _>(
            &mut self.store,
            &mut self.running,
            &self.abi.last_error,
            (),
        )
        .await
        {
            Ok(ptr) => ptr,
            // Asking the trap's reason again would recurse into the same trap.
            Err(error) => return Err(trap_or_wasmtime("last_error", error, None)),
        };
        if ptr == 0 {
            return Ok(None);
        }
        // Freed without asking for a reason if that traps: the reason would be another message
        // block to free, and a guest whose `free` always traps would recurse without end.
        let (message, is_block) = self.read_message(ptr);
        if is_block {
            let free =
                Self::run::<D, _, _>(&mut self.store, &mut self.running, &self.abi.free, ptr).await;
            free.map_err(|error| trap_or_wasmtime("free", error, None))?;
        }
        message.map(Some)
    }

    #[inline]
    async fn call_raw_by<D: Drive<T>>(
        &mut self,
        function: &str,
        args: &[u32],
    ) -> Result<u32, Error> {
        entered!(self, D, function);
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
        self.running = true;
        let outcome = D::call_dyn(&func, &mut self.store, &params, &mut results).await;
        self.running = false;
        settled!(self, D, function, outcome)?;
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
    #[inline]
    pub(crate) async fn clear_pending_error<D: Drive<T>>(&mut self) -> Result<(), Error> {
        if self.error_pending {
            self.last_error_by::<D>().await?;
        }
        Ok(())
    }

    /// The failure of `function`, which returned `0`, with `last_error`'s message.
    #[inline]
    pub(crate) async fn failure<D: Drive<T>>(&mut self, function: &str) -> Error {
        let message = match self.last_error_by::<D>().await {
            Ok(Some(message)) => message,
            Ok(None) => "returned 0 and no error is pending".to_owned(),
            Err(error) => format!("returned 0 and last_error failed: {error}"),
        };
        Error::Guest {
            function: function.to_owned(),
            message,
        }
    }

    /// Gives the block at `ptr` back with `free`, a trap there explained through `last_error`.
    #[inline]
    pub(super) async fn give_back<D: Drive<T>>(&mut self, ptr: u32) -> Result<(), Error> {
        let outcome =
            Self::run::<D, _, _>(&mut self.store, &mut self.running, &self.abi.free, ptr).await;
        settled!(self, D, "free", outcome)
    }

    /// What a call's `error` becomes, with the recorded reason if it trapped (`settled!`
    /// calls it on the error path alone, so that a call that returns builds no future for it).
    pub(crate) async fn settle_error<D: Drive<T>>(
        &mut self,
        function: &str,
        error: wasmtime::Error,
    ) -> Error {
        if let Some(host) = error.downcast_ref::<HostTrap>() {
            return Error::HostFunction {
                function: function.to_owned(),
                host_function: host.function.clone(),
                message: host.message.clone(),
            };
        }
        let reason = if error.is::<wasmtime::Trap>() {
            self.take_last_error::<D>().await.ok().flatten()
        } else {
            None
        };
        trap_or_wasmtime(function, error, reason)
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
