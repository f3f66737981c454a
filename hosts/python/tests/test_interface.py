"""Self-describing modules ("Interface section" in docs/ABI.md): the reader against hand-made
modules (the sections' own cases are testdata/sections.json, test_testdata's), every guest's
section against what the module really exports and imports (the checks of
harness/src/checks/interface.rs), ``describe`` against the Rust CLI's ``guestmem describe``, the
section read by ``Guest.instantiate`` itself, and calls the section rules out refused before the
guest runs."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import wasmtime

from conftest import ENGINE, GUEST_DIR, GUESTS, REPO, read_testdata
from guestmem import (
    SECTION,
    Argument,
    ArityError,
    CallRefused,
    Function,
    Guest,
    GuestFailed,
    Interface,
    InterfaceError,
    Kind,
)
from guestmem.describe import NO_SECTION, interface_text

# ---- the reader ---------------------------------------------------------------------------------

#: testdata/sections.json's cases, by name.
CASES = {case["name"]: case for case in read_testdata("sections.json")["cases"]}
#: ``upper``'s entry as guestmem writes it.
UPPER = bytes.fromhex(CASES["upper"]["section"])
#: ``greet``'s host function ``env.salutation() -> Result<String, String>``.
SALUTATION = b"\x01\x01\x03env\x0asalutation\x00\x02\x01"
HEADER = b"\0asm\x01\0\0\0"


def leb128(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def custom(name: str, contents: bytes) -> bytes:
    """A custom section (id 0): its size, its name, its contents."""
    body = leb128(len(name.encode())) + name.encode() + contents
    return b"\x00" + leb128(len(body)) + body


def module_with(*sections: bytes) -> bytes:
    return HEADER + b"".join(sections)


def upper_function() -> Function:
    return Function(None, "upper", (Argument("text", Kind.STRING),), Kind.STRING, fallible=False)


def test_an_entry_reads_back_as_written() -> None:
    interface = Interface.read(module_with(custom(SECTION, UPPER)))
    assert interface == Interface(exports=(upper_function(),))
    assert str(interface.exports[0]) == "export upper(text: string) -> string"
    assert interface.export("upper") == upper_function()
    assert interface.export("lower") is None


def test_an_import_reads_back_with_its_module_and_failure() -> None:
    interface = Interface.read(module_with(custom(SECTION, SALUTATION)))
    assert interface is not None and interface.exports == ()
    (salutation,) = interface.imports
    assert salutation == Function("env", "salutation", (), Kind.STRING, fallible=True)
    assert str(salutation) == "import env.salutation() -> string, fallible"


def test_sections_of_the_name_are_concatenated_in_order_among_other_sections() -> None:
    # A type section before, a custom section of another name between, an entry split over two
    # sections (the linker keeps one per object file: any cut is allowed), a size in 2 bytes.
    type_section = b"\x01\x04\x01\x60\x00\x00"
    padding = custom("name", b"x" * 200)
    wasm = module_with(
        type_section,
        custom(SECTION, SALUTATION + UPPER[:5]),
        padding,
        custom(SECTION, UPPER[5:]),
    )
    interface = Interface.read(wasm)
    assert interface is not None
    assert [str(function) for function in (*interface.exports, *interface.imports)] == [
        "export upper(text: string) -> string",
        "import env.salutation() -> string, fallible",
    ]
    assert interface.text() == (
        "export upper(text: string) -> string\nimport env.salutation() -> string, fallible\n"
    )


def test_every_kind_has_its_byte_and_name() -> None:
    names = "none bytes string u8 u16 u32 u64 i8 i16 i32 i64 f32 f64".split()
    for byte, name in enumerate(names):
        assert str(Kind(byte)) == name
    assert (str(Kind(16)), str(Kind(17))) == ("json", "postcard")
    every = bytes([1, 0, 0, 1, ord("f"), 14]) + b"".join(
        bytes([1, ord("a") + byte, byte]) for byte in [*range(1, 13), 16, 17]
    ) + b"\x00\x00"
    (function,) = Interface.parse(every).exports
    assert [arg.kind for arg in function.args] == [Kind(byte) for byte in [*range(1, 13), 16, 17]]
    assert not any(arg.owned for arg in function.args)


def test_bit_7_of_an_arguments_kind_marks_it_owned() -> None:
    # faults' `owned_after(text: &str, data: Owned) -> ResultBlock`
    entry = b"\x01\x00\x00\x0bowned_after\x02\x04text\x02\x04data\x81\x01\x00"
    (function,) = Interface.parse(entry).exports
    assert function.args == (Argument("text", Kind.STRING), Argument("data", Kind.BYTES, True))
    assert str(function) == "export owned_after(text: string, data: owned bytes) -> bytes"
    with pytest.raises(InterfaceError, match="unknown kind 129"):  # a result is never owned
        Interface.parse(entry[:-2] + b"\x81\x00")
    with pytest.raises(InterfaceError, match="unknown kind 99"):
        Interface.parse(entry.replace(b"\x81", b"\xe3"))


def test_no_section_is_none_and_every_cut_is_an_error() -> None:
    assert Interface.read(HEADER) is None
    assert Interface.read(module_with(custom("name", b"\x00"))) is None
    assert Interface.parse(b"") == Interface()
    for length in range(1, len(UPPER)):
        with pytest.raises(InterfaceError, match="cut short"):
            Interface.parse(UPPER[:length])


@pytest.mark.parametrize(
    ("wasm", "problem"),
    [
        (b"not wasm", "not a WebAssembly module"),
        (b"\0asm\x02\0\0\0", "not a WebAssembly module"),
        (module_with(b"\x00\x05\x02ab"), "cut short"),
        (module_with(b"\x01\x80\x80\x80\x80\x80\x01"), "longer than 5 bytes"),
        (module_with(b"\x00\x03\x02\xff\xfe"), "section name is not UTF-8"),
    ],
    ids=["not-wasm", "version-2", "section-past-end", "leb128-6-bytes", "section-name-utf8"],
)
def test_a_malformed_module_is_an_error(wasm: bytes, problem: str) -> None:
    with pytest.raises(InterfaceError, match=problem) as caught:
        Interface.read(wasm)
    assert caught.value.function == SECTION


def test_the_wasm_type_follows_the_kinds() -> None:
    i32, i64, f64 = wasmtime.ValType.i32(), wasmtime.ValType.i64(), wasmtime.ValType.f64()
    args = (Argument("a", Kind.JSON), Argument("b", Kind.U64), Argument("c", Kind.BYTES, True))
    measure = Function(None, "m", args, Kind.F64, fallible=True)
    assert measure.wasm_type() == ([i32, i32, i64, i32, i32], [f64])
    # A fallible import without a result returns 1 or 0; one that cannot fail returns nothing.
    store = Function("env", "store", (Argument("key", Kind.STRING),), Kind.NONE, fallible=True)
    assert store.wasm_type() == ([i32, i32], [i32])
    log = Function("env", "log", (Argument("line", Kind.STRING),), Kind.NONE, fallible=False)
    assert log.wasm_type() == ([i32, i32], [])


# ---- every guest's section ----------------------------------------------------------------------

#: The guests whose section is checked: every guest of testdata/guests.tsv.
DESCRIBED = [row.name for row in GUESTS]


def undescribed(name: str) -> bool:
    """Built without the macros, so without a section: every build of minimal, bare_talc, and
    shapes with neither format."""
    return name.startswith("minimal") or name in ("bare_talc", "shapes-none")


#: The guests whose describe text testdata/sections.json holds, in a case of the guest's name.
EXPECTED = sorted(name for name in CASES if name in DESCRIBED)

#: Exports every guest has that are the ABI's, not the author's.
ABI_EXPORTS = frozenset(
    "alloc dealloc free realloc guestmem_free guestmem_realloc last_error abi_version live_blocks "
    "heap_bytes _initialize".split()
)


def path_of(name: str) -> Path:
    path = GUEST_DIR / f"{name}.wasm"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: build the guests with `cargo run -p harness -- guests`")
    return path


def described(name: str) -> Interface | None:
    return Interface.read(path_of(name).read_bytes())


def instance_of(module: wasmtime.Module, interface: Interface | None = None) -> Guest:
    """An instance whose host functions trap if called: enough to look at its exports; given
    ``interface``, which it checks against them."""
    linker = wasmtime.Linker(ENGINE)
    linker.define_wasi()
    linker.define_unknown_imports_as_traps(module)
    store = wasmtime.Store(ENGINE)
    store.set_wasi(wasmtime.WasiConfig())
    return Guest.instantiate(store, linker, module, interface=interface)


@pytest.mark.parametrize("name", DESCRIBED)
def test_the_section_is_what_the_module_exports_and_imports(name: str) -> None:
    interface = described(name)
    if undescribed(name):
        assert interface is None, f"{name} has a section but declares no functions"
        return
    assert interface is not None, f"{name}: no section, but it declares functions"
    module = wasmtime.Module.from_file(ENGINE, str(path_of(name)))
    exported = {
        export.name
        for export in module.exports
        if isinstance(export.type, wasmtime.FuncType) and export.name not in ABI_EXPORTS
    }
    assert exported == {function.name for function in interface.exports}
    imported = {
        (item.module, item.name or ""): item.type
        for item in module.imports
        if item.module not in ("guestmem", "wasi_snapshot_preview1")
    }
    in_section = {(function.module or "", function.name) for function in interface.imports}
    assert set(imported) == in_section
    # The wasm types agree with the kinds: the imports' here, the exports' in set_interface.
    for function in interface.imports:
        ty = imported[function.module or "", function.name]
        assert isinstance(ty, wasmtime.FuncType)
        assert (list(ty.params), list(ty.results)) == function.wasm_type(), str(function)
    instance_of(module, interface)


@pytest.mark.parametrize("name", EXPECTED)
def test_describe_prints_the_expected_text(name: str) -> None:
    # The linker decides the order of a built guest's entries: compared as sets.
    lines = interface_text(str(path_of(name))).splitlines()
    assert len(lines) == len(set(lines))
    assert set(lines) == set(CASES[name]["describe"].splitlines())


#: The Rust CLI, ``guestmem describe FILE``: target/debug/guestmem as ``cargo build -p
#: guestmem-cli`` leaves it, or ``$GUESTMEM_CLI``.
CLI = Path(os.environ.get("GUESTMEM_CLI", REPO / "target" / "debug" / "guestmem"))


@pytest.mark.skipif(not CLI.is_file(), reason=f"no guestmem CLI binary at {CLI}")
@pytest.mark.parametrize("name", DESCRIBED)
def test_describe_prints_what_the_rust_cli_prints(name: str) -> None:
    path = str(path_of(name))
    rust = subprocess.run(
        [str(CLI), "describe", path], capture_output=True, text=True, check=True, timeout=60
    )
    assert interface_text(path) == rust.stdout
    if undescribed(name):
        assert rust.stdout == NO_SECTION


# ---- the section, read by Guest.instantiate --------------------------------------------------


def upper_guest(*, interface: bool = True) -> Guest:
    """upper from its path: with the section it carries, or (``interface=None``) without."""
    store, linker = wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE)
    if interface:
        guest = Guest.instantiate(store, linker, path_of("upper"))
        assert guest.interface == Interface.read_file(path_of("upper"))
        return guest
    guest = Guest.instantiate(store, linker, path_of("upper"), interface=None)
    assert guest.interface is None
    return guest


def test_a_path_or_bytes_bring_their_section_with_them() -> None:
    path = path_of("upper")
    expected = Interface.read_file(path)
    assert expected is not None
    for source in (path, str(path), path.read_bytes(), bytearray(path.read_bytes())):
        guest = Guest.instantiate(wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE), source)
        assert guest.interface == expected, type(source)
        assert guest.func("upper").signature == upper_function()
    guest = Guest.instantiate(wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE), path_of("minimal"))
    assert guest.interface is None


def test_a_compiled_module_needs_its_interface_said() -> None:
    path = path_of("upper")
    module = wasmtime.Module.from_file(ENGINE, str(path))
    with pytest.raises(TypeError, match="wasmtime keeps no module bytes"):
        Guest.instantiate(wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE), module)
    described = Guest.instantiate(
        wasmtime.Store(ENGINE),
        wasmtime.Linker(ENGINE),
        module,
        interface=Interface.read_file(path),
    )
    assert described.func("upper").signature == upper_function()
    store, linker = wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE)
    bare = Guest.instantiate(store, linker, module, interface=None)
    assert bare.interface is None


def test_interface_overrides_the_section() -> None:
    raw = Function(None, "upper", (Argument("raw", Kind.BYTES),), Kind.BYTES, fallible=False)
    other = Interface(exports=(raw,))
    guest = Guest.instantiate(
        wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE), path_of("upper"), interface=other
    )
    assert guest.interface == other
    upper = guest.func("upper")
    assert upper.call_bytes(b"abc") == b"ABC"
    with pytest.raises(CallRefused, match="returns bytes .* which `call_string` does not read"):
        upper.call_string("abc")


def test_a_malformed_section_fails_instantiate() -> None:
    cut_short = CASES["cut short"]
    wasm = path_of("upper").read_bytes() + custom(SECTION, bytes.fromhex(cut_short["section"]))
    with pytest.raises(InterfaceError, match=cut_short["error"]):
        Guest.instantiate(wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE), wasm)
    # Overridden, the section is not read.
    guest = Guest.instantiate(wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE), wasm, interface=None)
    assert guest.func("upper").call_string("a") == "A"


# ---- calls the section rules out ----------------------------------------------------------------


def test_upper_refuses_calls_its_section_rules_out_before_it_runs() -> None:
    guest = upper_guest()
    upper = guest.func("upper")
    assert upper.signature == upper_function()
    before = guest.live_blocks()
    with pytest.raises(CallRefused, match="returns string .* which `call_int` does not read"):
        upper.call_int("abc")
    for not_utf8 in (b"\xff", bytearray(b"ok\xc3"), memoryview(b"\xed\xa0\x80")):
        for call in (upper.call_string, upper.call_bytes, upper.call_view, upper.call_raw):
            with pytest.raises(CallRefused, match=r"argument `text` \(string\) is not UTF-8"):
                call(not_utf8)
    with pytest.raises(ArityError):
        upper.call_string("a", "b")
    with pytest.raises(CallRefused, match="`call_json` does not read"):
        upper.call_json("abc")
    with pytest.raises(CallRefused, match="`call_postcard` does not read"):
        upper.call_postcard("abc", into=str)
    # Refused before the guest ran: it recorded no error and allocated nothing.
    assert guest.last_error() is None
    assert guest.live_blocks() == before
    assert upper.call_string("ok") == "OK"
    assert upper.call_string(b"stra\xc3\x9fe") == "STRASSE"
    assert guest.live_blocks() == before


def test_without_an_interface_the_guest_decides() -> None:
    guest = upper_guest(interface=False)
    upper = guest.func("upper")
    assert upper.signature is None
    with pytest.raises(GuestFailed, match="UTF-8"):
        upper.call_string(b"\xff")  # the guest ran and failed
    ptr = upper.call_int("abc")  # a result block's pointer, read as an integer
    assert ptr != 0
    guest.free(ptr)


@pytest.mark.parametrize(
    ("function", "problem"),
    [
        (Function(None, "lower", (), Kind.STRING, False), "described but not exported"),
        (Function(None, "upper", (Argument("text", Kind.STRING),), Kind.U64, False), "wasm type"),
        (Function(None, "upper", (), Kind.STRING, False), "wasm type"),
        (Function(None, "memory", (), Kind.NONE, False), "described but not exported"),
    ],
    ids=["missing", "result", "arguments", "not-a-function"],
)
def test_an_interface_that_does_not_match_the_instance_is_refused(
    function: Function, problem: str
) -> None:
    with pytest.raises(InterfaceError, match=problem) as caught:
        Guest.instantiate(
            wasmtime.Store(ENGINE),
            wasmtime.Linker(ENGINE),
            path_of("upper"),
            interface=Interface(exports=(function,)),
        )
    assert caught.value.function == function.name


# ---- inputs of the wrong type -------------------------------------------------------------------


def test_an_input_of_the_wrong_type_names_the_function_and_the_argument() -> None:
    path = path_of("replace")
    for interface, named in ((True, True), (False, False)):
        store, linker = wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE)
        guest = (
            Guest.instantiate(store, linker, path)
            if interface
            else Guest.instantiate(store, linker, path, interface=None)
        )
        replace = guest.func("replace")
        before = guest.live_blocks()
        second = "argument 2 (`from`)" if named else "argument 2"
        for call in (replace.call_string, replace.call_bytes, replace.call_view, replace.call_raw):
            with pytest.raises(TypeError) as caught:
                call("a-b", 5, "+")  # type: ignore[arg-type]
            assert str(caught.value) == (
                f"`replace`: {second} must be bytes, bytearray, memoryview or str, not int"
            )
        first = "argument 1 (`text`)" if named else "argument 1"
        with pytest.raises(TypeError, match=rf"`replace`: {re.escape(first)} .*, not NoneType"):
            replace.call_string(None, "-", "+")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"argument 3 .*, not list"):
            replace.call_raw("a", "b", [1])  # type: ignore[arg-type]
        # Refused before anything was placed: the guest did not run.
        assert guest.last_error() is None
        assert guest.live_blocks() == before
        assert replace.call_string("a-b", "-", "+") == "a+b"
    with pytest.raises(TypeError, match=r"`put`: argument 1 \(`data`\) .*, not int"):
        guest.put(7)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`write`: argument 2 \(`data`\) .*, not float"):
        guest.write(0, 1.5)  # type: ignore[arg-type]
