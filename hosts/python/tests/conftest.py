"""The guests under test, found as ``.ci/guests.sh`` leaves them: ``target/guests/NAME-BACKEND.wasm``
for every allocator back end and ``NAME-wasip1.wasm``, every module named in
``testdata/guests.tsv``. As in the JavaScript checks, ``$GUESTMEM_GUEST_DIR`` names another
directory and ``$GUESTMEM_GUEST_SUFFIX`` (``-talc``, or empty for ``NAME.wasm``) tests one build of
each example instead of every back end. A missing guest fails its tests: build them with
``bash .ci/guests.sh``.

The repository's ``testdata/`` (the wire format's cases and the guest table, read by every host's
tests) is found from this file, so the tests read the checkout they sit in, whatever the working
directory; the installed package does not carry it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from guestmem import Guest

REPO = Path(__file__).resolve().parents[3]
TESTDATA = REPO / "testdata"


def read_testdata(name: str) -> Any:
    """``testdata/NAME``, a JSON file, as ``json`` reads it."""
    return json.loads((TESTDATA / name).read_text())


@dataclass(frozen=True)
class GuestBuild:
    """A row of ``testdata/guests.tsv``: a guest module (``target/guests/NAME.wasm``) and how it
    is built."""

    name: str
    package: str
    target: str
    cargo_args: str
    group: str

    @property
    def backend(self) -> str | None:
        """The allocator back end, for a build of a package with one back end and nothing else
        (``upper-talc``: ``--no-default-features --features talc``)."""
        suffix = self.name.removeprefix(f"{self.package}-")
        if suffix != self.name and self.cargo_args == f"--no-default-features --features {suffix}":
            return suffix
        return None


def guest_table() -> list[GuestBuild]:
    rows = (TESTDATA / "guests.tsv").read_text().splitlines()
    return [GuestBuild(*row.split("\t")) for row in rows if row and not row.startswith("#")]


#: Every guest module the checks use, in the table's order.
GUESTS = guest_table()
#: The allocator back ends every example is built with.
BACKENDS = tuple(dict.fromkeys(row.backend for row in GUESTS if row.backend is not None))
#: The examples: the packages built with every back end.
EXAMPLES = tuple(
    package
    for package in dict.fromkeys(row.package for row in GUESTS)
    if {f"{package}-{backend}" for backend in BACKENDS} <= {row.name for row in GUESTS}
)
#: Built with guestmem's `compact` feature and without `stats`.
COMPACT = "minimal"
WAT = Path(__file__).resolve().parent / "wat"
HOSTILE_WAT = REPO / "harness" / "tests" / "hostile.wat"


GUEST_DIR = REPO / os.environ.get("GUESTMEM_GUEST_DIR", "target/guests")


def suffixes() -> list[str]:
    """The builds under test: ``-BACKEND`` for each back end and ``-wasip1`` (talc, with the
    ``guestmem_NAME`` exports of wasm32-wasip1), or ``$GUESTMEM_GUEST_SUFFIX``."""
    chosen = os.environ.get("GUESTMEM_GUEST_SUFFIX")
    if chosen is not None:
        return [chosen]
    return [f"-{backend}" for backend in BACKENDS] + ["-wasip1"]


def guest_path(example: str, suffix: str) -> Path:
    return GUEST_DIR / f"{example}{suffix}.wasm"


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
        linker = wasmtime.Linker(ENGINE)
        if any(item.module == "wasi_snapshot_preview1" for item in self.module.imports):
            linker.define_wasi()
            store.set_wasi(wasmtime.WasiConfig())
        # These checks are of the ABI, which holds for a guest without a section as well; what
        # the section adds is test_interface's.
        return Guest.instantiate(store, linker, self.module, interface=None)


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


ALL = [(example, suffix) for suffix in suffixes() for example in EXAMPLES]


def builds(*examples: str) -> list[object]:
    """Parameters for ``module`` (``indirect=True``): the builds of ``examples`` only."""
    return [
        pytest.param((example, suffix), id=f"{example}{suffix}")
        for example, suffix in ALL
        if example in examples
    ]


@pytest.fixture(params=ALL, ids=[f"{example}{suffix}" for example, suffix in ALL])
def module(request: pytest.FixtureRequest) -> GuestModule:
    """Every example guest with every allocator back end."""
    example, suffix = request.param
    return load(guest_path(example, suffix), example)


@pytest.fixture(params=suffixes())
def echo(request: pytest.FixtureRequest) -> Iterator[GuestModule]:
    """echo, with every allocator back end."""
    yield load(guest_path("echo", request.param), "echo")


@pytest.fixture(autouse=True, scope="session")
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The default compile cache in a directory of this run's, not the user's cache."""
    previous = os.environ.get("GUESTMEM_CACHE_DIR")
    os.environ["GUESTMEM_CACHE_DIR"] = str(tmp_path_factory.mktemp("guestmem-cache"))
    yield
    if previous is None:
        del os.environ["GUESTMEM_CACHE_DIR"]
    else:
        os.environ["GUESTMEM_CACHE_DIR"] = previous
