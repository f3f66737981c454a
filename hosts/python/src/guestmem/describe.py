"""``python -m guestmem describe FILE.wasm``: what a module's ``guestmem.interface`` section says
it exports and imports, one line per function, as ``guestmem describe`` prints it; with
``--abi``, what the module exports, which ABI names it uses, and the ``abi_version`` it
reports."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import wasmtime

from .errors import GuestError
from .exports import OPTIONAL, SIGNATURES, export_name
from .guest import Guest
from .interface import Interface

#: What ``describe`` prints for a module without the section, as ``guestmem describe`` does.
NO_SECTION = "no guestmem.interface section (a guest built without guestmem's macros)\n"


def module_bytes(path: str) -> bytes | bytearray:
    """The module at ``path`` in binary form; a ``.wat`` file is translated first."""
    data = Path(path).read_bytes()
    if data.startswith(b"\0asm"):
        return data
    return wasmtime.wat2wasm(data.decode())


def interface_text(path: str) -> str:
    """The interface of the module at ``path``: one line per function, exports first, each in
    section order. :class:`InterfaceError` if the section is malformed."""
    interface = Interface.read(module_bytes(path))
    return NO_SECTION if interface is None else interface.text()


def _type(ty: object) -> str:
    if isinstance(ty, wasmtime.FuncType):
        params = ", ".join(str(value) for value in ty.params)
        results = ", ".join(str(value) for value in ty.results)
        return f"func ({params}) -> ({results})"
    if isinstance(ty, wasmtime.MemoryType):
        return f"memory, {ty.limits.min} pages"
    return type(ty).__name__.removesuffix("Type").lower()


def describe_abi(path: str) -> str:
    """The ABI report of the module at ``path``, as ``describe --abi`` prints it."""
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
        # The report is of the exports and the ABI: a malformed section is describe's to report.
        guest = Guest.instantiate(store, linker, module, interface=None)
        lines.append(f"abi_version: {guest.abi_version()} (this host speaks 1)")
        blocks = guest.live_blocks()
        if blocks is not None:
            lines.append(f"live_blocks after instantiation: {blocks}")
    except GuestError as error:
        lines.append(f"not a guest this host can call: {error}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``describe [--abi] FILE.wasm``."""
    parser = argparse.ArgumentParser(prog="python -m guestmem")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "describe", help="print a module's interface section (--abi: its exports and ABI)"
    )
    command.add_argument("file", help="a .wasm (or .wat) module")
    command.add_argument(
        "--abi", action="store_true", help="the exports, ABI names and abi_version instead"
    )
    arguments = parser.parse_args(argv)
    try:
        if arguments.abi:
            print(describe_abi(arguments.file))
        else:
            print(interface_text(arguments.file), end="")
    except (OSError, ValueError, wasmtime.WasmtimeError, GuestError) as error:
        print(f"python -m guestmem describe: {arguments.file}: {error}", file=sys.stderr)
        return 1
    return 0
