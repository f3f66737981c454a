"""WASI guests (wasm32-wasip1 reactors) through wasmtime's WASI support: _initialize runs first,
guestmem_NAME is taken over NAME."""

from __future__ import annotations

import pytest
import wasmtime

from conftest import ENGINE, GUEST_DIR, WAT
from guestmem import Guest, GuestError, GuestFailed, GuestTrap

MODULE = wasmtime.Module(ENGINE, (WAT / "wasi.wat").read_text())


def wasi_guest(environment: list[tuple[str, str]]) -> Guest:
    linker = wasmtime.Linker(ENGINE)
    linker.define_wasi()
    store = wasmtime.Store(ENGINE)
    config = wasmtime.WasiConfig()
    config.env = environment
    store.set_wasi(config)
    return Guest.instantiate(store, linker, MODULE, interface=None)


def test_initialize_runs_with_the_wasi_environment() -> None:
    guest = wasi_guest([("A", "1"), ("B", "2"), ("C", "3")])
    assert guest.func("environ_count").call_int() == 3
    assert wasi_guest([]).func("environ_count").call_int() == 0


def test_guestmem_prefixed_exports_are_used() -> None:
    guest = wasi_guest([])
    echo = guest.func("echo")
    for size in (0, 5, 70_000):  # the kept block, and blocks of their own
        assert echo.call_bytes(b"w" * size) == b"w" * size
    assert guest.realloc(8, 16) == 0  # guestmem_realloc; wasi-libc's realloc would trap
    assert guest.live_blocks() == 0  # every free went to guestmem_free


def test_without_wasi_instantiation_fails_with_an_exception() -> None:
    with pytest.raises(GuestError):
        Guest.instantiate(wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE), MODULE, interface=None)


# ---- the examples built for wasm32-wasip1 (target/guests/NAME-wasip1.wasm) ---------------------

SAMPLES: dict[str, tuple[list[bytes], bytes | int]] = {
    "echo": ([b"guestmem"], b"guestmem"),
    "upper": ([b"stra\xc3\x9fe"], b"STRASSE"),
    "replace": ([b"a-b-c", b"-", b"+"], b"a+b+c"),
    "array_sum": ([bytes([1, 2, 3, 250])], 256),
}


def wasip1_guest(example: str, environment: list[tuple[str, str]]) -> Guest:
    path = GUEST_DIR / f"{example}-wasip1.wasm"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: build the guests with `bash .ci/guests.sh`")
    linker = wasmtime.Linker(ENGINE)
    linker.define_wasi()
    store = wasmtime.Store(ENGINE)
    config = wasmtime.WasiConfig()
    config.env = environment
    store.set_wasi(config)
    return Guest.instantiate(store, linker, path)  # with its interface section


@pytest.mark.parametrize("example", [*SAMPLES, "minimal"])
def test_wasip1_examples(example: str) -> None:
    guest = wasip1_guest(example, [])
    assert guest.abi_version() == 1
    baseline = guest.live_blocks()
    if example in SAMPLES:
        inputs, expected = SAMPLES[example]
        func = guest.func(example)
        for _ in range(3):
            answer = func.call_int(*inputs) if isinstance(expected, int) else func.call_bytes(*inputs)
            assert answer == expected
    # A bad pointer reaches guestmem's free (guestmem_free), not wasi-libc's.
    with pytest.raises(GuestTrap) as caught:
        wasip1_guest(example, []).free(1024)
    assert caught.value.reason is not None
    assert caught.value.reason.startswith("guestmem: not a live block")
    assert guest.live_blocks() == baseline


def test_wasip1_guest_reads_the_environment_the_host_sets() -> None:
    guest = wasip1_guest("wasi_env", [("GUESTMEM_GREETING", "Hello")])
    assert guest.func("greet").call_string("Python") == "Hello, Python!"
    with pytest.raises(GuestFailed, match="GUESTMEM_GREETING"):
        wasip1_guest("wasi_env", []).func("greet").call_string("Python")
