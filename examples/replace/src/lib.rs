//! `replace(ptr, len, from_ptr, from_len, to_ptr, to_len) -> result`: every `from` becomes `to`.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p replace`
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;

guestmem::export! {
    /// Replaces every occurrence of `from` in `text` with `to`; an empty `from` is an error.
    pub fn replace(text: &str, from: &str, to: &str) -> Result<String, &'static str> {
        if from.is_empty() {
            return Err("replace: the pattern `from` is empty");
        }
        Ok(text.replace(from, to))
    }
}
