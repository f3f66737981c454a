"""``python -m guestmem describe`` and the README's example, run as users run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import wasmtime

from conftest import REPO, WAT, guest_path, suffixes


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          check=False, timeout=120)


def test_describe_an_example() -> None:
    path = guest_path("replace", suffixes()[0])
    described = run("-m", "guestmem", "describe", str(path))
    assert described.returncode == 0, described.stderr
    assert "abi_version: 1" in described.stdout
    assert "  free: free" in described.stdout
    assert "other functions: replace (3 inputs)" in described.stdout
    assert "does not exist yet" in described.stdout


def test_describe_a_wasi_guest(tmp_path: Path) -> None:
    path = tmp_path / "wasi.wasm"
    path.write_bytes(wasmtime.wat2wasm((WAT / "wasi.wat").read_text()))
    described = run("-m", "guestmem", "describe", str(path))
    assert described.returncode == 0, described.stderr
    assert "  free: guestmem_free" in described.stdout
    assert "wasi_snapshot_preview1.environ_sizes_get" in described.stdout
    assert "abi_version: 1" in described.stdout


def test_describe_a_missing_file_fails() -> None:
    assert run("-m", "guestmem", "describe", "no/such.wasm").returncode == 1


@pytest.mark.skipif("GUESTMEM_GUEST_DIR" in os.environ, reason="it reads the default guests")
def test_the_readme_example_runs() -> None:
    readme = (REPO / "hosts" / "python" / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", readme, re.S)
    assert example is not None
    ran = run("-c", example.group(1))
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "STRASSE"
    assert "UTF-8" in lines[1]
    assert lines[2] == "live blocks: 0"
