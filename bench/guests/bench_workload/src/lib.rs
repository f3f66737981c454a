//! The allocator benchmarks' guest, built once per allocator back end.
//!
//! - `workload_raw(actions, seed, with_realloc)` and `workload_abi(...)` run the same random-actions
//!   workload (talc's benchmark: sizes 1 to 10,000 bytes, align 8, at least
//!   [`MIN_LIVE`] blocks live), the first through the global allocator (`GlobalAlloc`), the second
//!   through guestmem's ABI exports (`alloc`, `realloc`, `free`), called as plain functions.
//! - `leak_rounds(rounds)` repeats wee_alloc issue 106's pattern through the global allocator and
//!   returns `memory.size` in pages.
//!
//! The host times the calls (`cargo run --release -p guestmem-bench`).
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use core::alloc::Layout;

/// The workload never lets fewer blocks than this be live: it allocates until there are.
pub const MIN_LIVE: usize = 50;
/// Room for live blocks; past it the workload frees.
const MAX_LIVE: usize = 1024;
/// Block sizes are drawn from `1..=MAX_SIZE`.
const MAX_SIZE: u32 = 10_000;
/// Every block's alignment.
const ALIGN: usize = 8;

/// One way of getting and giving back blocks: the raw global allocator or the ABI exports.
trait Heap {
    fn alloc(len: usize) -> *mut u8;
    /// # Safety
    /// `ptr` is a live block of `len` bytes from this heap.
    unsafe fn free(ptr: *mut u8, len: usize);
    /// # Safety
    /// `ptr` is a live block of `len` bytes from this heap.
    unsafe fn realloc(ptr: *mut u8, len: usize, new_len: usize) -> *mut u8;
}

/// `alloc::alloc` and friends: what the global allocator costs on its own.
struct Raw;

impl Heap for Raw {
    fn alloc(len: usize) -> *mut u8 {
        match Layout::from_size_align(len, ALIGN) {
            // SAFETY: the workload never asks for zero bytes.
            Ok(layout) => unsafe { alloc::alloc::alloc(layout) },
            Err(_) => core::ptr::null_mut(),
        }
    }

    unsafe fn free(ptr: *mut u8, len: usize) {
        // SAFETY: the block was allocated with this layout (the caller's promise), so it is valid.
        unsafe { alloc::alloc::dealloc(ptr, Layout::from_size_align_unchecked(len, ALIGN)) }
    }

    unsafe fn realloc(ptr: *mut u8, len: usize, new_len: usize) -> *mut u8 {
        // SAFETY: as for `free`; `new_len` is non-zero and far below isize::MAX.
        unsafe {
            alloc::alloc::realloc(ptr, Layout::from_size_align_unchecked(len, ALIGN), new_len)
        }
    }
}

/// guestmem's ABI exports, header and tag checks included: what a host's calls cost the guest.
struct Abi;

impl Heap for Abi {
    fn alloc(len: usize) -> *mut u8 {
        guestmem::abi::alloc(len)
    }

    unsafe fn free(ptr: *mut u8, _len: usize) {
        // SAFETY: a live block from `guestmem::abi::alloc` or `realloc` (the caller's promise).
        unsafe { guestmem::abi::free(ptr) }
    }

    unsafe fn realloc(ptr: *mut u8, _len: usize, new_len: usize) -> *mut u8 {
        // SAFETY: as for `free`.
        unsafe { guestmem::abi::realloc(ptr, new_len) }
    }
}

/// xorshift32: the same sequence of actions for both heaps, from the same seed.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next()) * u64::from(n)) >> 32) as u32
    }

    fn size(&mut self) -> usize {
        1 + self.below(MAX_SIZE) as usize
    }
}

/// Runs `actions` random allocations, frees and (with `with_realloc`) reallocations, then frees
/// what is left. Returns the number of actions that got memory, or `u32::MAX` if any failed.
fn random_actions<H: Heap>(actions: u32, seed: u32, with_realloc: bool) -> u32 {
    let mut live = [(core::ptr::null_mut::<u8>(), 0usize); MAX_LIVE];
    let mut count = 0usize;
    let mut rng = Rng(seed | 1);
    let kinds = if with_realloc { 3 } else { 2 };
    let mut failed = false;
    for _ in 0..actions {
        let action = if count < MIN_LIVE {
            0
        } else if count == MAX_LIVE {
            1
        } else {
            rng.below(kinds)
        };
        match action {
            0 => {
                let len = rng.size();
                let ptr = H::alloc(len);
                failed |= ptr.is_null();
                if !ptr.is_null() {
                    live[count] = (ptr, len);
                    count += 1;
                }
            }
            1 => {
                let index = rng.below(count as u32) as usize;
                let (ptr, len) = live[index];
                count -= 1;
                live[index] = live[count];
                // SAFETY: a live block of `len` bytes from `H`, removed from the table.
                unsafe { H::free(ptr, len) };
            }
            _ => {
                let index = rng.below(count as u32) as usize;
                let (ptr, len) = live[index];
                let new_len = rng.size();
                // SAFETY: a live block of `len` bytes from `H`; replaced below if it moved.
                let moved = unsafe { H::realloc(ptr, len, new_len) };
                failed |= moved.is_null();
                if !moved.is_null() {
                    live[index] = (moved, new_len);
                }
            }
        }
    }
    for &(ptr, len) in &live[..count] {
        // SAFETY: every entry below `count` is a live block from `H`.
        unsafe { H::free(ptr, len) };
    }
    if failed { u32::MAX } else { actions }
}

/// The random-actions workload through the global allocator.
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub extern "C" fn workload_raw(actions: u32, seed: u32, with_realloc: u32) -> u32 {
    random_actions::<Raw>(actions, seed, with_realloc != 0)
}

/// The random-actions workload through guestmem's `alloc`, `realloc` and `free`.
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub extern "C" fn workload_abi(actions: u32, seed: u32, with_realloc: u32) -> u32 {
    random_actions::<Abi>(actions, seed, with_realloc != 0)
}

/// wee_alloc issue 106: two large blocks allocated and freed in allocation order, `rounds` times,
/// through the global allocator. Returns `memory.size` in pages (0 natively).
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub extern "C" fn leak_rounds(rounds: u32) -> u32 {
    const FIRST: Layout = match Layout::from_size_align(85_196, 1) {
        Ok(layout) => layout,
        Err(_) => panic!("valid layout"),
    };
    const SECOND: Layout = match Layout::from_size_align(80_000, 1) {
        Ok(layout) => layout,
        Err(_) => panic!("valid layout"),
    };
    for _ in 0..rounds {
        // SAFETY: non-zero sizes; each block is freed once, with its own layout.
        unsafe {
            let first = alloc::alloc::alloc(FIRST);
            let second = alloc::alloc::alloc(SECOND);
            if first.is_null() || second.is_null() {
                return u32::MAX;
            }
            alloc::alloc::dealloc(first, FIRST);
            alloc::alloc::dealloc(second, SECOND);
        }
    }
    memory_pages()
}

/// The size of linear memory in 64 KiB pages (0 natively).
fn memory_pages() -> u32 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u32
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_heaps_run_the_workload() {
        for with_realloc in [0, 1] {
            assert_eq!(workload_raw(10_000, 7, with_realloc), 10_000);
            assert_eq!(workload_abi(10_000, 7, with_realloc), 10_000);
        }
    }
}
