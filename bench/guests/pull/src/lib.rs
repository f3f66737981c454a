//! A guest that calls its host, for the host-function benchmark (`guestmem-bench`): each export
//! takes a length `n` (4 little-endian bytes, since export arguments are bytes), asks the host
//! function `env.payload(n)` for `n` bytes, and returns [`digest`] of them, which the host checks.
//!
//! - `pull` takes the host's answer as a [`ResultBlock`], the block the host filled, without a
//!   copy: the same work as a Component Model guest that is handed its `list<u8>`;
//! - `pull_vec` takes it as a `Vec<u8>`, a copy of the block (which is then freed).
//!
//! Both import the same host function: the two declarations below differ only in the Rust type
//! of the result.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p pull`
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use guestmem::ResultBlock;

mod block {
    guestmem::import! {
        /// `n` bytes from the host, in the block it filled.
        pub fn payload(n: u32) -> guestmem::ResultBlock;
    }
}

mod owned {
    use alloc::vec::Vec;

    guestmem::import! {
        /// `n` bytes from the host, copied out of the block it filled.
        pub fn payload(n: u32) -> Vec<u8>;
    }
}

/// What the exports return for the host's `bytes`: their length plus their first and last
/// bytes, so the answer depends on the bytes without reading all of them (the Component Model
/// guest computes the same).
#[must_use]
pub fn digest(bytes: &[u8]) -> u32 {
    let ends = [bytes.first(), bytes.last()];
    ends.into_iter()
        .flatten()
        .fold(bytes.len() as u32, |sum, &byte| {
            sum.wrapping_add(u32::from(byte))
        })
}

/// The length an export was given.
fn length(n: &[u8]) -> Result<u32, &'static str> {
    n.try_into()
        .map(u32::from_le_bytes)
        .map_err(|_| "the length is not 4 bytes")
}

guestmem::export! {
    /// The digest of `n` bytes from the host, read in the host's block.
    pub fn pull(n: &[u8]) -> Result<u32, &'static str> {
        let answer: ResultBlock = block::payload(length(n)?);
        Ok(digest(&answer))
    }

    /// The digest of `n` bytes from the host, copied into a `Vec<u8>` first.
    pub fn pull_vec(n: &[u8]) -> Result<u32, &'static str> {
        Ok(digest(&owned::payload(length(n)?)))
    }
}
