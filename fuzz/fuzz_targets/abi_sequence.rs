//! ABI calls natively, in libFuzzer's order and sizes, misuse mixed in, held to the model:
//! `cargo +nightly fuzz run abi_sequence` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| guestmem_fuzz::abi_sequence::check(data));
