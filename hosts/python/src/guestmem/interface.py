"""A module's description of itself: the ``guestmem.interface`` custom section that guestmem's
``export!`` and ``import!`` write ("Interface section" in guestmem's ``docs/ABI.md``, byte by
byte).

wasmtime's Python API does not expose custom sections, so :meth:`Interface.read` takes the
module's bytes and walks its sections itself: the magic and version, then ``id``, a LEB128 size
and the contents of each; a custom section (id ``0``) opens with its name.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import wasmtime

from .errors import InterfaceError

#: The custom section's name.
SECTION = "guestmem.interface"

_HEADER = b"\0asm\x01\0\0\0"
_ENTRY_VERSION = 1
#: The bit of an argument's kind byte that marks it owned ("Owned arguments" in docs/ABI.md).
_OWNED = 0x80


class Kind(enum.Enum):
    """The kind of an argument or a result, by its byte in the section."""

    NONE = 0
    BYTES = 1
    STRING = 2
    U8 = 3
    U16 = 4
    U32 = 5
    U64 = 6
    I8 = 7
    I16 = 8
    I32 = 9
    I64 = 10
    F32 = 11
    F64 = 12
    JSON = 16
    POSTCARD = 17

    def __str__(self) -> str:
        """Its name in ``docs/ABI.md`` and in ``describe``: ``string``, ``u32``, ``json``."""
        return self.name.lower()

    @property
    def is_bytes(self) -> bool:
        """Whether it travels as a ``(ptr, len)`` pair (an argument) or a result block (a
        result)."""
        return self in _BYTES

    def valtype(self) -> wasmtime.ValType | None:
        """The wasm type of a value of this kind that is not bytes (``None`` for none)."""
        if self is Kind.NONE:
            return None
        if self in (Kind.U64, Kind.I64):
            return wasmtime.ValType.i64()
        if self is Kind.F32:
            return wasmtime.ValType.f32()
        if self is Kind.F64:
            return wasmtime.ValType.f64()
        return wasmtime.ValType.i32()


_BYTES = frozenset({Kind.BYTES, Kind.STRING, Kind.JSON, Kind.POSTCARD})


@dataclass(frozen=True)
class Argument:
    """One argument of a function."""

    #: Its name in the guest's source.
    name: str
    kind: Kind
    #: Whether the guest takes its block (guestmem's ``Owned``): the host allocates it with 4
    #: bytes of room in front and does not free it.
    owned: bool = False

    def __str__(self) -> str:
        """``text: string``, ``data: owned bytes``."""
        return f"{self.name}: {'owned ' if self.owned else ''}{self.kind}"


@dataclass(frozen=True)
class Function:
    """One function of the interface: an export of the guest, or a host function it imports."""

    #: The import module (``env``, ...), or ``None`` for an export.
    module: str | None
    name: str
    #: Its arguments, in order.
    args: tuple[Argument, ...]
    result: Kind
    #: Whether it can fail (``Result`` in Rust): ``0`` and a message.
    fallible: bool

    def __str__(self) -> str:
        """As ``guestmem describe`` prints it: ``export upper(text: string) -> string``,
        ``import env.log(line: string) -> none``, ``..., fallible``."""
        head = f"export {self.name}" if self.module is None else f"import {self.module}.{self.name}"
        args = ", ".join(str(arg) for arg in self.args)
        fallible = ", fallible" if self.fallible else ""
        return f"{head}({args}) -> {self.result}{fallible}"

    def wasm_type(self) -> tuple[list[wasmtime.ValType], list[wasmtime.ValType]]:
        """The wasm params and results its kinds make."""
        i32 = wasmtime.ValType.i32()
        params: list[wasmtime.ValType] = []
        for arg in self.args:
            valtype = arg.kind.valtype()
            params += [i32, i32] if arg.kind.is_bytes else [] if valtype is None else [valtype]
        if self.result.is_bytes:
            result: wasmtime.ValType | None = i32
        elif self.result is Kind.NONE and self.fallible and self.module is not None:
            result = i32  # a fallible import without a result returns 1 or 0
        else:
            result = self.result.valtype()
        return params, [] if result is None else [result]


@dataclass(frozen=True)
class Interface:
    """What a module says it exports and imports, each in section order."""

    exports: tuple[Function, ...] = ()
    imports: tuple[Function, ...] = ()

    @classmethod
    def read(cls, wasm: bytes | bytearray | memoryview) -> Interface | None:
        """The interface of the module ``wasm`` (its binary form), or ``None`` when it has no
        ``guestmem.interface`` section (a guest built without guestmem's macros). Every section
        of that name counts, in order, concatenated. :class:`InterfaceError` if the module's
        sections or the entries are malformed."""
        contents = [section for name, section in custom_sections(wasm) if name == SECTION]
        if not contents:
            return None
        return cls.parse(b"".join(contents))

    @classmethod
    def read_file(cls, path: str | Path) -> Interface | None:
        """:meth:`read` of the module at ``path``."""
        return cls.read(Path(path).read_bytes())

    @classmethod
    def parse(cls, section: bytes | bytearray | memoryview) -> Interface:
        """The entries of a section's contents, one after the other. :class:`InterfaceError` if
        one is cut short, has another version, direction or kind, an argument of kind none or owned
        but not bytes, or a name is not UTF-8."""
        reader = _Reader(memoryview(section).cast("B"))
        exports: list[Function] = []
        imports: list[Function] = []
        while not reader.done:
            function = _entry(reader)
            (exports if function.module is None else imports).append(function)
        return cls(tuple(exports), tuple(imports))

    def export(self, name: str) -> Function | None:
        """The export ``name``, if the interface describes it."""
        return next((function for function in self.exports if function.name == name), None)

    def text(self) -> str:
        """One line per function, exports first, as every host's describe prints it."""
        return "".join(f"{function}\n" for function in (*self.exports, *self.imports))


def _malformed(problem: str) -> InterfaceError:
    return InterfaceError(SECTION, f"malformed: {problem}")


class _Reader:
    """Bytes read from the front; running out is :class:`InterfaceError`."""

    def __init__(self, data: memoryview) -> None:
        self._data = data
        self._at = 0

    @property
    def done(self) -> bool:
        return self._at == len(self._data)

    def take(self, length: int, what: str = "an entry") -> memoryview:
        if length > len(self._data) - self._at:
            raise _malformed(f"{what} is cut short")
        start, self._at = self._at, self._at + length
        return self._data[start : self._at]

    def rest(self) -> memoryview:
        return self.take(len(self._data) - self._at)

    def byte(self, what: str = "an entry") -> int:
        return self.take(1, what)[0]

    def text(self, length: int, what: str) -> str:
        try:
            return str(self.take(length, what), "utf-8")
        except UnicodeDecodeError:
            raise _malformed(f"{what} is not UTF-8") from None

    def leb128(self, what: str) -> int:
        """An unsigned LEB128 number of at most 32 bits, as section sizes are."""
        value = 0
        for shift in range(0, 35, 7):
            byte = self.byte(what)
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
        raise _malformed(f"{what}: a length is longer than 5 bytes")


def custom_sections(wasm: bytes | bytearray | memoryview) -> Iterator[tuple[str, memoryview]]:
    """The custom sections of a module in binary form, as ``(name, contents)``, in order.
    :class:`InterfaceError` if it is not a module or a section runs past its end."""
    module = memoryview(wasm).cast("B")
    if bytes(module[: len(_HEADER)]) != _HEADER:
        raise _malformed("not a WebAssembly module in binary form")
    reader = _Reader(module[len(_HEADER) :])
    while not reader.done:
        section_id = reader.byte("a section")
        contents = _Reader(reader.take(reader.leb128("a section size"), "a section"))
        if section_id == 0:
            name = contents.text(contents.leb128("a section name"), "a section name")
            yield name, contents.rest()


def _kind(byte: int) -> Kind:
    try:
        return Kind(byte)
    except ValueError:
        raise _malformed(f"unknown kind {byte}") from None


def _entry(reader: _Reader) -> Function:
    version = reader.byte()
    if version != _ENTRY_VERSION:
        raise _malformed(f"entry version {version}; this host reads version {_ENTRY_VERSION}")
    direction = reader.byte()
    module = reader.text(reader.byte(), "a name")
    name = reader.text(reader.byte(), "a name")
    args = []
    for _ in range(reader.byte()):
        arg = reader.text(reader.byte(), "a name")
        byte = reader.byte()
        kind, owned = _kind(byte & ~_OWNED), bool(byte & _OWNED)
        # An argument is a value: never none; and only bytes are a block the guest can take.
        if kind is Kind.NONE or (owned and kind is not Kind.BYTES):
            raise _malformed(f"argument `{arg}` cannot be of kind {byte:#x}")
        args.append(Argument(arg, kind, owned=owned))
    result = _kind(reader.byte())
    flags = reader.byte()
    if direction not in (0, 1):
        raise _malformed(f"unknown direction {direction}")
    return Function(
        module=module if direction == 1 else None,
        name=name,
        args=tuple(args),
        result=result,
        fallible=bool(flags & 1),
    )
