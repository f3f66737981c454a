//! The leak pattern of wee_alloc issue 106. Two large blocks (85,196 and 80,000 bytes) are
//! allocated and then freed in allocation order, 1,000 times; an allocator that reuses what was
//! freed stays at the same number of pages, wee_alloc 0.4.5 grows without bound.
//!
//! The pattern runs twice per allocator: inside the guest through the global allocator (the
//! issue's own repro, `leak_rounds` in `bench_workload`), and from the host through guestmem's
//! `alloc` and `free` exports (the `echo` example, which also carries the 8-byte header), with
//! the allocator check's [`pages_over_rounds`].

use std::path::Path;

use crate::BenchError;
use crate::build::{example_file, workload_file};
pub use harness::checks::allocators::Pages;
use harness::checks::allocators::pages_over_rounds;
use harness::guest::GuestModule;
use harness::guests::ALLOCATORS;

/// Rounds, as in the repro.
pub const ROUNDS: u32 = 1_000;

/// One allocator's figures.
#[derive(Debug, Clone)]
pub struct LeakRow {
    /// The allocator back end.
    pub allocator: &'static str,
    /// Through the global allocator, inside the guest.
    pub raw: Pages,
    /// Through the ABI exports, from the host.
    pub abi: Pages,
}

/// Runs the pattern for every allocator.
///
/// # Errors
///
/// A guest that fails to load, traps, or runs out of memory.
pub fn measure(engine: &wasmtime::Engine, guests: &Path) -> Result<Vec<LeakRow>, BenchError> {
    let mut rows = Vec::new();
    for allocator in ALLOCATORS {
        let mut workload = GuestModule::from_file(engine, &guests.join(workload_file(allocator)))?
            .instantiate()?;
        let first = workload.call_raw("leak_rounds", &[1])?;
        let last = workload.call_raw("leak_rounds", &[ROUNDS - 1])?;
        if first == u32::MAX || last == u32::MAX {
            return Err(BenchError::Wrong(format!(
                "leak_rounds with {allocator}: an allocation failed"
            )));
        }
        let raw = Pages {
            first: u64::from(first),
            last: u64::from(last),
        };

        let mut echo =
            GuestModule::from_file(engine, &guests.join(example_file("echo", allocator)))?
                .instantiate()?;
        let abi = pages_over_rounds(&mut echo, ROUNDS)?;
        rows.push(LeakRow {
            allocator,
            raw,
            abi,
        });
    }
    Ok(rows)
}
