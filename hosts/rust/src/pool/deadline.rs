//! Wall-clock deadlines through epoch interruption: one [`EpochTicker`] thread per engine moves
//! the epoch on, and each pooled store's epoch callback compares the clock with the deadline of
//! the call it is running ([`CallClock`]). A [`CancelHandle`] ends a call the same way.
//!
//! A callback rather than a number of ticks: the deadline is a time, not a count of ticks that
//! started at an unknown phase of the ticker, and a cancelled call is told from a late one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::{Engine, Store, Trap, UpdateDeadline};

use crate::Error;

/// A thread that calls [`Engine::increment_epoch`] every `period`, so that code compiled with
/// `Config::epoch_interruption(true)` checks its deadline. One per engine is enough: every store
/// of the engine sees the same epoch. Cheap to clone; the thread stops when the last clone is
/// dropped.
///
/// A call that runs past its deadline ends within about one `period` of it: 1 to 10 ms suits a
/// server, at a cost of one wake-up per period.
#[derive(Clone)]
pub struct EpochTicker {
    inner: Arc<Ticker>,
}

struct Ticker {
    engine: Engine,
    period: Duration,
    /// Dropping it wakes the thread, which then returns.
    stop: Mutex<Option<Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl EpochTicker {
    /// Starts the thread for `engine`, ticking every `period`.
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if the thread cannot be spawned.
    pub fn new(engine: &Engine, period: Duration) -> Result<Self, Error> {
        let (stop, stopped) = mpsc::channel::<()>();
        let ticking = engine.clone();
        let thread = std::thread::Builder::new()
            .name("guestmem-epoch".to_owned())
            .spawn(move || {
                // Nothing is ever sent: the channel only says "stop" by being closed.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                    ticking.increment_epoch();
                }
            })
            .map_err(|error| Error::Wasmtime(wasmtime::Error::new(error)))?;
        Ok(Self {
            inner: Arc::new(Ticker {
                engine: engine.clone(),
                period,
                stop: Mutex::new(Some(stop)),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// How often the epoch moves on.
    #[must_use]
    pub fn period(&self) -> Duration {
        self.inner.period
    }

    /// The engine it ticks for.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(
            self.stop
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            // The loop cannot panic; a failed join has nothing left to clean up.
            let _joined = thread.join();
        }
    }
}

/// No deadline: the callback lets the code run on.
const UNARMED: u64 = u64::MAX;

/// The deadline and the cancel request of one pooled instance, shared with its store's epoch
/// callback. Times are nanoseconds since `start`, so that they fit in atomics.
pub(crate) struct CallClock {
    start: Instant,
    deadline: AtomicU64,
    /// Which checkout holds the instance, so that a [`CancelHandle`] kept past its checkout
    /// cannot end the next holder's call.
    checkout: AtomicU64,
    /// The checkout whose call is to be cancelled (`0`: none).
    cancel: AtomicU64,
    /// The callback ended a call: the instance is to be recycled, however the error was handled.
    fired: AtomicBool,
}

impl CallClock {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            deadline: AtomicU64::new(UNARMED),
            checkout: AtomicU64::new(0),
            cancel: AtomicU64::new(0),
            fired: AtomicBool::new(false),
        })
    }

    /// Makes `store` ask this clock at every epoch tick while its code runs.
    pub(crate) fn install<T: 'static>(self: &Arc<Self>, store: &mut Store<T>) {
        let clock = Arc::clone(self);
        store.epoch_deadline_callback(move |_| clock.on_tick());
        store.set_epoch_deadline(1);
    }

    fn on_tick(&self) -> wasmtime::Result<UpdateDeadline> {
        let checkout = self.checkout.load(Ordering::Acquire);
        let cancelled = checkout != 0 && self.cancel.load(Ordering::Acquire) == checkout;
        if cancelled || self.nanos_now() >= self.deadline.load(Ordering::Acquire) {
            self.fired.store(true, Ordering::Release);
            return Err(Trap::Interrupt.into());
        }
        Ok(UpdateDeadline::Continue(1))
    }

    fn nanos_now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(UNARMED - 1)
    }

    /// Gives the code running from now on `deadline` (none: unlimited), and makes the store
    /// check it at the next tick.
    pub(crate) fn arm<T: 'static>(&self, store: &mut Store<T>, deadline: Option<Duration>) {
        let at = deadline.map_or(UNARMED, |deadline| {
            let nanos = u64::try_from(deadline.as_nanos()).unwrap_or(UNARMED);
            self.nanos_now().saturating_add(nanos).min(UNARMED - 1)
        });
        self.deadline.store(at, Ordering::Release);
        store.set_epoch_deadline(1);
    }

    /// A new holder: cancel requests of earlier holders no longer apply.
    pub(crate) fn begin_checkout(&self, checkout: u64) {
        self.checkout.store(checkout, Ordering::Release);
    }

    /// Returns whether the callback ended a call since the last time it was asked.
    pub(crate) fn take_fired(&self) -> bool {
        self.fired.swap(false, Ordering::AcqRel)
    }

    /// Returns whether the holder asked for a cancel, and forgets the request.
    pub(crate) fn take_cancel(&self) -> bool {
        let checkout = self.checkout.load(Ordering::Acquire);
        checkout != 0
            && self
                .cancel
                .compare_exchange(checkout, 0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }
}

/// Ends the call running in one checked-out instance (or its next call, if none is running) at
/// the next epoch tick, as an [`Error::Trap`] with [`Trap::Interrupt`]; the instance is then
/// recycled. `Send` and `Sync`: hand it to the thread that decides.
///
/// It applies to the checkout it came from only: once the instance is back in the pool, a
/// cancel does nothing. It needs an engine with epoch interruption and an [`EpochTicker`].
#[derive(Clone)]
pub struct CancelHandle {
    clock: Arc<CallClock>,
    checkout: u64,
}

impl CancelHandle {
    pub(crate) fn new(clock: Arc<CallClock>, checkout: u64) -> Self {
        Self { clock, checkout }
    }

    /// Asks for the call to end.
    pub fn cancel(&self) {
        self.clock.cancel.store(self.checkout, Ordering::Release);
    }
}

/// An epoch interrupt of a call with a deadline is that call's timeout: [`Error::Timeout`]
/// naming the export. Other errors, and a cancelled call's interrupt, are left as they are.
pub(crate) fn timeout_of(error: Error, deadline: Option<Duration>, cancelled: bool) -> Error {
    match (error, deadline) {
        (
            Error::Trap {
                function,
                trap: Trap::Interrupt,
                ..
            },
            Some(deadline),
        ) if !cancelled => Error::Timeout { function, deadline },
        (error, _) => error,
    }
}
