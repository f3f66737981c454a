"""The pure pieces: locating a result block, packing inputs into the kept block."""

from __future__ import annotations

import pytest

from guestmem import BadResult, ResultProblem
from guestmem.inputs import KEPT_MAX, InputBlock, packed_len
from guestmem.result_block import locate


def memory_with_block(at: int, length: int, size: int) -> bytes:
    memory = bytearray(b"\xaa" * size)
    memory[at : at + 4] = length.to_bytes(4, "little")
    return bytes(memory)


def find(memory: bytes, ptr: int, cap: int) -> tuple[int, int]:
    return locate("f", ptr, len(memory), lambda at: int.from_bytes(memory[at : at + 4], "little"), cap)


def problem(memory: bytes, ptr: int, cap: int) -> ResultProblem:
    with pytest.raises(BadResult) as caught:
        find(memory, ptr, cap)
    return caught.value.problem


def test_reads_a_block_ending_at_the_end_of_memory() -> None:
    assert find(memory_with_block(8, 4, 16), 8, 4) == (12, 4)
    assert find(memory_with_block(8, 0, 12), 8, 0) == (12, 0)


def test_rejects_what_is_not_a_block() -> None:
    assert problem(memory_with_block(8, 0, 64), 9, 100) is ResultProblem.MISALIGNED
    for ptr in (64, 0x1_0000, 0xFFFF_FFF8):
        assert problem(bytes(64), ptr, 100) is ResultProblem.PREFIX_OUT_OF_BOUNDS
    assert problem(bytes(58), 56, 100) is ResultProblem.PREFIX_OUT_OF_BOUNDS
    for length in (5, 1 << 20, 0xFFFF_FFFC, 0xFFFF_FFFF):
        assert problem(memory_with_block(8, length, 16), 8, 0xFFFF_FFFF) is (
            ResultProblem.PAYLOAD_OUT_OF_BOUNDS
        )
    assert problem(memory_with_block(8, 8, 32), 8, 7) is ResultProblem.TOO_LONG
    assert find(memory_with_block(8, 8, 32), 8, 8) == (12, 8)


def test_inputs_pack_8_aligned_up_to_the_cap() -> None:
    assert packed_len([1, 8, 0, 9]) == 32
    assert packed_len([KEPT_MAX]) == KEPT_MAX
    assert packed_len([KEPT_MAX, 1]) is None


def test_the_kept_block_doubles_within_the_cap() -> None:
    block = InputBlock()
    assert block.grow_to(0) == 256
    block.ptr, block.capacity = 64, 256
    assert block.grow_to(256) is None
    assert block.grow_to(300) == 512
    block.capacity = 40_000
    assert block.grow_to(40_001) == KEPT_MAX
    assert block.take() == 64
    assert block.blocks == 0
