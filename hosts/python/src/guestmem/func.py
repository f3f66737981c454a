"""A guest export looked up once: the calls users make.

A call runs one way: its inputs are checked (arity, types, what the interface says), placed
(:mod:`guestmem.inputs`), the export called (:mod:`guestmem.calls`), the placed blocks freed, and
the result read (:mod:`guestmem.results`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

import wasmtime

from .calls import AbiCalls
from .errors import (
    ArityError,
    BadResult,
    CallRefused,
    ExportError,
    GuestError,
    GuestFailed,
    GuestTrap,
    HostFunctionError,
    ResultProblem,
    TypedValueError,
)
from .inputs import Input, Inputs, as_bytes
from .interface import Function, Kind
from .memory import Buffer
from .results import Results
from .typed import from_json, from_postcard, to_json, to_postcard

T = TypeVar("T")

#: Results that are result blocks.
_BLOCKS = frozenset({Kind.BYTES, Kind.STRING, Kind.JSON, Kind.POSTCARD})
#: Results that are text, and arguments that must be.
_TEXT = frozenset({Kind.STRING, Kind.JSON})
#: Results that are integers an i32 holds.
_INTEGERS = frozenset({Kind.U8, Kind.U16, Kind.U32, Kind.I8, Kind.I16, Kind.I32})
_JSON = frozenset({Kind.JSON})
_POSTCARD = frozenset({Kind.POSTCARD})
#: The formats' names, by kind.
_FORMATS = {Kind.JSON: "JSON", Kind.POSTCARD: "postcard"}


class GuestFunc:
    """A guest export taking byte inputs as ``(ptr, len)`` pairs and returning an i32 (a result
    block, or an integer), looked up once with :meth:`Guest.func`.

    Each call copies its inputs in (``bytes``, ``bytearray``, ``memoryview``, or ``str`` as
    UTF-8), calls the export, and frees what it allocated. The methods are named as in the Rust
    and JavaScript hosts: ``call_bytes``, ``call_string``, ``call_view`` (Rust's
    ``call_borrowed``), ``call_int`` (``call_u32``, ``callU32``), ``call_raw``, ``call_json``,
    ``call_postcard``.
    """

    def __init__(
        self,
        name: str,
        func: wasmtime.Func,
        ty: wasmtime.FuncType,
        signature: Function | None,
        *,
        calls: AbiCalls,
        inputs: Inputs,
        results: Results,
    ) -> None:
        i32 = wasmtime.ValType.i32()
        params = len(ty.params)
        if (
            params % 2
            or len(ty.results) != 1
            or not all(value == i32 for value in [*ty.params, *ty.results])
        ):
            raise ExportError(
                name, "is not a function taking (ptr: i32, len: i32) pairs and returning an i32"
            )
        self._func = func
        self._calls = calls
        self._inputs = inputs
        self._results = results
        self.name = name
        #: How many byte inputs it takes.
        self.inputs = params // 2
        #: What the module's interface section says of it, if the guest has an interface.
        self.signature = signature
        self._result = None if signature is None else signature.result
        args = () if signature is None else signature.args
        # The arguments' names, for the errors that name them.
        self._names = tuple(arg.name for arg in args)
        # The inputs that must be UTF-8, by the interface: checked before every call.
        self._text_inputs = tuple(
            (index, arg.name, arg.kind) for index, arg in enumerate(args) if arg.kind in _TEXT
        )
        # The inputs the guest takes: passed in blocks of their own, never freed by the host.
        self._owned = frozenset(index for index, arg in enumerate(args) if arg.owned)

    def __repr__(self) -> str:
        return f"GuestFunc({self.name!r}, inputs={self.inputs})"

    def call_bytes(self, *inputs: Input) -> bytes:
        """Calls it and returns a copy of the result block's bytes; the block is freed.

        Raises :class:`GuestFailed` if it returned ``0`` (with ``last_error``'s message),
        :class:`BadResult` if the block cannot be trusted, :class:`GuestTrap` if it trapped;
        :class:`CallRefused`, before the guest runs, if its interface says it returns no block.
        """
        self._expect(_BLOCKS, "call_bytes")
        ptr = self._call(inputs)
        if ptr == 0:
            raise self._results.failure(self.name)
        return self._results.take(self.name, ptr)

    def call_string(self, *inputs: Input) -> str:
        """Calls it and returns the result block's text; :class:`BadResult` if not UTF-8,
        :class:`CallRefused` if its interface gives a result that is not text (``string``,
        ``json``)."""
        self._expect(_TEXT, "call_string")
        data = self.call_bytes(*inputs)
        try:
            return data.decode()
        except UnicodeDecodeError as error:
            raise BadResult(self.name, ResultProblem.NOT_UTF8, str(error)) from None

    def call_view(self, *inputs: Input) -> memoryview:
        """Calls it and lends the result's bytes where they lie in guest memory, without a copy.

        The read-only view is valid until the next call into this guest (any call: it may grow
        memory and move it); then it is released, so that using it raises ``ValueError``, and the
        block is freed. Slices of the view are not released with it: copy (``bytes(view)``)
        whatever must outlive the next call.
        """
        self._expect(_BLOCKS, "call_view")
        ptr = self._call(inputs)
        return self._results.lend(self.name, ptr)

    def call_int(self, *inputs: Input) -> int:
        """Calls a function that returns an integer, and returns the i32 it returns as a u32
        (``call_u32`` in the Rust host, ``callU32`` in the JavaScript host). One method serves
        every integer kind an i32 carries (``u8``, ``u16``, ``u32``, ``i8``, ``i16``, ``i32``):
        a Python ``int`` holds each, so there is no width to choose by name.

        ``0`` is an answer unless the call left an error pending: then it is
        :class:`GuestFailed`. An error pending from an earlier call is cleared first, so it is
        never reported as this call's. :class:`CallRefused` if its interface gives a result that
        is not such an integer."""
        self._expect(_INTEGERS, "call_int")
        value = self._call(inputs)
        if value == 0:
            message = self._results.last_error()
            if message is not None:
                raise GuestFailed(self.name, message)
        return value

    def call_raw(self, *inputs: Input) -> int:
        """Calls it and returns its raw i32 result as a u32: a result block's pointer is the
        caller's to take (:meth:`Guest.take_result`)."""
        return self._run(self._check_inputs(inputs))

    @overload
    def call_json(self, *values: object) -> Any: ...
    @overload
    def call_json(self, *values: object, into: type[T]) -> T: ...
    def call_json(self, *values: object, into: type[T] | None = None) -> Any:
        """Calls an export that takes and returns ``Json<T>``: every argument is a value encoded
        as JSON (:func:`~guestmem.to_json`), and the result is decoded (:func:`~guestmem.from_json`,
        built as ``into`` when given). :class:`TypedValueError` if an argument does not encode
        (the guest does not run) or the result does not decode; :class:`CallRefused` if the
        interface gives an argument or the result another kind; the errors of
        :meth:`call_bytes`."""
        self._expect(_JSON, "call_json")
        data = self.call_bytes(*self._encode(values, Kind.JSON, to_json))
        try:
            return from_json(data) if into is None else from_json(data, into)
        except (ValueError, TypeError) as error:
            raise TypedValueError(self.name, "JSON", f"the result: {error}") from error

    def call_postcard(self, *values: object, into: type[T]) -> T:
        """Calls an export that takes and returns ``Postcard<T>``: every argument is a value
        encoded as its type says (:func:`~guestmem.to_postcard`: a dataclass, ``str``, ``bytes``,
        ``bool``, ``float``), and the result is decoded as ``into``. Errors as
        :meth:`call_json`."""
        self._expect(_POSTCARD, "call_postcard")
        data = self.call_bytes(*self._encode(values, Kind.POSTCARD, to_postcard))
        try:
            return from_postcard(data, into)
        except (ValueError, TypeError) as error:
            raise TypedValueError(self.name, "postcard", f"the result: {error}") from error

    def _encode(
        self, values: tuple[object, ...], kind: Kind, encode: Callable[[object], bytes]
    ) -> list[bytes]:
        """``values`` encoded as ``kind``, each; refused if the interface gives an argument
        another kind."""
        if len(values) != self.inputs:
            raise ArityError(self.name, self.inputs, len(values))
        args = self.signature.args if self.signature is not None else ()
        encoded: list[bytes] = []
        for index, value in enumerate(values):
            label = f"argument `{args[index].name}`" if args else f"argument {index + 1}"
            if args and args[index].kind is not kind:
                raise CallRefused(
                    self.name,
                    f"{label} is {args[index].kind} (its interface says): `call_{kind}` encodes "
                    f"every argument as {_FORMATS[kind]}",
                )
            try:
                encoded.append(encode(value))
            except (ValueError, TypeError) as error:
                raise TypedValueError(self.name, _FORMATS[kind], f"{label}: {error}") from error
        return encoded

    def _expect(self, kinds: frozenset[Kind], method: str) -> None:
        """Refuses a call ``method`` whose result is not one of ``kinds``, when the interface
        says what the result is."""
        if self._result is not None and self._result not in kinds:
            raise CallRefused(
                self.name,
                f"returns {self._result} (its interface says), which `{method}` does not read",
            )

    def _check_inputs(self, inputs: tuple[Input, ...]) -> list[Buffer]:
        """The bytes of ``inputs``, refused before the guest runs for another arity
        (:class:`ArityError`), an input that is not bytes or text (``TypeError``), or text the
        interface says must be UTF-8 that is not (:class:`CallRefused`)."""
        if len(inputs) != self.inputs:
            raise ArityError(self.name, self.inputs, len(inputs))
        names = self._names
        data = [
            as_bytes(value, self.name, index + 1, names[index] if names else None)
            for index, value in enumerate(inputs)
        ]
        for index, arg, kind in self._text_inputs:
            if isinstance(inputs[index], str):
                continue
            try:
                str(data[index], "utf-8")
            except UnicodeDecodeError as error:
                raise CallRefused(
                    self.name, f"argument `{arg}` ({kind}) is not UTF-8: {error}"
                ) from None
        return data

    def _call(self, inputs: tuple[Input, ...]) -> int:
        """A call whose ``0`` is to be explained by ``last_error``: an error an earlier call left
        pending is taken first."""
        data = self._check_inputs(inputs)
        self._calls.refuse_call_back(self.name)
        self._results.clear_pending_error()
        return self._run(data)

    def _run(self, data: list[Buffer]) -> int:
        """Places ``data``, calls the export and frees what was placed apart but the owned
        inputs, which the guest took; after a trap the inputs are left to the instance, which is
        to be dropped."""
        self._calls.refuse_call_back(self.name)
        placed = self._inputs.place(self.name, data, self._owned)
        try:
            value = self._calls.call_export(self.name, self._func, *placed.args)
        except (GuestTrap, HostFunctionError):
            raise
        except GuestError:
            self._inputs.release(placed, taken=self._owned)
            raise
        self._inputs.release(placed, taken=self._owned)
        return value
