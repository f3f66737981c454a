//! Counters a host reads to find leaks inside linear memory, where a native memory checker cannot
//! look: `live_blocks` and `heap_bytes` (the `stats` feature).

use core::alloc::{GlobalAlloc, Layout};
#[cfg(feature = "stats")]
use core::sync::atomic::{AtomicUsize, Ordering};

#[cfg(feature = "stats")]
static LIVE_BLOCKS: AtomicUsize = AtomicUsize::new(0);
#[cfg(feature = "stats")]
static HEAP_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Counts a block handed out.
#[cfg_attr(not(feature = "compact"), inline(always))]
pub(crate) fn block_allocated() {
    #[cfg(feature = "stats")]
    LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
}

/// Counts a block freed.
#[cfg_attr(not(feature = "compact"), inline(always))]
pub(crate) fn block_freed() {
    #[cfg(feature = "stats")]
    LIVE_BLOCKS.fetch_sub(1, Ordering::Relaxed);
}

/// Returns how many blocks were handed out (by `alloc`, `realloc`, results and `last_error`) and
/// not yet freed.
#[cfg(feature = "stats")]
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub extern "C-unwind" fn live_blocks() -> u32 {
    saturate(LIVE_BLOCKS.load(Ordering::Relaxed))
}

/// Returns the bytes currently allocated through the global allocator, all of them, not only the
/// ABI's blocks. Counted by [`Counting`], which guestmem installs on wasm32 with the `stats`
/// feature; a guest that brings its own allocator wraps it in [`Counting`] to get this figure.
#[cfg(feature = "stats")]
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub extern "C-unwind" fn heap_bytes() -> u32 {
    saturate(HEAP_BYTES.load(Ordering::Relaxed))
}

#[cfg(feature = "stats")]
fn saturate(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// A global allocator that counts the bytes `inner` has handed out, for the `heap_bytes` export.
///
/// Without the `stats` feature it only forwards.
///
/// # Examples
///
/// A native host counting its own heap, or a guest bringing its own allocator:
///
/// ```
/// #[global_allocator]
/// static HEAP: guestmem::stats::Counting<std::alloc::System> =
///     guestmem::stats::Counting::new(std::alloc::System);
/// ```
#[derive(Debug)]
pub struct Counting<A> {
    inner: A,
}

impl<A> Counting<A> {
    /// Wraps `inner`.
    pub const fn new(inner: A) -> Self {
        Self { inner }
    }
}

#[cfg(feature = "stats")]
#[cfg_attr(not(feature = "compact"), inline(always))]
fn count(added: usize, removed: usize) {
    if added > 0 {
        HEAP_BYTES.fetch_add(added, Ordering::Relaxed);
    }
    if removed > 0 {
        HEAP_BYTES.fetch_sub(removed, Ordering::Relaxed);
    }
}

#[cfg(not(feature = "stats"))]
fn count(_added: usize, _removed: usize) {}

// SAFETY: every call is forwarded to `inner` with the caller's arguments unchanged, so `inner`'s
// guarantees are this allocator's; the counting has no effect on the memory handed out.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    #[inline(always)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's obligations.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size(), 0);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's obligations.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size(), 0);
        }
        ptr
    }

    #[inline(always)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's obligations.
        unsafe { self.inner.dealloc(ptr, layout) };
        count(0, layout.size());
    }

    #[inline(always)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's obligations.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            count(new_size, layout.size());
        }
        new_ptr
    }
}
