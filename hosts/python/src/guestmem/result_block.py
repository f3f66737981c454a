"""Locating a result block in linear memory, trusting nothing the guest wrote.

The layout is in "Results" of ``docs/ABI.md``: a u32 little-endian length ``n`` at ``ptr``, then
``n`` bytes. Python integers do not overflow, so ``ptr + 4 + n`` is compared with the size of
memory as it is; nothing is read before it is known to lie inside memory.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import BadResult, ResultProblem

#: Size of the length prefix.
PREFIX_LEN = 4
#: Result blocks are blocks, and blocks are 8-aligned.
BLOCK_ALIGN = 8


def locate(
    function: str, ptr: int, memory_len: int, read_u32: Callable[[int], int], cap: int
) -> tuple[int, int]:
    """Returns ``(start, length)`` of the payload of the result block at ``ptr``.

    ``read_u32(offset)`` reads the little-endian u32 at ``offset``; it is called only once the
    four bytes are known to lie inside memory.

    Raises :class:`BadResult` when ``ptr`` is misaligned, when the prefix or the payload is not
    inside memory, or when the payload is longer than ``cap``.
    """
    if ptr % BLOCK_ALIGN != 0:
        raise BadResult(function, ResultProblem.MISALIGNED, f"pointer {ptr:#x}")
    start = ptr + PREFIX_LEN
    if start > memory_len:
        raise BadResult(
            function,
            ResultProblem.PREFIX_OUT_OF_BOUNDS,
            f"prefix at {ptr:#x}, memory of {memory_len} bytes",
        )
    length = read_u32(ptr)
    if start + length > memory_len:
        raise BadResult(
            function,
            ResultProblem.PAYLOAD_OUT_OF_BOUNDS,
            f"{length} bytes at {ptr:#x} + 4, memory of {memory_len} bytes",
        )
    if length > cap:
        raise BadResult(function, ResultProblem.TOO_LONG, f"length {length}, cap {cap}")
    return start, length
