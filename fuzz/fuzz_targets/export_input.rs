//! Arbitrary bytes as the arguments of `guestmem::export!` functions:
//! `cargo +nightly fuzz run export_input` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| guestmem_fuzz::export_input::check(data));
