"""No leaks in linear memory: 10,000 echo round trips end with live_blocks where they started,
with every allocator back end; and the check can fail (a planted leak is caught)."""

from __future__ import annotations

import pytest

from conftest import GuestModule
from guestmem import Guest
from guestmem.calls import AbiCalls

ROUND_TRIPS = 10_000


def leaked_blocks(guest: Guest, rounds: int) -> int:
    """Round trips through echo, each checked; the live blocks they left behind."""
    echo = guest.func("echo")
    before = guest.live_blocks()
    assert before is not None
    for index in range(rounds):
        text = f"round trip {index} " * (index % 7)
        assert echo.call_string(text) == text
        if index % 1000 == 0:
            data = bytes(70_000 + index)  # large inputs: blocks of their own
            assert echo.call_bytes(data) == data
            assert bytes(echo.call_view(b"view")) == b"view"
    after = guest.live_blocks()
    assert after is not None
    return after - before


def test_round_trips_leave_no_blocks(echo: GuestModule) -> None:
    assert leaked_blocks(echo.instantiate(), ROUND_TRIPS) == 0


def test_a_planted_leak_is_caught(echo: GuestModule, monkeypatch: pytest.MonkeyPatch) -> None:
    guest = echo.instantiate()
    # Every block the host frees goes through the raw call: now results are never freed.
    monkeypatch.setattr(AbiCalls, "free", lambda self, ptr: None)
    assert leaked_blocks(guest, 100) >= 100


def test_heap_returns_to_where_it_was(echo: GuestModule) -> None:
    guest = echo.instantiate()
    echo_func = guest.func("echo")
    echo_func.call_bytes(b"warm up")
    guest.release_input_block()
    before = guest.heap_bytes()
    for size in (0, 1, 100, 4096, 70_000, 1 << 20):
        assert echo_func.call_bytes(b"x" * size) == b"x" * size
    guest.release_input_block()
    assert guest.heap_bytes() == before
