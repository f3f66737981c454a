//! Issue 4, part 2: allocator speed inside the guest, under wasmtime. talc's random-actions
//! workload (sizes 1 to 10,000 bytes, align 8, at least 50 blocks live, 100,000 actions) runs in
//! the guest, once with allocations and frees only and once with reallocations too, through the
//! raw `GlobalAlloc` (`workload_raw`) and through guestmem's ABI exports (`workload_abi`), for each
//! allocator back end. One call is one whole workload; the host times calls.

use std::path::Path;

use super::BenchError;
use super::build::workload_file;
use super::measure::{self, Operation, Plan, Samples};
use crate::guest::{Guest, GuestModule};
use crate::guests::ALLOCATORS;

/// Actions per workload, as issue 4 sets it.
pub const ACTIONS: u32 = 100_000;
/// The seed of the guest's random numbers: both paths run the same sequence of actions.
const SEED: u32 = 0x9E37_79B9;

/// How the workload gets its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `alloc::alloc::{alloc, dealloc, realloc}`: the back end alone.
    Raw,
    /// `guestmem::abi::{alloc, free, realloc}`: header, tag and checks on top.
    Abi,
}

impl Route {
    /// The guest export that runs the workload this way.
    #[must_use]
    pub fn export(self) -> &'static str {
        match self {
            Self::Raw => "workload_raw",
            Self::Abi => "workload_abi",
        }
    }

    /// How the report names it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Raw => "raw GlobalAlloc",
            Self::Abi => "ABI exports",
        }
    }
}

/// One allocator and path's times for one mode.
#[derive(Debug, Clone)]
pub struct Contender {
    /// The allocator back end.
    pub allocator: &'static str,
    /// Raw or through the ABI.
    pub path: Route,
    /// Nanoseconds per workload (100,000 actions), per round.
    pub samples: Samples,
}

/// The results of one mode.
#[derive(Debug, Clone)]
pub struct Mode {
    /// Whether reallocations were among the actions.
    pub with_realloc: bool,
    /// Every allocator, raw then ABI, in [`ALLOCATORS`] order.
    pub contenders: Vec<Contender>,
}

impl Mode {
    /// The contender for `allocator` and `path`.
    ///
    /// # Panics
    ///
    /// If there is none: every allocator and path is measured.
    #[must_use]
    pub fn get(&self, allocator: &str, path: Route) -> &Contender {
        self.contenders
            .iter()
            .find(|contender| contender.allocator == allocator && contender.path == path)
            .expect("every allocator and path is measured")
    }
}

/// Both modes.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Allocations and frees only, then with reallocations.
    pub modes: Vec<Mode>,
}

/// Runs the workload for every allocator and path, interleaved, in both modes.
///
/// # Errors
///
/// A guest that fails to load, traps, or reports that an allocation failed.
pub fn measure(
    engine: &wasmtime::Engine,
    guests: &Path,
    plan: &Plan,
) -> Result<Workload, BenchError> {
    let mut modes = Vec::new();
    for with_realloc in [false, true] {
        let mut labels = Vec::new();
        let mut instances: Vec<Guest> = Vec::new();
        for allocator in ALLOCATORS {
            let module = GuestModule::from_file(engine, &guests.join(workload_file(allocator)))?;
            for path in [Route::Raw, Route::Abi] {
                labels.push((allocator, path));
                // One instance per contender: each has a heap of its own.
                instances.push(module.instantiate()?);
            }
        }
        let mut operations: Vec<Operation<'_, BenchError>> = instances
            .iter_mut()
            .zip(&labels)
            .map(|(guest, &(allocator, path))| -> Operation<'_, BenchError> {
                Box::new(move || run_once(guest, allocator, path, with_realloc))
            })
            .collect();
        let samples = measure::interleaved(plan, &mut operations)?;
        let contenders = labels
            .iter()
            .zip(samples)
            .map(|(&(allocator, path), samples)| Contender {
                allocator,
                path,
                samples,
            })
            .collect();
        modes.push(Mode {
            with_realloc,
            contenders,
        });
    }
    Ok(Workload { modes })
}

fn run_once(
    guest: &mut Guest,
    allocator: &str,
    path: Route,
    with_realloc: bool,
) -> Result<(), BenchError> {
    let done = guest.call_raw(path.export(), &[ACTIONS, SEED, u32::from(with_realloc)])?;
    if done == ACTIONS {
        Ok(())
    } else {
        Err(BenchError::Wrong(format!(
            "{}({ACTIONS}) with {allocator}: an allocation failed (returned {done})",
            path.export()
        )))
    }
}
