//! Result blocks out of linear memory: read in place with `guestmem-abi`'s checked reader,
//! copied out or lent, and given back to the guest.

use std::ops::Range;

use super::Guest;
use crate::drive::{Blocking, Drive, now};
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
        now(self.take_result_by::<Blocking, R>(function, ptr, read))
    }

    /// [`Guest::take_result`] for stores with async host functions or async yields.
    ///
    /// # Errors
    ///
    /// As [`Guest::take_result`].
    #[cfg(feature = "async")]
    #[inline]
    pub async fn take_result_async(&mut self, function: &str, ptr: u32) -> Result<Vec<u8>, Error>
    where
        T: Send,
    {
        self.take_result_by::<crate::drive::Fiber, _>(function, ptr, <[u8]>::to_vec)
            .await
    }

    #[inline]
    pub(crate) async fn take_result_by<D: Drive<T>, R>(
        &mut self,
        function: &str,
        ptr: u32,
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        if ptr == 0 {
            return Err(self.failure::<D>(function).await);
        }
        let range = self.locate_result::<D>(function, ptr).await?;
        let value = read(&self.memory.data(&self.store)[range]);
        self.give_back::<D>(ptr).await?;
        Ok(value)
    }

    /// Reads the raw result `ptr` of `function` in place and lends it until the next call into
    /// the guest, which frees it.
    #[inline]
    pub(crate) async fn lend_result_by<D: Drive<T>>(
        &mut self,
        function: &str,
        ptr: u32,
    ) -> Result<&[u8], Error> {
        if ptr == 0 {
            return Err(self.failure::<D>(function).await);
        }
        let range = self.locate_result::<D>(function, ptr).await?;
        self.lent = ptr;
        Ok(&self.memory.data(&self.store)[range])
    }

    /// Where the payload of the result block at `ptr` lies in linear memory. A block that is only
    /// too long is still a block: it is given back. Anything else is not a block, and freeing it
    /// would only make the guest trap.
    #[inline]
    async fn locate_result<D: Drive<T>>(
        &mut self,
        function: &str,
        ptr: u32,
    ) -> Result<Range<usize>, Error> {
        match self.payload_range(ptr) {
            Ok(range) => Ok(range),
            Err(problem) => {
                if matches!(problem, ResultProblem::TooLong { .. }) {
                    self.give_back::<D>(ptr).await?;
                }
                Err(Error::BadResult {
                    function: function.to_owned(),
                    problem,
                })
            }
        }
    }

    /// `last_error`'s message in the block at `ptr`, and whether that is a block to give back
    /// (anything but a pointer that is not one).
    pub(super) fn read_message(&self, ptr: u32) -> (Result<String, Error>, bool) {
        let bad = |problem| Error::BadResult {
            function: "last_error".to_owned(),
            problem,
        };
        match self.payload_range(ptr) {
            Ok(range) => {
                let message = std::str::from_utf8(&self.memory.data(&self.store)[range])
                    .map(str::to_owned)
                    .map_err(|_| bad(ResultProblem::NotUtf8));
                (message, true)
            }
            Err(problem) => {
                let is_block = matches!(problem, ResultProblem::TooLong { .. });
                (Err(bad(problem)), is_block)
            }
        }
    }

    fn payload_range(&self, ptr: u32) -> Result<Range<usize>, ResultProblem> {
        let memory = self.memory.data(&self.store);
        result_block::payload(memory, ptr, self.result_cap).map(|payload| {
            let start = payload.as_ptr().addr() - memory.as_ptr().addr();
            start..start + payload.len()
        })
    }
}
