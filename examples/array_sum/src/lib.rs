//! `array_sum(ptr, len) -> u32`: the sum of the bytes, as a u32 that cannot overflow silently.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p array_sum`
#![cfg_attr(target_arch = "wasm32", no_std)]

guestmem::export! {
    /// Adds up `bytes`; more than 16 MiB of 0xFF would pass u32::MAX, which is an error.
    pub fn array_sum(bytes: &[u8]) -> Result<u32, &'static str> {
        bytes
            .iter()
            .try_fold(0u32, |sum, &byte| sum.checked_add(u32::from(byte)))
            .ok_or("array_sum: the sum does not fit in a u32")
    }
}
