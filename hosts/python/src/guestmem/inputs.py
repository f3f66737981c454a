"""The block a host keeps for small inputs, reused from call to call.

The guest only borrows its inputs ("Ownership" in ``docs/ABI.md``), and an input may lie anywhere
inside a block the host allocated, so all the inputs of a call can share one block, kept and
replaced by a larger one when it is too small. That saves an ``alloc`` and a ``free`` per input and
call. Inputs larger than :data:`KEPT_MAX` in all get blocks of their own, freed after the call, so
a single large call does not pin its memory for the instance's life.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias, Union

#: An input: bytes as they are (any C-contiguous buffer), or text as its UTF-8.
Input: TypeAlias = Union[bytes, bytearray, memoryview, str]

#: The most bytes the kept block grows to.
KEPT_MAX = 64 << 10
#: The size of a new kept block, so that the first calls do not each grow it.
KEPT_MIN = 256
#: The room an owned input's block has in front of the bytes, for the result's length prefix
#: ("Owned arguments" in ``docs/ABI.md``).
OWNED_ROOM = 4


def stride(length: int) -> int:
    """The room an input of ``length`` bytes takes: inputs start 8-aligned, like blocks."""
    return (length + 7) & ~7


def packed_len(lengths: Iterable[int]) -> int | None:
    """The bytes inputs of ``lengths`` take in the kept block, or ``None`` past :data:`KEPT_MAX`."""
    total = 0
    for length in lengths:
        total += stride(length)
        if total > KEPT_MAX:
            return None
    return total


class InputBlock:
    """The kept block: its pointer (``0``: none yet) and capacity."""

    __slots__ = ("capacity", "ptr")

    def __init__(self) -> None:
        self.ptr = 0
        self.capacity = 0

    def grow_to(self, length: int) -> int | None:
        """``None`` if ``length`` bytes fit; otherwise the capacity of the block to replace it."""
        if self.ptr != 0 and length <= self.capacity:
            return None
        capacity = max(length, self.capacity * 2, KEPT_MIN)
        return max(min(capacity, KEPT_MAX), length)

    def take(self) -> int | None:
        """Gives the block up, if there is one."""
        ptr, self.ptr, self.capacity = self.ptr, 0, 0
        return ptr or None

    @property
    def blocks(self) -> int:
        """The number of live blocks it holds: 0 or 1."""
        return 1 if self.ptr else 0
