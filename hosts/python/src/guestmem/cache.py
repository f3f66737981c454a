"""Compiled modules kept on disk, so that a module loaded from its path or bytes a second time
is deserialized instead of compiled again (docs/BENCHMARKS.md, "Python: the compile cache").

On by default, as Extism's cache is: :meth:`Guest.instantiate` and :class:`~guestmem.Pool` use
:meth:`ModuleCache.default` unless given ``cache=None`` or a cache of the user's own. An entry is
named by the module's SHA-256 and the wasmtime version, and holds the SHA-256 of the compiled
bytes in front of them: a file that fails that check (a torn write, a corrupted disk) or that
wasmtime refuses (another engine configuration, another version) is a miss, compiled again and
written over; never an error. The cache is best effort: a directory that cannot be written only
costs the compile.

``Module.deserialize`` trusts its input as machine code, and the checksum guards against
accidents, not an attacker who can write the directory: it is made readable by its owner alone,
and a directory of one's own is the user's to choose.
"""

from __future__ import annotations

import enum
import hashlib
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import wasmtime

#: ``GUESTMEM_CACHE_DIR`` names the default cache's directory; set to the empty string, it turns
#: the default cache off.
ENV = "GUESTMEM_CACHE_DIR"

_DIGEST = 32


class CacheOutcome(enum.Enum):
    """What :meth:`ModuleCache.load` found."""

    #: A good entry, deserialized.
    HIT = "hit"
    #: No entry: compiled and written.
    MISS = "miss"
    #: An entry that failed its checksum or that wasmtime refused: compiled and written over.
    REPLACED = "replaced"


def _platform_dir() -> Path:
    """The platform's cache directory, with a ``guestmem`` folder in it."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "guestmem"


class ModuleCache:
    """A directory of compiled modules."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self._dir = Path(directory)
        self._version = metadata.version("wasmtime")

    @classmethod
    def default(cls) -> ModuleCache | None:
        """The cache in ``$GUESTMEM_CACHE_DIR``, or else in the platform's cache directory
        (``$XDG_CACHE_HOME/guestmem``, ``~/.cache/guestmem``, ``~/Library/Caches/guestmem``,
        ``%LOCALAPPDATA%\\guestmem``); ``None`` when ``GUESTMEM_CACHE_DIR`` is empty."""
        directory = os.environ.get(ENV)
        if directory == "":
            return None
        return cls(directory if directory is not None else _platform_dir())

    @property
    def directory(self) -> Path:
        return self._dir

    def path(self, wasm: bytes) -> Path:
        """Where the entry for ``wasm`` lives."""
        digest = hashlib.sha256(wasm).hexdigest()
        return self._dir / f"{digest}-wasmtime-{self._version}.cwasm"

    def load(self, engine: wasmtime.Engine, wasm: bytes) -> tuple[wasmtime.Module, CacheOutcome]:
        """``wasm`` compiled for ``engine``: from its entry when the entry is good, else compiled
        and written. Raises what compiling raises (``wasmtime.WasmtimeError``)."""
        path = self.path(wasm)
        outcome = CacheOutcome.MISS
        try:
            stored = path.read_bytes()
        except OSError:
            stored = None
        if stored is not None:
            digest, compiled = stored[:_DIGEST], stored[_DIGEST:]
            if len(digest) == _DIGEST and hashlib.sha256(compiled).digest() == digest:
                try:
                    return wasmtime.Module.deserialize(engine, compiled), CacheOutcome.HIT
                except wasmtime.WasmtimeError:
                    pass
            outcome = CacheOutcome.REPLACED
        module = wasmtime.Module(engine, wasm)
        self._store(path, module.serialize())
        return module, outcome

    def _store(self, path: Path, compiled: bytes | bytearray) -> None:
        """Writes the entry whole or not at all: a temporary file renamed into place."""
        try:
            self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self._dir, prefix=".partial-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(hashlib.sha256(compiled).digest())
                    out.write(compiled)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass
