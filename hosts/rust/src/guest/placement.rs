//! Inputs into linear memory: copied into the block kept for small inputs, or into blocks of
//! their own (an owned input's with room in front, "Owned arguments" in docs/ABI.md), and freed
//! again after the call, but for the blocks the guest took.

use std::ops::Range;

use super::Guest;
use crate::Error;
use crate::drive::{Blocking, Drive, now};
use crate::inputs::{InputBlock, OWNED_ROOM, Placed};

impl<T: 'static> Guest<T> {
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
        now(self.put_for::<Blocking>("alloc", bytes))
    }

    /// [`Guest::put`] for stores with async host functions or async yields.
    ///
    /// # Errors
    ///
    /// As [`Guest::put`].
    #[cfg(feature = "async")]
    #[inline]
    pub async fn put_async(&mut self, bytes: &[u8]) -> Result<u32, Error>
    where
        T: Send,
    {
        self.put_for::<crate::drive::Fiber>("alloc", bytes).await
    }

    #[inline]
    async fn put_for<D: Drive<T>>(&mut self, function: &str, bytes: &[u8]) -> Result<u32, Error> {
        let len =
            u32::try_from(bytes.len()).map_err(|_| Error::InputTooLong { len: bytes.len() })?;
        let ptr = self.alloc_by::<D>(len).await?;
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
    #[inline]
    pub(crate) async fn place_inputs<D: Drive<T>, I: AsRef<[u8]>>(
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
            return self
                .place_apart::<D, I>(function, inputs, owned, args)
                .await;
        }
        let lens = inputs.iter().map(|input| input.as_ref().len());
        let Some(total) = InputBlock::packed_len(lens) else {
            return self.place_apart::<D, I>(function, inputs, 0, args).await;
        };
        let block = self.input_block::<D>(function, total).await?;
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
    #[inline]
    async fn input_block<D: Drive<T>>(&mut self, function: &str, len: u32) -> Result<u32, Error> {
        let Some(capacity) = self.inputs.grow_to(len) else {
            return Ok(self.inputs.ptr());
        };
        self.release_input_block_by::<D>().await?;
        let ptr = self.alloc_by::<D>(capacity).await?;
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
    #[inline]
    async fn place_apart<D: Drive<T>, I: AsRef<[u8]>>(
        &mut self,
        function: &str,
        inputs: &[I],
        owned: u16,
        args: &mut [u32],
    ) -> Result<Placed, Error> {
        for (placed, (input, pair)) in inputs.iter().zip(args.chunks_exact_mut(2)).enumerate() {
            let input = input.as_ref();
            let is_owned = owned & (1 << placed) != 0;
            match self.put_owned::<D>(function, input, is_owned).await {
                // `put_owned` checked that the length fits in a u32.
                Ok(ptr) => pair.copy_from_slice(&[ptr, input.len() as u32]),
                Err(error) => {
                    if !error.is_trap() {
                        // Not called yet: the owned blocks are still the host's to free.
                        self.release_inputs::<D>(
                            Placed::Apart { owned: 0 },
                            &args[..placed * 2],
                            owned,
                        )
                        .await?;
                    }
                    return Err(error);
                }
            }
        }
        Ok(Placed::Apart { owned })
    }

    /// A block holding `bytes`, with 4 bytes of room in front when `owned`; returns where the
    /// bytes start.
    #[inline]
    async fn put_owned<D: Drive<T>>(
        &mut self,
        function: &str,
        bytes: &[u8],
        owned: bool,
    ) -> Result<u32, Error> {
        if !owned {
            return self.put_for::<D>(function, bytes).await;
        }
        let len = u32::try_from(bytes.len())
            .ok()
            .and_then(|len| len.checked_add(OWNED_ROOM))
            .ok_or(Error::InputTooLong { len: bytes.len() })?;
        let block = self.alloc_by::<D>(len).await?;
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
    #[inline]
    pub(crate) async fn release_inputs<D: Drive<T>>(
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
                self.free_by::<D>(block).await?;
            }
        }
        Ok(())
    }
}
