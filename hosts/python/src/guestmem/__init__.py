"""guestmem-host: call WebAssembly guests built with guestmem from Python, on wasmtime.

The contract is guestmem's ``docs/ABI.md``; the engine, store, linker (WASI, host functions) and
limits stay the user's, as in wasmtime's own examples.
"""

from .errors import (
    AbiMismatch,
    AllocFailed,
    ArityError,
    BadResult,
    ExportError,
    GuestError,
    GuestFailed,
    GuestTrap,
    InputTooLong,
    OutOfBounds,
    ResultProblem,
    RuntimeFailure,
)
from .func import GuestFunc
from .guest import ABI_VERSION, DEFAULT_RESULT_CAP, Guest
from .inputs import Input

__all__ = [
    "ABI_VERSION",
    "DEFAULT_RESULT_CAP",
    "AbiMismatch",
    "AllocFailed",
    "ArityError",
    "BadResult",
    "ExportError",
    "Guest",
    "GuestError",
    "GuestFailed",
    "GuestFunc",
    "GuestTrap",
    "Input",
    "InputTooLong",
    "OutOfBounds",
    "ResultProblem",
    "RuntimeFailure",
]
