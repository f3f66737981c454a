//! What a pool has done, counted as it happens and read as a plain snapshot
//! ([`Pool::metrics`](super::Pool::metrics)).
//!
//! Peak memory is read after each call (`memory.size`) rather than by a `ResourceLimiter`: a
//! limiter lives in the store's data, and the data `T` is the user's.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::RecycleCause;

/// A snapshot of a pool's counters, from its creation to now. Calls and recycles are counted
/// when the guard they happened in is dropped; the instances' own counters are current.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolMetrics {
    /// Instances alive: idle, checked out, or being made.
    pub live: usize,
    /// Instances waiting in the pool.
    pub idle: usize,
    /// The most instances the pool makes.
    pub max_instances: usize,
    /// Instances made (the first ones and every replacement).
    pub created: u64,
    /// Checkouts that got an instance.
    pub checkouts: u64,
    /// Checkouts that found every instance busy and waited, whether they got one or not.
    pub waits: u64,
    /// The time those checkouts waited, in all.
    pub wait_time: Duration,
    /// Checkouts that waited in vain ([`PoolError::Busy`](super::PoolError::Busy)).
    pub busy: u64,
    /// Calls made through [`PooledGuest::call`](super::PooledGuest::call).
    pub calls: u64,
    /// Calls that trapped (a timeout is counted under `timeouts`, not here).
    pub traps: u64,
    /// Calls that ran past their deadline.
    pub timeouts: u64,
    /// Instances recycled, by cause.
    pub recycles: Recycles,
    /// The instances alive, idle or checked out, oldest first.
    pub instances: Vec<InstanceMetrics>,
}

/// Recycled instances, by [`RecycleCause`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recycles {
    /// After a trap or a cancelled call.
    pub trap: u64,
    /// After a timeout.
    pub timeout: u64,
    /// Above the memory high-water mark.
    pub memory: u64,
    /// After the call quota.
    pub calls: u64,
    /// On demand.
    pub demand: u64,
}

impl Recycles {
    /// All of them.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.trap + self.timeout + self.memory + self.calls + self.demand
    }
}

/// One live instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstanceMetrics {
    /// Its number in the pool: 1 for the first made, counting up.
    pub id: u64,
    /// Linear memory after its last call, in 64 KiB pages.
    pub memory_pages: u64,
    /// The most linear memory seen after a call, in 64 KiB pages.
    pub peak_memory_pages: u64,
    /// Calls it served.
    pub calls: u64,
    /// Whether it is checked out.
    pub checked_out: bool,
}

/// The pool-wide counters, kept under the pool's lock, which checkouts and returns take anyway:
/// a shared atomic bumped on every call would bounce between the cores of the threads calling.
/// A guard tallies its calls in a `Counters` of its own and adds them when it is dropped.
#[derive(Default)]
pub(crate) struct Counters {
    created: u64,
    checkouts: u64,
    waits: u64,
    wait_time: Duration,
    busy: u64,
    calls: u64,
    traps: u64,
    timeouts: u64,
    recycles: Recycles,
}

impl Counters {
    pub(crate) fn created(&mut self) {
        self.created += 1;
    }

    pub(crate) fn checkout(&mut self, waited: Option<Duration>) {
        self.checkouts += 1;
        if let Some(waited) = waited {
            self.waited(waited);
        }
    }

    pub(crate) fn busy(&mut self, waited: Duration) {
        self.busy += 1;
        self.waited(waited);
    }

    fn waited(&mut self, waited: Duration) {
        self.waits += 1;
        self.wait_time += waited;
    }

    pub(crate) fn call(&mut self, trapped: bool, timed_out: bool) {
        self.calls += 1;
        self.traps += u64::from(trapped);
        self.timeouts += u64::from(timed_out);
    }

    pub(crate) fn recycled(&mut self, cause: RecycleCause) {
        let recycles = &mut self.recycles;
        *match cause {
            RecycleCause::Trap => &mut recycles.trap,
            RecycleCause::Timeout => &mut recycles.timeout,
            RecycleCause::Memory => &mut recycles.memory,
            RecycleCause::Calls => &mut recycles.calls,
            RecycleCause::Demand => &mut recycles.demand,
        } += 1;
    }

    /// Adds a guard's tally of calls and recycles.
    pub(crate) fn add(&mut self, tally: &Self) {
        self.calls += tally.calls;
        self.traps += tally.traps;
        self.timeouts += tally.timeouts;
        let (into, from) = (&mut self.recycles, &tally.recycles);
        into.trap += from.trap;
        into.timeout += from.timeout;
        into.memory += from.memory;
        into.calls += from.calls;
        into.demand += from.demand;
    }

    /// The counters, without the instances: the caller lists them.
    pub(crate) fn snapshot(&self) -> PoolMetrics {
        PoolMetrics {
            created: self.created,
            checkouts: self.checkouts,
            waits: self.waits,
            wait_time: self.wait_time,
            busy: self.busy,
            calls: self.calls,
            traps: self.traps,
            timeouts: self.timeouts,
            recycles: self.recycles,
            ..PoolMetrics::default()
        }
    }
}

/// One instance's counters, shared between its slot and the pool's list of live instances, so
/// that a snapshot sees checked-out instances too.
pub(crate) struct InstanceCounters {
    pub(crate) id: u64,
    pages: AtomicU64,
    peak_pages: AtomicU64,
    calls: AtomicU64,
    checked_out: AtomicBool,
}

impl InstanceCounters {
    pub(crate) fn new(id: u64, pages: u64) -> Self {
        Self {
            id,
            pages: AtomicU64::new(pages),
            peak_pages: AtomicU64::new(pages),
            calls: AtomicU64::new(0),
            checked_out: AtomicBool::new(false),
        }
    }

    /// Counts a call that left `pages` of linear memory; returns the calls served so far.
    pub(crate) fn call(&self, pages: u64) -> u64 {
        self.pages.store(pages, Ordering::Relaxed);
        self.peak_pages.fetch_max(pages, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn set_checked_out(&self, checked_out: bool) {
        self.checked_out.store(checked_out, Ordering::Relaxed);
    }

    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self) -> InstanceMetrics {
        InstanceMetrics {
            id: self.id,
            memory_pages: self.pages.load(Ordering::Relaxed),
            peak_memory_pages: self.peak_pages.load(Ordering::Relaxed),
            calls: self.calls.load(Ordering::Relaxed),
            checked_out: self.checked_out.load(Ordering::Relaxed),
        }
    }
}
