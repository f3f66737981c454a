//! lol_alloc's free-list allocator: the smallest code.

use lol_alloc::{AssumeSingleThreaded, FreeListAllocator};

pub(super) type Backend = AssumeSingleThreaded<FreeListAllocator>;

pub(super) const fn new() -> Backend {
    // SAFETY: this module is only built for wasm32 without the atomics feature, where a module
    // instance runs on one thread.
    unsafe { AssumeSingleThreaded::new(FreeListAllocator::new()) }
}
