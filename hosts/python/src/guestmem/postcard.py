"""postcard 1.x, the binary format of guestmem's ``Postcard<T>`` ("Typed values" in
``docs/ABI.md``), for the types :mod:`guestmem.schema` reads from type hints.

The wire format: ``bool`` one byte (``0`` or ``1``); unsigned integers wider than a byte as
varints (7 bits a byte, low first, the high bit set on all but the last); signed ones zigzagged
first (``0, -1, 1, -2`` as ``0, 1, 2, 3``); ``f64`` 8 bytes little-endian; strings and byte
strings a varint length, then the bytes; ``Vec<T>`` a varint count, then the items; ``Option<T>``
a byte ``0`` (none) or ``1`` and the value; a struct its fields in order, with no names.
"""

from __future__ import annotations

import struct
from typing import Any

from .schema import Hint, int_width, list_of, name_of, optional_of, struct_fields, unsupported


class PostcardError(ValueError):
    """Bytes that are not a postcard encoding of the type asked for, or a value that does not
    fit its type."""


def encode(value: object, hint: Hint) -> bytes:
    """``value`` as postcard encodes the Rust type ``hint`` stands for. :class:`PostcardError`
    for a value out of its type's range, ``TypeError`` for one of another type."""
    out = bytearray()
    _encode(out, value, hint)
    return bytes(out)


def decode(data: bytes | bytearray | memoryview, hint: Hint) -> Any:
    """The value of type ``hint`` that ``data`` encodes, all of it. :class:`PostcardError` if it
    ends early, has bytes left over, or holds a value its type cannot (a bool ``2``, a varint too
    long for a ``u32``, text that is not UTF-8)."""
    reader = _Reader(memoryview(data).cast("B"))
    value = reader.value(hint)
    if reader.left:
        raise PostcardError(f"{reader.left} bytes left over after the value")
    return value


def _varint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def _expect(value: object, kind: type | tuple[type, ...], hint: Hint) -> None:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise TypeError(f"{type(value).__name__} {value!r} where a {name_of(hint)} is expected")


def _encode(out: bytearray, value: object, hint: Hint) -> None:
    if hint is bool:
        _expect(value, bool, hint)
        out.append(1 if value else 0)
    elif (width := int_width(hint)) is not None:
        _expect(value, int, hint)
        assert isinstance(value, int)
        try:
            width.to_wasm(value)
        except ValueError as error:
            raise PostcardError(str(error)) from None
        # zigzag: the sign in the lowest bit, so small negative numbers stay short
        _varint(out, (value << 1) ^ (value >> (width.bits - 1)) if width.signed else value)
    elif hint is float:
        _expect(value, (float, int), hint)
        assert isinstance(value, (float, int))
        out += struct.pack("<d", value)
    elif hint is str:
        _expect(value, str, hint)
        assert isinstance(value, str)
        data = value.encode()
        _varint(out, len(data))
        out += data
    elif hint is bytes:
        _expect(value, (bytes, bytearray), hint)
        assert isinstance(value, (bytes, bytearray))
        _varint(out, len(value))
        out += value
    elif (inner := optional_of(hint)) is not None:
        out.append(0 if value is None else 1)
        if value is not None:
            _encode(out, value, inner)
    elif (item := list_of(hint)) is not None:
        _expect(value, (list, tuple), hint)
        assert isinstance(value, (list, tuple))
        _varint(out, len(value))
        for element in value:
            _encode(out, element, item)
    elif (fields := struct_fields(hint)) is not None:
        _expect(value, hint, hint)  # type: ignore[arg-type]
        for name, field in fields:
            try:
                _encode(out, getattr(value, name), field)
            except (PostcardError, TypeError) as error:
                raise type(error)(f"field `{name}`: {error}") from None
    else:
        raise unsupported(hint)


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self._data = data
        self._at = 0

    @property
    def left(self) -> int:
        return len(self._data) - self._at

    def take(self, length: int) -> memoryview:
        if length > self.left:
            raise PostcardError(f"the input ends early: {length} bytes wanted, {self.left} left")
        start, self._at = self._at, self._at + length
        return self._data[start : self._at]

    def varint(self, bits: int) -> int:
        value = 0
        for shift in range(0, bits, 7):
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                if value >> bits:
                    raise PostcardError(f"a varint of {value} does not fit {bits} bits")
                return value
        raise PostcardError(f"a varint longer than a {bits}-bit value's")

    def value(self, hint: Hint) -> Any:
        if hint is bool:
            byte = self.take(1)[0]
            if byte > 1:
                raise PostcardError(f"a bool of {byte}")
            return byte == 1
        if (width := int_width(hint)) is not None:
            value = self.varint(width.bits)
            return (value >> 1) ^ -(value & 1) if width.signed else value
        if hint is float:
            return struct.unpack("<d", self.take(8))[0]
        if hint is str:
            data = self.take(self.varint(64))
            try:
                return str(data, "utf-8")
            except UnicodeDecodeError as error:
                raise PostcardError(f"a string that is not UTF-8: {error}") from None
        if hint is bytes:
            return bytes(self.take(self.varint(64)))
        if (inner := optional_of(hint)) is not None:
            tag = self.take(1)[0]
            if tag > 1:
                raise PostcardError(f"an option tag of {tag}")
            return self.value(inner) if tag else None
        if (item := list_of(hint)) is not None:
            count = self.varint(64)
            if count > self.left:  # every item but an empty struct's takes a byte at least
                raise PostcardError(f"{count} items announced, {self.left} bytes left")
            return [self.value(item) for _ in range(count)]
        if (fields := struct_fields(hint)) is not None:
            assert isinstance(hint, type)
            values = {}
            for name, field in fields:
                try:
                    values[name] = self.value(field)
                except PostcardError as error:
                    raise PostcardError(f"field `{name}`: {error}") from None
            return hint(**values)
        raise unsupported(hint)
