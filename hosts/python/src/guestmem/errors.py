"""Every way a call into a guest can fail: one hierarchy, each error naming the export.

A guest function that returns ``0`` becomes :class:`GuestFailed` with the message ``last_error``
held; a trap becomes :class:`GuestTrap` with the reason the guest recorded; a result block the
host cannot trust becomes :class:`BadResult`. None of them leaves the host in a bad state; after a
:class:`GuestTrap`, drop the instance, as "Traps" in guestmem's ``docs/ABI.md`` advises.
"""

from __future__ import annotations

import enum

import wasmtime


class GuestError(Exception):
    """Base class of every error this package raises; ``function`` is the export involved."""

    def __init__(self, function: str, message: str) -> None:
        super().__init__(f"`{function}`: {message}")
        self.function = function


class GuestFailed(GuestError):
    """The guest function returned ``0`` and reported why through ``last_error``."""

    def __init__(self, function: str, message: str) -> None:
        super().__init__(function, f"failed: {message}")
        self.message = message


class GuestTrap(GuestError):
    """The call trapped; ``reason`` is what the guest recorded first, read back through
    ``last_error`` after the trap (``None`` when it recorded nothing)."""

    def __init__(self, function: str, trap: wasmtime.Trap, reason: str | None) -> None:
        code = trap.trap_code
        what = code.name.lower() if code is not None else "trap"
        super().__init__(function, f"trapped ({what}): {reason or 'no reason recorded'}")
        self.trap = trap
        self.trap_code = code
        self.reason = reason


class ResultProblem(enum.Enum):
    """Why a result block was rejected. See "Results" in ``docs/ABI.md``."""

    MISALIGNED = "the pointer is not a multiple of 8"
    PREFIX_OUT_OF_BOUNDS = "the length prefix is outside linear memory"
    PAYLOAD_OUT_OF_BOUNDS = "the payload runs past the end of linear memory"
    TOO_LONG = "the length is above the host's cap"
    NOT_UTF8 = "the bytes are not UTF-8"


class BadResult(GuestError):
    """The guest returned a pointer that is not a readable result block, or text that is not
    UTF-8."""

    def __init__(self, function: str, problem: ResultProblem, detail: str) -> None:
        super().__init__(function, f"bad result block: {problem.value} ({detail})")
        self.problem = problem


class AllocFailed(GuestError):
    """``alloc`` returned ``0`` for an input the host wanted to pass to ``function``."""

    def __init__(self, function: str, length: int) -> None:
        super().__init__(function, f"alloc({length}) for its input returned 0")
        self.length = length


class OutOfBounds(GuestError):
    """A host access to linear memory would fall outside it (a block from a lying ``alloc``)."""

    def __init__(self, function: str, ptr: int, length: int, memory: int) -> None:
        super().__init__(
            function, f"{length} bytes at {ptr:#x} are outside linear memory ({memory} bytes)"
        )
        self.ptr = ptr
        self.length = length
        self.memory = memory


class InputTooLong(GuestError):
    """An input longer than a u32 length can describe."""

    def __init__(self, function: str, length: int) -> None:
        super().__init__(function, f"an input of {length} bytes does not fit the ABI's u32 lengths")
        self.length = length


class ExportError(GuestError):
    """The module lacks an export the host needs, or it has the wrong type."""


class AbiMismatch(GuestError):
    """The module's ``abi_version()`` is not the version this host speaks."""

    def __init__(self, found: int, expected: int) -> None:
        super().__init__(
            "abi_version", f"the guest speaks ABI version {found}; this host speaks {expected}"
        )
        self.found = found
        self.expected = expected


class ArityError(GuestError):
    """A call passed another number of inputs than the export takes."""

    def __init__(self, function: str, expected: int, given: int) -> None:
        super().__init__(function, f"takes {expected} inputs, not {given}")
        self.expected = expected
        self.given = given


class InterfaceError(GuestError):
    """A module's ``guestmem.interface`` section is malformed (``function`` is the section's
    name), or describes an export the instance does not have with that wasm type (``function``
    is the export). See "Interface section" in ``docs/ABI.md``."""


class CallRefused(GuestError):
    """A call the export's interface rules out, refused before the guest ran: a result read as
    something it is not (``call_int`` of a ``string`` result), or an argument the export cannot
    take (text that is not UTF-8 for a ``string`` or ``json`` argument, a value ``call_json``
    would encode for an argument that is not ``json``)."""

    def __init__(self, function: str, message: str) -> None:
        super().__init__(function, f"call refused: {message}")
        self.message = message


class TypedValueError(GuestError):
    """A typed value did not encode or decode ("Typed values" in ``docs/ABI.md``): an argument
    of :meth:`~guestmem.GuestFunc.call_json` or :meth:`~guestmem.GuestFunc.call_postcard` (the
    guest did not run), or the result it returned (its block was freed). ``format`` is
    ``"JSON"`` or ``"postcard"``; the original exception is ``__cause__``."""

    def __init__(self, function: str, format: str, message: str) -> None:
        super().__init__(function, f"{format}: {message}")
        self.format = format
        self.message = message


class HostFunctionError(GuestError):
    """A host function the guest called failed where it cannot report a failure: it raised an
    exception it was not declared to fail with, the guest passed it an argument that is not one
    (bytes outside memory, text that is not UTF-8), or the guest's ``alloc`` failed for a result
    that cannot fail. The guest call (``function``) trapped: drop the instance, as after
    :class:`GuestTrap`.

    ``host_function`` is ``module.name``; ``error`` is the exception the host function raised, if
    that was the problem (also the ``__cause__`` of ``__cause__``).
    """

    def __init__(
        self, function: str, host_function: str, message: str, error: BaseException | None
    ) -> None:
        super().__init__(function, f"trapped in host function `{host_function}`: {message}")
        self.host_function = host_function
        self.message = message
        self.error = error


class ReentrantCall(GuestError):
    """A host function called back into the instance that called it, through its
    :class:`~guestmem.Guest`: only ``alloc``, ``realloc``, ``free`` and ``dealloc`` may be called
    there ("Calls back into the guest" in ``docs/ABI.md``). Nothing was called. ``running`` is
    the export that called the host function."""

    def __init__(self, function: str, running: str) -> None:
        super().__init__(
            function,
            f"called back from a host function while `{running}` runs: only alloc, realloc, "
            "free and dealloc may be",
        )
        self.running = running


class HostTrap(Exception):
    """Raised out of a host function (:class:`~guestmem.HostFunctions`) that failed where the
    guest cannot be told, so that the guest call traps. :class:`~guestmem.Guest` reports it as
    :class:`HostFunctionError`; a call made with wasmtime directly raises it as it is."""

    def __init__(self, host_function: str, message: str, error: BaseException | None = None):
        super().__init__(f"host function `{host_function}`: {message}")
        self.host_function = host_function
        self.message = message
        self.error = error


class RuntimeFailure(GuestError):
    """Any other wasmtime error during a call (a WASI ``proc_exit``, a ``WasmtimeError`` raised by
    a host function defined with wasmtime directly); the original is ``error``, and
    ``__cause__``."""

    def __init__(self, function: str, error: wasmtime.WasmtimeError) -> None:
        super().__init__(function, f"wasmtime: {error}")
        self.error = error


class Timeout(GuestError):
    """A call through a :class:`~guestmem.Pool` ran past the pool's deadline and was interrupted
    (wasmtime's epoch interruption): a trap, after which the pool drops the instance.
    ``deadline`` is the one it was given, in seconds."""

    def __init__(self, function: str, deadline: float) -> None:
        super().__init__(function, f"ran past its deadline of {deadline:g} s")
        self.deadline = deadline


class PoolBusy(GuestError):
    """:meth:`~guestmem.Pool.checkout` found every instance checked out and none came back within
    its timeout; ``waited`` is how long it waited, in seconds. ``function`` is ``(checkout)``."""

    def __init__(self, waited: float) -> None:
        super().__init__("(checkout)", f"all pooled instances stayed busy for {waited:.3f} s")
        self.waited = waited
