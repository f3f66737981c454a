"""Round trips through echo: guestmem-host against the same calls made by hand on wasmtime's
Python API (alloc, write, call, read the prefix, read the bytes, free both), 16 B and 1 MiB;
guestmem-host also with the module's interface section (``interface=``), whose checks each call
pays.

At 16 B guestmem makes two calls into the guest (echo, free the result: the input goes into the
block it keeps) where the hand-written host makes four; at 1 MiB both make four, and guestmem
copies with ctypes where ``Memory.write`` first copies ``bytes`` into a ``bytearray``.

Contenders run interleaved, round after round, in one process; each ratio printed is the median
of the per-round ratios (guestmem's time over the hand-written host's), with the interquartile
range: the machine may be shared, so read the ratios, not the times.

    python hosts/python/bench/echo.py            # the full run
    python hosts/python/bench/echo.py --quick    # CI: every contender runs and checks its answers
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import wasmtime

from guestmem import Guest, Interface

REPO = Path(__file__).resolve().parents[3]
DEFAULT_GUEST = REPO / "target" / "guests" / "echo-talc.wasm"


def guestmem_echo(
    engine: wasmtime.Engine, module: wasmtime.Module, interface: Interface | None = None
) -> Callable[[bytes], bytes]:
    store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
    guest = Guest.instantiate(store, linker, module, interface=interface)
    echo = guest.func("echo")
    assert (echo.signature is not None) == (interface is not None)
    return echo.call_bytes


def hand_written_echo(
    engine: wasmtime.Engine, module: wasmtime.Module
) -> Callable[[bytes], bytes | bytearray]:
    """The convention written out by hand, checking nothing a careless host would skip."""
    store = wasmtime.Store(engine)
    exports = wasmtime.Linker(engine).instantiate(store, module).exports(store)
    alloc, free, echo, memory = exports["alloc"], exports["free"], exports["echo"], exports["memory"]
    assert isinstance(alloc, wasmtime.Func) and isinstance(free, wasmtime.Func)
    assert isinstance(echo, wasmtime.Func) and isinstance(memory, wasmtime.Memory)

    def call(data: bytes) -> bytes | bytearray:
        ptr = alloc(store, len(data))
        memory.write(store, data, ptr)
        result = echo(store, ptr, len(data)) & 0xFFFF_FFFF
        length = int.from_bytes(memory.read(store, result, result + 4), "little")
        out = memory.read(store, result + 4, result + 4 + length)  # a bytearray, left as it is
        free(store, ptr)
        free(store, result)
        return out

    return call


def timed(call: Callable[[bytes], bytes | bytearray], data: bytes, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call(data)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few short rounds, for CI")
    parser.add_argument("--guest", type=Path, default=DEFAULT_GUEST, help="echo.wasm to run")
    parser.add_argument("--rounds", type=int, default=None)
    arguments = parser.parse_args()
    rounds = arguments.rounds or (3 if arguments.quick else 21)
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, str(arguments.guest))
    interface = Interface.read_file(arguments.guest)
    assert interface is not None, f"{arguments.guest} has no guestmem.interface section"
    contenders: dict[str, Callable[[bytes], bytes | bytearray]] = {
        "guestmem": guestmem_echo(engine, module),
        "guestmem+interface": guestmem_echo(engine, module, interface),
        "hand-written": hand_written_echo(engine, module),
    }
    ours = [name for name in contenders if name.startswith("guestmem")]
    sizes = {"16 B": (16, 20 if arguments.quick else 2000), "1 MiB": (1 << 20, 2 if arguments.quick else 40)}
    print(f"echo round trips, {arguments.guest}, wasmtime {importlib.metadata.version('wasmtime')}, {rounds} rounds")
    for label, (size, calls) in sizes.items():
        data = bytes(index % 251 for index in range(size))
        for name, call in contenders.items():
            assert call(data) == data, f"{name}: wrong answer at {label}"
        ratios: dict[str, list[float]] = {name: [] for name in ours}
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for index in range(rounds):
            # Alternate who goes first, so that none always runs on a warmer machine.
            order = list(contenders) if index % 2 == 0 else list(contenders)[::-1]
            for name in order:
                times[name].append(timed(contenders[name], data, calls) / calls)
            for name in ours:
                ratios[name].append(times[name][-1] / times["hand-written"][-1])
        per_call = ", ".join(
            f"{name} {statistics.median(values) * 1e6:.1f} us" for name, values in times.items()
        )
        for name in ours:
            values = ratios[name]
            quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
            print(
                f"{label}: {name} / hand-written time = {statistics.median(values):.2f} "
                f"[{quartiles[0]:.2f}-{quartiles[2]:.2f}]"
            )
        print(f"{label}: {per_call} per round trip, median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
