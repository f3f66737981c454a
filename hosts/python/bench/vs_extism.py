"""guestmem's Python host against Extism's Python SDK on the same work: ``echo`` of 16 B, 1 KiB,
64 KiB and 1 MiB, guestmem's ``examples/echo`` through ``GuestFunc.call_bytes`` and the
extism-pdk plugin of ``bench/extism`` through ``Plugin.call``, rounds alternating in one process.
Prints each payload's calls/s ratio (guestmem over Extism) per round, and their median.

Not part of CI (it needs PyPI's ``extism`` and a build of the extism-pdk plugin):

    cargo build --release --target wasm32-unknown-unknown --manifest-path bench/extism/Cargo.toml
    python -m venv /tmp/vs && /tmp/vs/bin/pip install extism==1.1.1 ./hosts/python
    /tmp/vs/bin/python hosts/python/bench/vs_extism.py
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import extism  # type: ignore[import-not-found]
import wasmtime

from guestmem import Guest

REPO = Path(__file__).resolve().parents[3]
GUESTMEM = REPO / "target" / "guests" / "echo.wasm"
EXTISM = REPO / "bench" / "extism" / "target" / "wasm32-unknown-unknown" / "release" / "extism_echo.wasm"
SIZES = {"16 B": 16, "1 KiB": 1024, "64 KiB": 64 << 10, "1 MiB": 1 << 20}


def per_second(call: Callable[[bytes], bytes], data: bytes, seconds: float) -> float:
    """Calls of ``call(data)`` a second, for about ``seconds``; every answer checked."""
    assert call(data) == data
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(10):
            if call(data) != data:
                raise AssertionError("a wrong echo")
        count += 10
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="per contender per round")
    args = parser.parse_args()
    engine = wasmtime.Engine()
    guest = Guest.instantiate(wasmtime.Store(engine), wasmtime.Linker(engine), GUESTMEM, cache=None)
    echo = guest.func("echo")
    plugin = extism.Plugin(EXTISM.read_bytes(), wasi=False)
    contenders: dict[str, Callable[[bytes], bytes]] = {
        "guestmem": echo.call_bytes,
        "extism": lambda data: bytes(plugin.call("echo", data)),
    }
    print(
        f"guestmem-host (wasmtime-py {importlib.metadata.version('wasmtime')}) against extism "
        f"{importlib.metadata.version('extism')} (extism-sys {importlib.metadata.version('extism-sys')}), "
        f"{args.rounds} rounds of {args.seconds} s each"
    )
    for label, size in SIZES.items():
        data = bytes(range(256)) * (size // 256) if size >= 256 else b"x" * size
        ratios, rates = [], []
        for _ in range(args.rounds):
            rate = {name: per_second(call, data, args.seconds) for name, call in contenders.items()}
            ratios.append(rate["guestmem"] / rate["extism"])
            rates.append(rate)
        print(
            f"echo {label:>6}: guestmem {statistics.median(r['guestmem'] for r in rates):>9.0f}/s, "
            f"extism {statistics.median(r['extism'] for r in rates):>9.0f}/s; guestmem/extism "
            f"{', '.join(f'{r:.2f}x' for r in ratios)} (median {statistics.median(ratios):.2f}x)"
        )


if __name__ == "__main__":
    main()
