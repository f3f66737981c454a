"""Calls into the guest, raw: the ABI exports and the user's, each turned from wasmtime's
outcome into this package's.

Every call goes through :meth:`AbiCalls.invoke`, which is where the rules that hold for any call
are kept: a host function may call back only ``alloc``, ``realloc``, ``free`` and ``dealloc``
("Calls back into the guest" in ``docs/ABI.md``); a result lent in place is released before the
guest runs again (it may move memory); a trap carries the reason the guest recorded.
"""

from __future__ import annotations

import ctypes
from typing import Any

import wasmtime

# wasmtime-py's own bindings and its trap handling, for the unchecked call below: private names
# of the wasmtime-py version pyproject.toml pins (50.0.1), held to it by tests/test_crossings.py.
from wasmtime import _ffi as ffi
from wasmtime._func import enter_wasm

from .errors import (
    BadResult,
    GuestTrap,
    HostFunctionError,
    HostTrap,
    ReentrantCall,
    RuntimeFailure,
)
from .exports import AbiExports
from .memory import LinearMemory
from .result_block import locate

U32_MAX = 0xFFFF_FFFF
#: Default cap on the length of a result block the host agrees to read: 256 MiB.
DEFAULT_RESULT_CAP = 256 << 20
_TRAPS = (wasmtime.Trap, wasmtime.WasmtimeError)
#: The exports a host function may call in the instance that called it.
_CALLS_BACK = frozenset({"alloc", "realloc", "free", "dealloc"})


def to_i32(value: int) -> int:
    """A u32 as the signed i32 wasmtime takes."""
    if not 0 <= value <= U32_MAX:
        raise ValueError(f"{value} is not a u32")
    return value - (1 << 32) if value > 0x7FFF_FFFF else value


class _RawCall:
    """A function of i32 parameters and at most one i32 result, called through
    ``wasmtime_func_call_unchecked`` with its argument array made once: ``Func.__call__`` looks
    the function's type up and converts every value on every call, which was most of a small
    call's cost (docs/BENCHMARKS.md, "Python: calls without wasmtime-py's checked call"). Traps
    and errors come out as from ``Func.__call__``."""

    __slots__ = ("_count", "_func", "_reference", "_returns", "_values")

    def __init__(self, func: wasmtime.Func, params: int, returns: bool) -> None:
        # Kept so that the function outlives the reference to it.
        self._func = func
        self._reference = ctypes.byref(func._func)
        self._count = max(params, 1)
        self._values = (ffi.wasmtime_val_raw_t * self._count)()
        self._returns = returns

    @classmethod
    def of(cls, store: wasmtime.Store, func: wasmtime.Func) -> _RawCall | None:
        """The raw call of ``func``, or ``None`` when its type is not all i32."""
        ty = func.type(store)
        i32 = wasmtime.ValType.i32()
        if any(param != i32 for param in ty.params) or len(ty.results) > 1:
            return None
        if ty.results and ty.results[0] != i32:
            return None
        return cls(func, len(ty.params), bool(ty.results))

    def __call__(self, store: wasmtime.Store, *args: int) -> int | None:
        values = self._values
        for index, arg in enumerate(args):
            values[index].i32 = arg
        with enter_wasm(store) as trap:
            error = ffi.wasmtime_func_call_unchecked(
                store._context(), self._reference, values, self._count, trap
            )
            if error:
                raise wasmtime.WasmtimeError._from_ptr(error)
        return int(values[0].i32) if self._returns else None


class AbiCalls:
    """The calls into one instance, and the state they share: the export running while a host
    function it called runs, whether a ``0`` may have left an error pending, and the result
    block lent in place."""

    def __init__(self, store: wasmtime.Store, abi: AbiExports, memory: LinearMemory) -> None:
        self._store = store
        self._abi = abi
        self._memory = memory
        #: Result blocks longer than this are refused unread (:attr:`ResultProblem.TOO_LONG`), the
        #: reason read after a trap included.
        self.result_cap = DEFAULT_RESULT_CAP
        # The export running now, while a host function it called runs.
        self._running: str | None = None
        #: A call returned 0 and may have left an error pending that the host has not read: a
        #: call whose own 0 is to be explained clears it first, or it would report that error as
        #: its own.
        self.error_pending = False
        # The result block lent as a memoryview, and the views over it.
        self._lent_block = 0
        self._lent_views: list[memoryview] = []
        # Each function's raw call, made on its first call (None: called through wasmtime-py).
        self._raw: dict[int, tuple[wasmtime.Func, _RawCall | None]] = {}

    @property
    def lending(self) -> bool:
        """Whether a result is lent in place until the next call."""
        return self._lent_block != 0

    def refuse_call_back(self, function: str) -> None:
        """:class:`ReentrantCall` if a host function is running and ``function`` may not be called
        from it."""
        if self._running is not None and function not in _CALLS_BACK:
            raise ReentrantCall(function, self._running)

    def invoke(self, function: str, func: wasmtime.Func, *args: int, reason: bool = True) -> int:
        """Calls ``func`` and returns its i32 result as a u32 (``0`` for none); a trap becomes a
        :class:`GuestTrap` carrying the reason read through ``last_error`` (unless ``reason`` is
        false: asking ``last_error`` why ``last_error`` trapped would only trap again), a host
        function's :class:`HostTrap` a :class:`HostFunctionError`."""
        self.refuse_call_back(function)
        if self._lent_block:
            self._release_lent()
        outer, self._running = self._running, function
        found = self._raw.get(id(func))
        if found is None or found[0] is not func:
            found = (func, _RawCall.of(self._store, func))
            self._raw[id(func)] = found
        raw = found[1]
        try:
            result: Any = raw(self._store, *args) if raw is not None else func(self._store, *args)
        except HostTrap as trap:
            raise HostFunctionError(
                function, trap.host_function, trap.message, trap.error
            ) from trap
        except wasmtime.Trap as trap:
            raise GuestTrap(function, trap, self._trap_reason() if reason else None) from trap
        except wasmtime.WasmtimeError as error:
            raise RuntimeFailure(function, error) from error
        finally:
            self._running = outer
        return 0 if result is None else int(result) & U32_MAX

    def call_export(self, function: str, func: wasmtime.Func, *args: int) -> int:
        """:meth:`invoke` of a user's export, whose ``0`` may leave an error pending."""
        value = self.invoke(function, func, *args)
        if value == 0:
            self.error_pending = True
        return value

    # ---- the ABI exports ----------------------------------------------------------------------

    def alloc(self, length: int) -> int:
        return self.invoke("alloc", self._abi.alloc, to_i32(length))

    def dealloc(self, ptr: int, length: int) -> None:
        self.invoke("dealloc", self._abi.dealloc, to_i32(ptr), to_i32(length))

    def free(self, ptr: int) -> None:
        self.invoke("free", self._abi.free, to_i32(ptr))

    def realloc(self, ptr: int, new_length: int) -> int:
        return self.invoke("realloc", self._abi.realloc, to_i32(ptr), to_i32(new_length))

    def abi_version(self) -> int:
        return self.invoke("abi_version", self._abi.abi_version)

    def live_blocks(self) -> int | None:
        """The guest's count, or ``None`` without the ``stats`` feature."""
        if self._abi.live_blocks is None:
            return None
        return self.invoke("live_blocks", self._abi.live_blocks)

    def heap_bytes(self) -> int | None:
        if self._abi.heap_bytes is None:
            return None
        return self.invoke("heap_bytes", self._abi.heap_bytes)

    def last_error(self) -> int:
        """``last_error()``'s raw pointer; whatever was pending is taken by it."""
        self.error_pending = False
        return self.invoke("last_error", self._abi.last_error, reason=False)

    # ---- a result lent in place ---------------------------------------------------------------

    def lend(self, ptr: int, views: list[memoryview]) -> None:
        """Keeps the block at ``ptr`` and the ``views`` over it until the next call."""
        self._lent_block = ptr
        self._lent_views = views

    def _release_lent(self) -> None:
        """Makes the lent views unusable (``ValueError`` on any access), then frees the block.
        Raises ``BufferError``, changing nothing, while another object still exports a view
        (``numpy.frombuffer``, for example): it would outlive the block."""
        for view in self._lent_views:
            view.release()
        ptr, self._lent_block, self._lent_views = self._lent_block, 0, []
        self.free(ptr)

    def _trap_reason(self) -> str | None:
        """The reason recorded before a trap, read with wasmtime's calls: a guest whose ``free``
        or ``last_error`` traps as well must not send the host round in circles."""
        self.error_pending = False
        try:
            ptr = int(self._abi.last_error(self._store)) & U32_MAX
            if ptr == 0:
                return None
            start, length = locate(
                "last_error", ptr, self._memory.size(), self._memory.read_u32, self.result_cap
            )
            message = self._memory.read(start, length)
        except (*_TRAPS, BadResult):
            return None
        try:
            self._abi.free(self._store, to_i32(ptr))
        except _TRAPS:
            pass  # the instance is to be dropped after a trap anyway: the reason matters more
        return message.decode(errors="replace")
