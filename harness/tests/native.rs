//! The native check under `cargo test`, as a plain program (`harness = false`): `live_blocks` and
//! `heap_bytes` are process-wide, so nothing else may allocate while the check measures. Under
//! libtest the runner's own thread does: it books the running test (about 900 bytes here) after
//! spawning it, and on a busy machine that lands after the check's first reading (reproduced with
//! `taskset -c 0 <test binary> --test-threads 2`: 1 run in 6 read `heap_bytes 19696 -> 20596`).
//! Here the check runs on the only thread there is.

use std::process::ExitCode;

use harness::checks::{Scale, native};

#[global_allocator]
static HEAP: guestmem::stats::Counting<std::alloc::System> =
    guestmem::stats::Counting::new(std::alloc::System);

fn main() -> ExitCode {
    let row = native::check(Scale::detect());
    println!("{row}");
    if !row.passed() {
        return ExitCode::FAILURE;
    }

    let live = guestmem::stats::live_blocks();
    native::plant_leak();
    let after = guestmem::stats::live_blocks();
    if after != live + 1 {
        eprintln!("plant_leak must leak one block: live_blocks went from {live} to {after}");
        return ExitCode::FAILURE;
    }
    println!("plant_leak: live_blocks {live} -> {after}");
    ExitCode::SUCCESS
}
