"""The compile cache: a second load deserializes, a bad entry is a miss that is written over,
the default follows ``GUESTMEM_CACHE_DIR``, and a cache that cannot be written costs only the
compile."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import wasmtime

from conftest import guest_path
from guestmem import CacheOutcome, Guest, ModuleCache

UPPER = guest_path("upper", "")


def call_upper(module: wasmtime.Module, engine: wasmtime.Engine) -> str:
    store = wasmtime.Store(engine)
    guest = Guest.instantiate(store, wasmtime.Linker(engine), module, interface=None)
    return guest.func("upper").call_string("abc")


def test_a_second_load_is_a_hit_that_works(tmp_path: Path) -> None:
    engine = wasmtime.Engine()
    cache = ModuleCache(tmp_path)
    wasm = UPPER.read_bytes()
    first, outcome = cache.load(engine, wasm)
    assert outcome is CacheOutcome.MISS
    assert cache.path(wasm).is_file()
    second, outcome = cache.load(engine, wasm)
    assert outcome is CacheOutcome.HIT
    assert call_upper(first, engine) == call_upper(second, engine) == "ABC"


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: bytes([data[0] ^ 1]) + data[1:], id="checksum"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:32] + b"not a compiled module", id="garbage-with-a-good-sum"),
    ],
)
def test_a_damaged_entry_is_compiled_again_and_written_over(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    engine = wasmtime.Engine()
    cache = ModuleCache(tmp_path)
    wasm = UPPER.read_bytes()
    cache.load(engine, wasm)
    path = cache.path(wasm)
    path.write_bytes(damage(path.read_bytes()))
    module, outcome = cache.load(engine, wasm)
    assert outcome is CacheOutcome.REPLACED
    assert call_upper(module, engine) == "ABC"
    assert cache.load(engine, wasm)[1] is CacheOutcome.HIT


def test_an_entry_of_another_engine_configuration_is_replaced(tmp_path: Path) -> None:
    cache = ModuleCache(tmp_path)
    wasm = UPPER.read_bytes()
    cache.load(wasmtime.Engine(), wasm)
    config = wasmtime.Config()
    config.epoch_interruption = True
    epochs = wasmtime.Engine(config)
    module, outcome = cache.load(epochs, wasm)
    assert outcome is CacheOutcome.REPLACED
    store = wasmtime.Store(epochs)
    store.set_epoch_deadline(1_000_000)
    guest = Guest.instantiate(store, wasmtime.Linker(epochs), module, interface=None)
    assert guest.func("upper").call_string("x") == "X"


def test_the_default_cache_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = wasmtime.Engine()
    monkeypatch.setenv("GUESTMEM_CACHE_DIR", str(tmp_path / "here"))
    guest = Guest.instantiate(wasmtime.Store(engine), wasmtime.Linker(engine), UPPER)
    assert guest.func("upper").call_string("a") == "A"
    assert ModuleCache(tmp_path / "here").path(UPPER.read_bytes()).is_file()
    monkeypatch.setenv("GUESTMEM_CACHE_DIR", "")
    assert ModuleCache.default() is None
    monkeypatch.setenv("GUESTMEM_CACHE_DIR", str(tmp_path / "off"))
    Guest.instantiate(wasmtime.Store(engine), wasmtime.Linker(engine), UPPER, cache=None)
    assert not (tmp_path / "off").exists()


def test_a_cache_that_cannot_be_written_costs_only_the_compile(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    cache = ModuleCache(blocker / "cache")
    engine = wasmtime.Engine()
    module, outcome = cache.load(engine, UPPER.read_bytes())
    assert outcome is CacheOutcome.MISS
    assert call_upper(module, engine) == "ABC"


def test_a_hit_is_faster_than_a_compile(tmp_path: Path) -> None:
    engine = wasmtime.Engine()
    cache = ModuleCache(tmp_path)
    wasm = guest_path("shapes", "").read_bytes()
    started = time.perf_counter()
    cache.load(engine, wasm)
    compiled = time.perf_counter() - started
    started = time.perf_counter()
    assert cache.load(engine, wasm)[1] is CacheOutcome.HIT
    loaded = time.perf_counter() - started
    assert loaded < compiled, (loaded, compiled)
