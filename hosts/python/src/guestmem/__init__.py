"""guestmem-host: call WebAssembly guests built with guestmem from Python, on wasmtime.

The contract is guestmem's ``docs/ABI.md``; the engine, store, linker (WASI, host functions) and
limits stay the user's, as in wasmtime's own examples. :class:`HostFunctions` defines Python
functions on that linker for the guest to call. :class:`Interface` reads what a module says of
its functions (its ``guestmem.interface`` section), which :meth:`Guest.instantiate` reads from the
module's bytes and holds calls to; :meth:`GuestFunc.call_json` and :meth:`GuestFunc.call_postcard`
pass typed values. :class:`Pool` shares ready instances among threads, with deadlines and
recycling, for servers.
"""

from .errors import (
    AbiMismatch,
    AllocFailed,
    ArityError,
    BadResult,
    CallRefused,
    ExportError,
    GuestError,
    GuestFailed,
    GuestTrap,
    HostFunctionError,
    HostTrap,
    InputTooLong,
    InterfaceError,
    OutOfBounds,
    PoolBusy,
    ReentrantCall,
    ResultProblem,
    RuntimeFailure,
    Timeout,
    TypedValueError,
)
from .cache import CacheOutcome, ModuleCache
from .calls import DEFAULT_RESULT_CAP
from .epochs import EpochTicker, recommended_config
from .func import GuestFunc
from .guest import ABI_VERSION, Guest, ModuleSource
from .host_functions import Failures, HostFunctions
from .host_types import I32, I64, U32, U64, Json, Postcard
from .inputs import Input
from .interface import SECTION, Argument, Function, Interface, Kind
from .pool import Pool, PooledGuest
from .pool_metrics import InstanceMetrics, PoolMetrics, RecycleCause, Recycles
from .postcard import PostcardError
from .typed import from_json, from_postcard, to_json, to_postcard

__all__ = [
    "ABI_VERSION",
    "DEFAULT_RESULT_CAP",
    "AbiMismatch",
    "AllocFailed",
    "Argument",
    "ArityError",
    "CacheOutcome",
    "BadResult",
    "CallRefused",
    "EpochTicker",
    "ExportError",
    "Failures",
    "Function",
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
    "InstanceMetrics",
    "Interface",
    "InterfaceError",
    "Json",
    "Kind",
    "ModuleCache",
    "ModuleSource",
    "OutOfBounds",
    "Pool",
    "PoolBusy",
    "PoolMetrics",
    "PooledGuest",
    "Postcard",
    "PostcardError",
    "RecycleCause",
    "Recycles",
    "ReentrantCall",
    "ResultProblem",
    "RuntimeFailure",
    "SECTION",
    "Timeout",
    "TypedValueError",
    "U32",
    "U64",
    "from_json",
    "from_postcard",
    "recommended_config",
    "to_json",
    "to_postcard",
]
