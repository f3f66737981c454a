"""guestmem-host: call WebAssembly guests built with guestmem from Python, on wasmtime.

The contract is guestmem's ``docs/ABI.md``; the engine, store, linker (WASI, host functions) and
limits stay the user's, as in wasmtime's own examples. :class:`HostFunctions` defines Python
functions on that linker for the guest to call.
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
    HostFunctionError,
    HostTrap,
    InputTooLong,
    OutOfBounds,
    ReentrantCall,
    ResultProblem,
    RuntimeFailure,
)
from .func import GuestFunc
from .guest import ABI_VERSION, DEFAULT_RESULT_CAP, Guest
from .host_functions import Failures, HostFunctions
from .host_types import I32, I64, U32, U64
from .inputs import Input

__all__ = [
    "ABI_VERSION",
    "DEFAULT_RESULT_CAP",
    "AbiMismatch",
    "AllocFailed",
    "ArityError",
    "BadResult",
    "ExportError",
    "Failures",
    "Guest",
    "GuestError",
    "GuestFailed",
    "GuestFunc",
    "GuestTrap",
    "HostFunctionError",
    "HostFunctions",
    "HostTrap",
    "I32",
    "I64",
    "Input",
    "InputTooLong",
    "OutOfBounds",
    "ReentrantCall",
    "ResultProblem",
    "RuntimeFailure",
    "U32",
    "U64",
]
