//! The ABI alone, with the smallest feature set: what guestmem adds to a module.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p minimal`
#![cfg_attr(target_arch = "wasm32", no_std)]

use guestmem as _;
