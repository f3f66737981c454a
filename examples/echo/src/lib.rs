//! `echo(ptr, len) -> result`: a copy of the input, so benchmarks see the ABI's own cost.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p echo`
#![cfg_attr(target_arch = "wasm32", no_std)]

guestmem::export! {
    /// Returns `bytes` unchanged, copied once into the result block.
    pub fn echo<'a>(bytes: &'a [u8]) -> &'a [u8] {
        bytes
    }
}
