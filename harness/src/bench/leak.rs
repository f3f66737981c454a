//! Issue 4, part 4: the leak pattern of wee_alloc issue 106. Two large blocks (85,196 and 80,000
//! bytes) are allocated and then freed in allocation order, 1,000 times; an allocator that reuses
//! what was freed stays at the same number of pages, wee_alloc 0.4.5 grows without bound.
//!
//! The pattern runs twice per allocator: inside the guest through the global allocator (the
//! issue's own repro, `leak_rounds` in `bench_workload`), and from the host through guestmem's
//! `alloc` and `free` exports (the `echo` example, which also carries the 8-byte header).

use std::path::Path;

use super::BenchError;
use super::build::{example_file, workload_file};
use crate::guest::GuestModule;
use crate::guests::ALLOCATORS;

/// Rounds, as issue 4 sets them.
pub const ROUNDS: u32 = 1_000;
/// The two block sizes of the repro.
pub const SIZES: [u32; 2] = [85_196, 80_000];

/// Linear memory in 64 KiB pages after the first round and after [`ROUNDS`].
#[derive(Debug, Clone, Copy)]
pub struct Pages {
    /// After one round.
    pub first: u64,
    /// After all rounds.
    pub last: u64,
}

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
        let mut abi = Pages { first: 0, last: 0 };
        for round in 0..ROUNDS {
            let blocks = [echo.alloc(SIZES[0])?, echo.alloc(SIZES[1])?];
            if blocks.contains(&0) {
                return Err(BenchError::Wrong(format!(
                    "alloc with {allocator} returned 0 in round {round}"
                )));
            }
            for block in blocks {
                echo.free(block)?;
            }
            if round == 0 {
                abi.first = echo.memory_pages();
            }
        }
        abi.last = echo.memory_pages();
        rows.push(LeakRow {
            allocator,
            raw,
            abi,
        });
    }
    Ok(rows)
}
