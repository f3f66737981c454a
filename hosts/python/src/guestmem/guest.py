"""One instance of a guest module, seen through the ABI of guestmem's ``docs/ABI.md``.

Every access to linear memory takes a fresh address after the last call into the guest (a call
may grow memory and move it), every pointer and length the guest hands back is checked against
the size of memory before anything is read, a ``0`` result becomes :class:`GuestFailed` with
``last_error``'s message, and a trap becomes :class:`GuestTrap` with the reason the guest recorded.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence, Set

import wasmtime

from .errors import (
    AbiMismatch,
    AllocFailed,
    BadResult,
    ExportError,
    GuestError,
    GuestFailed,
    GuestTrap,
    HostFunctionError,
    HostTrap,
    InputTooLong,
    InterfaceError,
    OutOfBounds,
    ReentrantCall,
    ResultProblem,
    RuntimeFailure,
)
from .exports import AbiExports, is_i32_func
from .func import GuestFunc
from .inputs import OWNED_ROOM, Input, InputBlock, packed_len, stride
from .interface import Interface
from .result_block import locate

#: The version of guestmem's ABI this host speaks: a guest's ``abi_version()`` must return it.
ABI_VERSION = 1
#: Default cap on the length of a result block the host agrees to read: 256 MiB.
DEFAULT_RESULT_CAP = 256 << 20

_U32_MAX = 0xFFFF_FFFF
_TRAPS = (wasmtime.Trap, wasmtime.WasmtimeError)
#: The exports a host function may call in the instance that called it ("Calls back into the
#: guest" in docs/ABI.md).
_CALLS_BACK = frozenset({"alloc", "realloc", "free", "dealloc"})


def _i32(value: int) -> int:
    """A u32 as the signed i32 wasmtime takes."""
    if not 0 <= value <= _U32_MAX:
        raise ValueError(f"{value} is not a u32")
    return value - (1 << 32) if value > 0x7FFF_FFFF else value


def _as_bytes(value: Input) -> bytes | bytearray | memoryview:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, memoryview) and (value.format != "B" or value.ndim != 1):
        return value.cast("B")
    return value


def _copy_in(address: int, data: bytes | bytearray | memoryview) -> None:
    """Copies ``data`` to ``address``, which the caller checked lies inside linear memory."""
    length = len(data)
    if length == 0:
        return
    if isinstance(data, bytes):
        ctypes.memmove(address, data, length)
        return
    with memoryview((ctypes.c_ubyte * length).from_address(address)) as raw:
        with raw.cast("B") as destination:
            destination[:] = data


class Guest:
    """One instance of a guestmem guest, in the user's own :class:`wasmtime.Store`.

    Calls (through :meth:`func`) take inputs as bytes or text, copy them into guest memory, and
    give results back as ``bytes``, ``str`` or ``int``, or lend them in place as a memoryview;
    every block the host allocates or receives is freed, on success and on every error short of a
    trap. After a :class:`GuestTrap`, drop the instance: whatever the call was doing is lost.
    """

    def __init__(self, store: wasmtime.Store, instance: wasmtime.Instance) -> None:
        """Wraps an instance made by the user: runs its ``_initialize`` export if it has one (a
        WASI reactor, such as a wasm32-wasip1 library), looks up the ABI exports (``guestmem_NAME``
        first, then ``NAME``), and checks ``abi_version()``.

        Raises :class:`ExportError` if ``memory`` or an ABI export is missing or has the wrong
        type (``live_blocks`` and ``heap_bytes`` are optional), :class:`AbiMismatch` if the guest
        speaks another version, :class:`GuestTrap` if ``_initialize`` or ``abi_version`` traps.
        """
        self._store = store
        self._instance = instance
        self._exports = instance.exports(store)
        initialize = self._exports.get("_initialize")
        if initialize is not None:
            if not isinstance(initialize, wasmtime.Func) or not is_i32_func(
                initialize.type(store), 0, 0
            ):
                raise ExportError("_initialize", "is not a function without params and results")
            try:
                initialize(store)
            except HostTrap as trap:
                raise HostFunctionError(
                    "_initialize", trap.host_function, trap.message, trap.error
                ) from trap
            except wasmtime.Trap as trap:
                raise GuestTrap("_initialize", trap, None) from trap
            except wasmtime.WasmtimeError as error:
                raise RuntimeFailure("_initialize", error) from error
        memory = self._exports.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            raise ExportError("memory", "no exported memory")
        self._memory = memory
        self._abi = AbiExports.find(store, self._exports)
        #: Results longer than this are rejected (:attr:`ResultProblem.TOO_LONG`) and freed unread.
        self.result_cap = DEFAULT_RESULT_CAP
        # The block small inputs are copied into, kept from call to call: the guest only borrows
        # inputs, so the contract allows it, and it saves an alloc and a free per call.
        self._inputs = InputBlock()
        # A call returned 0 and may have left an error pending that the host has not read: an
        # integer call clears it first, or it would report that error as its own.
        self._error_pending = False
        # The result block lent as a memoryview (call_view), and the views over it: released and
        # freed before the next call into the guest, which may move memory.
        self._lent_block = 0
        self._lent_views: list[memoryview] = []
        # The export running now, while a host function it called runs: calls back are refused
        # but for _CALLS_BACK.
        self._running: str | None = None
        self._interface: Interface | None = None
        found = self.abi_version()
        if found != ABI_VERSION:
            raise AbiMismatch(found, ABI_VERSION)

    @classmethod
    def instantiate(
        cls,
        store: wasmtime.Store,
        linker: wasmtime.Linker,
        module: wasmtime.Module,
        *,
        interface: Interface | None = None,
    ) -> Guest:
        """Instantiates ``module`` with the imports of ``linker`` (WASI, host functions: the
        user's to add) in ``store``, checks it as the constructor does, and gives it
        ``interface`` (:meth:`set_interface`): ``Interface.read(wasm)`` of the module's bytes,
        which wasmtime does not keep."""
        try:
            instance = linker.instantiate(store, module)
        except HostTrap as trap:
            raise HostFunctionError(
                "(start)", trap.host_function, trap.message, trap.error
            ) from trap
        except wasmtime.Trap as trap:
            raise GuestTrap("(start)", trap, None) from trap
        except wasmtime.WasmtimeError as error:
            raise RuntimeFailure("(instantiate)", error) from error
        guest = cls(store, instance)
        guest.set_interface(interface)
        return guest

    @property
    def store(self) -> wasmtime.Store:
        """The store, for fuel, limits and the user's data."""
        return self._store

    @property
    def instance(self) -> wasmtime.Instance:
        """The wasmtime instance, for exports this library does not wrap."""
        return self._instance

    @property
    def memory(self) -> wasmtime.Memory:
        """The guest's linear memory."""
        return self._memory

    def func(self, name: str) -> GuestFunc:
        """Looks up export ``name``, a function taking ``(ptr, len)`` pairs and returning an i32,
        once, for repeated calls. Raises :class:`ExportError` if it is missing or has another
        type."""
        return GuestFunc(self, name)

    def set_interface(self, interface: Interface | None) -> None:
        """Gives the guest the interface its module describes (:meth:`Interface.read` of the
        module's bytes; ``None``: none, as for a module without the section). Exports looked up
        with :meth:`func` from then on refuse, before the guest runs, a call whose result method
        does not read the result the interface gives, and text that is not UTF-8 for a
        ``string`` or ``json`` argument (:class:`CallRefused`).

        :class:`InterfaceError` if an export the interface describes is missing, or its wasm
        type is not the one its kinds make; the guest keeps its interface then."""
        for function in () if interface is None else interface.exports:
            func = self._exports.get(function.name)
            if not isinstance(func, wasmtime.Func):
                raise InterfaceError(function.name, f"`{function}` is described but not exported")
            ty = func.type(self._store)
            if (list(ty.params), list(ty.results)) != function.wasm_type():
                params = ", ".join(str(value) for value in ty.params)
                results = ", ".join(str(value) for value in ty.results)
                raise InterfaceError(
                    function.name,
                    f"`{function}` does not match the export's wasm type ({params}) -> ({results})",
                )
        self._interface = interface

    @property
    def interface(self) -> Interface | None:
        """The interface given with :meth:`set_interface`, if any."""
        return self._interface

    def export(self, name: str) -> object | None:
        """The export ``name`` of the instance, or ``None``."""
        return self._exports.get(name)

    def memory_size(self) -> int:
        """The current size of linear memory, in bytes."""
        return self._memory.data_len(self._store)

    def memory_pages(self) -> int:
        """The current size of linear memory, in 64 KiB pages (``memory.size``)."""
        return self._memory.size(self._store)

    # ---- the ABI exports, raw -----------------------------------------------------------------

    def alloc(self, length: int) -> int:
        """``alloc(length)``, returning the raw pointer (``0`` on failure)."""
        return self._invoke("alloc", self._abi.alloc, _i32(length))

    def dealloc(self, ptr: int, length: int) -> None:
        """``dealloc(ptr, length)``; a wrong length or a bad pointer is a :class:`GuestTrap`."""
        self._invoke("dealloc", self._abi.dealloc, _i32(ptr), _i32(length))

    def free(self, ptr: int) -> None:
        """``free(ptr)``; a bad pointer is a :class:`GuestTrap`."""
        self._invoke("free", self._abi.free, _i32(ptr))

    def realloc(self, ptr: int, new_length: int) -> int:
        """``realloc(ptr, new_length)``, returning the raw pointer (``0`` on failure)."""
        return self._invoke("realloc", self._abi.realloc, _i32(ptr), _i32(new_length))

    def abi_version(self) -> int:
        """``abi_version()``."""
        return self._invoke("abi_version", self._abi.abi_version)

    def live_blocks(self) -> int | None:
        """``live_blocks()``, less the one block this host keeps for inputs, or ``None`` if the
        guest was built without ``stats``."""
        if self._abi.live_blocks is None:
            return None
        blocks = self._invoke("live_blocks", self._abi.live_blocks)
        return max(blocks - self._inputs.blocks, 0)

    def heap_bytes(self) -> int | None:
        """``heap_bytes()``, or ``None`` without ``stats``. It counts the block kept for inputs:
        call :meth:`release_input_block` first to compare with an empty heap."""
        if self._abi.heap_bytes is None:
            return None
        return self._invoke("heap_bytes", self._abi.heap_bytes)

    def release_input_block(self) -> None:
        """Frees the block this host keeps for small inputs, if it has one; the next call
        allocates a new one. Refused (:class:`ReentrantCall`) inside a host function: the running
        call's inputs lie in it."""
        self._refuse_call_back("release_input_block")
        ptr = self._inputs.take()
        if ptr is not None:
            self.free(ptr)

    def last_error(self) -> str | None:
        """Takes the pending error message: ``last_error()``, then reads and frees the block.
        Raises :class:`BadResult` if the block cannot be read or is not UTF-8."""
        self._error_pending = False
        ptr = self._invoke("last_error", self._abi.last_error, reason=False)
        if ptr == 0:
            return None
        message = self._take("last_error", ptr)
        try:
            return message.decode()
        except UnicodeDecodeError as error:
            raise BadResult("last_error", ResultProblem.NOT_UTF8, str(error)) from None

    def call_raw(self, function: str, *args: int) -> int:
        """Calls export ``function`` with u32 arguments and returns its i32 result as a u32 (``0``
        if it returns nothing): a result block's pointer is the caller's to take
        (:meth:`take_result`)."""
        func = self._exports.get(function)
        if not isinstance(func, wasmtime.Func):
            raise ExportError(function, "missing, or not a function")
        value = self._invoke(function, func, *(_i32(arg) for arg in args))
        if value == 0:
            self._error_pending = True
        return value

    # ---- linear memory ------------------------------------------------------------------------

    def write(self, ptr: int, data: Input) -> None:
        """Copies ``data`` into linear memory at ``ptr``; :class:`OutOfBounds` if it does not fit."""
        data = _as_bytes(data)
        self._check_range("write", ptr, len(data))
        _copy_in(self._address() + ptr, data)

    def read(self, ptr: int, length: int) -> bytes:
        """Copies ``length`` bytes out of linear memory at ``ptr``."""
        self._check_range("read", ptr, length)
        return ctypes.string_at(self._address() + ptr, length) if length else b""

    def put(self, data: Input) -> int:
        """Allocates a block for ``data`` and copies it in: a block the caller owns and frees."""
        return self._put("alloc", _as_bytes(data))

    def take_result(self, function: str, ptr: int) -> bytes:
        """Turns the raw result ``ptr`` of ``function`` into its bytes, freeing the block:
        :class:`GuestFailed` if ``ptr`` is ``0``, :class:`BadResult` if it cannot be trusted."""
        if ptr == 0:
            raise self._failure(function)
        return self._take(function, ptr)

    # ---- what GuestFunc calls -----------------------------------------------------------------

    def _address(self) -> int:
        """Where linear memory starts now; it moves when memory grows."""
        return ctypes.addressof(self._memory.data_ptr(self._store).contents)

    def _check_range(self, function: str, ptr: int, length: int) -> None:
        memory = self._memory.data_len(self._store)
        if ptr < 0 or length < 0 or ptr + length > memory:
            raise OutOfBounds(function, ptr, length, memory)

    def _refuse_call_back(self, function: str) -> None:
        """:class:`ReentrantCall` if a host function is running and ``function`` may not be called
        from it."""
        if self._running is not None and function not in _CALLS_BACK:
            raise ReentrantCall(function, self._running)

    def _invoke(self, function: str, func: wasmtime.Func, *args: int, reason: bool = True) -> int:
        """Calls ``func`` and returns its i32 result as a u32 (``0`` for none); a trap becomes a
        :class:`GuestTrap` carrying the reason read through ``last_error`` (unless ``reason`` is
        false: asking ``last_error`` why ``last_error`` trapped would only trap again), a host
        function's :class:`HostTrap` a :class:`HostFunctionError`."""
        self._refuse_call_back(function)
        if self._lent_block:
            self._release_view()
        outer, self._running = self._running, function
        try:
            result = func(self._store, *args)
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
        return 0 if result is None else int(result) & _U32_MAX

    def _trap_reason(self) -> str | None:
        """The reason recorded before a trap, read with raw calls: a guest whose ``free`` or
        ``last_error`` traps as well must not send the host round in circles."""
        self._error_pending = False
        try:
            ptr = int(self._abi.last_error(self._store)) & _U32_MAX
            if ptr == 0:
                return None
            start, length = self._locate("last_error", ptr)
            message = ctypes.string_at(self._address() + start, length)
        except (*_TRAPS, BadResult):
            return None
        try:
            self._abi.free(self._store, _i32(ptr))
        except _TRAPS:
            pass  # the instance is to be dropped after a trap anyway: the reason matters more
        return message.decode(errors="replace")

    def _locate(self, function: str, ptr: int) -> tuple[int, int]:
        memory = self._memory.data_len(self._store)
        address = self._address() if memory else 0

        def read_u32(offset: int) -> int:
            return int.from_bytes(ctypes.string_at(address + offset, 4), "little")

        return locate(function, ptr, memory, read_u32, self.result_cap)

    def _take(self, function: str, ptr: int) -> bytes:
        """Copies the payload of the result block at ``ptr`` out, then frees the block."""
        try:
            start, length = self._locate(function, ptr)
        except BadResult as error:
            # A block that is only too long is still a block: give it back. Anything else is not
            # a block, and freeing it would only make the guest trap.
            if error.problem is ResultProblem.TOO_LONG:
                self.free(ptr)
            raise
        data = ctypes.string_at(self._address() + start, length) if length else b""
        self.free(ptr)
        return data

    def _lend(self, function: str, ptr: int) -> memoryview:
        """Lends the payload of the result block at ``ptr`` in place, until the next call."""
        if ptr == 0:
            raise self._failure(function)
        try:
            start, length = self._locate(function, ptr)
        except BadResult as error:
            if error.problem is ResultProblem.TOO_LONG:
                self.free(ptr)
            raise
        raw = memoryview((ctypes.c_ubyte * length).from_address(self._address() + start))
        cast = raw.cast("B")
        view = cast.toreadonly()
        self._lent_block = ptr
        self._lent_views = [view, cast, raw]
        return view

    def _release_view(self) -> None:
        """Makes the lent view unusable (``ValueError`` on any access), then frees its block.
        Raises ``BufferError``, changing nothing, while another object still exports the view
        (``numpy.frombuffer``, for example): it would outlive the block."""
        for view in self._lent_views:
            view.release()
        ptr, self._lent_block, self._lent_views = self._lent_block, 0, []
        self.free(ptr)

    def _failure(self, function: str) -> GuestFailed:
        """The failure of ``function``, which returned ``0``, with ``last_error``'s message."""
        try:
            message = self.last_error()
        except GuestError as error:
            message = f"returned 0 and last_error failed: {error}"
        return GuestFailed(function, message or "returned 0 and no error is pending")

    def _clear_pending_error(self) -> None:
        if self._error_pending:
            self.last_error()

    def _put(self, function: str, data: bytes | bytearray | memoryview, room: int = 0) -> int:
        """A new block holding ``data`` after ``room`` bytes; returns where ``data`` starts."""
        length = len(data)
        if length + room > _U32_MAX:
            raise InputTooLong(function, length)
        ptr = self.alloc(length + room)
        if ptr == 0:
            raise AllocFailed(function, length + room)
        # A pointer outside memory is not a block: reported, never freed (that would trap).
        self._check_range(function, ptr, length + room)
        if ptr + room > _U32_MAX:  # a block of `room` bytes ending at 4 GiB: no pointer past it
            raise OutOfBounds(function, ptr, length + room, self.memory_size())
        _copy_in(self._address() + ptr + room, data)
        return ptr + room

    def _place(
        self, function: str, inputs: Sequence[Input], owned: Set[int]
    ) -> tuple[list[int], bool]:
        """Copies ``inputs`` into guest memory; returns their ``(ptr, len)`` arguments and whether
        they have blocks of their own (freed by :meth:`_release_apart`) rather than the kept one:
        large inputs, and every input of a call with ``owned`` ones (their indices). On an error
        nothing stays allocated but the kept block."""
        if not inputs:
            return [], False
        data = [_as_bytes(value) for value in inputs]
        if self._lent_block:
            # A slice of the lent view may be among the inputs: it is not released with the
            # view, and its block is freed (and memory may move) before the inputs are copied.
            data = [bytes(value) if isinstance(value, memoryview) else value for value in data]
        total = None if owned else packed_len(len(value) for value in data)
        if total is None:
            return self._place_apart(function, data, owned), True
        block = self._input_block(function, total)
        self._check_range(function, block, total)
        address = self._address()
        args: list[int] = []
        offset = block
        for value in data:
            _copy_in(address + offset, value)
            args += (_i32(offset), len(value))
            offset += stride(len(value))
        return args, False

    def _input_block(self, function: str, length: int) -> int:
        """The kept input block, at least ``length`` bytes long. A block too small is freed and a
        larger one allocated: its bytes need not be kept, so ``realloc`` would copy for nothing."""
        capacity = self._inputs.grow_to(length)
        if capacity is None:
            return self._inputs.ptr
        self.release_input_block()
        ptr = self.alloc(capacity)
        if ptr == 0:
            raise AllocFailed(function, capacity)
        self._inputs.ptr, self._inputs.capacity = ptr, capacity
        return ptr

    def _place_apart(
        self, function: str, data: list[bytes | bytearray | memoryview], owned: Set[int]
    ) -> list[int]:
        """A block each, all freed again if one cannot be had. An owned input's block has
        :data:`OWNED_ROOM` bytes of room in front, and its argument points past them ("Owned
        arguments" in ``docs/ABI.md``)."""
        args: list[int] = []
        try:
            for index, value in enumerate(data):
                room = OWNED_ROOM if index in owned else 0
                args += (_i32(self._put(function, value, room)), len(value))
        except GuestTrap:
            raise
        except GuestError:
            # Not called yet: the owned blocks are still the host's to free.
            self._release_apart(args, room=owned)
            raise
        return args

    def _release_apart(
        self, args: list[int], *, taken: Set[int] = frozenset(), room: Set[int] = frozenset()
    ) -> None:
        """Frees the blocks of ``args`` placed apart, but for those the guest ``taken``;
        ``room`` marks those that start :data:`OWNED_ROOM` bytes before their argument."""
        for index, ptr in enumerate(args[::2]):
            if index in taken:
                continue
            block = (ptr & _U32_MAX) - OWNED_ROOM if index in room else ptr & _U32_MAX
            self._invoke("free", self._abi.free, _i32(block))

    def _call(
        self,
        function: str,
        func: wasmtime.Func,
        inputs: Sequence[Input],
        owned: Set[int] = frozenset(),
    ) -> int:
        """Places ``inputs``, calls ``func`` and frees what was placed apart but the ``owned``
        inputs (their indices), which the guest took; after a trap the inputs are left to the
        instance, which is to be dropped."""
        self._refuse_call_back(function)
        args, apart = self._place(function, inputs, owned)
        try:
            value = self._invoke(function, func, *args)
        except (GuestTrap, HostFunctionError):
            raise
        except GuestError:
            if apart:
                self._release_apart(args, taken=owned)
            raise
        if apart:
            self._release_apart(args, taken=owned)
        if value == 0:
            self._error_pending = True
        return value
