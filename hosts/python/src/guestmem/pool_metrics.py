"""What a pool has done, counted as it happens under the pool's lock and read as a plain frozen
snapshot (:meth:`Pool.metrics <guestmem.Pool.metrics>`), with the fields of the Rust host's
``PoolMetrics``.

Peak memory is read after each call (``memory.size``), as in the Rust host: the store, where a
limiter would live, is the user's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace


class RecycleCause(enum.Enum):
    """Why an instance was recycled: dropped, its place given to a fresh instance."""

    #: A call trapped: whatever it was doing is lost, and the contract says to drop the instance.
    TRAP = "trap"
    #: A call ran past its deadline (:class:`~guestmem.Timeout`): a trap too.
    TIMEOUT = "timeout"
    #: Linear memory was above the high-water mark after a call: wasm memory never shrinks, so a
    #: guest that leaks, or once needed much, keeps it.
    MEMORY = "memory high-water mark"
    #: The instance served its quota of calls.
    CALLS = "call quota"
    #: The holder asked for it (:meth:`PooledGuest.recycle <guestmem.PooledGuest.recycle>`), or
    #: a ``KeyboardInterrupt`` or the like ended a call halfway.
    DEMAND = "on demand"


@dataclass(frozen=True)
class Recycles:
    """Recycled instances, by :class:`RecycleCause`."""

    trap: int = 0
    timeout: int = 0
    memory: int = 0
    calls: int = 0
    demand: int = 0

    def total(self) -> int:
        """All of them."""
        return self.trap + self.timeout + self.memory + self.calls + self.demand


#: Each cause's field in :class:`Recycles`.
_FIELDS = {
    RecycleCause.TRAP: "trap",
    RecycleCause.TIMEOUT: "timeout",
    RecycleCause.MEMORY: "memory",
    RecycleCause.CALLS: "calls",
    RecycleCause.DEMAND: "demand",
}


@dataclass(frozen=True)
class InstanceMetrics:
    """One live instance."""

    #: Its number in the pool: 1 for the first made, counting up.
    id: int
    #: Linear memory after its last call, in 64 KiB pages.
    memory_pages: int
    #: The most linear memory seen after a call, in 64 KiB pages.
    peak_memory_pages: int
    #: Calls it served.
    calls: int
    #: Whether it is checked out.
    checked_out: bool


@dataclass(frozen=True)
class PoolMetrics:
    """A snapshot of a pool's counters, from its creation to now, and of every live instance."""

    #: Instances alive: idle, checked out, or being made.
    live: int
    #: Instances waiting in the pool.
    idle: int
    #: The most instances the pool makes.
    max_instances: int
    #: Instances made (the first ones and every replacement).
    created: int = 0
    #: Checkouts that got an instance.
    checkouts: int = 0
    #: Checkouts that found every instance busy and waited, whether they got one or not.
    waits: int = 0
    #: The time those checkouts waited, in all, in seconds.
    wait_time: float = 0.0
    #: Checkouts that waited in vain (:class:`~guestmem.PoolBusy`).
    busy: int = 0
    #: Calls made through :meth:`PooledGuest.call <guestmem.PooledGuest.call>`.
    calls: int = 0
    #: Calls that trapped (a timeout is counted under ``timeouts``, not here).
    traps: int = 0
    #: Calls that ran past their deadline.
    timeouts: int = 0
    #: Instances recycled, by cause.
    recycles: Recycles = Recycles()
    #: The instances alive, idle or checked out, oldest first.
    instances: tuple[InstanceMetrics, ...] = field(default_factory=tuple)


class Counters:
    """The pool-wide counters, changed only under the pool's lock."""

    def __init__(self) -> None:
        self.created = 0
        self.checkouts = 0
        self.waits = 0
        self.wait_time = 0.0
        self.busy = 0
        self.calls = 0
        self.traps = 0
        self.timeouts = 0
        self.recycles = Recycles()

    def checkout(self, waited: float | None) -> None:
        self.checkouts += 1
        if waited is not None:
            self.waited(waited)

    def refused(self, waited: float) -> None:
        self.busy += 1
        self.waited(waited)

    def waited(self, waited: float) -> None:
        self.waits += 1
        self.wait_time += waited

    def call(self, trapped: bool, timed_out: bool) -> None:
        self.calls += 1
        self.traps += trapped
        self.timeouts += timed_out

    def recycled(self, cause: RecycleCause) -> None:
        name = _FIELDS[cause]
        self.recycles = replace(self.recycles, **{name: getattr(self.recycles, name) + 1})

    def snapshot(
        self, live: int, idle: int, max_instances: int, instances: tuple[InstanceMetrics, ...]
    ) -> PoolMetrics:
        return PoolMetrics(
            live=live,
            idle=idle,
            max_instances=max_instances,
            created=self.created,
            checkouts=self.checkouts,
            waits=self.waits,
            wait_time=self.wait_time,
            busy=self.busy,
            calls=self.calls,
            traps=self.traps,
            timeouts=self.timeouts,
            recycles=self.recycles,
            instances=instances,
        )


class InstanceCounters:
    """One instance's counters, in its slot and in the pool's list of live instances (so that a
    snapshot sees checked-out instances too); changed only under the pool's lock."""

    def __init__(self, id: int, pages: int) -> None:
        self.id = id
        self.pages = pages
        self.peak_pages = pages
        self.calls = 0
        self.checked_out = False

    def call(self, pages: int) -> int:
        """Counts a call that left ``pages`` of linear memory; returns the calls served so far."""
        self.pages = pages
        self.peak_pages = max(self.peak_pages, pages)
        self.calls += 1
        return self.calls

    def snapshot(self) -> InstanceMetrics:
        return InstanceMetrics(
            id=self.id,
            memory_pages=self.pages,
            peak_memory_pages=self.peak_pages,
            calls=self.calls,
            checked_out=self.checked_out,
        )
