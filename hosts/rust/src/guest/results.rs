//! Result blocks out of linear memory: read in place with `guestmem-abi`'s checked reader,
//! copied out or lent, and given back to the guest.

use std::ops::Range;

use super::Guest;
use crate::{Error, ResultProblem, result_block};

impl<T: 'static> Guest<T> {
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
        let range = self.locate_result(function, ptr, Self::free)?;
        self.lent = ptr;
        Ok(&self.memory.data(&self.store)[range])
    }

    /// Lends the payload of the result block at `ptr` to `read`, then gives the block back with
    /// `free`.
    pub(super) fn read_result<R>(
        &mut self,
        function: &str,
        ptr: u32,
        free: fn(&mut Self, u32) -> Result<(), Error>,
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        let range = self.locate_result(function, ptr, free)?;
        let value = read(&self.memory.data(&self.store)[range]);
        free(self, ptr)?;
        Ok(value)
    }

    /// Where the payload of the result block at `ptr` lies in linear memory. A block that is only
    /// too long is still a block: it is given back with `free`. Anything else is not a block, and
    /// freeing it would only make the guest trap.
    fn locate_result(
        &mut self,
        function: &str,
        ptr: u32,
        free: fn(&mut Self, u32) -> Result<(), Error>,
    ) -> Result<Range<usize>, Error> {
        let memory = self.memory.data(&self.store);
        let outcome = result_block::payload(memory, ptr, self.result_cap).map(|payload| {
            let start = payload.as_ptr().addr() - memory.as_ptr().addr();
            start..start + payload.len()
        });
        outcome.or_else(|problem| {
            if matches!(problem, ResultProblem::TooLong { .. }) {
                free(self, ptr)?;
            }
            Err(Error::BadResult {
                function: function.to_owned(),
                problem,
            })
        })
    }
}
