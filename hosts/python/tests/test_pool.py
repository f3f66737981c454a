"""The pool (``guestmem.Pool``), the checks of the Rust host's pool tests: each recycling policy
gives a fresh instance and is counted by cause, a looping guest ends with ``Timeout`` and the pool
serves on, checkouts wait and then give up, threads share one pool, and the memory high-water
mark keeps a leaking guest's memory bounded.

``misbehave`` (server/plugins/misbehave) has the faults: ``panic_on`` panics on a text holding
"panic", ``spin`` loops on "forever", ``leak`` leaks 1 KiB a call."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import wasmtime

from conftest import GUEST_DIR, load
from guestmem import (
    EpochTicker,
    Guest,
    GuestTrap,
    Pool,
    PoolBusy,
    RecycleCause,
    Timeout,
    recommended_config,
)

MISBEHAVE = GUEST_DIR / "misbehave.wasm"
UPPER = GUEST_DIR / "upper.wasm"
DEADLINE = 0.2
PERIOD = 0.005


def pool_of(
    path: Path,
    engine: wasmtime.Engine | None = None,
    *,
    max_instances: int = 16,
    recycle_above_pages: int | None = None,
    recycle_after_calls: int | None = None,
    deadline: float | None = None,
    ticker: EpochTicker | None = None,
) -> Pool:
    load(path, path.stem)  # the conftest's message if the guest is not built
    return Pool(
        wasmtime.Linker(engine or wasmtime.Engine()),
        path,
        max_instances=max_instances,
        recycle_above_pages=recycle_above_pages,
        recycle_after_calls=recycle_after_calls,
        deadline=deadline,
        ticker=ticker,
    )


def upper(guest: Guest, text: str) -> str:
    return guest.func("panic_on").call_string(text)


@pytest.fixture
def epochs() -> Iterator[EpochTicker]:
    """An engine with epoch interruption, and its ticker."""
    with EpochTicker(wasmtime.Engine(recommended_config()), PERIOD) as ticker:
        yield ticker


def test_instances_are_reused() -> None:
    pool = pool_of(MISBEHAVE)
    with pool.checkout(1.0) as pooled:
        assert pooled.call(lambda guest: upper(guest, "abc")) == "ABC"
        first = pooled.instance_id
    with pool.checkout(1.0) as pooled:
        assert pooled.call(lambda guest: upper(guest, "def")) == "DEF"
        assert pooled.instance_id == first
        assert pooled.calls == 2
    metrics = pool.metrics()
    assert (metrics.created, metrics.checkouts, metrics.calls, metrics.live, metrics.idle) == (
        1,
        2,
        2,
        1,
        1,
    )
    assert metrics.recycles.total() == 0


def test_a_trap_recycles() -> None:
    pool = pool_of(MISBEHAVE)
    with pool.checkout(1.0) as pooled:
        first = pooled.instance_id
        with pytest.raises(GuestTrap, match="panic_on was asked to panic"):
            pooled.call(lambda guest: upper(guest, "please panic"))
        assert pooled.recycle_cause is RecycleCause.TRAP
        # The next call on the same guard runs on a fresh instance.
        assert pooled.call(lambda guest: upper(guest, "after")) == "AFTER"
        assert pooled.instance_id != first
    metrics = pool.metrics()
    assert (metrics.created, metrics.traps, metrics.recycles.trap, metrics.calls) == (2, 1, 1, 2)
    assert [instance.id for instance in metrics.instances] == [2]


def test_a_trap_leaving_the_block_recycles() -> None:
    """A call made on ``guest`` directly is not judged by ``call``; its trap, leaving the
    ``with`` block, still condemns the instance."""
    pool = pool_of(MISBEHAVE)
    with pytest.raises(GuestTrap), pool.checkout(1.0) as pooled:
        first = pooled.instance_id
        upper(pooled.guest, "panic")
    with pool.checkout(1.0) as pooled:
        assert pooled.instance_id != first
    assert pool.metrics().recycles.trap == 1


def test_the_memory_high_water_mark_recycles_and_bounds_memory() -> None:
    """1,000 calls of ``leak`` (1 KiB each, 16 pages in all): with the mark 2 pages above the
    fresh instance's memory, the instance is recycled before it passes it by more than a call's
    growth, and memory stays bounded; without the mark, the same calls grow it past."""

    def run(pool: Pool) -> int:
        with pool.checkout(1.0) as pooled:
            for _ in range(1000):
                assert pooled.call(lambda guest: guest.func("leak").call_string("x")) == "x"
        return max(instance.peak_memory_pages for instance in pool.metrics().instances)

    with pool_of(MISBEHAVE).checkout(1.0) as pooled:
        start = pooled.guest.memory_pages()
    limit = start + 2
    unbounded = pool_of(MISBEHAVE)
    assert run(unbounded) > limit + 8  # the leak is real
    assert unbounded.metrics().recycles.memory == 0
    bounded = pool_of(MISBEHAVE, recycle_above_pages=limit)
    assert run(bounded) <= limit + 1
    metrics = bounded.metrics()
    assert metrics.recycles.memory >= 4
    assert metrics.created == metrics.recycles.memory + 1
    assert metrics.recycles.total() == metrics.recycles.memory


def test_the_call_quota_recycles() -> None:
    pool = pool_of(MISBEHAVE, recycle_after_calls=3)
    ids = []
    with pool.checkout(1.0) as pooled:
        for _ in range(7):
            pooled.call(lambda guest: upper(guest, "a"))
            ids.append(pooled.instance_id)
            assert pooled.calls <= 3
    assert ids == [1, 1, 1, 2, 2, 2, 3]
    metrics = pool.metrics()
    assert (metrics.recycles.calls, metrics.created, metrics.calls) == (2, 3, 7)


def test_recycle_on_demand() -> None:
    pool = pool_of(MISBEHAVE)
    with pool.checkout(1.0) as pooled:
        pooled.call(lambda guest: upper(guest, "a"))
        first = pooled.instance_id
        pooled.recycle()
        assert pooled.recycle_cause is RecycleCause.DEMAND
    with pool.checkout(1.0) as pooled:
        assert pooled.instance_id != first
    metrics = pool.metrics()
    assert (metrics.recycles.demand, metrics.created, metrics.live) == (1, 2, 1)


def test_a_looping_guest_times_out_and_the_pool_serves_on(epochs: EpochTicker) -> None:
    pool = pool_of(MISBEHAVE, epochs.engine, deadline=DEADLINE, ticker=epochs, max_instances=1)
    with pool.checkout(1.0) as pooled:
        first = pooled.instance_id
        started = time.monotonic()
        with pytest.raises(Timeout) as timeout:
            pooled.call(lambda guest: guest.func("spin").call_string("forever"))
        took = time.monotonic() - started
        assert DEADLINE <= took < 2 * DEADLINE, took
        assert (timeout.value.function, timeout.value.deadline) == ("spin", DEADLINE)
        assert str(timeout.value) == "`spin`: ran past its deadline of 0.2 s"
        assert pooled.recycle_cause is RecycleCause.TIMEOUT
        assert pooled.call(lambda guest: guest.func("spin").call_string("once")) == "once"
        assert pooled.instance_id != first
    with pool.checkout(1.0) as pooled:
        assert pooled.call(lambda guest: upper(guest, "next")) == "NEXT"
    metrics = pool.metrics()
    assert (metrics.timeouts, metrics.traps, metrics.recycles.timeout, metrics.created) == (
        1,
        0,
        1,
        2,
    )


def test_a_deadline_leaves_quick_calls_alone(epochs: EpochTicker) -> None:
    """Calls that take less than the deadline, over several deadlines in all, all succeed: the
    deadline is armed for each call, not once per checkout or instance."""
    pool = pool_of(MISBEHAVE, epochs.engine, deadline=0.05, ticker=epochs)
    with pool.checkout(1.0) as pooled:
        until = time.monotonic() + 0.3
        while time.monotonic() < until:
            assert pooled.call(lambda guest: upper(guest, "a")) == "A"
            time.sleep(0.01)
    assert pool.metrics().recycles.total() == 0


def test_an_interrupt_the_function_swallows_still_recycles(epochs: EpochTicker) -> None:
    pool = pool_of(MISBEHAVE, epochs.engine, deadline=DEADLINE, ticker=epochs)

    def swallow(guest: Guest) -> str:
        try:
            return guest.func("spin").call_string("forever")
        except GuestTrap:
            return "swallowed"

    with pool.checkout(1.0) as pooled:
        assert pooled.call(swallow) == "swallowed"
        assert pooled.recycle_cause is RecycleCause.TRAP
    assert pool.metrics().recycles.trap == 1


def test_an_epoch_engine_without_a_deadline_runs_calls(epochs: EpochTicker) -> None:
    """A new store's epoch deadline is the current epoch: the pool must lift it."""
    pool = pool_of(MISBEHAVE, epochs.engine)
    with pool.checkout(1.0) as pooled:
        assert pooled.call(lambda guest: upper(guest, "a")) == "A"


def test_a_deadline_needs_epoch_interruption_and_its_ticker(epochs: EpochTicker) -> None:
    plain = wasmtime.Engine()
    with EpochTicker(plain, PERIOD) as ticker:
        with pytest.raises(ValueError, match="epoch interruption"):
            pool_of(MISBEHAVE, plain, deadline=DEADLINE, ticker=ticker)
    with pytest.raises(ValueError, match="EpochTicker"):
        pool_of(MISBEHAVE, epochs.engine, deadline=DEADLINE)
    with pytest.raises(ValueError, match="another engine"):
        pool_of(MISBEHAVE, wasmtime.Engine(recommended_config()), deadline=DEADLINE, ticker=epochs)


def test_a_checkout_waits_then_raises_pool_busy() -> None:
    pool = pool_of(UPPER, max_instances=1)
    with pool.checkout(1.0):
        started = time.monotonic()
        with pytest.raises(PoolBusy) as busy:
            pool.checkout(0.2)
        took = time.monotonic() - started
        assert 0.2 <= took < 1.0, took
        assert busy.value.waited >= 0.2
    metrics = pool.metrics()
    assert (metrics.busy, metrics.waits, metrics.checkouts, metrics.created) == (1, 1, 1, 1)
    assert metrics.wait_time >= 0.2


def test_a_waiting_checkout_gets_the_returned_instance() -> None:
    pool = pool_of(UPPER, max_instances=1)
    held = pool.checkout(1.0)
    released = threading.Timer(0.1, lambda: held.__exit__(None, None, None))
    released.start()
    started = time.monotonic()
    with pool.checkout(2.0) as pooled:
        assert time.monotonic() - started >= 0.05
        assert pooled.call(lambda guest: guest.func("upper").call_string("a")) == "A"
    released.join()
    metrics = pool.metrics()
    assert (metrics.waits, metrics.busy, metrics.checkouts, metrics.created) == (1, 0, 2, 1)


def test_threads_share_one_pool() -> None:
    """4 threads of 200 calls on 2 instances, every tenth a panic: every answer right, and the
    counters add up."""
    pool = pool_of(MISBEHAVE, max_instances=2)
    wrong: list[str] = []

    def work(thread: int) -> None:
        for call in range(200):
            text = f"thread {thread} call {call}"
            with pool.checkout(10.0) as pooled:
                if call % 10 == 9:
                    try:
                        pooled.call(lambda guest: upper(guest, f"panic {text}"))
                        wrong.append(f"{text}: no trap")
                    except GuestTrap:
                        pass
                    continue
                answer = pooled.call(lambda guest: upper(guest, text))
                if answer != text.upper():
                    wrong.append(f"{text}: {answer}")

    threads = [threading.Thread(target=work, args=(thread,)) for thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    metrics = pool.metrics()
    assert (metrics.calls, metrics.checkouts, metrics.traps, metrics.busy) == (800, 800, 80, 0)
    assert metrics.recycles.trap == 80
    assert metrics.created == metrics.live + metrics.recycles.total()
    assert metrics.live <= 2 and metrics.idle == metrics.live
    assert sum(instance.calls for instance in metrics.instances) <= 800
    assert not any(instance.checked_out for instance in metrics.instances)


def test_metrics_show_checked_out_instances() -> None:
    pool = pool_of(MISBEHAVE, max_instances=3)
    with pool.checkout(1.0) as pooled:
        pooled.call(lambda guest: upper(guest, "a"))
        (instance,) = pool.metrics().instances
        assert (instance.id, instance.calls, instance.checked_out) == (1, 1, True)
        assert instance.memory_pages == pooled.guest.memory_pages() == instance.peak_memory_pages
        assert (pool.metrics().live, pool.metrics().idle, pool.metrics().max_instances) == (1, 0, 3)
    assert not pool.metrics().instances[0].checked_out


def test_a_guard_refuses_use_after_the_block() -> None:
    pool = pool_of(MISBEHAVE)
    with pool.checkout(1.0) as pooled:
        pass
    with pytest.raises(RuntimeError, match="went back to the pool"):
        pooled.call(lambda guest: upper(guest, "a"))
