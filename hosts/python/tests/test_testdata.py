"""The wire format's shared cases (``testdata/``, read by the Rust, Python and JavaScript tests):
every interface section through this host's reader and ``describe``, every result block through
its reader. A case added there is checked here without a change to this file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import read_testdata
from guestmem import SECTION, BadResult, Interface, InterfaceError, ResultProblem
from guestmem.describe import interface_text
from guestmem.result_block import locate

SECTIONS: list[dict[str, Any]] = read_testdata("sections.json")["cases"]
RESULT_BLOCKS: list[dict[str, Any]] = read_testdata("result_blocks.json")["cases"]

#: The problems of result_blocks.json, by name.
PROBLEMS = {
    "misaligned": ResultProblem.MISALIGNED,
    "prefix_out_of_bounds": ResultProblem.PREFIX_OUT_OF_BOUNDS,
    "payload_out_of_bounds": ResultProblem.PAYLOAD_OUT_OF_BOUNDS,
    "too_long": ResultProblem.TOO_LONG,
}


def leb128(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def module_with_section(contents: bytes) -> bytes:
    """A module holding nothing but a ``guestmem.interface`` section of ``contents``."""
    body = leb128(len(SECTION)) + SECTION.encode() + contents
    return b"\0asm\x01\0\0\0" + b"\x00" + leb128(len(body)) + body


@pytest.mark.parametrize("case", SECTIONS, ids=[case["name"] for case in SECTIONS])
def test_a_section_reads_as_the_case_says(case: dict[str, Any], tmp_path: Path) -> None:
    contents = bytes.fromhex(case["section"])
    path = tmp_path / "module.wasm"
    path.write_bytes(module_with_section(contents))
    if "describe" in case:
        assert Interface.parse(contents).text() == case["describe"]
        assert interface_text(str(path)) == case["describe"]
        return
    with pytest.raises(InterfaceError) as parsed:
        Interface.parse(contents)
    assert case["error"] in str(parsed.value)
    with pytest.raises(InterfaceError) as described:
        interface_text(str(path))
    assert case["error"] in str(described.value)


def memory_of(case: dict[str, Any]) -> bytes:
    """The case's memory: byte ``i`` is ``i % 251``, then its prefix written, if it has one."""
    memory = bytearray(index % 251 for index in range(case["memory_size"]))
    at = case["prefix_at"]
    if at is not None:
        memory[at : at + 4] = case["prefix"].to_bytes(4, "little")
    return bytes(memory)


@pytest.mark.parametrize("case", RESULT_BLOCKS, ids=[case["name"] for case in RESULT_BLOCKS])
def test_a_result_block_reads_as_the_case_says(case: dict[str, Any]) -> None:
    memory = memory_of(case)

    def read_u32(offset: int) -> int:
        assert offset + 4 <= len(memory), "read before it was known to lie inside memory"
        return int.from_bytes(memory[offset : offset + 4], "little")

    ptr, cap = case["ptr"], case["cap"]
    if "payload" in case:
        start, length = locate("f", ptr, len(memory), read_u32, cap)
        assert memory[start : start + length].hex() == case["payload"]
        return
    with pytest.raises(BadResult) as caught:
        locate("f", ptr, len(memory), read_u32, cap)
    assert caught.value.problem is PROBLEMS[case["problem"]]

