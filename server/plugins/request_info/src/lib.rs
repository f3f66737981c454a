//! A plugin that knows which request it serves: `tag(text)` answers `request ID: TEXT`, with
//! the id from the server's host function `env.request_id` (the `x-request-id` header, or one
//! the server made), and logs the answer through `env.log`.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p request_info`
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::format;
use alloc::string::String;

guestmem::import! {
    /// The id of the request being served.
    fn request_id() -> String;
    /// Writes a line to the server's log.
    fn log(line: &str);
}

guestmem::export! {
    /// `request ID: TEXT`.
    pub fn tag(text: &str) -> String {
        let tagged = format!("request {}: {text}", request_id());
        log(&tagged);
        tagged
    }
}
