"""Typed values on the host's side: the formats of guestmem's ``Json<T>`` and ``Postcard<T>``
("Typed values" in ``docs/ABI.md``), for Python values whose types :mod:`guestmem.schema` reads
(dataclasses for structs).

JSON is the standard library's, written as serde_json writes it (no spaces, UTF-8), ``bytes`` as
an array of numbers (serde's ``Vec<u8>``). postcard is :mod:`guestmem.postcard`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar, overload

from . import postcard
from .schema import Hint, int_width, list_of, name_of, optional_of, struct_fields, unsupported

T = TypeVar("T")


def to_json(value: object) -> bytes:
    """``value`` as JSON text, for a ``Json<T>`` argument: dataclasses as objects, ``bytes`` as
    arrays of numbers, ``list``, ``tuple``, ``dict`` and scalars as ``json`` writes them.
    ``TypeError`` or ``ValueError`` (NaN) for a value JSON has no form for."""
    text = json.dumps(
        _plain(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return text.encode()


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {field.name: _plain(getattr(value, field.name)) for field in fields}
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


@overload
def from_json(data: bytes | bytearray | memoryview) -> Any: ...
@overload
def from_json(data: bytes | bytearray | memoryview, into: type[T]) -> T: ...
def from_json(data: bytes | bytearray | memoryview, into: Hint | None = None) -> Any:
    """The value the JSON text ``data`` holds: as ``json`` reads it, or, given ``into``, built as
    that type (a dataclass from an object, its fields checked; a field missing is an error unless
    it is optional, a key with no field is ignored, as serde does). ``ValueError`` if ``data`` is
    not UTF-8 JSON or does not fit ``into``."""
    value = json.loads(str(data, "utf-8"))
    return value if into is None else _build(value, into, "")


def _build(value: Any, hint: Hint, where: str) -> Any:
    """``value`` as ``hint``; ``where`` leads the messages (``field `name`: ``)."""

    def wrong() -> ValueError:
        return ValueError(f"{where}{json.dumps(value)[:40]} is not a {name_of(hint)}")

    if (inner := optional_of(hint)) is not None:
        return None if value is None else _build(value, inner, where)
    if hint is bool or hint is str:
        if not isinstance(value, hint):
            raise wrong()
        return value
    if (width := int_width(hint)) is not None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise wrong()
        try:
            width.to_wasm(value)
        except ValueError as error:
            raise ValueError(f"{where}{error}") from None
        return value
    if hint is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise wrong()
        return float(value)
    if hint is bytes:
        if not isinstance(value, list) or not all(
            isinstance(byte, int) and 0 <= byte <= 255 for byte in value
        ):
            raise wrong()
        return bytes(value)
    if (item := list_of(hint)) is not None:
        if not isinstance(value, list):
            raise wrong()
        return [
            _build(element, item, f"{where}item {index}: ") for index, element in enumerate(value)
        ]
    if (fields := struct_fields(hint)) is not None:
        assert isinstance(hint, type)
        if not isinstance(value, dict):
            raise wrong()
        built = {}
        for name, field in fields:
            if name not in value and optional_of(field) is None:
                raise ValueError(f"{where}missing field `{name}`")
            built[name] = _build(value.get(name), field, f"{where}field `{name}`: ")
        return hint(**built)
    raise unsupported(hint)


def to_postcard(value: object, hint: Hint | None = None) -> bytes:
    """``value`` in postcard's binary form, for a ``Postcard<T>`` argument, as the type ``hint``
    (by default ``type(value)``: a dataclass, ``str``, ``bytes``, ``bool``, ``float``; an integer
    needs its width, ``U32`` and its kin). ``TypeError`` for a value of another type,
    :class:`~guestmem.postcard.PostcardError` (a ``ValueError``) for one out of range."""
    return postcard.encode(value, type(value) if hint is None else hint)


def from_postcard(data: bytes | bytearray | memoryview, into: type[T]) -> T:
    """The value of type ``into`` that ``data`` encodes in postcard's binary form, all of it.
    :class:`~guestmem.postcard.PostcardError` (a ``ValueError``) if it does not decode."""
    value: T = postcard.decode(data, into)
    return value


def encode(format: str, value: object, hint: Hint) -> bytes:
    """``value`` as the type ``hint`` in ``format``, ``"JSON"`` or ``"postcard"``."""
    return to_json(value) if format == "JSON" else postcard.encode(value, hint)


def decode(format: str, data: bytes | bytearray | memoryview, hint: Hint) -> Any:
    """The value of type ``hint`` that ``data`` holds in ``format``, ``"JSON"`` or
    ``"postcard"``."""
    if format == "JSON":
        return _build(json.loads(str(data, "utf-8")), hint, "")
    return postcard.decode(data, hint)
