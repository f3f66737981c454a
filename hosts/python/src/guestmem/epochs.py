"""Wall-clock deadlines through wasmtime's epoch interruption: an :class:`EpochTicker` thread moves
the engine's epoch on, and each pooled call is given a number of ticks before wasmtime interrupts
it (:func:`deadline_ticks`).

wasmtime-py has no epoch callback, so the deadline is a count of ticks rather than a time checked
at each tick, as the Rust host's is: one tick more than the deadline holds, since the call starts
at an unknown phase of the ticker.
"""

from __future__ import annotations

import math
import threading
import weakref
from types import TracebackType

import wasmtime

#: An epoch deadline no call reaches: a store on an engine with epoch interruption traps at once
#: with wasmtime's default deadline (the current epoch), so every pooled store gets this one when
#: no call deadline applies.
NO_DEADLINE = 1 << 62


def recommended_config() -> wasmtime.Config:
    """A :class:`wasmtime.Config` for an engine serving a :class:`~guestmem.Pool` with a deadline.

    - **Epoch interruption**: compiled code checks the engine's epoch at function entries and
      loop headers, which is what a pool's ``deadline`` and an :class:`EpochTicker` need; it costs
      a few percent of guest speed.
    - **Copy-on-write memory images** (on by default, named here so that it stays on): a fresh
      instance maps the module's data segments instead of copying them, which keeps recycling
      cheap.

    The Rust host's ``recommended_config`` also turns on wasmtime's pooling allocator;
    wasmtime-py does not expose it, so instances here are made with ``mmap``.
    """
    config = wasmtime.Config()
    config.epoch_interruption = True
    config.memory_init_cow = True
    return config


def interrupts_on_epoch(engine: wasmtime.Engine) -> bool:
    """Whether ``engine`` was configured with epoch interruption: wasmtime-py has no getter, so an
    empty function is called in a store whose deadline is the current epoch, which traps only if
    the compiled code checks epochs."""
    module = wasmtime.Module(engine, '(module (func (export "probe")))')
    store = wasmtime.Store(engine)
    store.set_epoch_deadline(0)
    probe = wasmtime.Instance(store, module, []).exports(store)["probe"]
    assert isinstance(probe, wasmtime.Func)
    try:
        probe(store)
    except wasmtime.Trap as trap:
        return trap.trap_code is wasmtime.TrapCode.INTERRUPT
    return False


def deadline_ticks(deadline: float, period: float) -> int:
    """The ticks of a ticker of ``period`` after which a call is interrupted: never before
    ``deadline`` seconds, and at most about one period after it when ``deadline`` is a multiple of
    ``period`` (two at worst)."""
    return math.ceil(deadline / period) + 1


class EpochTicker:
    """A daemon thread that calls :meth:`wasmtime.Engine.increment_epoch` every ``period`` seconds,
    so that code compiled with epoch interruption (:func:`recommended_config`) checks its deadline.
    One per engine: every store of the engine sees the same epoch, and a second ticker would make
    deadlines expire twice as fast.

    It runs until :meth:`stop`, the end of a ``with`` block, or until it is garbage collected (a
    :class:`~guestmem.Pool` keeps its ticker alive). 1 to 10 ms suits a server, at a cost of one
    wake-up per period.
    """

    def __init__(self, engine: wasmtime.Engine, period: float) -> None:
        if not period > 0:
            raise ValueError(f"EpochTicker: the period must be positive, not {period}")
        self._engine = engine
        self._period = period
        self._stopped = threading.Event()
        # The thread holds the engine and the event, not the ticker, so that the ticker can be
        # collected, which stops the thread.
        self._thread = threading.Thread(
            target=_tick, args=(engine, period, self._stopped), name="guestmem-epoch", daemon=True
        )
        weakref.finalize(self, self._stopped.set)
        self._thread.start()

    @property
    def engine(self) -> wasmtime.Engine:
        """The engine it ticks for."""
        return self._engine

    @property
    def period(self) -> float:
        """How often the epoch moves on, in seconds."""
        return self._period

    def stop(self) -> None:
        """Stops the thread and waits for it; deadlines of the engine's calls no longer expire."""
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> EpochTicker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _tick(engine: wasmtime.Engine, period: float, stopped: threading.Event) -> None:
    while not stopped.wait(period):
        engine.increment_epoch()
