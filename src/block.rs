//! Blocks handed to the host: the header in front of each one, its tag, and the checks that make
//! a bad pointer trap instead of corrupting the heap (docs/ABI.md, "Bad pointers").

use core::alloc::{GlobalAlloc, Layout};
use core::mem::{align_of, size_of};
use core::ptr::NonNull;

use static_assertions::{const_assert, const_assert_eq};

use crate::{error, heap, memory, stats};

/// What the crate keeps in front of every block: its length and a tag that proves it is live.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct Header {
    len: u32,
    tag: u32,
}

/// Bytes in front of each block.
pub(crate) const HEADER_SIZE: usize = size_of::<Header>();
/// The alignment of every block, and of its header.
pub(crate) const BLOCK_ALIGN: usize = 8;

const_assert_eq!(HEADER_SIZE, 8);
const_assert_eq!(align_of::<Header>(), BLOCK_ALIGN);
// The ABI speaks of u32 pointers and lengths held in i32s.
#[cfg(target_arch = "wasm32")]
const_assert_eq!(size_of::<usize>(), 4);

/// Mixed into every tag, so that zeroed or unrelated memory does not pass for a header.
const TAG_SEED: u32 = u32::from_le_bytes(*b"gmem");

/// The tag of a live block whose header is at `header_addr` and whose length is `len`.
#[cfg_attr(not(feature = "compact"), inline(always))]
fn tag_for(header_addr: usize, len: u32) -> u32 {
    let addr = header_addr as u64;
    TAG_SEED ^ (addr as u32) ^ ((addr >> 32) as u32) ^ len.rotate_left(16)
}

/// What a pointer that is not a live block gets: freed already, inside a block, never handed out,
/// misaligned or outside linear memory (docs/ABI.md, "Bad pointers").
const NOT_LIVE: &str = "guestmem: not a live block";

/// The length a freed block's header is given: above [`MAX_LEN`], so `find` rejects the header
/// whatever its tag, and cheaper to write than a recomputed, broken tag.
const RETIRED: u32 = u32::MAX;
const_assert!(RETIRED as usize > MAX_LEN);

/// The longest block: its length fits the ABI's u32 and stays below [`RETIRED`], and its layout
/// (header included, rounded up to BLOCK_ALIGN) fits in an isize, as `Layout` requires. On wasm32
/// the layout bound decides: 2 GiB - 16 bytes.
const MAX_LEN: usize = {
    let by_layout = isize::MAX as usize - (BLOCK_ALIGN - 1) - HEADER_SIZE;
    let by_header = RETIRED as usize - 1;
    if by_layout < by_header {
        by_layout
    } else {
        by_header
    }
};

/// The allocator layout of a block of `len` bytes, header included; `None` past [`MAX_LEN`].
#[cfg_attr(not(feature = "compact"), inline(always))]
fn layout_for(len: usize) -> Option<Layout> {
    if len > MAX_LEN {
        return None;
    }
    // SAFETY: BLOCK_ALIGN is a power of two, and `len <= MAX_LEN` keeps the size, rounded up to
    // it, within isize. The size is never zero: the header alone is eight bytes.
    Some(unsafe { Layout::from_size_align_unchecked(len + HEADER_SIZE, BLOCK_ALIGN) })
}

/// A live block, found from the pointer the host holds: one pointer, so that it is returned in a
/// register rather than through the stack.
pub(crate) struct Block {
    header: NonNull<Header>,
}

impl Block {
    /// Allocates a block of `len` bytes and returns the pointer the host gets, or `None` when
    /// `len` is out of range or the allocator has no memory.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) fn allocate(len: usize) -> Option<NonNull<u8>> {
        let layout = layout_for(len)?;
        // SAFETY: `layout` has a non-zero size (the header's eight bytes at least).
        let base = NonNull::new(unsafe { GlobalAlloc::alloc(&heap::GLOBAL, layout) })?;
        let header = base.cast::<Header>();
        // `layout_for` accepted `len`: it is at most MAX_LEN, which fits in a u32.
        let len = len as u32;
        // SAFETY: the allocation is at least HEADER_SIZE bytes long and aligned to BLOCK_ALIGN.
        unsafe { header.write(Header::live(header.addr().get(), len)) };
        stats::block_allocated();
        // SAFETY: the allocation is at least HEADER_SIZE bytes long; the result is at most one
        // past its end.
        Some(unsafe { base.add(HEADER_SIZE) })
    }

    /// Finds the live block that `ptr` points at, or traps naming `call` and `ptr`.
    ///
    /// # Safety
    ///
    /// As [`Block::lookup`].
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) unsafe fn find(call: &'static str, ptr: *mut u8) -> Self {
        // SAFETY: the caller's promise, passed on.
        match unsafe { Self::lookup(ptr) } {
            Some(block) => block,
            None => misuse(call, ptr.addr(), NOT_LIVE, None),
        }
    }

    /// The live block that `ptr` points at, or `None`: for blocks a host hands to the guest,
    /// where a bad pointer is an error rather than a trap.
    ///
    /// # Safety
    ///
    /// - `ptr` is non-null.
    /// - Natively, the `HEADER_SIZE` bytes in front of `ptr` are readable and initialised: `ptr`
    ///   points at a live block, or into one whose bytes in front of `ptr` were written. On
    ///   wasm32 every byte of linear memory is readable and `ptr` is checked against
    ///   `memory.size`, so freed, foreign and out-of-range pointers are caught there.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) unsafe fn lookup(ptr: *mut u8) -> Option<Self> {
        let addr = ptr.addr();
        let header = ptr.wrapping_sub(HEADER_SIZE).cast::<Header>();
        // The header is read only once it is known to be aligned and inside memory.
        if !addr.is_multiple_of(BLOCK_ALIGN) || addr < HEADER_SIZE || !memory::ends_within(addr) {
            return None;
        }
        // SAFETY: `header` is aligned and, from `addr >= HEADER_SIZE`, non-null; it is readable
        // and initialised (the caller's promise; on wasm32, its end is inside memory.size, and
        // every byte of linear memory is initialised).
        let found = unsafe { header.read() };
        // The length is checked too: `layout` relies on it, and a header can be forged by
        // whoever writes linear memory.
        let len = found.len as usize;
        let live = found.tag == tag_for(header.addr(), found.len)
            && len <= MAX_LEN
            && addr.checked_add(len).is_some_and(memory::ends_within);
        // `addr >= HEADER_SIZE`, so the header address is not null.
        live.then(|| Self {
            header: NonNull::new(header).unwrap_or(NonNull::dangling()),
        })
    }

    /// The block's length in bytes, as the host asked for it.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) fn len(&self) -> usize {
        self.header_len() as usize
    }

    fn header_len(&self) -> u32 {
        // SAFETY: `find` checked that the header is live, and so readable.
        unsafe { (*self.header.as_ptr()).len }
    }

    /// Frees the block.
    ///
    /// # Safety
    ///
    /// The block was found by [`Block::find`] and nothing else frees it meanwhile.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) unsafe fn release(self) {
        let layout = self.layout();
        // Retired before the memory goes back to the allocator, so a second free of the same
        // pointer traps: by this length while the allocator leaves the header alone, by the tag
        // once it writes its own bookkeeping there (talc and dlmalloc do).
        self.set_len(RETIRED);
        // SAFETY: the block was allocated by `allocate` or `resize` with exactly this layout.
        unsafe { GlobalAlloc::dealloc(&heap::GLOBAL, self.header.as_ptr().cast(), layout) };
        stats::block_freed();
    }

    /// Resizes the block to `new_len` bytes, keeping the first `min(old, new)`; returns the
    /// pointer the host gets, or `None` with the block untouched.
    ///
    /// # Safety
    ///
    /// The block was found by [`Block::find`] and nothing else frees it meanwhile.
    pub(crate) unsafe fn resize(self, new_len: usize) -> Option<NonNull<u8>> {
        if cfg!(feature = "compact") {
            // Always moves: keeps the allocator's in-place resizing code out of the module.
            let new_data = Self::allocate(new_len)?;
            let old_data = self.header.as_ptr().cast::<u8>().wrapping_add(HEADER_SIZE);
            // SAFETY: both blocks are live, distinct, and at least `min(old, new)` bytes long.
            unsafe {
                new_data
                    .as_ptr()
                    .copy_from_nonoverlapping(old_data, self.len().min(new_len));
            }
            // SAFETY: the caller's promise; the old block's bytes were copied above.
            unsafe { self.release() };
            return Some(new_data);
        }
        let new_layout = layout_for(new_len)?;
        let old_base = self.header.as_ptr().cast::<u8>();
        let old_layout = self.layout();
        let old_len = self.header_len();
        // Retired first, so that if the allocator moves the block, the old pointer no longer
        // passes for live.
        self.set_len(RETIRED);
        // SAFETY: the block was allocated with `self.layout()`; the new size is non-zero and,
        // by `layout_for`, does not overflow isize when rounded up to BLOCK_ALIGN.
        let new_base =
            unsafe { GlobalAlloc::realloc(&heap::GLOBAL, old_base, old_layout, new_layout.size()) };
        let Some(new_base) = NonNull::new(new_base) else {
            // On failure the allocator left the old block as it was: restore its length.
            self.set_len(old_len);
            return None;
        };
        let header = new_base.cast::<Header>();
        // SAFETY: the new allocation is at least HEADER_SIZE bytes long and aligned to
        // BLOCK_ALIGN; `layout_for` accepted `new_len`, so it fits in a u32.
        unsafe { header.write(Header::live(header.addr().get(), new_len as u32)) };
        // SAFETY: within the new allocation, which is at least HEADER_SIZE bytes long.
        Some(unsafe { new_base.add(HEADER_SIZE) })
    }

    /// Writes the header's length, volatile: the write right before the memory is freed is the
    /// point, and an ordinary store there is dead to the optimiser, which removes it (seen with
    /// dlmalloc and lol_alloc, which leave the header bytes alone after a free).
    fn set_len(&self, len: u32) {
        // SAFETY: `find` checked that the header is live, and so writable; it is aligned.
        unsafe { core::ptr::addr_of_mut!((*self.header.as_ptr()).len).write_volatile(len) };
    }

    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn layout(&self) -> Layout {
        // SAFETY: `find` checked that the length is at most MAX_LEN, which `layout_for` accepts:
        // the size is non-zero and stays within isize when rounded up to BLOCK_ALIGN.
        unsafe { Layout::from_size_align_unchecked(self.len() + HEADER_SIZE, BLOCK_ALIGN) }
    }
}

impl Header {
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn live(addr: usize, len: u32) -> Self {
        Self {
            len,
            tag: tag_for(addr, len),
        }
    }
}

/// Records `PROBLEM: CALL(PTR)` for `last_error` and traps; `lengths` (the length given and the
/// block's) adds `, LEN), the block has BLOCK_LEN bytes`. With the `compact` feature the message
/// is `PROBLEM` alone, so no number formatting is built into the module.
///
/// One function, not generic, for every misuse: each trap site costs a call, not a copy of the
/// message-building code.
#[cfg_attr(not(feature = "compact"), cold, inline(never))]
#[cfg_attr(feature = "compact", inline(always))]
pub(crate) fn misuse(
    call: &str,
    addr: usize,
    problem: &'static str,
    lengths: Option<(usize, usize)>,
) -> ! {
    if cfg!(feature = "compact") {
        error::fail(problem);
    }
    error::record_and_trap(|message| {
        message
            .push(problem)
            .push(": ")
            .push(call)
            .push("(")
            .push_hex(addr);
        match lengths {
            Some((len, block_len)) => message
                .push(", ")
                .push_dec(len)
                .push("), the block has ")
                .push_dec(block_len)
                .push(" bytes"),
            None => message.push(")"),
        };
    })
}
