//! `upper(ptr, len) -> result`: the Unicode uppercase of a UTF-8 string ("straße" → "STRASSE").
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p upper`
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;

guestmem::export! {
    /// Uppercases `text`; the result may be longer than the input. Invalid UTF-8 is an error.
    pub fn upper(text: &str) -> String {
        text.to_uppercase()
    }
}
