"""Pools of ready instances for servers, as the Rust host's ``pool``: a module compiled once, at
most N instances shared by any number of threads, each call given a deadline, and instances
recycled (dropped, a fresh one made in its place) after a trap, a timeout, a memory high-water
mark or a call quota.

:mod:`guestmem.epochs` holds the ticker and the deadlines, :mod:`guestmem.pool_metrics` the
counters; this module the checkout, the guard and the one recycling decision.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

import wasmtime

from .epochs import NO_DEADLINE, EpochTicker, deadline_ticks, interrupts_on_epoch
from .errors import (
    GuestTrap,
    HostFunctionError,
    HostTrap,
    PoolBusy,
    RuntimeFailure,
    Timeout,
)
from .guest import CacheChoice, Guest, ModuleSource, _DefaultCache, _FromModule, compile_module
from .interface import Interface
from .pool_metrics import Counters, InstanceCounters, PoolMetrics, RecycleCause

R = TypeVar("R")

#: What ends a call halfway, leaving the instance in a state nobody checked: a trap (the guest's,
#: or one a host function caused) and any other wasmtime error during a call (a WASI
#: ``proc_exit``), through :class:`Guest` or through wasmtime directly.
_TRAPS = (
    GuestTrap,
    HostFunctionError,
    RuntimeFailure,
    HostTrap,
    wasmtime.Trap,
    wasmtime.WasmtimeError,
)


@dataclass
class _Slot:
    """One instance and what the pool keeps beside it."""

    guest: Guest
    counters: InstanceCounters


class Pool:
    """Up to ``max_instances`` instances of one module, for any number of threads:
    :meth:`checkout` hands out an idle instance, makes one while fewer than the maximum are
    alive, or waits for one to come back.

    ``module`` is compiled once with the linker's engine, through ``cache`` and with its
    interface section read as :meth:`Guest.instantiate` does it (``interface=`` and ``cache=``
    as there; a :class:`wasmtime.Module` needs its interface said). Each instance gets a store of its own from ``make_store`` (a plain
    ``wasmtime.Store(engine)`` by default; give one that sets limits, WASI or store data), and is
    made with :meth:`Guest.instantiate`: a failure there is raised from :meth:`checkout` as
    it is.

    An instance is recycled after a call through :meth:`PooledGuest.call` that trapped or ran
    past ``deadline``, that left linear memory above ``recycle_above_pages`` 64 KiB pages, or
    that completed ``recycle_after_calls`` calls.

    ``deadline`` (seconds) needs an engine with epoch interruption (:func:`recommended_config`)
    and the :class:`EpochTicker` of that engine as ``ticker``; the pool refuses both otherwise.
    A call past it fails with :class:`Timeout`, no sooner than the deadline and about one tick
    after it.
    """

    def __init__(
        self,
        linker: wasmtime.Linker,
        module: ModuleSource,
        *,
        interface: Interface | None | _FromModule = _FromModule.READ,
        make_store: Callable[[], wasmtime.Store] | None = None,
        max_instances: int = 16,
        recycle_above_pages: int | None = None,
        recycle_after_calls: int | None = None,
        deadline: float | None = None,
        ticker: EpochTicker | None = None,
        cache: CacheChoice = _DefaultCache.DEFAULT,
    ) -> None:
        engine = linker.engine
        if max_instances < 1:
            raise ValueError(f"Pool: max_instances must be at least 1, not {max_instances}")
        if recycle_after_calls is not None and recycle_after_calls < 1:
            raise ValueError(
                f"Pool: recycle_after_calls must be at least 1, not {recycle_after_calls}"
            )
        self._deadline = deadline
        self._deadline_ticks: int | None = None
        if deadline is not None:
            self._deadline_ticks = _check_deadline(engine, deadline, ticker)
        elif ticker is not None:
            raise ValueError("Pool: a ticker serves a deadline: give deadline= too")
        self._module, self._interface = compile_module(engine, module, interface, "Pool", cache)
        self._linker = linker
        self._make_store = make_store or (lambda: wasmtime.Store(engine))
        self._max_instances = max_instances
        self._max_pages = recycle_above_pages
        self._max_calls = recycle_after_calls
        # Kept alive with the pool: it stops when collected.
        self._ticker = ticker
        self._returned = threading.Condition(threading.Lock())
        # The state below is changed only with `_returned` held.
        # Most recently returned last: it is handed out first, with its caches warm.
        self._idle: list[_Slot] = []
        # Idle, checked out, or being made: never more than `max_instances`.
        self._live = 0
        # Every live instance's counters, for `metrics`.
        self._instances: list[InstanceCounters] = []
        self._counters = Counters()
        self._next_id = 1

    def checkout(self, timeout: float) -> PooledGuest:
        """An instance for the caller alone until the guard's ``with`` block ends: an idle one, a
        new one while fewer than the maximum are alive, or else the first one returned within
        ``timeout`` seconds. Raises :class:`PoolBusy` if none came back in time, and what
        :meth:`Guest.instantiate` raises if a new one could not be made."""
        waited_since: float | None = None
        with self._returned:
            while not self._idle and self._live >= self._max_instances:
                now = time.monotonic()
                if waited_since is None:
                    waited_since = now
                left = timeout - (now - waited_since)
                if left <= 0:
                    self._counters.refused(now - waited_since)
                    raise PoolBusy(now - waited_since)
                self._returned.wait(left)
            slot = self._idle.pop() if self._idle else None
            if slot is None:
                self._live += 1
        if slot is None:
            # Made outside the lock: other threads check out and return meanwhile.
            try:
                slot = self._instantiate()
            except BaseException:
                self._lost_instance()
                raise
        with self._returned:
            slot.counters.checked_out = True
            self._counters.checkout(
                None if waited_since is None else time.monotonic() - waited_since
            )
        self._arm(slot)
        return PooledGuest(self, slot)

    def metrics(self) -> PoolMetrics:
        """The counters so far, and every live instance's."""
        with self._returned:
            instances = tuple(counters.snapshot() for counters in self._instances)
            return self._counters.snapshot(
                self._live, len(self._idle), self._max_instances, instances
            )

    # ---- for the guard ------------------------------------------------------------------------

    def _instantiate(self) -> _Slot:
        """A fresh instance, its store armed as for a call, so that a guest whose
        ``_initialize`` loops meets the deadline too."""
        store = self._make_store()
        store.set_epoch_deadline(self._deadline_ticks or NO_DEADLINE)
        try:
            guest = Guest.instantiate(store, self._linker, self._module, interface=self._interface)
        except GuestTrap as trap:
            timeout = self._timeout_of(trap)
            if timeout is trap:
                raise
            raise timeout from trap
        store.set_epoch_deadline(NO_DEADLINE)
        with self._returned:
            counters = InstanceCounters(self._next_id, guest.memory_pages())
            self._next_id += 1
            self._instances.append(counters)
            self._counters.created += 1
        return _Slot(guest, counters)

    def _arm(self, slot: _Slot) -> None:
        """Gives the code running from now on the deadline."""
        if self._deadline_ticks is not None:
            slot.guest.store.set_epoch_deadline(self._deadline_ticks)

    def _timeout_of(self, error: BaseException) -> BaseException:
        """An epoch interrupt is the deadline's (nothing else ticks the epoch in a pool's
        stores): :class:`Timeout` naming the export. Other errors are left as they are."""
        if (
            self._deadline is not None
            and isinstance(error, GuestTrap)
            and error.trap_code is wasmtime.TrapCode.INTERRUPT
        ):
            return Timeout(error.function, self._deadline)
        return error

    def _judge(
        self, slot: _Slot, outcome: BaseException | None, overran: bool
    ) -> RecycleCause | None:
        """Counts a call through the guard and decides whether its instance is recycled; the one
        decision, taken after every call. ``overran``: the deadline passed while the call ran,
        so guest code may have been interrupted even though no trap came out of it (the
        caller's function caught it)."""
        pages = slot.guest.memory_pages()
        with self._returned:
            calls = slot.counters.call(pages)
            timed_out = isinstance(outcome, Timeout)
            trapped = isinstance(outcome, _TRAPS)
            self._counters.call(trapped, timed_out)
            cause = self._cause(outcome, overran, pages, calls)
            if cause is not None:
                self._counters.recycled(cause)
        return cause

    def _cause(
        self, outcome: BaseException | None, overran: bool, pages: int, calls: int
    ) -> RecycleCause | None:
        if isinstance(outcome, Timeout):
            return RecycleCause.TIMEOUT
        if isinstance(outcome, _TRAPS) or overran:
            return RecycleCause.TRAP
        if outcome is not None and not isinstance(outcome, Exception):
            # A KeyboardInterrupt or the like may have stopped the host between two steps of a
            # call (an input block allocated, not yet freed).
            return RecycleCause.DEMAND
        if self._max_pages is not None and pages > self._max_pages:
            return RecycleCause.MEMORY
        if self._max_calls is not None and calls >= self._max_calls:
            return RecycleCause.CALLS
        return None

    def _recycled(self, cause: RecycleCause) -> None:
        with self._returned:
            self._counters.recycled(cause)

    def _replace(self, old: _Slot | None) -> _Slot:
        """A fresh instance for a guard whose instance was recycled: the old one is forgotten
        before the new one is made. Its place in ``live`` stays the guard's."""
        if old is not None:
            with self._returned:
                self._instances.remove(old.counters)
        slot = self._instantiate()
        with self._returned:
            slot.counters.checked_out = True
        return slot

    def _give_back(self, slot: _Slot, recycled: bool) -> None:
        """Takes back a checked-out instance: into the pool, or dropped if ``recycled``."""
        with self._returned:
            slot.counters.checked_out = False
            if recycled:
                self._live -= 1
                self._instances.remove(slot.counters)
            else:
                self._idle.append(slot)
            self._returned.notify()

    def _lost_instance(self) -> None:
        """An instance counted in ``live`` will not come: let a waiting checkout make one."""
        with self._returned:
            self._live -= 1
            self._returned.notify()


def _check_deadline(engine: wasmtime.Engine, deadline: float, ticker: EpochTicker | None) -> int:
    """The deadline in ticks of ``ticker``, or ``ValueError`` if the settings cannot give one."""
    if not deadline > 0:
        raise ValueError(f"Pool: the deadline must be positive, not {deadline}")
    if ticker is None:
        raise ValueError(
            "Pool: a deadline needs the engine's EpochTicker (ticker=EpochTicker(engine, period))"
        )
    if ticker.engine is not engine:
        raise ValueError("Pool: the EpochTicker ticks for another engine than the linker's")
    if not interrupts_on_epoch(engine):
        raise ValueError(
            "Pool: a deadline needs an engine with epoch interruption: "
            "wasmtime.Engine(guestmem.recommended_config()), or a Config with "
            "epoch_interruption = True"
        )
    return deadline_ticks(deadline, ticker.period)


class PooledGuest:
    """An instance checked out of a :class:`Pool`, the caller's alone until the ``with`` block
    ends, which returns it to the pool, or drops it if it was condemned.

    Make calls through :meth:`call`: each gets the pool's deadline, and its outcome decides
    whether the instance is recycled. :attr:`guest` is the :class:`Guest` for everything else;
    calls made on it directly share one deadline counted from the checkout, and the pool does
    not judge them: after one fails, :meth:`recycle` the instance (a trap that leaves the
    ``with`` block recycles it too).
    """

    def __init__(self, pool: Pool, slot: _Slot) -> None:
        self._pool = pool
        # None once returned, or when a recycled instance could not be replaced.
        self._slot: _Slot | None = slot
        self._returned = False
        # Set when an outcome condemned the instance: the next call gets a fresh one, and the
        # end of the `with` block does not put it back.
        self._recycle: RecycleCause | None = None
        # The last exception `call` judged, so that the end of the block does not judge it again.
        self._judged: BaseException | None = None

    def call(self, function: Callable[[Guest], R]) -> R:
        """Runs ``function(guest)`` on the instance with the pool's deadline (an epoch interrupt
        becomes :class:`Timeout` naming the export), counts its outcome, and recycles the
        instance if the outcome or the instance's state calls for it: a trap (any
        :class:`GuestTrap`, :class:`HostFunctionError` or :class:`RuntimeFailure` raised out of
        ``function``), a timeout, a call that returned after the deadline passed (an interrupt
        ``function`` caught), memory above the high-water mark, the call quota. A later call
        on this guard then runs on a fresh instance.

        Raises what ``function`` raises, an interrupt made :class:`Timeout`; what
        :meth:`Guest.instantiate` raises if a recycled instance could not be replaced."""
        pool = self._pool
        if self._returned:
            raise RuntimeError("PooledGuest.call: the instance went back to the pool")
        slot = self._slot
        if slot is None or self._recycle is not None:
            self._slot, self._recycle = None, None
            slot = self._slot = pool._replace(slot)
        pool._arm(slot)
        started = time.monotonic()
        try:
            result = function(slot.guest)
        except BaseException as error:
            elapsed = time.monotonic() - started
            outcome = pool._timeout_of(error)
            self._recycle = pool._judge(slot, outcome, self._overran(elapsed))
            self._judged = outcome
            if outcome is error:
                raise
            raise outcome from error
        elapsed = time.monotonic() - started
        self._recycle = pool._judge(slot, None, self._overran(elapsed))
        return result

    def recycle(self) -> None:
        """Drops the instance instead of returning it to the pool; the next call on this guard,
        or the pool's next checkout, gets a fresh one."""
        if self._recycle is None and self._slot is not None:
            self._recycle = RecycleCause.DEMAND
            self._pool._recycled(RecycleCause.DEMAND)

    @property
    def guest(self) -> Guest:
        """The instance, for what :meth:`call` does not cover: the one the last call ran on
        (condemned, if :attr:`recycle_cause` says so)."""
        return self._live_slot().guest

    @property
    def instance_id(self) -> int:
        """The instance's number in the pool (1 for the first made): a recycled instance's
        replacement has a new one."""
        return self._live_slot().counters.id

    @property
    def calls(self) -> int:
        """Calls the instance has served, this checkout's and earlier ones."""
        return self._live_slot().counters.calls

    @property
    def recycle_cause(self) -> RecycleCause | None:
        """Why the instance will be recycled when the guard is given back, if it will."""
        return self._recycle

    def __enter__(self) -> PooledGuest:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._returned:
            return
        self._returned = True
        slot, self._slot = self._slot, None
        if slot is None:
            # Its replacement failed: the instance counted as live is not coming back.
            self._pool._lost_instance()
            return
        if self._recycle is None and exc is not None and exc is not self._judged:
            # A call made on `guest` directly failed, or the block was interrupted: the
            # instance is in a state nobody checked.
            exc = self._pool._timeout_of(exc)
            if isinstance(exc, Timeout):
                self._recycle = RecycleCause.TIMEOUT
            elif isinstance(exc, _TRAPS):
                self._recycle = RecycleCause.TRAP
            elif not isinstance(exc, Exception):
                self._recycle = RecycleCause.DEMAND
            if self._recycle is not None:
                self._pool._recycled(self._recycle)
        self._pool._give_back(slot, self._recycle is not None)

    def _overran(self, elapsed: float) -> bool:
        deadline = self._pool._deadline
        return deadline is not None and elapsed >= deadline

    def _live_slot(self) -> _Slot:
        if self._returned:
            raise RuntimeError("PooledGuest: the instance went back to the pool")
        if self._slot is None:
            raise RuntimeError(
                "PooledGuest: a recycled instance could not be replaced: call `call` to try again"
            )
        return self._slot

