//! A checked-out instance: calls through it are timed, counted and judged by the pool's policy,
//! and it goes back to the pool (or is recycled) when dropped.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::deadline::{CancelHandle, timeout_of};
use super::metrics::Counters;
use super::{RecycleCause, Shared, Slot};
use crate::{Error, Guest};

/// An instance checked out of a [`Pool`](super::Pool), the caller's alone until dropped.
///
/// Make calls through [`PooledGuest::call`]: each gets the pool's deadline and fuel, and its
/// outcome decides whether the instance is recycled. It derefs to the [`Guest`] for everything
/// else (exports looked up by name are looked up once per instance, so by-name calls such as
/// `guest.call_bytes("echo", ...)` suit pooled instances). Calls made through the deref share
/// one deadline counted from the checkout, and the pool does not see their outcome: after one
/// fails, [`PooledGuest::recycle`] the instance.
pub struct PooledGuest<T: 'static> {
    shared: Arc<Shared<T>>,
    /// Taken only when a replacement could not be made, and in `drop`.
    slot: Option<Slot<T>>,
    /// Set when a call's outcome condemned the instance: the next call gets a fresh one, and
    /// `drop` does not put it back.
    recycle: Option<RecycleCause>,
    checkout: u64,
    /// Calls and recycles, added to the pool's counters when the guard is dropped.
    tally: Counters,
}

impl<T: 'static> PooledGuest<T> {
    pub(super) fn new(shared: Arc<Shared<T>>, mut slot: Slot<T>, checkout: u64) -> Self {
        slot.counters.set_checked_out(true);
        if let Some(clock) = &slot.clock {
            clock.begin_checkout(checkout);
            clock.take_fired();
            clock.arm(slot.guest.store_mut(), shared.deadline);
        }
        Self {
            shared,
            slot: Some(slot),
            recycle: None,
            checkout,
            tally: Counters::default(),
        }
    }

    /// Runs `call` on the instance with the pool's deadline (an epoch interrupt becomes
    /// [`Error::Timeout`] naming the export) and fuel, counts its outcome, and recycles the
    /// instance if the outcome or the instance's state calls for it: a trap, a timeout, memory
    /// above the high-water mark, the call quota. A later call on this guard then runs on a
    /// fresh instance.
    ///
    /// # Errors
    ///
    /// What `call` returns, a timeout made [`Error::Timeout`]; what instantiation returns if a
    /// recycled instance could not be replaced.
    pub fn call<R>(
        &mut self,
        call: impl FnOnce(&mut Guest<T>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let shared: &Shared<T> = &self.shared;
        let recycled = self.recycle.take().is_some();
        let slot = match self.slot.take() {
            Some(slot) if !recycled => slot,
            old => {
                let fresh = match old {
                    Some(old) => shared.replace(old),
                    None => shared.instantiate(),
                };
                Self::started(fresh?, self.checkout)
            }
        };
        let slot = self.slot.insert(slot);
        if let Some(fuel) = shared.fuel {
            slot.guest.store_mut().set_fuel(fuel)?;
        }
        if let Some(clock) = &slot.clock {
            clock.arm(slot.guest.store_mut(), shared.deadline);
        }
        let outcome = call(&mut slot.guest);
        let (interrupted, cancelled) = slot.clock.as_ref().map_or((false, false), |clock| {
            (clock.take_fired(), clock.take_cancel())
        });
        let outcome = outcome.map_err(|error| timeout_of(error, shared.deadline, cancelled));
        let timed_out = matches!(outcome, Err(Error::Timeout { .. }));
        let trapped = matches!(&outcome, Err(error) if error.is_trap());
        self.tally.call(trapped, timed_out);
        let pages = slot.guest.memory_pages();
        let calls = slot.counters.call(pages);
        self.recycle = shared
            .policy
            .after_call(&outcome, interrupted, pages, calls);
        if let Some(cause) = self.recycle {
            self.tally.recycled(cause);
        }
        outcome
    }

    /// Drops the instance instead of returning it to the pool; the pool makes a fresh one in its
    /// place when it needs one.
    pub fn recycle(mut self) {
        if self.recycle.is_none() {
            self.recycle = Some(RecycleCause::Demand);
            self.tally.recycled(RecycleCause::Demand);
        }
    }

    /// A handle that ends this checkout's running call (or its next one) at the next epoch
    /// tick, from any thread; see [`CancelHandle`]. `None` if the engine has no epoch
    /// interruption. The call fails with an [`Error::Trap`] of `Trap::Interrupt`, and the
    /// instance is recycled.
    #[must_use]
    pub fn cancel_handle(&self) -> Option<CancelHandle> {
        let clock = self.slot.as_ref()?.clock.as_ref()?;
        Some(CancelHandle::new(Arc::clone(clock), self.checkout))
    }

    /// The instance's number in the pool (1 for the first made): a recycled instance's
    /// replacement has a new one.
    ///
    /// # Panics
    ///
    /// As the deref does.
    #[must_use]
    pub fn instance_id(&self) -> u64 {
        self.slot().counters.id
    }

    /// Calls the instance has served, this checkout's and earlier ones.
    ///
    /// # Panics
    ///
    /// As the deref does.
    #[must_use]
    pub fn calls(&self) -> u64 {
        self.slot().counters.calls()
    }

    /// Why the instance will be recycled when the guard is dropped, if it will.
    #[must_use]
    pub fn recycle_cause(&self) -> Option<RecycleCause> {
        self.recycle
    }

    fn started(slot: Slot<T>, checkout: u64) -> Slot<T> {
        slot.counters.set_checked_out(true);
        if let Some(clock) = &slot.clock {
            clock.begin_checkout(checkout);
        }
        slot
    }

    fn slot(&self) -> &Slot<T> {
        self.slot
            .as_ref()
            .expect("a recycled instance could not be replaced: call `call` to try again")
    }
}

/// The instance, for what [`PooledGuest::call`] does not cover.
///
/// # Panics
///
/// If the last [`PooledGuest::call`] recycled the instance and could not make a new one (it
/// returned that error): [`PooledGuest::call`] tries again.
impl<T: 'static> Deref for PooledGuest<T> {
    type Target = Guest<T>;

    fn deref(&self) -> &Guest<T> {
        &self.slot().guest
    }
}

impl<T: 'static> DerefMut for PooledGuest<T> {
    fn deref_mut(&mut self) -> &mut Guest<T> {
        &mut self
            .slot
            .as_mut()
            .expect("a recycled instance could not be replaced: call `call` to try again")
            .guest
    }
}

impl<T: 'static> Drop for PooledGuest<T> {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else {
            // Its replacement failed: the instance counted as live is not coming back.
            self.shared.lost_instance(&self.tally);
            return;
        };
        if self.recycle.is_none() {
            // An interrupt of a call made through the deref, or a panic mid-checkout, leaves
            // the instance in a state nobody checked.
            let interrupted = slot.clock.as_ref().is_some_and(|clock| clock.take_fired());
            let cause = if interrupted {
                Some(RecycleCause::Timeout)
            } else if std::thread::panicking() {
                Some(RecycleCause::Demand)
            } else {
                None
            };
            if let Some(cause) = cause {
                self.tally.recycled(cause);
                self.recycle = Some(cause);
            }
        }
        if let Some(clock) = &slot.clock {
            // A cancel handle kept past this checkout must not end the next holder's call.
            clock.begin_checkout(0);
        }
        self.shared
            .give_back(slot, self.recycle.is_some(), &self.tally);
    }
}
