//! When a pooled instance is dropped and replaced by a fresh one, instead of going back to the
//! pool: the one decision, taken after every call.

use std::fmt;

use crate::Error;

/// Why an instance was recycled: dropped, its slot given to a fresh instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecycleCause {
    /// A call trapped ([`Error::is_trap`]), or was cancelled: whatever it was doing is lost, and
    /// the contract says to drop the instance. Always on.
    Trap,
    /// A call ran past its deadline ([`Error::Timeout`]): a trap too. Always on.
    Timeout,
    /// Linear memory was larger than the high-water mark after a call
    /// ([`PoolBuilder::recycle_above_pages`](super::PoolBuilder::recycle_above_pages)):
    /// wasm memory never shrinks, so a guest that leaks or once needed much keeps it.
    Memory,
    /// The instance served its quota of calls
    /// ([`PoolBuilder::recycle_after_calls`](super::PoolBuilder::recycle_after_calls)).
    Calls,
    /// The holder asked for it ([`PooledGuest::recycle`](super::PooledGuest::recycle)), or
    /// dropped it while panicking.
    Demand,
}

impl fmt::Display for RecycleCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Trap => "trap",
            Self::Timeout => "timeout",
            Self::Memory => "memory high-water mark",
            Self::Calls => "call quota",
            Self::Demand => "on demand",
        })
    }
}

/// The limits after which a healthy instance is recycled all the same.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RecyclePolicy {
    /// Recycle when linear memory is larger than this many 64 KiB pages after a call.
    pub(crate) max_pages: Option<u64>,
    /// Recycle after this many calls.
    pub(crate) max_calls: Option<u64>,
}

impl RecyclePolicy {
    /// Decides after a call whose outcome was `outcome`, leaving the instance with `pages` of
    /// linear memory and `calls` calls served. `interrupted`: the epoch callback ended guest code
    /// during the call, even if the caller's closure swallowed the error.
    pub(crate) fn after_call<R>(
        &self,
        outcome: &Result<R, Error>,
        interrupted: bool,
        pages: u64,
        calls: u64,
    ) -> Option<RecycleCause> {
        match outcome {
            Err(Error::Timeout { .. }) => return Some(RecycleCause::Timeout),
            Err(error) if error.is_trap() => return Some(RecycleCause::Trap),
            _ if interrupted => return Some(RecycleCause::Trap),
            _ => {}
        }
        if self.max_pages.is_some_and(|max| pages > max) {
            return Some(RecycleCause::Memory);
        }
        if self.max_calls.is_some_and(|max| calls >= max) {
            return Some(RecycleCause::Calls);
        }
        None
    }
}
