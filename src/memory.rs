//! The bounds of linear memory, the one thing the crate asks of the wasm32 platform.
//!
//! On wasm32 a pointer from the host can be checked against `memory.size` before it is read.
//! Natively there is no such bound to check, and callers are trusted to pass real pointers.

/// The size of one wasm page.
#[cfg(target_arch = "wasm32")]
const PAGE_SIZE: u64 = 65_536;

/// Whether `len` bytes from `addr` lie inside linear memory.
#[cfg_attr(not(feature = "compact"), inline(always))]
pub(crate) fn contains(addr: usize, len: usize) -> bool {
    addr.checked_add(len).is_some_and(ends_within)
}

/// Whether a range that ends at `end` (exclusive) lies inside linear memory.
#[cfg_attr(not(feature = "compact"), inline(always))]
pub(crate) fn ends_within(end: usize) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        let size = core::arch::wasm32::memory_size(0) as u64 * PAGE_SIZE;
        end as u64 <= size
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = end;
        true
    }
}
