//! A guest that fails inside its own code, for the checks that its hosts see why:
//! `panic_with(text)` panics, `reserve(size)` asks the global allocator for `size` bytes, and
//! `fail_unprintably(text)` fails with an error whose `Display` panics, and `fail_misusing(text)`
//! with one whose `Display` misuses the ABI (a wrong length to `dealloc`), which traps.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p faults`
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::vec::Vec;
use core::fmt;

/// An error that panics when shown: the panic comes while guestmem is writing the error message.
pub struct Unprintable;

impl fmt::Display for Unprintable {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("this error cannot be shown")
    }
}

/// An error that misuses the ABI when shown: it frees a fresh block with a wrong length, so the
/// trap comes while guestmem is writing the error message, and must carry its own reason.
pub struct Misusing;

impl fmt::Display for Misusing {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let block = guestmem::abi::alloc(8);
        // SAFETY: a live block; the wrong length traps before anything is freed.
        unsafe { guestmem::abi::dealloc(block, 9) };
        out.write_str("unreachable: the line above traps")
    }
}

guestmem::export! {
    /// Panics with `text` in the message: the trap's reason is then
    /// `guest panicked at FILE:LINE:COLUMN: asked to panic: TEXT`.
    pub fn panic_with(text: &str) -> u32 {
        panic!("asked to panic: {text}")
    }

    /// Allocates `size` bytes (decimal text) through the global allocator and returns how many it
    /// got; when the allocator has none, the guest traps with
    /// `memory allocation of SIZE bytes failed`.
    pub fn reserve(size: &str) -> Result<u32, &'static str> {
        let size: usize = size.parse().map_err(|_| "reserve: the size is not a number")?;
        let block: Vec<u8> = Vec::with_capacity(size);
        Ok(u32::try_from(block.capacity()).unwrap_or(u32::MAX))
    }

    /// Fails with [`Unprintable`]: the guest traps with the panic's reason, and the instance can
    /// still report the reasons of later traps.
    pub fn fail_unprintably(text: &str) -> Result<u32, Unprintable> {
        let _ = text;
        Err(Unprintable)
    }

    /// Fails with [`Misusing`]: the guest traps with the reason of the `dealloc` it misused.
    pub fn fail_misusing(text: &str) -> Result<u32, Misusing> {
        let _ = text;
        Err(Misusing)
    }

    /// Takes its argument's block and fails: the block is freed, once, by the guest.
    pub fn owned_fails(data: guestmem::Owned) -> Result<guestmem::ResultBlock, &'static str> {
        let _ = data;
        Err("owned_fails: refused")
    }

    /// Takes its second argument's block; when the first is not UTF-8 the export fails before
    /// running, and the owned block is freed all the same.
    pub fn owned_after(text: &str, data: guestmem::Owned) -> guestmem::ResultBlock {
        let _ = text;
        data.into_result()
    }

    /// Takes its argument's block and panics: a trap, after which the instance is dropped.
    pub fn owned_panics(data: guestmem::Owned) -> u32 {
        panic!("owned_panics: {} bytes", data.len())
    }
}
