//! guestmem with none of its allocator back ends: the guest declares its own
//! `#[global_allocator]` (dlmalloc here, wrapped in guestmem's `Counting` so that `heap_bytes`
//! still counts), and the ABI allocates through it. The harness runs the whole conformance check
//! against this guest.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p own_allocator`
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static HEAP: guestmem::stats::Counting<dlmalloc::GlobalDlmalloc> =
    guestmem::stats::Counting::new(dlmalloc::GlobalDlmalloc);

guestmem::export! {
    /// Returns `bytes` unchanged, copied once into the result block.
    pub fn echo<'a>(bytes: &'a [u8]) -> &'a [u8] {
        bytes
    }
}
