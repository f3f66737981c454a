"""``python -m guestmem describe`` and the README's example, run as users run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import wasmtime

from conftest import REPO, WAT, guest_path, read_testdata, suffixes
from guestmem.describe import NO_SECTION

#: testdata/sections.json's cases, by name.
CASES = {case["name"]: case for case in read_testdata("sections.json")["cases"]}
#: The Rust CLI, ``guestmem describe FILE``: target/debug/guestmem, or ``$GUESTMEM_CLI``.
CLI = Path(os.environ.get("GUESTMEM_CLI", REPO / "target" / "debug" / "guestmem"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          check=False, timeout=120)


def test_describe_prints_the_interface_section() -> None:
    path = guest_path("replace", suffixes()[0])
    described = run("-m", "guestmem", "describe", str(path))
    assert described.returncode == 0, described.stderr
    assert described.stdout == (
        "export replace(text: string, from: string, to: string) -> string, fallible\n"
    )
    minimal = run("-m", "guestmem", "describe", str(guest_path("minimal", suffixes()[0])))
    assert minimal.stdout == NO_SECTION


def test_describe_abi_reports_the_exports_and_the_abi() -> None:
    path = guest_path("replace", suffixes()[0])
    described = run("-m", "guestmem", "describe", "--abi", str(path))
    assert described.returncode == 0, described.stderr
    assert "abi_version: 1" in described.stdout
    assert "  free: free" in described.stdout
    assert "other functions: replace (3 inputs)" in described.stdout


def test_describe_a_wasi_guest(tmp_path: Path) -> None:
    path = tmp_path / "wasi.wasm"
    path.write_bytes(wasmtime.wat2wasm((WAT / "wasi.wat").read_text()))
    described = run("-m", "guestmem", "describe", "--abi", str(path))
    assert described.returncode == 0, described.stderr
    assert "  free: guestmem_free" in described.stdout
    assert "wasi_snapshot_preview1.environ_sizes_get" in described.stdout
    assert "abi_version: 1" in described.stdout


def wat_with_section(case: str) -> str:
    """A text module holding the section of sections.json's case ``case``."""
    escaped = "".join(f"\\{byte:02x}" for byte in bytes.fromhex(CASES[case]["section"]))
    return f'(module (@custom "guestmem.interface" "{escaped}"))'


def test_describe_reads_text_modules_and_reports_a_malformed_section(tmp_path: Path) -> None:
    path = tmp_path / "upper.wat"
    path.write_text(wat_with_section("upper"))
    described = run("-m", "guestmem", "describe", str(path))
    assert (described.returncode, described.stdout) == (0, CASES["upper"]["describe"])
    path.write_text(wat_with_section("unknown result kind 99"))
    described = run("-m", "guestmem", "describe", str(path))
    assert described.returncode == 1
    assert described.stdout == ""
    prefix = f"python -m guestmem describe: {path}: `guestmem.interface`: malformed: "
    assert described.stderr.startswith(prefix), described.stderr
    assert CASES["unknown result kind 99"]["error"] in described.stderr


@pytest.mark.skipif(not CLI.is_file(), reason=f"no guestmem CLI binary at {CLI}")
def test_describe_prints_what_the_rust_cli_prints(tmp_path: Path) -> None:
    """Both commands on a guest, a guest without a section, and every case of sections.json."""
    files = [guest_path("replace", suffixes()[0]), guest_path("minimal", suffixes()[0])]
    for index, case in enumerate(CASES.values()):
        path = tmp_path / f"{index}.wasm"
        path.write_bytes(wasmtime.wat2wasm(wat_with_section(case["name"])))
        files.append(path)
    for path in files:
        python = run("-m", "guestmem", "describe", str(path))
        rust = subprocess.run(
            [str(CLI), "describe", str(path)], capture_output=True, text=True, check=False,
            timeout=60,
        )
        assert python.stdout == rust.stdout, path
        assert (python.returncode == 0) == (rust.returncode == 0), (path, rust.stderr)


def test_describe_a_missing_file_fails() -> None:
    assert run("-m", "guestmem", "describe", "no/such.wasm").returncode == 1


def python_blocks(readme: Path) -> list[str]:
    """The ```python blocks of ``readme``, in order."""
    return re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)


HOST_README = REPO / "hosts" / "python" / "README.md"
ROOT_README = REPO / "README.md"
UPPER_OUTPUT = ["STRASSE", "UTF-8", "live blocks: 0"]
GREET_OUTPUT = ["log: Hello, Ada!", "Hello, Ada!", "no salutation today"]
SHAPES_OUTPUT = [
    "Measured(name='door', area=16000, square=False)",
    "Measured(name='tile', area=900, square=True)",
]
TYPED_OUTPUT = [
    "export measure(rect: json) -> json, fallible",
    SHAPES_OUTPUT[0],
    "True",
    "`measure_compact`: call refused: returns postcard (its interface says), which `call_int`",
]


def runs_with(source: str, expected: list[str]) -> None:
    """Runs ``source`` as users run it, from the repository root; each line of its output holds
    the line of ``expected`` at its place."""
    ran = run("-c", source)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert len(lines) == len(expected), lines
    for line, words in zip(lines, expected):
        assert words in line, (line, words)


@pytest.mark.skipif("GUESTMEM_GUEST_DIR" in os.environ, reason="it reads the default guests")
def test_the_readme_example_runs() -> None:
    runs_with(python_blocks(HOST_README)[0], UPPER_OUTPUT)


@pytest.mark.skipif("GUESTMEM_GUEST_DIR" in os.environ, reason="it reads the default guests")
def test_the_readme_host_functions_example_runs() -> None:
    (example,) = [block for block in host_function_blocks() if "with_data" not in block]
    runs_with(example, GREET_OUTPUT)


@pytest.mark.skipif("GUESTMEM_GUEST_DIR" in os.environ, reason="it reads the default guests")
def test_the_readme_store_data_example_runs() -> None:
    (example,) = [block for block in host_function_blocks() if "with_data" in block]
    runs_with(example, ["Hello, Ada!", "Bonjour, Ada!"])


def host_function_blocks() -> list[str]:
    return [block for block in python_blocks(HOST_README) if "HostFunctions" in block]


@pytest.mark.skipif("GUESTMEM_GUEST_DIR" in os.environ, reason="it reads the default guests")
def test_the_readme_typed_values_example_runs() -> None:
    (example,) = [block for block in python_blocks(HOST_README) if "call_postcard" in block]
    runs_with(example, TYPED_OUTPUT)


@pytest.mark.skipif("GUESTMEM_GUEST_DIR" in os.environ, reason="it reads the default guests")
def test_the_readme_pool_example_runs() -> None:
    runs_with(pool_block(), ["ABC", "1"])


def pool_block() -> str:
    (example,) = [block for block in python_blocks(HOST_README) if "EpochTicker" in block]
    return example


@pytest.mark.skipif("GUESTMEM_GUEST_DIR" in os.environ, reason="it reads the default guests")
def test_the_repository_readme_python_examples_run() -> None:
    """README.md's Python host: the call, then host functions and typed values, which go on from
    it."""
    call, host_functions, typed = python_blocks(ROOT_README)
    runs_with(call, UPPER_OUTPUT)
    runs_with(call + host_functions, UPPER_OUTPUT + GREET_OUTPUT)
    runs_with(call + host_functions + typed, UPPER_OUTPUT + GREET_OUTPUT + SHAPES_OUTPUT)


def test_the_readme_examples_pass_mypy_strict() -> None:
    examples = host_function_blocks()
    (typed,) = [block for block in python_blocks(HOST_README) if "call_postcard" in block]
    call, host_functions, typed_here = python_blocks(ROOT_README)
    for source in (*examples, typed, pool_block(), call + host_functions + typed_here):
        checked = run("-m", "mypy", "--strict", "--no-incremental", "-c", source)
        assert checked.returncode == 0, checked.stdout
