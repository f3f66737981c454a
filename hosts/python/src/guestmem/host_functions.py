"""Host functions: Python callables a guest calls through its ``guestmem::import!`` declarations
("Host functions" in guestmem's ``docs/ABI.md``), defined on the user's own
:class:`wasmtime.Linker` beside the contract's ``guestmem.last_error``.

Inside a host function the calling instance is reached through wasmtime's :class:`wasmtime.Caller`:
its memory for the arguments, its ``alloc`` export for byte results. Every pointer the guest
passes is checked against the size of memory before a byte is read, and the address of memory is
taken afresh after ``alloc``, which may grow it.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Sequence
from typing import TypeAlias, Union

import wasmtime
from wasmtime import _ffi as wasmtime_ffi
from wasmtime import _value as wasmtime_value

from .errors import HostTrap, ReentrantCall
from .exports import is_i32_func
from .host_types import U32_WASM, Arg, HostSignature, TypedValue, WasmInt
from .result_block import PREFIX_LEN
from .typed import decode, encode

#: The exception types a fallible host function fails with: one, or a tuple of them.
Failures: TypeAlias = Union[type[Exception], tuple[type[Exception], ...]]

_U32_MAX = 0xFFFF_FFFF


class _Pending(threading.local):
    """The message of the host function that failed last on this thread, and the instance it is
    for (the address of its memory), until the guest reads it.

    One slot per thread, as in the Rust host: a host function and the ``guestmem.last_error`` call
    of the guest that follows run on the same thread, in the same call into the guest, and a
    host function called on the thread in between clears it, as the contract asks.
    """

    def __init__(self) -> None:
        self.memory = 0
        self.message: str | None = None

    def set(self, memory: int, message: str) -> None:
        self.memory, self.message = memory, message

    def clear(self) -> None:
        self.message = None

    def take(self, memory: int) -> str | None:
        if self.message is None or self.memory != memory:
            return None
        message, self.message = self.message, None
        return message


class _Calling:
    """The instance that called a host function, seen through its :class:`wasmtime.Caller`, valid
    for that call only."""

    def __init__(self, caller: wasmtime.Caller, label: str) -> None:
        memory = caller.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            raise HostTrap(label, "the calling module exports no memory")
        self._caller = caller
        self._memory = memory
        self._label = label

    def _address(self) -> int:
        """Where linear memory starts now; it moves when memory grows."""
        return ctypes.addressof(self._memory.data_ptr(self._caller).contents)

    def key(self) -> int:
        """What tells this instance from the others while it runs: where its memory lies."""
        return self._address()

    def read_args(self, signature: HostSignature, params: Sequence[int]) -> list[Arg]:
        """The values the host function receives, read from the wasm parameters and, for bytes and
        text, out of guest memory. :class:`HostTrap` for a range outside memory or text that is
        not UTF-8, or a typed value that does not decode."""
        args: list[Arg] = []
        index = 0
        for number, kind in enumerate(signature.params, 1):
            if isinstance(kind, WasmInt):
                args.append(kind.from_wasm(params[index]))
                index += 1
                continue
            ptr, length = params[index] & _U32_MAX, params[index + 1] & _U32_MAX
            index += 2
            data = self._read(ptr, length, number)
            if kind is str:
                try:
                    args.append(data.decode())
                except UnicodeDecodeError as error:
                    raise HostTrap(self._label, f"argument {number}: not UTF-8: {error}") from None
            elif isinstance(kind, TypedValue):
                try:
                    args.append(decode(kind.format.name, data, kind.hint))
                except (ValueError, TypeError) as error:
                    raise HostTrap(
                        self._label, f"argument {number}: not valid {kind.format.name}: {error}"
                    ) from None
            else:
                args.append(data)
        return args

    def _read(self, ptr: int, length: int, number: int) -> bytes:
        if length == 0:
            return b""
        size = self._memory.data_len(self._caller)
        if ptr + length > size:
            raise HostTrap(
                self._label,
                f"argument {number}: {length} bytes at {ptr:#x} are outside linear memory "
                f"({size} bytes)",
            )
        return ctypes.string_at(self._address() + ptr, length)

    def write_block(self, data: bytes) -> int:
        """A result block holding ``data``, from the guest's ``alloc``; ``0`` when ``alloc``
        returns ``0``. :class:`HostTrap` when ``data`` is too long for a u32 length, the guest has
        no ``alloc``, or it returns a block outside memory; a trap in ``alloc`` propagates."""
        length = len(data)
        if length > _U32_MAX - PREFIX_LEN:
            raise HostTrap(self._label, f"a result of {length} bytes does not fit a u32 length")
        alloc = self._caller.get("guestmem_alloc") or self._caller.get("alloc")
        if not isinstance(alloc, wasmtime.Func) or not is_i32_func(alloc.type(self._caller), 1, 1):
            raise HostTrap(self._label, "the calling module exports no `alloc(i32) -> i32`")
        total = length + PREFIX_LEN
        ptr = int(alloc(self._caller, U32_WASM.to_wasm(total))) & _U32_MAX
        if ptr == 0:
            return 0
        # alloc may have grown memory and moved it: its size and address are taken now.
        size = self._memory.data_len(self._caller)
        if ptr + total > size:
            raise HostTrap(
                self._label,
                f"the guest's alloc({total}) returned {ptr:#x}, outside linear memory "
                f"({size} bytes)",
            )
        address = self._address() + ptr
        ctypes.memmove(address, length.to_bytes(PREFIX_LEN, "little"), PREFIX_LEN)
        ctypes.memmove(address + PREFIX_LEN, data, length)
        return ptr


def _store_data(caller: wasmtime.Caller) -> object:
    """The data of the store that called, as ``wasmtime.Store(engine, data)`` was given it (or
    ``None``). wasmtime-py has ``Store.data()`` but no way there from a ``Caller``: this reads it
    as ``Store.data()`` does, through the pinned wasmtime-py's (50.0.1) own bindings; a test
    (``test_host_functions.py``) fails if a new version moves them."""
    data = wasmtime_ffi.wasmtime_context_get_data(caller._context())
    return wasmtime_value._unintern(data) if data else None  # type: ignore[arg-type]


class HostFunctions:
    """Defines host functions on a :class:`wasmtime.Linker`, and ``guestmem.last_error``, through
    which a guest reads why one failed.

    A host function is a callable whose parameters are annotated ``bytes``, ``str``, or an
    integer type of this package (:data:`~guestmem.U32`, :data:`~guestmem.I32`,
    :data:`~guestmem.U64`, :data:`~guestmem.I64`: ``int`` to a type checker, with the width the
    guest declares), and whose result is annotated one of those or ``None``. The annotations give
    the wasm type the guest imports, so mypy checks the function against what the guest receives.
    ``bytes`` and ``str`` arguments are copies out of guest memory (``str`` decoded strictly);
    ``bytes`` and ``str`` results are written into a block from the guest's own ``alloc``.
    :data:`~guestmem.Json` and :data:`~guestmem.Postcard` of a type (``Json[Rect]``) are the
    guest's typed values: decoded as that type on the way in, encoded on the way out.

    A function registered with ``fails_with`` can fail: an exception of those types is the failure
    the guest sees (``0``, and ``str(exception)`` through ``guestmem.last_error``). Any other
    exception, in any host function, is a bug of the host: the guest call traps, and
    :class:`~guestmem.Guest` raises :class:`~guestmem.HostFunctionError` naming the host function.

    Inside a host function, a call into the instance that called it through its
    :class:`~guestmem.Guest` is refused with :class:`~guestmem.ReentrantCall`, except ``alloc``,
    ``realloc``, ``free`` and ``dealloc`` ("Calls back into the guest").

    A function registered with ``with_data=True`` receives, before the guest's arguments, the
    data of the store that called (``wasmtime.Store(engine, data)``): which tenant or request
    the call is for, one store per instance.
    """

    def __init__(self, linker: wasmtime.Linker) -> None:
        """Defines ``guestmem.last_error`` on ``linker``; ``wasmtime.WasmtimeError`` if it has one
        already (and does not allow shadowing)."""
        self._linker = linker
        self._pending = _Pending()
        linker.define_func(
            "guestmem",
            "last_error",
            wasmtime.FuncType([], [wasmtime.ValType.i32()]),
            self._last_error,
            access_caller=True,
        )

    @property
    def linker(self) -> wasmtime.Linker:
        """The linker the functions are defined on."""
        return self._linker

    def func(
        self,
        module: str,
        name: str,
        function: Callable[..., object],
        *,
        fails_with: Failures = (),
        with_data: bool = False,
    ) -> HostFunctions:
        """Defines ``function`` as the host function ``module.name`` and returns ``self``.

        ``fails_with`` names the exceptions that are the function's failures (``Exception`` for
        all); without it the function cannot fail, as the guest declares it (``Result`` or not).
        ``with_data=True`` passes the calling store's data first, before the guest's arguments;
        its parameter needs no annotation the ABI has.

        Raises ``TypeError`` if a parameter or the result is not annotated with a type the ABI
        has, and ``wasmtime.WasmtimeError`` if the linker has ``module.name`` already.
        """
        label = f"{module}.{name}"
        failures = fails_with if isinstance(fails_with, tuple) else (fails_with,)
        for failure in failures:
            if not (isinstance(failure, type) and issubclass(failure, Exception)):
                raise TypeError(f"host function `{label}`: fails_with: {failure!r} is no exception")
        signature = HostSignature.of(
            function, label, fallible=bool(failures), with_data=with_data
        )
        pending = self._pending

        def call(caller: wasmtime.Caller, *params: int) -> int | None:
            calling = _Calling(caller, label)
            pending.clear()
            args = calling.read_args(signature, params)
            if with_data:
                args.insert(0, _store_data(caller))
            try:
                value = function(*args)
            except ReentrantCall as error:  # a bug of the host, whatever fails_with says
                raise HostTrap(label, str(error), error) from error
            except failures as error:
                pending.set(calling.key(), str(error))
                return 0
            except Exception as error:
                raise HostTrap(label, f"{type(error).__name__}: {error}", error) from error
            return _deliver(calling, pending, label, signature, value)

        self._linker.define_func(module, name, signature.func_type(), call, access_caller=True)
        return self

    def _last_error(self, caller: wasmtime.Caller) -> int:
        """``guestmem.last_error``: the pending message of this instance as a result block, or
        ``0`` when none is pending. With no memory for the block it traps rather than return
        ``0``, which a fallible integer would read as an answer (docs/ABI.md, "Failure")."""
        calling = _Calling(caller, "guestmem.last_error")
        message = self._pending.take(calling.key())
        if message is None:
            return 0
        block = calling.write_block(message.encode(errors="replace"))
        if block == 0:
            raise HostTrap(
                "guestmem.last_error", f"the guest's alloc returned 0 for the message: {message}"
            )
        return U32_WASM.to_wasm(block)


def _deliver(
    calling: _Calling, pending: _Pending, label: str, signature: HostSignature, value: object
) -> int | None:
    """``value``, returned by the host function, as the wasm result."""
    kind = signature.result

    def mistyped(expected: str) -> HostTrap:
        return HostTrap(label, f"returned {type(value).__name__} where {expected} was declared")

    if kind is None:
        if value is not None:
            raise mistyped("None")
        return 1 if signature.fallible else None
    if isinstance(kind, WasmInt):
        if not isinstance(value, int):
            raise mistyped(kind.name)
        try:
            return kind.to_wasm(value)
        except ValueError:
            raise HostTrap(label, f"returned {value}, out of range for {kind.name}") from None
    if isinstance(kind, TypedValue):
        try:
            data = encode(kind.format.name, value, kind.hint)
        except (ValueError, TypeError) as error:
            raise HostTrap(
                label, f"returned a value that is not {kind.format.name}: {error}", error
            ) from error
    elif kind is str:
        if not isinstance(value, str):
            raise mistyped("str")
        try:
            data = value.encode()
        except UnicodeEncodeError as error:
            raise HostTrap(label, f"returned text that has no UTF-8: {error}") from None
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    else:
        raise mistyped("bytes")
    ptr = calling.write_block(data)
    if ptr != 0:
        return U32_WASM.to_wasm(ptr)
    message = f"the guest's alloc({len(data) + PREFIX_LEN}) returned 0"
    if not signature.fallible:
        raise HostTrap(label, message)
    pending.set(calling.key(), message)
    return 0

