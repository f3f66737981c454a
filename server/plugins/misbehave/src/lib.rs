//! A plugin that misbehaves on purpose, for the server's fault tests and its mixed load run
//! (server/README.md): each export is one way a plugin goes wrong in production.
//!
//! - `panic_on(text)`: the text in capitals, but panics when it contains `panic`.
//! - `spin(text)`: the text back, but loops forever when it is `forever`.
//! - `leak(text)`: the text back, leaking 1 KiB of the guest's heap on every call.
//! - `hostile(text)`: a result block whose length prefix claims 4 GiB less 4 bytes.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p misbehave`
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::hint::black_box;
use core::ptr;

use guestmem::interface::{Describe, Kind};
use guestmem::{Output, ResultBlock};

/// What the leaking export keeps of every call.
pub const LEAK: usize = 1024;

/// A result block whose length prefix lies: it claims `u32::MAX - 3` bytes after a block of 0.
pub struct Forged;

impl Output for Forged {
    type Abi = *mut u8;

    fn into_abi(self) -> *mut u8 {
        let Some(block) = ResultBlock::new(0) else {
            return ptr::null_mut();
        };
        let start = block.into_raw();
        // SAFETY: `start` is the block's length prefix, 4 bytes this code owns (`into_raw`).
        unsafe { start.cast::<u32>().write_unaligned(u32::MAX - 3) };
        start
    }

    fn failure() -> *mut u8 {
        ptr::null_mut()
    }
}

impl Describe for Forged {
    const KIND: u8 = Kind::Bytes.byte();
}

guestmem::export! {
    /// `text` in capitals; panics when it contains `panic`.
    pub fn panic_on(text: &str) -> String {
        assert!(!text.contains("panic"), "panic_on was asked to panic: {text}");
        text.to_uppercase()
    }

    /// `text` back; never returns when it is `forever`.
    pub fn spin(text: &str) -> String {
        if text == "forever" {
            let mut turns = 0_u64;
            loop {
                turns = black_box(turns.wrapping_add(1));
            }
        }
        String::from(text)
    }

    /// `text` back, after leaking [`LEAK`] bytes of the heap.
    pub fn leak(text: &str) -> String {
        black_box(Vec::<u8>::with_capacity(LEAK).leak());
        String::from(text)
    }

    /// A hostile answer: [`Forged`].
    pub fn hostile(text: &str) -> Forged {
        let _ = text;
        Forged
    }
}
