//! Owned inputs: the host gives its block up with the call, and the guest hands it back as the
//! result, changed in place: no copy in the guest, one block instead of two.
//!
//! `ascii_upper(text) -> result` uppercases ASCII letters in place; `echo_owned(bytes) -> result`
//! returns its input as it is. Hosts see from the interface section that the argument is owned:
//! they allocate it with 4 bytes of room in front and do not free it (docs/ABI.md, "Owned
//! arguments").
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p in_place`
#![cfg_attr(target_arch = "wasm32", no_std)]

use guestmem::{Owned, ResultBlock};

guestmem::export! {
    /// ASCII uppercase, in place: "straße" gives "STRAßE" (only ASCII letters change).
    pub fn ascii_upper(text: Owned) -> ResultBlock {
        let mut text = text;
        text.make_ascii_uppercase();
        text.into_result()
    }

    /// The input, as the result: what an owned call costs.
    pub fn echo_owned(bytes: Owned) -> ResultBlock {
        bytes.into_result()
    }
}
