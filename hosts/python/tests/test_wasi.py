"""WASI guests (wasm32-wasip1 reactors) through wasmtime's WASI support: _initialize runs first,
guestmem_NAME is taken over NAME."""

from __future__ import annotations

import pytest
import wasmtime

from conftest import ENGINE, WAT
from guestmem import Guest, GuestError

MODULE = wasmtime.Module(ENGINE, (WAT / "wasi.wat").read_text())


def wasi_guest(environment: list[tuple[str, str]]) -> Guest:
    linker = wasmtime.Linker(ENGINE)
    linker.define_wasi()
    store = wasmtime.Store(ENGINE)
    config = wasmtime.WasiConfig()
    config.env = environment
    store.set_wasi(config)
    return Guest.instantiate(store, linker, MODULE)


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
        Guest.instantiate(wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE), MODULE)
