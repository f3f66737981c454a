"""``python -m guestmem describe FILE.wasm``: what a module exports, which ABI names it uses, and
the ``abi_version`` it reports."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import wasmtime

from .errors import GuestError
from .exports import OPTIONAL, SIGNATURES, export_name
from .guest import Guest


def _type(ty: object) -> str:
    if isinstance(ty, wasmtime.FuncType):
        params = ", ".join(str(value) for value in ty.params)
        results = ", ".join(str(value) for value in ty.results)
        return f"func ({params}) -> ({results})"
    if isinstance(ty, wasmtime.MemoryType):
        return f"memory, {ty.limits.min} pages"
    return type(ty).__name__.removesuffix("Type").lower()


def describe(path: str) -> str:
    """The description of the module at ``path``, as printed by the command."""
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, path)
    lines = [f"module {path}", "exports:"]
    exported = {export.name: export.type for export in module.exports}
    lines += [f"  {name}: {_type(ty)}" for name, ty in exported.items()]
    if module.imports:
        lines.append("imports:")
        lines += [f"  {item.module}.{item.name}: {_type(item.type)}" for item in module.imports]
    lines.append("ABI exports (docs/ABI.md; guestmem_NAME is taken before NAME):")
    for name in SIGNATURES:
        found = export_name(name, exported)
        note = "optional, the stats feature" if name in OPTIONAL else "missing"
        lines.append(f"  {name}: {found if found is not None else f'- ({note})'}")
    abi_names = {name for name in SIGNATURES} | {f"guestmem_{name}" for name in SIGNATURES}
    functions = [
        f"{name} ({len(ty.params) // 2} input{'' if len(ty.params) == 2 else 's'})"
        for name, ty in exported.items()
        if isinstance(ty, wasmtime.FuncType) and name not in abi_names and not name.startswith("_")
    ]
    lines.append(f"other functions: {', '.join(functions) or 'none'}")
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    # Anything else the module imports traps if called: describing it calls only the ABI.
    linker.define_unknown_imports_as_traps(module)
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    try:
        guest = Guest.instantiate(store, linker, module)
        lines.append(f"abi_version: {guest.abi_version()} (this host speaks 1)")
        blocks = guest.live_blocks()
        if blocks is not None:
            lines.append(f"live_blocks after instantiation: {blocks}")
    except GuestError as error:
        lines.append(f"not a guest this host can call: {error}")
    lines.append(
        "interface: none (the interface custom section that would list the guest's functions and "
        "their types does not exist yet)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``describe FILE.wasm``."""
    parser = argparse.ArgumentParser(prog="python -m guestmem")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("describe", help="print a module's exports and ABI")
    command.add_argument("file", help="a .wasm (or .wat) module")
    arguments = parser.parse_args(argv)
    try:
        print(describe(arguments.file))
    except (OSError, wasmtime.WasmtimeError) as error:
        print(f"cannot load {arguments.file}: {error}", file=sys.stderr)
        return 1
    return 0
