//! Result blocks: a u32 little-endian length followed by that many bytes, handed to the host,
//! which reads them and frees the block (docs/ABI.md, "Results").

use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use crate::abi;
use crate::block::Block;

/// Bytes of the length prefix.
const PREFIX: usize = 4;

/// A result block being filled by the guest, before it is handed to the host.
///
/// Dropping it frees the block; [`ResultBlock::into_raw`] hands it over.
///
/// # Examples
///
/// Writing a result of known length straight into the block:
///
/// ```
/// let mut block = guestmem::ResultBlock::new(3).expect("memory for 3 bytes");
/// block.as_mut_bytes().copy_from_slice(b"abc");
/// let ptr = block.into_raw();
/// // The host reads the length and the bytes, then frees the block.
/// // SAFETY: `ptr` is a result block of 3 bytes that this code owns.
/// let bytes = unsafe { core::slice::from_raw_parts(ptr, 7) };
/// assert_eq!(bytes, b"\x03\0\0\0abc");
/// // SAFETY: `ptr` came from a result block and is freed once.
/// unsafe { guestmem::abi::free(ptr) };
/// ```
#[derive(Debug)]
pub struct ResultBlock {
    /// Start of the ABI block: the length prefix.
    start: NonNull<u8>,
    /// Length of the result, after the prefix.
    len: usize,
}

impl ResultBlock {
    /// Allocates a zero-filled result block of `len` bytes; `None` when no memory can be had or
    /// `len` is past the ABI's range.
    pub fn new(len: usize) -> Option<Self> {
        let block = Self::from_start(Self::allocate(len)?, len);
        // SAFETY: `allocate` made room for `len` bytes after the prefix.
        unsafe { block.payload().as_ptr().write_bytes(0, len) };
        Some(block)
    }

    /// Allocates a result block holding a copy of `bytes`; `None` when no memory can be had.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(Self::from_start(copy_out(bytes)?, bytes.len()))
    }

    /// The result's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `len` initialised bytes follow the prefix (see `new`, `from_bytes` and
        // `from_host`), owned by this value.
        unsafe { core::slice::from_raw_parts(self.payload().as_ptr(), self.len) }
    }

    /// The result's bytes, to fill in.
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        // SAFETY: `len` initialised bytes follow the prefix (see `new` and `from_bytes`), owned by
        // this value, which is borrowed mutably here.
        unsafe { core::slice::from_raw_parts_mut(self.payload().as_ptr(), self.len) }
    }

    /// Hands the block over: the pointer the host receives and must free.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub fn into_raw(self) -> *mut u8 {
        ManuallyDrop::new(self).start.as_ptr()
    }

    /// Takes the result block a host function returned at `ptr`: a live block of this heap
    /// whose length is its prefix plus 4 (docs/ABI.md, "Host functions"). Anything else is
    /// refused before a byte of its payload is read; a live block with a wrong prefix is freed,
    /// anything else left alone, as it is not a block.
    ///
    /// # Safety
    ///
    /// `ptr` is non-null. Natively, the eight bytes in front of `ptr` are readable and
    /// initialised, as for [`crate::abi::free`]; on wasm32 any value is checked.
    pub(crate) unsafe fn from_host(ptr: *mut u8) -> Result<Self, HostBlockProblem> {
        // SAFETY: the caller's promise, passed on.
        let block = unsafe { Block::lookup(ptr) }.ok_or(HostBlockProblem::NotABlock)?;
        let problem = match block.len().checked_sub(PREFIX) {
            None => HostBlockProblem::Short,
            Some(room) => {
                // SAFETY: a live block of at least PREFIX bytes, aligned to 8.
                let len = unsafe { ptr.cast::<[u8; PREFIX]>().read() };
                let len = u32::from_le_bytes(len) as usize;
                // Exactly: the guest may pass the block on as its own result, which a host frees
                // with `dealloc(p, n + 4)`.
                if len == room {
                    // SAFETY: `ptr` is the start of a live block, so non-null.
                    let start = unsafe { NonNull::new_unchecked(ptr) };
                    return Ok(Self::from_start(start, len));
                }
                HostBlockProblem::PastTheEnd { len, room }
            }
        };
        // A live block whose prefix is wrong is still the guest's, handed over: freed, not leaked.
        // SAFETY: found just above; the host gave it up by returning it.
        unsafe { block.release() };
        Err(problem)
    }

    /// The block at `start`, whose `len` bytes after the prefix are already in place: writes the
    /// prefix (an owned argument becoming the result).
    ///
    /// # Safety
    ///
    /// `start` is a live block of exactly `PREFIX + len` bytes, which the caller owns and gives up.
    pub(crate) unsafe fn in_place(start: NonNull<u8>, len: usize) -> Self {
        // A block's length fits in a u32, and `len` is 4 less than one.
        let prefix = len as u32;
        // SAFETY: a live block of PREFIX + len bytes, aligned to 8 (the caller's promise).
        unsafe { start.cast::<[u8; PREFIX]>().write(prefix.to_le_bytes()) };
        Self::from_start(start, len)
    }

    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn from_start(start: NonNull<u8>, len: usize) -> Self {
        Self { start, len }
    }

    /// An ABI block with the prefix written and the payload uninitialised; returns its start.
    #[inline(always)]
    fn allocate(len: usize) -> Option<NonNull<u8>> {
        let start = Block::allocate(len.checked_add(PREFIX)?)?;
        // A block's length fits in a u32, so `len`, four bytes less, does too.
        let prefix = len as u32;
        // SAFETY: the block has at least PREFIX bytes and is aligned to 8.
        unsafe { start.cast::<[u8; PREFIX]>().write(prefix.to_le_bytes()) };
        Some(start)
    }

    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn payload(&self) -> NonNull<u8> {
        // SAFETY: the block is PREFIX + len bytes long, so this is within it.
        unsafe { self.start.add(PREFIX) }
    }
}

/// Copies `bytes` into a new result block and returns its start, the pointer the host receives;
/// `None` when no memory can be had. A pointer rather than a [`ResultBlock`], so that it comes back
/// in a register: this is on the path of every byte result and of `last_error`.
pub(crate) fn copy_out(bytes: &[u8]) -> Option<NonNull<u8>> {
    let start = ResultBlock::allocate(bytes.len())?;
    // SAFETY: `allocate` made room for `bytes.len()` bytes after the prefix, in a new block that
    // cannot overlap `bytes`, which is borrowed and so not freed.
    unsafe {
        start
            .add(PREFIX)
            .as_ptr()
            .copy_from_nonoverlapping(bytes.as_ptr(), bytes.len());
    }
    Some(start)
}

impl core::ops::Deref for ResultBlock {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Why a block a host function returned was refused (docs/ABI.md, "Host functions").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostBlockProblem {
    /// Not a live block of the guest's heap: misaligned, outside memory, or no valid header.
    NotABlock,
    /// A live block too short for the length prefix.
    Short,
    /// The prefix claims `len` bytes; the block has `room` after the prefix, and they differ.
    PastTheEnd { len: usize, room: usize },
}

impl Drop for ResultBlock {
    fn drop(&mut self) {
        // SAFETY: `start` is a live block that this value owns and nothing else frees.
        unsafe { abi::free(self.start.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_holds_the_length_and_the_block_frees_with_prefix_plus_four() {
        let block = ResultBlock::from_bytes(b"hello").expect("memory");
        let ptr = block.into_raw();
        // SAFETY: the result block holds 4 + 5 bytes.
        let bytes = unsafe { core::slice::from_raw_parts(ptr, 9) };
        assert_eq!(bytes, b"\x05\0\0\0hello");
        // SAFETY: a live block of 9 bytes, freed once.
        unsafe { abi::dealloc(ptr, 9) };
    }

    #[test]
    fn new_is_zero_filled_and_writable() {
        let mut block = ResultBlock::new(4).expect("memory");
        assert_eq!(block.as_mut_bytes(), [0; 4]);
        block.as_mut_bytes().copy_from_slice(b"wxyz");
        assert_eq!(block.as_mut_bytes(), b"wxyz");
    }
}
