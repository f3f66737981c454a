"""Placing a call's inputs in guest memory.

The guest only borrows its inputs ("Ownership" in ``docs/ABI.md``), and an input may lie anywhere
inside a block the host allocated, so all the inputs of a call can share one block, kept and
replaced by a larger one when it is too small. That saves an ``alloc`` and a ``free`` per input and
call. Inputs larger than :data:`KEPT_MAX` in all get blocks of their own, freed after the call, so
a single large call does not pin its memory for the instance's life; so do the inputs of a call
with owned ones, which the guest takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from typing import TypeAlias, Union

from .calls import AbiCalls, to_i32
from .errors import AllocFailed, GuestError, GuestTrap, InputTooLong, OutOfBounds
from .memory import Buffer, LinearMemory

#: An input: bytes as they are (any C-contiguous buffer), or text as its UTF-8.
Input: TypeAlias = Union[bytes, bytearray, memoryview, str]

#: What an input may be, as a TypeError says it.
INPUT_TYPES = "bytes, bytearray, memoryview or str"
_U32_MAX = 0xFFFF_FFFF

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


def as_bytes(value: object, function: str, position: int, name: str | None = None) -> Buffer:
    """The bytes of ``value``, argument ``position`` (from 1) of ``function``: a buffer as it is
    (a memoryview of another format or shape as its bytes), text as its UTF-8. ``TypeError``
    naming the function, the argument and both types for anything else: Python would otherwise
    fail later with a message that names none of them."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, memoryview):
        return value if value.format == "B" and value.ndim == 1 else value.cast("B")
    if isinstance(value, (bytes, bytearray)):
        return value
    label = f"argument {position}" if name is None else f"argument {position} (`{name}`)"
    raise TypeError(
        f"`{function}`: {label} must be {INPUT_TYPES}, not {type(value).__name__}"
    )


class Placed:
    """The ``(ptr, len)`` arguments of a call's inputs, and whether they lie in blocks of their
    own, which :meth:`Inputs.release` frees after the call."""

    __slots__ = ("apart", "args")

    def __init__(self, args: list[int], apart: bool) -> None:
        self.args = args
        self.apart = apart


class Inputs:
    """Placing inputs in one instance's memory."""

    def __init__(self, calls: AbiCalls, memory: LinearMemory) -> None:
        self._calls = calls
        self._memory = memory
        # The guest only borrows inputs, so the contract allows one block kept from call to
        # call, and it saves an alloc and a free per call.
        self._kept = InputBlock()

    @property
    def blocks(self) -> int:
        """The live blocks the host keeps for inputs: 0 or 1."""
        return self._kept.blocks

    def release_kept(self) -> None:
        """Frees the kept block, if there is one; the next call allocates a new one."""
        ptr = self._kept.take()
        if ptr is not None:
            self._calls.free(ptr)

    def put(self, function: str, data: Buffer, room: int = 0) -> int:
        """A new block holding ``data`` after ``room`` bytes; returns where ``data`` starts."""
        length = len(data)
        if length + room > _U32_MAX:
            raise InputTooLong(function, length)
        ptr = self._calls.alloc(length + room)
        if ptr == 0:
            raise AllocFailed(function, length + room)
        # A pointer outside memory is not a block: reported, never freed (that would trap).
        self._memory.check(function, ptr, length + room)
        if ptr + room > _U32_MAX:  # a block of `room` bytes ending at 4 GiB: no pointer past it
            raise OutOfBounds(function, ptr, length + room, self._memory.size())
        self._memory.write(ptr + room, data)
        return ptr + room

    def place(self, function: str, data: Sequence[Buffer], owned: Set[int]) -> Placed:
        """Copies ``data`` into guest memory: the kept block for small inputs, blocks of their
        own for large ones and for every input of a call with ``owned`` ones (their indices).
        On an error nothing stays allocated but the kept block."""
        if not data:
            return Placed([], False)
        if self._calls.lending:
            # A slice of the lent view may be among the inputs: it is not released with the
            # view, and its block is freed (and memory may move) before the inputs are copied.
            data = [bytes(value) if isinstance(value, memoryview) else value for value in data]
        total = None if owned else packed_len(len(value) for value in data)
        if total is None:
            return Placed(self._place_apart(function, data, owned), True)
        block = self._kept_block(function, total)
        self._memory.check(function, block, total)
        args: list[int] = []
        offset = block
        for value in data:
            self._memory.write(offset, value)
            args += (to_i32(offset), len(value))
            offset += stride(len(value))
        return Placed(args, False)

    def release(self, placed: Placed, *, taken: Set[int] = frozenset()) -> None:
        """Frees the blocks ``placed`` apart, but for those the guest ``taken`` (their indices)."""
        if placed.apart:
            self._free_apart(placed.args, taken=taken)

    def _kept_block(self, function: str, length: int) -> int:
        """The kept block, at least ``length`` bytes long. A block too small is freed and a larger
        one allocated: its bytes need not be kept, so ``realloc`` would copy for nothing."""
        capacity = self._kept.grow_to(length)
        if capacity is None:
            return self._kept.ptr
        self.release_kept()
        ptr = self._calls.alloc(capacity)
        if ptr == 0:
            raise AllocFailed(function, capacity)
        self._kept.ptr, self._kept.capacity = ptr, capacity
        return ptr

    def _place_apart(self, function: str, data: Sequence[Buffer], owned: Set[int]) -> list[int]:
        """A block each, all freed again if one cannot be had. An owned input's block has
        :data:`OWNED_ROOM` bytes of room in front, and its argument points past them ("Owned
        arguments" in ``docs/ABI.md``)."""
        args: list[int] = []
        try:
            for index, value in enumerate(data):
                room = OWNED_ROOM if index in owned else 0
                args += (to_i32(self.put(function, value, room)), len(value))
        except GuestTrap:
            raise
        except GuestError:
            # Not called yet: the owned blocks are still the host's to free.
            self._free_apart(args, room=owned)
            raise
        return args

    def _free_apart(
        self, args: list[int], *, taken: Set[int] = frozenset(), room: Set[int] = frozenset()
    ) -> None:
        """Frees the blocks of ``args``, but for those the guest ``taken``; ``room`` marks those
        that start :data:`OWNED_ROOM` bytes before their argument."""
        for index, ptr in enumerate(args[::2]):
            if index in taken:
                continue
            block = (ptr & _U32_MAX) - OWNED_ROOM if index in room else ptr & _U32_MAX
            self._calls.free(block)
