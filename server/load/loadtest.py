#!/usr/bin/env python3
"""guestmem-server under load, with wrk on loopback: every answer checked, every request counted.

    python3 server/load/loadtest.py smoke   # CI: about 20 s, fails on any lost or wrong answer
    python3 server/load/loadtest.py bench   # the figures of docs/BENCHMARKS.md, "Plugin server"
    python3 server/load/loadtest.py leak    # 1,000,000 requests with the leaking plugin in the mix

It starts the server (--server, default target/release/guestmem-server, or target/debug for
smoke) on a free port of 127.0.0.1 over a directory of the test plugins copied from --guests
(default target/guests, which `cargo run -p harness -- guests` fills), runs wrk with
server/load/check.lua, and judges every run the same way:

- no request lost: wrk saw no connect, read, write or timeout error, every answer it got was
  checked, and the server answered (guestmem_server_requests_total) what wrk got, plus at most
  one request per connection still in flight when wrk stopped;
- no wrong answer: each answer has its case's status and body or reason (check.lua);
- the server is still up at the end.

Standard library only; wrk from Debian (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PLUGINS = ("upper", "greet", "shapes", "misbehave", "request_info")


class Failed(Exception):
    """A run broke a promise: a lost request, a wrong answer, RSS past its bound."""


@dataclass
class Run:
    """What one wrk run reported (check.lua's result line)."""

    name: str
    connections: int
    requests: int
    seconds: float
    sent: int
    answered: int
    right: int
    wrong: int
    errors: int
    p50_ms: float
    p99_ms: float
    first_wrong: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Server:
    """guestmem-server on a free loopback port, its log in a file."""

    def __init__(self, binary: Path, plugins: Path, log: Path, *options: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [str(binary), str(plugins), "--addr", f"127.0.0.1:{self.port}", *options],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failed(f"the server exited with {self.process.returncode}: see {log}")
            try:
                with urllib.request.urlopen(f"{self.url}/plugins", timeout=2) as reply:
                    listing = json.load(reply)
                if listing["refused"]:
                    raise Failed(f"the server refused plugins: {listing['refused']}")
                return
            except OSError:
                time.sleep(0.2)
        raise Failed("the server did not answer within 120 s")

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise Failed("no VmRSS")

    def metrics(self) -> str:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as reply:
            return reply.read().decode()

    def answered(self) -> int:
        """Requests the server answered, by its own count."""
        return sum(
            int(line.rsplit(" ", 1)[1])
            for line in self.metrics().splitlines()
            if line.startswith("guestmem_server_requests_total{")
        )

    def metric(self, prefix: str) -> float:
        for line in self.metrics().splitlines():
            if line.startswith(prefix):
                return float(line.rsplit(" ", 1)[1])
        raise Failed(f"no metric {prefix}")

    def stop(self) -> None:
        alive = self.process.poll() is None
        if alive:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        if not alive:
            raise Failed(f"the server had exited with {self.process.returncode}")


def wrk(server: Server, name: str, case_set: str, *, seconds: float, connections: int,
        threads: int = 1, limit: int | None = None) -> Run:
    """One wrk run of `case_set`: for `seconds`, or until `limit` answers."""
    extra = [str(limit), str(threads)] if limit else []
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(HERE / "check.lua"), server.url, "--", case_set, *extra,
    ]
    before = server.answered() if limit else 0
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if limit:
        # wrk sleeps for its whole duration even when every thread has stopped at its share of
        # the limit (check.lua): SIGINT ends the sleep, and wrk reports as usual.
        while process.poll() is None and server.answered() - before < limit:
            time.sleep(0.5)
        process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith("result ")]
    if process.returncode != 0 or not lines:
        raise Failed(f"wrk failed ({process.returncode}): {stdout}{stderr}")
    result = json.loads(lines[-1][len("result "):])
    errors = sum(result[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return Run(
        name=name,
        connections=connections,
        requests=result["requests"],
        seconds=result["duration_us"] / 1e6,
        sent=result["sent"],
        answered=result["answered"],
        right=result["right"],
        wrong=result["wrong"],
        errors=errors,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        first_wrong=result["first_wrong"],
    )


def judge(run: Run) -> None:
    """No lost request, no wrong answer, every answer counted."""
    if run.errors:
        raise Failed(f"{run.name}: {run.errors} requests lost (socket errors or timeouts)")
    if run.wrong:
        raise Failed(f"{run.name}: {run.wrong} wrong answers, the first: {run.first_wrong}")
    if run.answered != run.requests or run.right != run.answered:
        raise Failed(f"{run.name}: wrk got {run.requests} answers, check.lua checked {run.answered}")
    # wrk may have built a connection's next request, and sent it, when it stopped.
    if not 0 <= run.sent - run.answered <= 2 * run.connections:
        raise Failed(f"{run.name}: {run.sent} sent and {run.answered} answered")
    if run.answered == 0:
        raise Failed(f"{run.name}: no request answered")


def counted(server: Server, runs: list[Run], before: int) -> None:
    """The server answered what wrk got, and at most one in-flight request per connection more."""
    answered = server.answered() - before
    got = sum(run.answered for run in runs)
    slack = sum(2 * run.connections for run in runs)
    if not got <= answered <= got + slack:
        raise Failed(f"the server answered {answered} requests, wrk got {got} (in flight: at most {slack})")


def report(run: Run) -> None:
    print(f"  {run.name:<34} {run.requests:>9} requests {run.rps:>9.0f}/s "
          f"p50 {run.p50_ms:7.2f} ms  p99 {run.p99_ms:7.2f} ms  wrong {run.wrong}  lost {run.errors}",
          flush=True)


def parallel(*jobs):  # type: ignore[no-untyped-def]
    """Runs the wrk calls `jobs` (thunks) at once; their Runs, in order."""
    results: list[Run | BaseException] = [Failed("not run")] * len(jobs)

    def run(index: int, job) -> None:  # type: ignore[no-untyped-def]
        try:
            results[index] = job()
        except BaseException as error:  # noqa: BLE001 - passed on below
            results[index] = error

    threads = [threading.Thread(target=run, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def smoke(server: Server) -> None:
    before = server.answered()
    runs = [wrk(server, "good plugins", "good", seconds=3, connections=8)]
    rss_start = server.rss_mib()
    runs += parallel(
        lambda: wrk(server, "good, beside the faults", "good", seconds=6, connections=4),
        lambda: wrk(server, "every fault plugin", "faults", seconds=6, connections=4),
    )
    runs.append(wrk(server, "leak and upper", "leakmix", seconds=6, connections=8))
    for run in runs:
        report(run)
        judge(run)
    counted(server, runs, before)
    rss_end = server.rss_mib()
    print(f"  RSS {rss_start:.0f} MiB after the first run, {rss_end:.0f} MiB at the end")
    if rss_end > rss_start + 64:
        raise Failed(f"RSS grew from {rss_start:.0f} to {rss_end:.0f} MiB")
    recycled = server.metric('guestmem_pool_recycles_total{plugin="misbehave",cause="memory"}')
    if recycled < 1:
        raise Failed("the leaking plugin was never recycled for its memory")
    print(f"  misbehave recycled {recycled:.0f} times for memory")


def bench(server: Server, rounds: int, seconds: float) -> None:
    before = server.answered()
    rss_start = server.rss_mib()
    runs: list[Run] = []
    for size in ("16", "64k"):
        wasm, native = [], []
        for _ in range(rounds):
            for kind, into in (("upper", wasm), ("native", native)):
                run = wrk(server, f"{kind} {size}", f"{kind}{size}", seconds=seconds, connections=16, threads=2)
                judge(run)
                report(run)
                into.append(run)
                runs.append(run)
        ratios = sorted(w.rps / n.rps for w, n in zip(wasm, native))
        print(f"upper {size} B through wasm / native: {', '.join(f'{r:.2f}x' for r in ratios)} "
              f"(median {ratios[len(ratios) // 2]:.2f}x)", flush=True)
    good = wrk(server, "good only", "good", seconds=seconds * 2, connections=8, threads=2)
    judge(good)
    report(good)
    mixed_good, faults = parallel(
        lambda: wrk(server, "good, beside the faults", "good", seconds=seconds * 2, connections=8, threads=2),
        lambda: wrk(server, "every fault plugin", "faults", seconds=seconds * 2, connections=4),
    )
    calm_good, calm_faults = parallel(
        lambda: wrk(server, "good, beside faults but no runaway", "good", seconds=seconds * 2, connections=8,
                    threads=2),
        lambda: wrk(server, "every fault plugin but the runaway", "calm_faults", seconds=seconds * 2, connections=4),
    )
    for run in (mixed_good, faults, calm_good, calm_faults):
        judge(run)
        report(run)
    runs += [good, mixed_good, faults, calm_good, calm_faults]
    counted(server, runs, before)
    print(f"good p99 beside the faults / alone: {mixed_good.p99_ms / good.p99_ms:.2f}x "
          f"({mixed_good.p99_ms:.2f} / {good.p99_ms:.2f} ms); beside the faults but the runaway: "
          f"{calm_good.p99_ms / good.p99_ms:.2f}x ({calm_good.p99_ms:.2f} ms)")
    print(f"RSS {rss_start:.0f} MiB at the start, {server.rss_mib():.0f} MiB at the end")


def leak(server: Server, total: int) -> None:
    before = server.answered()
    first = wrk(server, "leak and upper, first 10,000", "leakmix", seconds=600, connections=8, threads=2, limit=10_000)
    rss_first = server.rss_mib()
    rest = wrk(server, f"leak and upper, {total - 10_000:,} more", "leakmix", seconds=3600, connections=8,
               threads=2, limit=total - 10_000)
    rss_end = server.rss_mib()
    for run in (first, rest):
        judge(run)
        report(run)
    counted(server, [first, rest], before)
    recycled = server.metric('guestmem_pool_recycles_total{plugin="misbehave",cause="memory"}')
    print(f"RSS {rss_first:.0f} MiB after {first.answered:,} answers, {rss_end:.0f} MiB after "
          f"{first.answered + rest.answered:,} (+{rss_end - rss_first:.0f} MiB); misbehave recycled "
          f"{recycled:.0f} times for memory")
    if rss_end > rss_first + 64:
        raise Failed(f"RSS grew by {rss_end - rss_first:.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("smoke", "bench", "leak"))
    parser.add_argument("--server", type=Path, help="the guestmem-server binary")
    parser.add_argument("--guests", type=Path, default=Path(os.environ.get("GUESTMEM_GUEST_DIR", ROOT / "target/guests")))
    parser.add_argument("--rounds", type=int, default=3, help="bench: alternating rounds per size")
    parser.add_argument("--seconds", type=float, default=5, help="bench: seconds per round")
    parser.add_argument("--total", type=int, default=1_000_000, help="leak: requests in all")
    parser.add_argument("--no-recycle", action="store_true", help="leak: no memory high-water mark")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("loadtest.py: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    profile = "debug" if args.mode == "smoke" else "release"
    binary = args.server or ROOT / "target" / profile / "guestmem-server"
    with tempfile.TemporaryDirectory(prefix="guestmem-load-") as temp:
        plugins = Path(temp) / "plugins"
        plugins.mkdir()
        for name in PLUGINS:
            shutil.copy(args.guests / f"{name}.wasm", plugins / f"{name}.wasm")
        # Recycled above 24 pages (1.5 MiB): misbehave starts at 18 and leaks 1 KiB a call.
        pages = "65536" if args.no_recycle else "24"
        options = ["--deadline-ms", "100", "--max-instances", "8", "--recycle-above-pages", pages,
                   "--checkout-timeout-ms", "5000"]
        if args.mode == "bench":
            options.append("--native")
        log = Path(temp) / "server.log"
        print(f"{binary.relative_to(ROOT) if binary.is_relative_to(ROOT) else binary} {' '.join(options)}; "
              f"wrk {subprocess.run(['wrk', '--version'], capture_output=True, text=True).stdout.split()[1]}, "
              f"{os.cpu_count()} cores", flush=True)
        server = Server(binary, plugins, log, *options)
        try:
            if args.mode == "smoke":
                smoke(server)
            elif args.mode == "bench":
                bench(server, args.rounds, args.seconds)
            else:
                leak(server, args.total)
        except Failed as failure:
            print(f"loadtest.py {args.mode}: FAILED: {failure}", file=sys.stderr)
            server.stop()
            print(log.read_text()[-4000:], file=sys.stderr)
            return 1
        server.stop()
        print(f"loadtest.py {args.mode}: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
