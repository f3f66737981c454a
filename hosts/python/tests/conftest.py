"""The guests under test, found as ``.ci/guests.sh`` leaves them: ``target/guests/BACKEND/NAME.wasm``
for every allocator back end, or the ``NAME.wasm`` files of ``$GUESTMEM_GUEST_DIR`` alone (as in
harness/js). A missing guest fails its tests: build them with ``bash .ci/guests.sh``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import wasmtime

from guestmem import Guest

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = ("array_sum", "upper", "replace", "echo", "minimal")
BACKENDS = ("talc", "wee_alloc", "lol_alloc", "dlmalloc")
#: Built with guestmem's `compact` feature and without `stats`.
COMPACT = "minimal"
WAT = Path(__file__).resolve().parent / "wat"
HOSTILE_WAT = REPO / "harness" / "tests" / "hostile.wat"


def guest_dirs() -> dict[str, Path]:
    """Each directory of guests, by the name shown in test ids."""
    chosen = os.environ.get("GUESTMEM_GUEST_DIR")
    if chosen:
        return {Path(chosen).name: REPO / chosen}
    return {backend: REPO / "target" / "guests" / backend for backend in BACKENDS}


ENGINE = wasmtime.Engine()


@dataclass
class GuestModule:
    """One compiled guest, instantiated afresh by each check that may trap."""

    name: str
    path: Path
    module: wasmtime.Module
    exported: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.exported = frozenset(export.name for export in self.module.exports)

    @property
    def compact(self) -> bool:
        return self.name == COMPACT

    def exports(self, name: str) -> bool:
        return name in self.exported

    def instantiate(self, memory_limit: int | None = None) -> Guest:
        store = wasmtime.Store(ENGINE)
        if memory_limit is not None:
            store.set_limits(memory_size=memory_limit)
        return Guest.instantiate(store, wasmtime.Linker(ENGINE), self.module)


_compiled: dict[Path, GuestModule] = {}


def load(path: Path, name: str) -> GuestModule:
    if path not in _compiled:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: build the guests with `bash .ci/guests.sh`")
        _compiled[path] = GuestModule(name, path, wasmtime.Module.from_file(ENGINE, str(path)))
    return _compiled[path]


def wat_module(source: str, name: str = "wat") -> GuestModule:
    """A module from WebAssembly text (wasmtime compiles it)."""
    return GuestModule(name, Path(name), wasmtime.Module(ENGINE, source))


ALL = [(backend, example) for backend in guest_dirs() for example in EXAMPLES]


@pytest.fixture(params=ALL, ids=[f"{backend}-{example}" for backend, example in ALL])
def module(request: pytest.FixtureRequest) -> GuestModule:
    """Every example guest with every allocator back end."""
    backend, example = request.param
    return load(guest_dirs()[backend] / f"{example}.wasm", example)


@pytest.fixture(params=list(guest_dirs()))
def echo(request: pytest.FixtureRequest) -> Iterator[GuestModule]:
    """echo, with every allocator back end."""
    yield load(guest_dirs()[request.param] / "echo.wasm", "echo")
