"""Python type hints read as the Rust types a typed value has on the guest's side (serde's data
model): what :mod:`guestmem.postcard` encodes field by field, and what
:func:`guestmem.from_json` builds.

| hint | Rust |
|---|---|
| a dataclass | a struct, its fields in order |
| ``bool``, ``str``, ``bytes``, ``float`` | ``bool``, ``String``, ``Vec<u8>``, ``f64`` |
| ``U32``, ``I32``, ``U64``, ``I64`` | ``u32``, ``i32``, ``u64``, ``i64`` |
| ``list[T]``, ``T | None`` | ``Vec<T>``, ``Option<T>`` |
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Annotated, Union, get_args, get_origin

from .host_types import WasmInt

#: Type hints, as far as this module reads them: a type, ``Annotated[int, ...]``, ``list[T]``,
#: ``T | None``.
Hint = object


def int_width(hint: Hint) -> WasmInt | None:
    """The width of ``U32`` and its kin; ``None`` for any other hint."""
    if get_origin(hint) is Annotated:
        base, *metadata = get_args(hint)
        widths = [item for item in metadata if isinstance(item, WasmInt)]
        if base is int and len(widths) == 1:
            return widths[0]
    return None


def optional_of(hint: Hint) -> Hint | None:
    """``T`` for ``T | None`` (``Optional[T]``); ``None`` for any other hint."""
    if get_origin(hint) in (Union, types.UnionType):
        args = get_args(hint)
        if len(args) == 2 and type(None) in args:
            inner: Hint = args[0] if args[1] is type(None) else args[1]
            return inner
    return None


def list_of(hint: Hint) -> Hint | None:
    """``T`` for ``list[T]``; ``None`` for any other hint."""
    if get_origin(hint) is list:
        (item,) = get_args(hint)
        return typing.cast(Hint, item)
    return None


@functools.cache
def struct_fields(hint: Hint) -> tuple[tuple[str, Hint], ...] | None:
    """A dataclass's fields in order, with their resolved hints; ``None`` if ``hint`` is not a
    dataclass. ``TypeError`` if a hint cannot be resolved (a name defined inside a function)."""
    if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
        return None
    try:
        hints = typing.get_type_hints(hint, include_extras=True)
    except NameError as error:
        raise TypeError(f"the fields of {hint.__name__} cannot be resolved: {error}") from None
    return tuple((field.name, hints[field.name]) for field in dataclasses.fields(hint))


def name_of(hint: Hint) -> str:
    """``hint`` as messages name it: ``str``, ``u32``, ``list[str]``, ``Rect``."""
    width = int_width(hint)
    if width is not None:
        return width.name
    if isinstance(hint, type) and get_origin(hint) is None:
        return hint.__name__
    return str(hint).replace("typing.", "")


def unsupported(hint: Hint) -> TypeError:
    """The error for a hint that is none of the above."""
    if hint is int:
        return TypeError("`int` without a width: annotate it U32, I32, U64 or I64 (from guestmem)")
    return TypeError(
        f"`{name_of(hint)}` is not a dataclass, bool, str, bytes, float, U32, I32, U64, I64, "
        "list or optional"
    )
