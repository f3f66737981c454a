//! The block a host keeps for small inputs, reused from call to call.
//!
//! The guest only borrows its inputs ("Ownership" in guestmem's `docs/ABI.md`), and an input may
//! lie anywhere inside a block the host allocated, so all the inputs of a call can share one
//! block, kept and replaced by a larger one when it is too small. That saves an `alloc` and a `free` per input and call.
//! Inputs larger than [`KEPT_MAX`] in all get blocks of their own, freed after the call, so a
//! single large call does not pin its memory for the instance's life.

/// The most bytes the kept block grows to.
pub(crate) const KEPT_MAX: u32 = 64 << 10;

/// The size of a new kept block, so that the first calls do not each grow it.
const KEPT_MIN: u32 = 256;

/// Where the inputs of a call were placed, and so what is freed after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placed {
    /// In the kept block, or no inputs: nothing to free.
    Kept,
    /// A block each: freed after the call, but for the owned ones (bit `i` of the mask set for
    /// input `i`), which the guest took.
    Apart {
        /// The inputs the guest owns.
        owned: u16,
    },
}

/// Bytes of room an owned input gets in front of it, for the result prefix.
pub(crate) const OWNED_ROOM: u32 = 4;

/// The kept block: its pointer (`0`: none yet) and capacity.
#[derive(Debug, Default)]
pub(crate) struct InputBlock {
    ptr: u32,
    capacity: u32,
}

impl InputBlock {
    /// The room an input of `len` bytes takes: inputs start 8-aligned, like blocks.
    pub(crate) fn stride(len: u32) -> u32 {
        len.next_multiple_of(8)
    }

    /// The bytes inputs of lengths `lens` take in the kept block, or `None` if they do not fit
    /// in [`KEPT_MAX`].
    pub(crate) fn packed_len(lens: impl Iterator<Item = usize>) -> Option<u32> {
        lens.map(|len| u32::try_from(len).ok().filter(|&len| len <= KEPT_MAX))
            .try_fold(0_u32, |total, len| {
                total
                    .checked_add(Self::stride(len?))
                    .filter(|&total| total <= KEPT_MAX)
            })
    }

    /// `None` if `len` bytes fit; otherwise the capacity of the block to replace it with.
    pub(crate) fn grow_to(&self, len: u32) -> Option<u32> {
        if self.ptr != 0 && len <= self.capacity {
            return None;
        }
        let capacity = len.max(self.capacity.saturating_mul(2)).max(KEPT_MIN);
        Some(capacity.min(KEPT_MAX).max(len))
    }

    pub(crate) fn ptr(&self) -> u32 {
        self.ptr
    }

    pub(crate) fn set(&mut self, ptr: u32, capacity: u32) {
        self.ptr = ptr;
        self.capacity = capacity;
    }

    /// Gives the block up, if there is one.
    pub(crate) fn take(&mut self) -> Option<u32> {
        let ptr = std::mem::take(self).ptr;
        (ptr != 0).then_some(ptr)
    }

    /// The number of live blocks it holds: 0 or 1.
    pub(crate) fn blocks(&self) -> u32 {
        u32::from(self.ptr != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::{InputBlock, KEPT_MAX};

    #[test]
    fn inputs_pack_8_aligned_up_to_the_cap() {
        assert_eq!(InputBlock::packed_len([1, 8, 0, 9].into_iter()), Some(32));
        assert_eq!(
            InputBlock::packed_len([KEPT_MAX as usize].into_iter()),
            Some(KEPT_MAX)
        );
        assert_eq!(
            InputBlock::packed_len([KEPT_MAX as usize, 1].into_iter()),
            None
        );
        assert_eq!(InputBlock::packed_len([usize::MAX].into_iter()), None);
    }

    #[test]
    fn the_block_doubles_within_the_cap() {
        let mut block = InputBlock::default();
        assert_eq!(block.grow_to(0), Some(256));
        block.set(64, 256);
        assert_eq!(block.grow_to(256), None);
        assert_eq!(block.grow_to(300), Some(512));
        block.set(64, 40_000);
        assert_eq!(block.grow_to(40_001), Some(KEPT_MAX));
        assert_eq!(block.take(), Some(64));
        assert_eq!(block.blocks(), 0);
    }
}
