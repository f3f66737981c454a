//! Allocator speed inside the guest, under wasmtime. talc's random-actions
//! workload (sizes 1 to 10,000 bytes, align 8, at least 50 blocks live, 100,000 actions) runs in
//! the guest, once with allocations and frees only and once with reallocations too, through the
//! raw `GlobalAlloc` (`workload_raw`) and through guestmem's ABI exports (`workload_abi`), for each
//! allocator back end. One call is one whole workload; the host times calls.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::BenchError;
use crate::build::workload_file;
use crate::measure::{self, Plan, Samples, TimedOperation};
use harness::guest::{Guest, GuestModule};
use harness::guests::ALLOCATORS;

/// Actions per workload, as in talc's benchmark.
pub const ACTIONS: u32 = 100_000;
/// The seed of the guest's random numbers in round 0 (round `r` uses `SEED + r`): in a round
/// every contender runs the same sequence of actions.
const SEED: u32 = 0x9E37_79B9;
/// An instance whose linear memory has grown past this many pages (1 GiB) is replaced, untimed,
/// before its next workload, even within a round: wee_alloc's heap grows with every workload
/// (see the leak benchmark) until `memory.grow` fails.
const MAX_PAGES: u64 = 16_384;

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
    pub route: Route,
    /// Nanoseconds per workload (100,000 actions), per round.
    pub samples: Samples,
    /// How many times its instance was replaced within a round because memory passed
    /// [`MAX_PAGES`].
    pub replaced: u32,
    /// The largest linear memory, in 64 KiB pages, seen after a workload.
    pub max_pages: u64,
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
    /// The contender for `allocator` and `route`.
    ///
    /// # Panics
    ///
    /// If there is none: every allocator and path is measured.
    #[must_use]
    pub fn get(&self, allocator: &str, route: Route) -> &Contender {
        self.contenders
            .iter()
            .find(|contender| contender.allocator == allocator && contender.route == route)
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
        let mut runners = Vec::new();
        for allocator in ALLOCATORS {
            let module = GuestModule::from_file(engine, &guests.join(workload_file(allocator)))?;
            for route in [Route::Raw, Route::Abi] {
                // One instance per contender: each has a heap of its own.
                runners.push(Runner {
                    guest: module.instantiate()?,
                    module: module.clone(),
                    allocator,
                    route,
                    with_realloc,
                    replaced: 0,
                    round: None,
                    max_pages: 0,
                });
            }
        }
        let mut operations: Vec<TimedOperation<'_, BenchError>> = runners
            .iter_mut()
            .map(|runner| -> TimedOperation<'_, BenchError> {
                Box::new(move |round| runner.run(round))
            })
            .collect();
        let samples = measure::interleaved_timed(plan, &mut operations)?;
        drop(operations);
        let contenders = runners
            .iter()
            .zip(samples)
            .map(|(runner, samples)| Contender {
                allocator: runner.allocator,
                route: runner.route,
                samples,
                replaced: runner.replaced,
                max_pages: runner.max_pages,
            })
            .collect();
        modes.push(Mode {
            with_realloc,
            contenders,
        });
    }
    Ok(Workload { modes })
}

/// One contender: an instance and what it runs.
struct Runner {
    guest: Guest,
    module: GuestModule,
    allocator: &'static str,
    route: Route,
    with_realloc: bool,
    replaced: u32,
    /// The round the instance was made for.
    round: Option<usize>,
    max_pages: u64,
}

impl Runner {
    /// Runs one workload in `round` and returns the time the call took.
    ///
    /// Each round has a seed of its own, the same for every contender, so that the per-round
    /// ratios compare the same sequence of actions and the median covers 21 of them; and each
    /// round starts from a new instance, warmed by one untimed workload, so that no contender
    /// keeps one lucky or unlucky heap layout for the whole run.
    fn run(&mut self, round: usize) -> Result<Duration, BenchError> {
        let seed = SEED.wrapping_add(round as u32);
        if self.round != Some(round) || self.guest.memory_pages() > MAX_PAGES {
            if self.round == Some(round) {
                self.replaced += 1;
            }
            self.round = Some(round);
            self.guest = self.module.instantiate()?;
            self.call(seed)?;
        }
        let start = Instant::now();
        self.call(seed)?;
        Ok(start.elapsed())
    }

    fn call(&mut self, seed: u32) -> Result<(), BenchError> {
        let done = self.guest.call_raw(
            self.route.export(),
            &[ACTIONS, seed, u32::from(self.with_realloc)],
        )?;
        self.max_pages = self.max_pages.max(self.guest.memory_pages());
        if done == ACTIONS {
            Ok(())
        } else {
            Err(BenchError::Wrong(format!(
                "{}({ACTIONS}) with {}: an allocation failed (returned {done})",
                self.route.export(),
                self.allocator
            )))
        }
    }
}
