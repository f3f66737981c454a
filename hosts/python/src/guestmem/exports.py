"""The ABI exports of an instance, looked up once, by the names of ``docs/ABI.md``.

Where a target reserves a name (``free`` and ``realloc`` beside wasi-libc on wasm32-wasip1), the
guest exports it as ``guestmem_NAME``; so for every name the host takes ``guestmem_NAME`` when the
module has it and ``NAME`` otherwise, and one host serves every target without configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import wasmtime

from .errors import ExportError

#: Every ABI export and its wasm signature, as ``(params, results)`` counts of i32s.
SIGNATURES: Mapping[str, tuple[int, int]] = {
    "alloc": (1, 1),
    "dealloc": (2, 0),
    "free": (1, 0),
    "realloc": (2, 1),
    "last_error": (0, 1),
    "abi_version": (0, 1),
    "live_blocks": (0, 1),
    "heap_bytes": (0, 1),
}

#: Exported only by guests built with the ``stats`` feature.
OPTIONAL = frozenset({"live_blocks", "heap_bytes"})


def export_name(name: str, exported: Mapping[str, object]) -> str | None:
    """The name under which the module exports ABI function ``name``, or ``None``."""
    prefixed = f"guestmem_{name}"
    if prefixed in exported:
        return prefixed
    return name if name in exported else None


def is_i32_func(ty: wasmtime.FuncType, params: int, results: int) -> bool:
    """Whether ``ty`` takes ``params`` i32s and returns ``results`` i32s."""
    i32 = wasmtime.ValType.i32()
    return (
        len(ty.params) == params
        and len(ty.results) == results
        and all(value == i32 for value in [*ty.params, *ty.results])
    )


@dataclass(frozen=True)
class AbiExports:
    """The ABI functions of one instance."""

    alloc: wasmtime.Func
    dealloc: wasmtime.Func
    free: wasmtime.Func
    realloc: wasmtime.Func
    last_error: wasmtime.Func
    abi_version: wasmtime.Func
    live_blocks: wasmtime.Func | None
    heap_bytes: wasmtime.Func | None

    @classmethod
    def find(cls, store: wasmtime.Store, exports: Mapping[str, object]) -> AbiExports:
        """Looks every ABI export up and checks its type; ``live_blocks`` and ``heap_bytes`` may
        be missing. Raises :class:`ExportError` naming the export otherwise."""
        found: dict[str, wasmtime.Func | None] = {}
        for name, (params, results) in SIGNATURES.items():
            exported = export_name(name, exports)
            if exported is None:
                if name not in OPTIONAL:
                    raise ExportError(name, "missing: not a guestmem guest")
                found[name] = None
                continue
            func = exports[exported]
            if not isinstance(func, wasmtime.Func) or not is_i32_func(
                func.type(store), params, results
            ):
                raise ExportError(
                    exported,
                    f"is not a function taking {params} i32 and returning {results} i32",
                )
            found[name] = func

        def required(name: str) -> wasmtime.Func:
            func = found[name]
            assert func is not None, "checked above"
            return func

        return cls(
            alloc=required("alloc"),
            dealloc=required("dealloc"),
            free=required("free"),
            realloc=required("realloc"),
            last_error=required("last_error"),
            abi_version=required("abi_version"),
            live_blocks=found["live_blocks"],
            heap_bytes=found["heap_bytes"],
        )
