//! dlmalloc, the allocator Rust's standard library uses on wasm32.

pub(super) type Backend = dlmalloc::GlobalDlmalloc;

pub(super) const fn new() -> Backend {
    dlmalloc::GlobalDlmalloc
}
