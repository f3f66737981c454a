"""The pure pieces: packing inputs into the kept block. Locating a result block is
test_testdata's, from testdata/result_blocks.json."""

from __future__ import annotations

from guestmem.inputs import KEPT_MAX, InputBlock, packed_len


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
