//! A guest that calls its host, for the checks of the import direction: each export relays its
//! arguments to a host function and returns what the guest's wrapper made of the answer.
//!
//! The host functions it imports from `env`: `fetch(key) -> Result<Vec<u8>>`,
//! `count(text) -> Result<u32>`, `store(key, value) -> Result<()>`, `grow(bytes) -> Vec<u8>`,
//! and, for hostile hosts, `hostile(case) -> Result<Vec<u8>>` and `trusted(case) -> Vec<u8>`.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p imports`
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

guestmem::import! {
    fn fetch(key: &str) -> Result<Vec<u8>, String>;
    fn count(text: &str) -> Result<u32, String>;
    fn store(key: &str, value: &[u8]) -> Result<(), String>;
    fn grow(bytes: &[u8]) -> Vec<u8>;
    fn hostile(case: u32) -> Result<guestmem::ResultBlock, String>;
    fn trusted(case: u32) -> Vec<u8>;
}

/// The case number a host's hostile answers are chosen by.
fn case(text: &str) -> Result<u32, String> {
    text.parse()
        .map_err(|_| String::from("the case is not a number"))
}

guestmem::export! {
    /// The host's bytes for `key`, or its error.
    pub fn relay(key: &str) -> Result<Vec<u8>, String> {
        fetch(key)
    }

    /// The host's count for `text` (0 is an answer), or its error.
    pub fn relay_count(text: &str) -> Result<u32, String> {
        count(text)
    }

    /// Stores `value` under `key` at the host: 1, or the host's error.
    pub fn relay_store(key: &str, value: &[u8]) -> Result<u32, String> {
        store(key, value).map(|()| 1)
    }

    /// Passes a block of the guest's own to the host, which answers with a result large enough
    /// to grow memory; checks that its own block is unchanged and starts the answer. Returns the
    /// answer's length.
    pub fn relay_grow(text: &[u8]) -> Result<u32, String> {
        let mine = text.to_vec();
        let answer = grow(&mine);
        if mine != text || !answer.starts_with(&mine) {
            return Err(String::from("the guest's own bytes changed across the host call"));
        }
        u32::try_from(answer.len()).map_err(|_| String::from("too long"))
    }

    /// The host's hostile answer number `case`, through a fallible import: its length, or the
    /// wrapper's error.
    pub fn relay_hostile(case_text: &str) -> Result<u32, String> {
        let block = hostile(case(case_text)?)?;
        u32::try_from(block.len()).map_err(|_| String::from("too long"))
    }

    /// The host's hostile answer number `case`, through an import that cannot fail: a bad
    /// answer traps with the wrapper's reason.
    pub fn relay_trusted(case_text: &str) -> Result<u32, String> {
        let bytes = trusted(case(case_text)?);
        u32::try_from(bytes.len()).map_err(|_| String::from("too long"))
    }
}
