//! Owned inputs: an argument whose block the host gives up with the call, so the guest may change
//! it and hand it back as its result in place, without a copy (docs/ABI.md, "Owned arguments").

use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use crate::abi;
use crate::block::Block;
use crate::guest::{Input, InputError};
use crate::result::ResultBlock;

/// Bytes of the result prefix the host leaves in front of an owned argument.
const ROOM: usize = 4;

/// An argument the guest owns: the host allocated a block of exactly `len + 4` bytes, wrote the bytes at
/// `block + 4`, passed `(block + 4, len)`, and gave the block up with the call. Dropping it frees
/// the block; [`Owned::into_result`] makes it the result block in place.
///
/// # Examples
///
/// ASCII uppercase of any length, with no copy in the guest:
///
/// ```
/// guestmem::export! {
///     fn shout(text: guestmem::Owned) -> guestmem::ResultBlock {
///         let mut text = text;
///         text.make_ascii_uppercase();
///         text.into_result()
///     }
/// }
/// // A host allocates 4 bytes of room in front, and does not free the block after the call.
/// let block = guestmem::abi::alloc(4 + 5);
/// // SAFETY: a fresh block of 9 bytes; the input goes after the 4 bytes of room.
/// unsafe { block.add(4).copy_from_nonoverlapping(b"hello".as_ptr(), 5) };
/// // SAFETY: the host gives the block up with the call.
/// let result = unsafe { shout(block.add(4), 5) };
/// assert_eq!(result, block, "the result is the input's block");
/// // SAFETY: a result block of 4 + 5 bytes.
/// assert_eq!(unsafe { core::slice::from_raw_parts(result, 9) }, b"\x05\0\0\0HELLO");
/// // SAFETY: the result block, freed once.
/// unsafe { guestmem::abi::free(result) };
/// ```
#[derive(Debug)]
pub struct Owned {
    /// The block: the 4 bytes of room, then the bytes.
    block: NonNull<u8>,
    /// How many bytes follow the room.
    len: usize,
}

impl Owned {
    /// Makes the block the result block, in place: the length prefix goes into the 4 bytes in
    /// front of the bytes.
    #[must_use]
    pub fn into_result(self) -> ResultBlock {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: the block is exactly 4 + `len` bytes long (checked in `from_abi`), owned by
        // this value, which is consumed.
        unsafe { ResultBlock::in_place(this.block, this.len) }
    }

    fn bytes(&self) -> NonNull<u8> {
        // SAFETY: the block has at least ROOM + len bytes (checked in `from_abi`).
        unsafe { self.block.add(ROOM) }
    }
}

impl Deref for Owned {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `len` initialised bytes follow the room, in a block this value owns.
        unsafe { core::slice::from_raw_parts(self.bytes().as_ptr(), self.len) }
    }
}

impl DerefMut for Owned {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `deref`, borrowed mutably through `self`.
        unsafe { core::slice::from_raw_parts_mut(self.bytes().as_ptr(), self.len) }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: a live block this value owns, freed once, here.
        unsafe { abi::free(self.block.as_ptr()) }
    }
}

impl Input<'_> for Owned {
    /// Takes the block in front of `ptr`: it must be a live block of exactly 4 + `len` bytes. A
    /// borrowed input is never taken for one: it starts at a multiple of 8 (docs/ABI.md,
    /// "Ownership"), where `ptr - 4` is not a block.
    unsafe fn from_abi(ptr: *const u8, len: usize) -> Result<Self, InputError> {
        let block = ptr.cast_mut().wrapping_sub(ROOM);
        if ptr.addr() < ROOM {
            return Err(InputError::NotOwned);
        }
        // SAFETY: `block` is non-null (`ptr >= ROOM`); on wasm32 any address is checked, and
        // natively the caller promises a block in front (docs/ABI.md, "Owned arguments").
        let found = unsafe { Block::lookup(block) }.ok_or(InputError::NotOwned)?;
        // Exactly: the result handed back in place is then freed by `dealloc(p, len + 4)` too.
        if len.checked_add(ROOM) != Some(found.len()) {
            return Err(InputError::NotOwned);
        }
        Ok(Self {
            // `lookup` found a live block there, so it is not null.
            block: NonNull::new(block).ok_or(InputError::NotOwned)?,
            len,
        })
    }
}
