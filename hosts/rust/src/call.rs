//! The calls, in the order they happen: the inputs checked against the export, placed in linear
//! memory ([`Guest`]'s placement), the export called and its outcome settled, the inputs
//! released, and the result read. By-name calls on [`Guest`] look the export up once and take
//! the same path. Each is written once, generic over the [`Drive`] that runs wasm: the blocking
//! methods poll it once, the `_async` ones (feature `async`) await it.

use std::sync::Arc;

use crate::drive::{Blocking, Drive, now};
use crate::func::GuestFunc;
use crate::guest::{entered, settled};
use crate::{Error, Guest, Kind, MAX_INPUTS, ResultProblem};

/// Results that are result blocks.
const BLOCKS: &[Kind] = &[Kind::Bytes, Kind::String, Kind::Json, Kind::Postcard];

/// Results that are integers an `i32` holds.
const INTEGERS: &[Kind] = &[
    Kind::U8,
    Kind::U16,
    Kind::U32,
    Kind::I8,
    Kind::I16,
    Kind::I32,
];

impl GuestFunc {
    /// Calls it and returns the result block's bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Guest`] if it returned `0`, with `last_error`'s message; [`Error::BadResult`] if
    /// the block cannot be trusted; or what [`GuestFunc::call_raw`] returns.
    pub fn call_bytes<T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<Vec<u8>, Error> {
        now(self.bytes_by::<Blocking, T, I>(guest, inputs))
    }

    /// Calls it and returns the result block's text.
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_bytes`], and [`ResultProblem::NotUtf8`] if the result is not UTF-8.
    pub fn call_string<T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<String, Error> {
        now(self.string_by::<Blocking, T, I>(guest, inputs))
    }

    /// Calls it and lends the result's bytes to `read` where they lie in guest memory, without a
    /// copy; the block is freed when `read` returns.
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_bytes`].
    pub fn call_view<T, I: AsRef<[u8]>, R>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        now(self.view_by::<Blocking, T, I, R>(guest, inputs, read))
    }

    /// Calls it and returns the result's bytes where they lie in guest memory, without a copy.
    /// The block stays allocated until the next call into this instance, which frees it first;
    /// the slice borrows the guest, so it cannot outlive that call.
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_bytes`].
    pub fn call_borrowed<'g, T, I: AsRef<[u8]>>(
        &self,
        guest: &'g mut Guest<T>,
        inputs: &[I],
    ) -> Result<&'g [u8], Error> {
        now(async {
            let ptr = self.raw_by::<Blocking, T, I>(guest, inputs).await?;
            guest.lend_result_by::<Blocking>(&self.name, ptr).await
        })
    }

    /// Calls a function that returns an integer. `0` is an answer unless the call left an error
    /// pending: then it is [`Error::Guest`]. An error pending from an earlier call is cleared
    /// first, so it is never reported as this call's.
    ///
    /// # Errors
    ///
    /// [`Error::Guest`], or what [`GuestFunc::call_raw`] returns.
    pub fn call_u32<T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<u32, Error> {
        now(self.u32_by::<Blocking, T, I>(guest, inputs))
    }

    /// Calls it and returns its raw `i32` result: a result block's pointer is the caller's to
    /// take ([`Guest::take_result`]). The inputs are freed (or kept for the next call) after the
    /// call returns; after a trap they are left to the instance, which is to be dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Arity`] for the wrong number of inputs, [`Error::WrongInstance`] for another
    /// instance's guest, [`Error::InputTooLong`], [`Error::AllocFailed`], [`Error::Trap`],
    /// [`Error::Abandoned`] after an abandoned async call.
    pub fn call_raw<T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<u32, Error> {
        now(self.raw_by::<Blocking, T, I>(guest, inputs))
    }

    #[inline]
    async fn bytes_by<D: Drive<T>, T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<Vec<u8>, Error> {
        self.expect_result(BLOCKS, "call_bytes")?;
        self.view_by::<D, T, I, _>(guest, inputs, <[u8]>::to_vec)
            .await
    }

    #[inline]
    async fn string_by<D: Drive<T>, T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<String, Error> {
        self.expect_result(&[Kind::String, Kind::Json], "call_string")?;
        self.view_by::<D, T, I, _>(guest, inputs, |bytes| {
            std::str::from_utf8(bytes).map(str::to_owned)
        })
        .await?
        .map_err(|_| Error::BadResult {
            function: self.name.clone(),
            problem: ResultProblem::NotUtf8,
        })
    }

    #[inline]
    async fn view_by<D: Drive<T>, T, I: AsRef<[u8]>, R>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        let ptr = self.raw_by::<D, T, I>(guest, inputs).await?;
        guest.take_result_by::<D, R>(&self.name, ptr, read).await
    }

    #[inline]
    async fn u32_by<D: Drive<T>, T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<u32, Error> {
        self.check(guest, inputs.len())?;
        self.expect_result(INTEGERS, "call_u32")?;
        guest.clear_pending_error::<D>().await?;
        let value = self.raw_by::<D, T, I>(guest, inputs).await?;
        if value == 0
            && let Some(message) = guest.last_error_by::<D>().await?
        {
            return Err(Error::Guest {
                function: self.name.clone(),
                message,
            });
        }
        Ok(value)
    }

    #[inline]
    async fn raw_by<D: Drive<T>, T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<u32, Error> {
        self.check(guest, inputs.len())?;
        self.check_inputs(inputs)?;
        entered!(guest, D, &self.name);
        let mut args = [0_u32; 2 * MAX_INPUTS];
        let args = &mut args[..inputs.len() * 2];
        let owned = self.owned_inputs();
        let placed = guest
            .place_inputs::<D, I>(&self.name, inputs, owned, args)
            .await
            .map_err(|error| error.while_placing_inputs_of(&self.name))?;
        let outcome = self.invoke::<D, T>(guest, args).await;
        if matches!(&outcome, Err(error) if error.is_trap()) {
            return outcome;
        }
        guest.release_inputs::<D>(placed, args, owned).await?;
        outcome
    }

    fn check<T>(&self, guest: &Guest<T>, inputs: usize) -> Result<(), Error> {
        if guest.id() != self.guest {
            return Err(Error::WrongInstance {
                function: self.name.clone(),
            });
        }
        if inputs != self.inputs() {
            return Err(Error::Arity {
                function: self.name.clone(),
                expected: self.inputs(),
                given: inputs,
            });
        }
        Ok(())
    }

    #[inline]
    async fn invoke<D: Drive<T>, T>(
        &self,
        guest: &mut Guest<T>,
        args: &[u32],
    ) -> Result<u32, Error> {
        let Some(outcome) = guest.invoke::<D>(self, args).await else {
            // `check` matched the arity with the export's type: not reached.
            return Err(Error::Arity {
                function: self.name.clone(),
                expected: self.inputs(),
                given: args.len() / 2,
            });
        };
        let value = settled!(guest, D, &self.name, outcome)?;
        if value == 0 {
            guest.set_error_pending();
        }
        Ok(value)
    }
}

#[cfg(feature = "async")]
impl GuestFunc {
    /// [`GuestFunc::call_bytes`] for stores with async host functions or async yields: the call
    /// runs on one of wasmtime's fibers, and this future waits while the guest waits (on an
    /// async host function, an epoch yield). Dropped half way, it leaves the instance in the
    /// middle of a call: every later call on it is [`Error::Abandoned`], and the instance is to
    /// be dropped, with whatever it held.
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_bytes`].
    #[inline]
    pub async fn call_bytes_async<T: Send, I: AsRef<[u8]> + Sync>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<Vec<u8>, Error> {
        self.bytes_by::<crate::drive::Fiber, T, I>(guest, inputs)
            .await
    }

    /// [`GuestFunc::call_string`], async as [`GuestFunc::call_bytes_async`].
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_string`].
    #[inline]
    pub async fn call_string_async<T: Send, I: AsRef<[u8]> + Sync>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<String, Error> {
        self.string_by::<crate::drive::Fiber, T, I>(guest, inputs)
            .await
    }

    /// [`GuestFunc::call_view`], async as [`GuestFunc::call_bytes_async`].
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_view`].
    #[inline]
    pub async fn call_view_async<T: Send, I: AsRef<[u8]> + Sync, R>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
        read: impl FnOnce(&[u8]) -> R + Send,
    ) -> Result<R, Error> {
        self.view_by::<crate::drive::Fiber, T, I, R>(guest, inputs, read)
            .await
    }

    /// [`GuestFunc::call_u32`], async as [`GuestFunc::call_bytes_async`].
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_u32`].
    #[inline]
    pub async fn call_u32_async<T: Send, I: AsRef<[u8]> + Sync>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<u32, Error> {
        self.u32_by::<crate::drive::Fiber, T, I>(guest, inputs)
            .await
    }

    /// [`GuestFunc::call_raw`], async as [`GuestFunc::call_bytes_async`].
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_raw`].
    #[inline]
    pub async fn call_raw_async<T: Send, I: AsRef<[u8]> + Sync>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<u32, Error> {
        self.raw_by::<crate::drive::Fiber, T, I>(guest, inputs)
            .await
    }
}

impl<T: 'static> Guest<T> {
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
    pub fn call_bytes(&mut self, function: &str, inputs: &[&[u8]]) -> Result<Vec<u8>, Error> {
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

    /// Export `name` for the by-name calls, looked up on its first call only.
    fn named(&mut self, name: &str) -> Result<Arc<GuestFunc>, Error> {
        if let Some(func) = self.cached_func(name) {
            return Ok(func);
        }
        let func = Arc::new(self.func(name)?);
        self.cache_func(name, Arc::clone(&func));
        Ok(func)
    }
}

#[cfg(feature = "async")]
impl<T: Send + 'static> Guest<T> {
    /// [`Guest::call_with_inputs`], async as [`GuestFunc::call_bytes_async`].
    ///
    /// # Errors
    ///
    /// As [`Guest::call_with_inputs`].
    #[inline]
    pub async fn call_with_inputs_async(
        &mut self,
        function: &str,
        inputs: &[&[u8]],
    ) -> Result<u32, Error> {
        self.named(function)?.call_raw_async(self, inputs).await
    }

    /// [`Guest::call_bytes`], async as [`GuestFunc::call_bytes_async`].
    ///
    /// # Errors
    ///
    /// As [`Guest::call_bytes`].
    #[inline]
    pub async fn call_bytes_async(
        &mut self,
        function: &str,
        inputs: &[&[u8]],
    ) -> Result<Vec<u8>, Error> {
        self.named(function)?.call_bytes_async(self, inputs).await
    }

    /// [`Guest::call_string`], async as [`GuestFunc::call_bytes_async`].
    ///
    /// # Errors
    ///
    /// As [`Guest::call_string`].
    #[inline]
    pub async fn call_string_async(
        &mut self,
        function: &str,
        inputs: &[&[u8]],
    ) -> Result<String, Error> {
        self.named(function)?.call_string_async(self, inputs).await
    }

    /// [`Guest::call_u32`], async as [`GuestFunc::call_bytes_async`].
    ///
    /// # Errors
    ///
    /// As [`Guest::call_u32`].
    #[inline]
    pub async fn call_u32_async(&mut self, function: &str, inputs: &[&[u8]]) -> Result<u32, Error> {
        self.named(function)?.call_u32_async(self, inputs).await
    }
}
