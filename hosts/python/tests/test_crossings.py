"""How many times one guest call crosses into wasmtime-py's native bindings: the Python host's
cost grows with that count. A 16 B echo is two wasm calls (the export and the result's ``free``,
the input block being kept) through the unchecked call, and five memory lookups; anything more
fails here, so a change that adds a crossing says so."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import wasmtime
from wasmtime import _ffi as ffi

from conftest import guest_path
from guestmem import Guest

#: The bindings counted: wasm calls, checked and unchecked, the function-type lookups of
#: wasmtime-py's checked call, and linear memory's address and size.
COUNTED = (
    "wasmtime_func_call",
    "wasmtime_func_call_unchecked",
    "wasmtime_func_type",
    "wasmtime_memory_data",
    "wasmtime_memory_data_size",
)


@pytest.fixture
def crossings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    for name in COUNTED:
        binding = getattr(ffi, name)

        def counted(*args: object, _name: str = name, _binding: Callable[..., object] = binding) -> object:
            counts[_name] += 1
            return _binding(*args)

        monkeypatch.setattr(ffi, name, counted)
    yield counts


def test_a_16_byte_echo_crosses_seven_times(crossings: Counter[str]) -> None:
    engine = wasmtime.Engine()
    guest = Guest.instantiate(wasmtime.Store(engine), wasmtime.Linker(engine), guest_path("echo", ""))
    echo = guest.func("echo")
    assert echo.call_bytes(b"0123456789abcdef") == b"0123456789abcdef"  # keeps its input block
    crossings.clear()
    assert echo.call_bytes(b"fedcba9876543210") == b"fedcba9876543210"
    assert crossings == Counter(
        {
            "wasmtime_func_call_unchecked": 2,
            "wasmtime_memory_data": 3,
            "wasmtime_memory_data_size": 2,
        }
    ), crossings
