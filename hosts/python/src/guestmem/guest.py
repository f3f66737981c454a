"""One instance of a guest module, seen through the ABI of guestmem's ``docs/ABI.md``: made from
the user's store and linker, with its memory and the interface its module describes.

A call through :meth:`Guest.func` is driven by :mod:`guestmem.func`, one way through the modules
that hold each step: :mod:`guestmem.inputs` places the inputs, :mod:`guestmem.calls` makes the
calls into the guest, :mod:`guestmem.results` reads what they return.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path

import wasmtime

from .cache import ModuleCache
from .calls import DEFAULT_RESULT_CAP, AbiCalls, to_i32
from .errors import (
    AbiMismatch,
    ExportError,
    GuestTrap,
    HostFunctionError,
    HostTrap,
    InterfaceError,
    RuntimeFailure,
)
from .exports import AbiExports, is_i32_func
from .func import GuestFunc
from .inputs import Input, Inputs, as_bytes
from .interface import Interface
from .memory import LinearMemory
from .results import Results

#: The version of guestmem's ABI this host speaks: a guest's ``abi_version()`` must return it.
ABI_VERSION = 1

#: What :meth:`Guest.instantiate` makes an instance of: a module compiled by the user, its
#: bytes (binary), or the path of its ``.wasm`` file.
ModuleSource = wasmtime.Module | bytes | bytearray | memoryview | str | os.PathLike[str]


class _FromModule(enum.Enum):
    """The default of ``interface=``: the module's own section, read from its bytes."""

    READ = "read from the module's bytes"


class _DefaultCache(enum.Enum):
    """The default of ``cache=``: :meth:`ModuleCache.default`, looked up when a module is
    compiled (so that ``GUESTMEM_CACHE_DIR`` set later still counts)."""

    DEFAULT = "ModuleCache.default()"


#: What ``cache=`` takes: a cache, ``None`` for none, or the default.
CacheChoice = ModuleCache | None | _DefaultCache


def compile_module(
    engine: wasmtime.Engine,
    module: ModuleSource,
    interface: Interface | None | _FromModule,
    caller: str,
    cache: CacheChoice = _DefaultCache.DEFAULT,
) -> tuple[wasmtime.Module, Interface | None]:
    """``module`` compiled with ``engine`` (unless it is a :class:`wasmtime.Module` already), and
    the interface calls are held to: ``interface``, or the module's section read from its bytes.
    One place for the rule :meth:`Guest.instantiate` documents, which :class:`~guestmem.Pool`
    follows too, since it compiles once for all its instances."""
    if isinstance(module, wasmtime.Module):
        if interface is _FromModule.READ:
            raise TypeError(
                f"{caller}: wasmtime keeps no module bytes, so a compiled Module's "
                "guestmem.interface section cannot be read: pass the module's path or bytes, "
                "or interface=Interface.read_file(path) (None: without one)"
            )
        return module, interface
    if isinstance(module, (bytes, bytearray, memoryview)):
        wasm = bytes(module)
    else:
        wasm = Path(module).read_bytes()
    if cache is _DefaultCache.DEFAULT:
        cache = ModuleCache.default()
    try:
        compiled = (
            wasmtime.Module(engine, wasm) if cache is None else cache.load(engine, wasm)[0]
        )
    except wasmtime.WasmtimeError as error:
        raise RuntimeFailure("(compile)", error) from error
    return compiled, Interface.read(wasm) if interface is _FromModule.READ else interface


class Guest:
    """One instance of a guestmem guest, in the user's own :class:`wasmtime.Store`.

    Calls (through :meth:`func`) take inputs as bytes or text, copy them into guest memory, and
    give results back as ``bytes``, ``str`` or ``int``, or lend them in place as a memoryview;
    every block the host allocates or receives is freed, on success and on every error short of a
    trap. After a :class:`GuestTrap`, drop the instance: whatever the call was doing is lost.
    """

    def __init__(
        self,
        store: wasmtime.Store,
        instance: wasmtime.Instance,
        *,
        interface: Interface | None = None,
    ) -> None:
        """Wraps an instance made by the user: runs its ``_initialize`` export if it has one (a
        WASI reactor, such as a wasm32-wasip1 library), looks up the ABI exports (``guestmem_NAME``
        first, then ``NAME``), checks ``abi_version()``, and holds calls to ``interface``, the
        one its module describes (``Interface.read`` of the module's bytes: an instance does not
        know them; ``None``, without one, every input is passed borrowed and no call refused).

        Raises :class:`ExportError` if ``memory`` or an ABI export is missing or has the wrong
        type (``live_blocks`` and ``heap_bytes`` are optional), :class:`AbiMismatch` if the guest
        speaks another version, :class:`GuestTrap` if ``_initialize`` or ``abi_version`` traps,
        :class:`InterfaceError` if an export the interface describes is missing or its wasm type
        is not the one its kinds make.
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
        self._memory = LinearMemory(store, memory)
        self._calls = AbiCalls(store, AbiExports.find(store, self._exports), self._memory)
        self._inputs = Inputs(self._calls, self._memory)
        self._results = Results(self._calls, self._memory)
        found = self.abi_version()
        if found != ABI_VERSION:
            raise AbiMismatch(found, ABI_VERSION)
        self._check_interface(interface)
        self._interface = interface

    @classmethod
    def instantiate(
        cls,
        store: wasmtime.Store,
        linker: wasmtime.Linker,
        module: ModuleSource,
        *,
        interface: Interface | None | _FromModule = _FromModule.READ,
        cache: CacheChoice = _DefaultCache.DEFAULT,
    ) -> Guest:
        """Instantiates ``module`` with the imports of ``linker`` (WASI, host functions: the
        user's to add) in ``store``, and checks it as the constructor does.

        ``module`` is a path or the module's bytes, compiled here with the linker's engine and
        its ``guestmem.interface`` section read, or a :class:`wasmtime.Module` compiled once for
        many instances. ``interface=`` overrides the section: an :class:`Interface`, or ``None``
        for none. wasmtime keeps no module bytes, so a :class:`wasmtime.Module` needs it:
        ``Interface.read_file(path)``, or ``None``; without it the call raises ``TypeError``
        rather than run the guest unchecked.

        A path or bytes are compiled through ``cache``: by default :meth:`ModuleCache.default`
        (on disk, so that a second load deserializes instead of compiling), ``None`` for no
        cache, or a :class:`ModuleCache` of the caller's.

        Raises ``OSError`` for a path it cannot read, :class:`InterfaceError` for a malformed
        section, :class:`RuntimeFailure` if the module does not compile or link, and the errors
        of the constructor."""
        compiled, interface = compile_module(
            linker.engine, module, interface, "Guest.instantiate", cache
        )
        try:
            instance = linker.instantiate(store, compiled)
        except HostTrap as trap:
            raise HostFunctionError(
                "(start)", trap.host_function, trap.message, trap.error
            ) from trap
        except wasmtime.Trap as trap:
            raise GuestTrap("(start)", trap, None) from trap
        except wasmtime.WasmtimeError as error:
            raise RuntimeFailure("(instantiate)", error) from error
        return cls(store, instance, interface=interface)

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
        return self._memory.memory

    @property
    def interface(self) -> Interface | None:
        """The interface the guest holds calls to, if it has one."""
        return self._interface

    @property
    def result_cap(self) -> int:
        """Results longer than this are rejected (:attr:`ResultProblem.TOO_LONG`) and freed
        unread; 256 MiB unless set."""
        return self._calls.result_cap

    @result_cap.setter
    def result_cap(self, cap: int) -> None:
        self._calls.result_cap = cap

    def func(self, name: str) -> GuestFunc:
        """Looks up export ``name``, a function taking ``(ptr, len)`` pairs and returning an i32,
        once, for repeated calls, with what the interface says of it. Raises
        :class:`ExportError` if it is missing or has another type."""
        func = self._exports.get(name)
        if not isinstance(func, wasmtime.Func):
            raise ExportError(name, "missing, or not a function")
        return GuestFunc(
            name,
            func,
            func.type(self._store),
            None if self._interface is None else self._interface.export(name),
            calls=self._calls,
            inputs=self._inputs,
            results=self._results,
        )

    def export(self, name: str) -> object | None:
        """The export ``name`` of the instance, or ``None``."""
        return self._exports.get(name)

    def memory_size(self) -> int:
        """The current size of linear memory, in bytes."""
        return self._memory.size()

    def memory_pages(self) -> int:
        """The current size of linear memory, in 64 KiB pages (``memory.size``)."""
        return self._memory.memory.size(self._store)

    # ---- the ABI exports, raw -----------------------------------------------------------------

    def alloc(self, length: int) -> int:
        """``alloc(length)``, returning the raw pointer (``0`` on failure)."""
        return self._calls.alloc(length)

    def dealloc(self, ptr: int, length: int) -> None:
        """``dealloc(ptr, length)``; a wrong length or a bad pointer is a :class:`GuestTrap`."""
        self._calls.dealloc(ptr, length)

    def free(self, ptr: int) -> None:
        """``free(ptr)``; a bad pointer is a :class:`GuestTrap`."""
        self._calls.free(ptr)

    def realloc(self, ptr: int, new_length: int) -> int:
        """``realloc(ptr, new_length)``, returning the raw pointer (``0`` on failure)."""
        return self._calls.realloc(ptr, new_length)

    def abi_version(self) -> int:
        """``abi_version()``."""
        return self._calls.abi_version()

    def live_blocks(self) -> int | None:
        """``live_blocks()``, less the one block this host keeps for inputs, or ``None`` if the
        guest was built without ``stats``."""
        blocks = self._calls.live_blocks()
        return None if blocks is None else max(blocks - self._inputs.blocks, 0)

    def heap_bytes(self) -> int | None:
        """``heap_bytes()``, or ``None`` without ``stats``. It counts the block kept for inputs:
        call :meth:`release_input_block` first to compare with an empty heap."""
        return self._calls.heap_bytes()

    def release_input_block(self) -> None:
        """Frees the block this host keeps for small inputs, if it has one; the next call
        allocates a new one. Refused (:class:`ReentrantCall`) inside a host function: the running
        call's inputs lie in it."""
        self._calls.refuse_call_back("release_input_block")
        self._inputs.release_kept()

    def last_error(self) -> str | None:
        """Takes the pending error message: ``last_error()``, then reads and frees the block.
        Raises :class:`BadResult` if the block cannot be read or is not UTF-8."""
        return self._results.last_error()

    def call_raw(self, function: str, *args: int) -> int:
        """Calls export ``function`` with u32 arguments and returns its i32 result as a u32 (``0``
        if it returns nothing): a result block's pointer is the caller's to take
        (:meth:`take_result`)."""
        func = self._exports.get(function)
        if not isinstance(func, wasmtime.Func):
            raise ExportError(function, "missing, or not a function")
        return self._calls.call_export(function, func, *(to_i32(arg) for arg in args))

    # ---- linear memory ------------------------------------------------------------------------

    def write(self, ptr: int, data: Input) -> None:
        """Copies ``data`` into linear memory at ``ptr``; :class:`OutOfBounds` if it does not fit."""
        buffer = as_bytes(data, "write", 2, "data")
        self._memory.check("write", ptr, len(buffer))
        self._memory.write(ptr, buffer)

    def read(self, ptr: int, length: int) -> bytes:
        """Copies ``length`` bytes out of linear memory at ``ptr``."""
        self._memory.check("read", ptr, length)
        return self._memory.read(ptr, length)

    def put(self, data: Input) -> int:
        """Allocates a block for ``data`` and copies it in: a block the caller owns and frees."""
        return self._inputs.put("alloc", as_bytes(data, "put", 1, "data"))

    def take_result(self, function: str, ptr: int) -> bytes:
        """Turns the raw result ``ptr`` of ``function`` into its bytes, freeing the block:
        :class:`GuestFailed` if ``ptr`` is ``0``, :class:`BadResult` if it cannot be trusted."""
        if ptr == 0:
            raise self._results.failure(function)
        return self._results.take(function, ptr)

    def _check_interface(self, interface: Interface | None) -> None:
        """:class:`InterfaceError` unless every export ``interface`` describes is one of the
        instance's, with the wasm type its kinds make."""
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
