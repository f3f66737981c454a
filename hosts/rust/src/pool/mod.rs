//! Pools of ready instances for servers: a [`Plugin`] instantiated through wasmtime's
//! `InstancePre` (imports resolved once, so that a fresh instance costs microseconds on an engine
//! with [`recommended_config`]), at most N instances shared by any number of threads, each call
//! given a deadline, and instances recycled after a trap, a timeout, a memory high-water mark or
//! a call quota.
//!
//! `config` holds the engine settings, `policy` the recycling decision, `deadline` the epoch
//! ticker and call deadlines, `metrics` the counters, `guard` the checked-out instance, and
//! `cache` the compiled modules kept on disk.

#[cfg(feature = "compile")]
mod cache;
mod config;
mod deadline;
mod guard;
mod metrics;
mod policy;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wasmtime::{Engine, InstancePre, Linker, Store};

use crate::guest::trap_or_wasmtime;
use crate::{Error, Guest, Interface, Plugin};

#[cfg(feature = "compile")]
pub use cache::{CacheOutcome, ModuleCache};
pub use config::recommended_config;
pub use deadline::{CancelHandle, EpochTicker};
pub use guard::PooledGuest;
pub use metrics::{InstanceMetrics, PoolMetrics, Recycles};
pub use policy::RecycleCause;

use deadline::{CallClock, timeout_of};
use metrics::{Counters, InstanceCounters};
use policy::RecyclePolicy;

/// Why a checkout failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// Every instance stayed busy for the whole timeout.
    #[error("all pooled instances stayed busy for {waited:?}")]
    Busy {
        /// How long the checkout waited.
        waited: Duration,
    },
    /// A fresh instance could not be made.
    #[error("making a pooled instance: {0}")]
    Instantiate(#[from] Error),
}

/// Up to N instances of one [`Plugin`], for any number of threads: [`Pool::checkout`] hands out
/// an idle instance, makes one while fewer than N are alive, or waits for one to come back.
/// Cheap to clone (clones share the instances); `Send` and `Sync` when `T` is `Send`.
///
/// ```no_run
/// use std::time::Duration;
/// use guestmem_host::{Plugin, pool::{EpochTicker, Pool, recommended_config}};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = wasmtime::Engine::new(&recommended_config(8, 64 << 20))?;
/// let ticker = EpochTicker::new(&engine, Duration::from_millis(5))?;
/// let plugin = Plugin::from_file(&engine, "upper.wasm")?;
/// let pool = Pool::builder(&plugin, || ())
///     .max_instances(8)
///     .deadline(Duration::from_millis(100), &ticker)
///     .build(&wasmtime::Linker::new(&engine))?;
/// let mut guest = pool.checkout(Duration::from_secs(1))?;
/// let upper = guest.call(|guest| guest.call_string("upper", &[b"abc"]))?;
/// assert_eq!(upper, "ABC");
/// # Ok(())
/// # }
/// ```
pub struct Pool<T: 'static> {
    shared: Arc<Shared<T>>,
}

impl<T: 'static> Clone for Pool<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// Makes each new store's data.
type MakeData<T> = Box<dyn Fn() -> T + Send + Sync>;

/// Sets up each new store before its instance is made.
type ConfigureStore<T> = Box<dyn Fn(&mut Store<T>) + Send + Sync>;

/// What the pool's clones and guards share.
pub(crate) struct Shared<T: 'static> {
    engine: Engine,
    pre: InstancePre<T>,
    interface: Option<Interface>,
    make_data: MakeData<T>,
    configure_store: Option<ConfigureStore<T>>,
    max_instances: usize,
    policy: RecyclePolicy,
    deadline: Option<Duration>,
    fuel: Option<u64>,
    /// Whether the engine checks epochs: then every store gets a [`CallClock`].
    epochs: bool,
    /// Keeps the epoch moving while the pool lives.
    _ticker: Option<EpochTicker>,
    state: Mutex<State<T>>,
    returned: Condvar,
    next_id: AtomicU64,
}

struct State<T: 'static> {
    /// Most recently returned last: it is handed out first, with its caches warm.
    idle: Vec<Slot<T>>,
    /// Idle, checked out, or being made: never more than `max_instances`.
    live: usize,
    /// Every live instance's counters, for [`Pool::metrics`].
    instances: Vec<Arc<InstanceCounters>>,
    /// Checkouts waiting for an instance: a return wakes one only if there is one, since a
    /// wake-up is a system call.
    waiting: usize,
    /// Numbers the checkouts, for [`CancelHandle`]s.
    last_checkout: u64,
    counters: Counters,
}

/// One instance and what the pool keeps beside it.
pub(crate) struct Slot<T: 'static> {
    guest: Guest<T>,
    counters: Arc<InstanceCounters>,
    clock: Option<Arc<CallClock>>,
}

/// Settings for a [`Pool`], from [`Pool::builder`].
#[must_use = "a builder does nothing until `build`"]
pub struct PoolBuilder<T: 'static> {
    plugin: Plugin,
    make_data: MakeData<T>,
    configure_store: Option<ConfigureStore<T>>,
    max_instances: usize,
    prewarm: usize,
    policy: RecyclePolicy,
    deadline: Option<(Duration, EpochTicker)>,
    fuel: Option<u64>,
}

impl<T: 'static> Pool<T> {
    /// A pool of `plugin`'s instances, each with a new store whose data `make_data` returns.
    pub fn builder(
        plugin: &Plugin,
        make_data: impl Fn() -> T + Send + Sync + 'static,
    ) -> PoolBuilder<T> {
        PoolBuilder {
            plugin: plugin.clone(),
            make_data: Box::new(make_data),
            configure_store: None,
            max_instances: 16,
            prewarm: 0,
            policy: RecyclePolicy::default(),
            deadline: None,
            fuel: None,
        }
    }

    /// An instance for the caller alone until the guard is dropped: an idle one, a new one while
    /// fewer than the maximum are alive, or else the first one returned within `timeout`.
    ///
    /// # Errors
    ///
    /// [`PoolError::Busy`] if none came back in time, [`PoolError::Instantiate`] if a new one
    /// could not be made.
    pub fn checkout(&self, timeout: Duration) -> Result<PooledGuest<T>, PoolError> {
        let shared = &self.shared;
        let mut waited_since = None;
        let mut state = shared.lock();
        let slot = loop {
            if let Some(slot) = state.idle.pop() {
                break slot;
            }
            if state.live < shared.max_instances {
                state.live += 1;
                drop(state);
                // Made outside the lock: other threads check out and return meanwhile.
                let slot = shared.instantiate_reserved()?;
                state = shared.lock();
                break slot;
            }
            let since = *waited_since.get_or_insert_with(Instant::now);
            let waited = since.elapsed();
            let Some(left) = timeout.checked_sub(waited).filter(|left| !left.is_zero()) else {
                state.counters.busy(waited);
                return Err(PoolError::Busy { waited });
            };
            state.waiting += 1;
            state = shared
                .returned
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            state.waiting -= 1;
        };
        state
            .counters
            .checkout(waited_since.map(|since| since.elapsed()));
        state.last_checkout += 1;
        let checkout = state.last_checkout;
        drop(state);
        Ok(PooledGuest::new(Arc::clone(shared), slot, checkout))
    }

    /// The counters so far, and every live instance's.
    #[must_use]
    pub fn metrics(&self) -> PoolMetrics {
        let state = self.shared.lock();
        let instances = state
            .instances
            .iter()
            .map(|counters| counters.snapshot())
            .collect();
        PoolMetrics {
            live: state.live,
            idle: state.idle.len(),
            max_instances: self.shared.max_instances,
            instances,
            ..state.counters.snapshot()
        }
    }

    /// The engine its instances run on.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }
}

impl<T: 'static> PoolBuilder<T> {
    /// At most `max` instances alive at once (16 by default; at least 1). An engine with the
    /// pooling allocator needs a slot for each, in all its pools together.
    pub fn max_instances(mut self, max: usize) -> Self {
        self.max_instances = max.max(1);
        self
    }

    /// Makes `count` instances when the pool is built (none by default), so that the first
    /// checkouts do not wait for them.
    pub fn prewarm(mut self, count: usize) -> Self {
        self.prewarm = count;
        self
    }

    /// Runs `configure` on each new store before the instance is made: a `Store::limiter`, say.
    pub fn configure_store(
        mut self,
        configure: impl Fn(&mut Store<T>) + Send + Sync + 'static,
    ) -> Self {
        self.configure_store = Some(Box::new(configure));
        self
    }

    /// Recycles an instance whose linear memory is more than `pages` 64 KiB pages after a call.
    pub fn recycle_above_pages(mut self, pages: u64) -> Self {
        self.policy.max_pages = Some(pages);
        self
    }

    /// Recycles an instance after it served `calls` calls.
    pub fn recycle_after_calls(mut self, calls: u64) -> Self {
        self.policy.max_calls = Some(calls.max(1));
        self
    }

    /// Ends a call through [`PooledGuest::call`] that runs longer than `deadline` with
    /// [`Error::Timeout`], within about one tick of `ticker` after it. The engine needs
    /// `Config::epoch_interruption(true)` ([`recommended_config`]), and `ticker` must tick for it.
    pub fn deadline(mut self, deadline: Duration, ticker: &EpochTicker) -> Self {
        self.deadline = Some((deadline, ticker.clone()));
        self
    }

    /// Gives every call through [`PooledGuest::call`] a budget of `fuel` (`Store::set_fuel`): a
    /// deterministic limit, where a deadline is a wall-clock one. Running out is an
    /// [`Error::Trap`] with `Trap::OutOfFuel`. The engine needs `Config::consume_fuel(true)`.
    pub fn fuel(mut self, fuel: u64) -> Self {
        self.fuel = Some(fuel);
        self
    }

    /// Resolves the imports of `linker` for the module once (`Linker::instantiate_pre`) and makes
    /// the pool.
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if an import is missing, or the settings do not fit the engine (a
    /// deadline without epoch interruption, a ticker of another engine, fuel without fuel
    /// metering or the other way round, more instances than the pooling allocator has slots
    /// for); what instantiation returns for a prewarmed instance.
    pub fn build(self, linker: &Linker<T>) -> Result<Pool<T>, Error> {
        let engine = self.plugin.module().engine().clone();
        self.check(&engine)?;
        let pre = linker.instantiate_pre(self.plugin.module())?;
        let (deadline, ticker) = self.deadline.unzip();
        let shared = Arc::new(Shared {
            epochs: engine.get_epoch_interruption(),
            engine,
            pre,
            interface: self.plugin.interface().cloned(),
            make_data: self.make_data,
            configure_store: self.configure_store,
            max_instances: self.max_instances,
            policy: self.policy,
            deadline,
            fuel: self.fuel,
            _ticker: ticker,
            state: Mutex::new(State {
                idle: Vec::new(),
                live: 0,
                instances: Vec::new(),
                waiting: 0,
                last_checkout: 0,
                counters: Counters::default(),
            }),
            returned: Condvar::new(),
            next_id: AtomicU64::new(1),
        });
        for _ in 0..self.prewarm.min(self.max_instances) {
            shared.lock().live += 1;
            let slot = shared.instantiate_reserved()?;
            shared.lock().idle.push(slot);
        }
        Ok(Pool { shared })
    }

    fn check(&self, engine: &Engine) -> Result<(), Error> {
        let refuse = |message: String| Err(Error::Wasmtime(wasmtime::Error::msg(message)));
        if let Some((_, ticker)) = &self.deadline {
            if !engine.get_epoch_interruption() {
                return refuse(
                    "a pool deadline needs an engine with Config::epoch_interruption(true)".into(),
                );
            }
            if !Engine::same(engine, ticker.engine()) {
                return refuse("the pool's EpochTicker ticks for another engine".into());
            }
        }
        if self.fuel.is_some() != engine.get_consume_fuel() {
            return refuse(if self.fuel.is_some() {
                "pool fuel needs an engine with Config::consume_fuel(true)".into()
            } else {
                "the engine meters fuel: give the pool a budget with PoolBuilder::fuel".into()
            });
        }
        if let Some(pooling) = engine.get_pooling_config() {
            let slots = usize::try_from(pooling.get_total_core_instances()).unwrap_or(usize::MAX);
            if slots < self.max_instances {
                return refuse(format!(
                    "a pool of {} instances on an engine whose pooling allocator has {slots} \
                     instance slots",
                    self.max_instances
                ));
            }
        }
        Ok(())
    }
}

impl<T: 'static> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No code that can panic runs under the lock with the state half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh instance from the `InstancePre`, with its store armed as for a call: a guest
    /// whose `_initialize` loops meets the deadline too.
    fn instantiate(&self) -> Result<Slot<T>, Error> {
        let mut store = Store::new(&self.engine, (self.make_data)());
        if let Some(configure) = &self.configure_store {
            configure(&mut store);
        }
        let clock = self.epochs.then(CallClock::new);
        if let Some(clock) = &clock {
            clock.install(&mut store);
            clock.arm(&mut store, self.deadline);
        }
        if let Some(fuel) = self.fuel {
            store.set_fuel(fuel)?;
        }
        let interrupted = |error: Error| {
            let fired = clock.as_ref().is_some_and(|clock| clock.take_fired());
            timeout_of(error, self.deadline.filter(|_| fired), false)
        };
        let instance = self
            .pre
            .instantiate(&mut store)
            .map_err(|error| interrupted(trap_or_wasmtime("start", error, None)))?;
        let mut guest = Guest::new(store, instance).map_err(interrupted)?;
        if let Some(interface) = &self.interface {
            guest.set_interface(interface.clone())?;
        }
        if let Some(clock) = &clock {
            clock.arm(guest.store_mut(), None);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let counters = Arc::new(InstanceCounters::new(id, guest.memory_pages()));
        let mut state = self.lock();
        state.instances.push(Arc::clone(&counters));
        state.counters.created();
        drop(state);
        Ok(Slot {
            guest,
            counters,
            clock,
        })
    }

    /// [`Shared::instantiate`] for a place already counted in `live`, which is given back if
    /// the instance cannot be made, or `make_data` panics.
    fn instantiate_reserved(&self) -> Result<Slot<T>, Error> {
        struct Reservation<'p, T: 'static>(&'p Shared<T>);
        impl<T: 'static> Drop for Reservation<'_, T> {
            fn drop(&mut self) {
                self.0.lost_instance(&Counters::default());
            }
        }
        let reservation = Reservation(self);
        let slot = self.instantiate()?;
        std::mem::forget(reservation);
        Ok(slot)
    }

    /// An instance counted in `live` will not come: let a waiting checkout make one. Adds the
    /// `tally` of the guard that held it, if any.
    fn lost_instance(&self, tally: &Counters) {
        let mut state = self.lock();
        state.counters.add(tally);
        state.live -= 1;
        let waiting = state.waiting > 0;
        drop(state);
        if waiting {
            self.returned.notify_one();
        }
    }

    /// Takes back a checked-out instance: into the pool, or dropped if `recycled`; adds the
    /// guard's `tally`.
    fn give_back(&self, slot: Slot<T>, recycled: bool, tally: &Counters) {
        slot.counters.set_checked_out(false);
        let mut state = self.lock();
        state.counters.add(tally);
        let waiting = state.waiting > 0;
        if recycled {
            state.live -= 1;
            state
                .instances
                .retain(|counters| !Arc::ptr_eq(counters, &slot.counters));
            drop(state);
            // Dropped outside the lock: the store's teardown is the slowest part of a recycle.
            drop(slot);
        } else {
            state.idle.push(slot);
            drop(state);
        }
        if waiting {
            self.returned.notify_one();
        }
    }

    /// Drops a recycled instance a guard still holds, for a fresh one in its place: the old is
    /// gone before the new is made, so the pooling allocator needs no extra slot.
    fn replace(&self, slot: Slot<T>) -> Result<Slot<T>, Error> {
        self.lock()
            .instances
            .retain(|counters| !Arc::ptr_eq(counters, &slot.counters));
        drop(slot);
        self.instantiate()
    }
}
