"""The wasm shape of a host function, read from its annotations ("Arguments and results" under
"Host functions" in guestmem's ``docs/ABI.md``).

``bytes`` and ``str`` arguments are ``(ptr: i32, len: i32)`` pairs; ``bytes`` and ``str`` results
are result blocks (an ``i32``); ``None`` is no result. A Python ``int`` does not say how wide it
is, so integers are annotated with :data:`U32`, :data:`I32`, :data:`U64` or :data:`I64`, which are
``int`` to a type checker. A typed value (the guest's ``Json<T>``, ``Postcard<T>``) is annotated
:data:`Json` or :data:`Postcard` of its Python type (``Json[Rect]``: ``Rect`` to a type checker)
and travels as bytes do.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeAlias, TypeVar, Union, get_args, get_origin

import wasmtime


@dataclass(frozen=True)
class WasmInt:
    """An integer as it crosses to the guest: its wasm type (``i32`` or ``i64``) and whether the
    guest declared it signed."""

    name: str
    bits: int
    signed: bool

    def valtype(self) -> wasmtime.ValType:
        return wasmtime.ValType.i32() if self.bits == 32 else wasmtime.ValType.i64()

    def from_wasm(self, value: int) -> int:
        """The value wasmtime passes (signed), as the guest declared it."""
        unsigned = value & ((1 << self.bits) - 1)
        if self.signed and unsigned >> (self.bits - 1):
            return unsigned - (1 << self.bits)
        return unsigned

    def to_wasm(self, value: int) -> int:
        """``value`` as the signed wasm value; ``ValueError`` if it is not a value of this type."""
        low = -(1 << (self.bits - 1)) if self.signed else 0
        if not low <= value < low + (1 << self.bits):
            raise ValueError(f"{value} is out of range for {self.name}")
        return value - (1 << self.bits) if value >= 1 << (self.bits - 1) else value


#: Pointers and lengths are u32s too.
U32_WASM = WasmInt("u32", 32, signed=False)

#: An ``int`` the guest declares ``u32``.
U32: TypeAlias = Annotated[int, U32_WASM]
#: An ``int`` the guest declares ``i32``.
I32: TypeAlias = Annotated[int, WasmInt("i32", 32, signed=True)]
#: An ``int`` the guest declares ``u64``.
U64: TypeAlias = Annotated[int, WasmInt("u64", 64, signed=False)]
#: An ``int`` the guest declares ``i64``.
I64: TypeAlias = Annotated[int, WasmInt("i64", 64, signed=True)]

@dataclass(frozen=True)
class Format:
    """The format of a typed value: ``JSON`` or ``postcard``."""

    name: str


@dataclass(frozen=True)
class TypedValue:
    """A typed value as it crosses to the guest: its format and its Python type."""

    format: Format
    hint: object


T = TypeVar("T")
#: A value the guest declares ``Json<T>``: ``T`` to a type checker, JSON text on the way.
Json: TypeAlias = Annotated[T, Format("JSON")]
#: A value the guest declares ``Postcard<T>``: ``T`` to a type checker, postcard on the way.
Postcard: TypeAlias = Annotated[T, Format("postcard")]

#: What a host function may take and return (``None``: no result).
Kind: TypeAlias = Union[type[bytes], type[str], WasmInt, TypedValue, None]

#: A value a host function receives.
Arg: TypeAlias = Union[bytes, str, int, object]


def _kind(annotation: object) -> Kind | str:
    """The kind of ``annotation``, or why it has none."""
    if annotation is inspect.Parameter.empty:
        return "no annotation"
    if annotation is bytes:
        return bytes
    if annotation is str:
        return str
    if annotation is None or annotation is type(None):
        return None
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        widths = [item for item in metadata if isinstance(item, WasmInt)]
        if base is int and len(widths) == 1:
            return widths[0]
        formats = [item for item in metadata if isinstance(item, Format)]
        if len(formats) == 1:
            return TypedValue(formats[0], base)
    if annotation is int:
        return "`int` without a width: annotate it U32, I32, U64 or I64 (from guestmem)"
    return f"`{annotation}` is not bytes, str, U32, I32, U64, I64, Json[T], Postcard[T] or None"


@dataclass(frozen=True)
class HostSignature:
    """A host function's argument kinds and result kind, and whether it can fail."""

    params: tuple[Kind, ...]
    result: Kind
    fallible: bool

    @classmethod
    def of(
        cls, function: Callable[..., object], label: str, fallible: bool, with_data: bool = False
    ) -> HostSignature:
        """Reads the annotations of ``function``; ``TypeError`` naming ``label`` and the
        parameter when one is missing or is not a kind the ABI has. ``with_data``: the first
        parameter is the calling store's data, not the guest's, and is not read."""
        try:
            signature = inspect.signature(function, eval_str=True)
        except (NameError, TypeError, ValueError) as error:
            raise TypeError(f"host function `{label}`: its signature cannot be read: {error}")
        parameters = list(signature.parameters.values())
        if with_data:
            if not parameters or parameters[0].kind not in (
                parameters[0].POSITIONAL_ONLY,
                parameters[0].POSITIONAL_OR_KEYWORD,
            ):
                raise TypeError(
                    f"host function `{label}`: with_data=True, but it takes no first positional "
                    "parameter for the store's data"
                )
            parameters = parameters[1:]
        params: list[Kind] = []
        for parameter in parameters:
            if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                raise TypeError(
                    f"host function `{label}`: parameter `{parameter.name}` is not positional"
                )
            kind = _kind(parameter.annotation)
            if isinstance(kind, str) or kind is None:
                why = kind or "None is not an argument"
                raise TypeError(f"host function `{label}`: parameter `{parameter.name}`: {why}")
            params.append(kind)
        result = _kind(signature.return_annotation)
        if isinstance(result, str):
            raise TypeError(f"host function `{label}`: the result: {result} (`-> None` for none)")
        return cls(tuple(params), result, fallible)

    def func_type(self) -> wasmtime.FuncType:
        """The wasm type the guest imports."""
        i32 = wasmtime.ValType.i32()
        params: list[wasmtime.ValType] = []
        for kind in self.params:
            params += [kind.valtype()] if isinstance(kind, WasmInt) else [i32, i32]
        if isinstance(self.result, WasmInt):
            results = [self.result.valtype()]
        elif self.result is None and not self.fallible:
            results = []
        else:  # a result block, or 1 / 0 for a fallible function without a result
            results = [i32]
        return wasmtime.FuncType(params, results)
