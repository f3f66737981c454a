//! The Rust host's readers against a hostile guest:
//! `cargo +nightly fuzz run host_reader --features host -s none` (see fuzz/README.md).
#![no_main]

use guestmem_fuzz::host_reader;

#[global_allocator]
static WATCH: host_reader::Watch = host_reader::Watch;

libfuzzer_sys::fuzz_target!(|data: &[u8]| host_reader::check(data));
