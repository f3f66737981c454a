"""Reading what a call returned: a result block copied out or lent in place, or the failure a
``0`` stands for, with ``last_error``'s message.

Where a block lies is decided by :func:`~guestmem.result_block.locate`, which trusts nothing the
guest wrote; this module frees every block it reads, and a block that is only too long as well.
"""

from __future__ import annotations

from .calls import AbiCalls
from .errors import BadResult, GuestError, GuestFailed, ResultProblem
from .memory import LinearMemory
from .result_block import locate


class Results:
    """The results of one instance's calls."""

    def __init__(self, calls: AbiCalls, memory: LinearMemory) -> None:
        self._calls = calls
        self._memory = memory

    def take(self, function: str, ptr: int) -> bytes:
        """Copies the payload of the result block at ``ptr`` out, then frees the block."""
        start, length = self._locate(function, ptr)
        data = self._memory.read(start, length)
        self._calls.free(ptr)
        return data

    def lend(self, function: str, ptr: int) -> memoryview:
        """Lends the payload of the result block at ``ptr`` in place, until the next call; a
        ``0`` is the failure it stands for."""
        if ptr == 0:
            raise self.failure(function)
        start, length = self._locate(function, ptr)
        raw = self._memory.view(start, length)
        cast = raw.cast("B")
        view = cast.toreadonly()
        self._calls.lend(ptr, [view, cast, raw])
        return view

    def last_error(self) -> str | None:
        """Takes the pending error message: ``last_error()``, then reads and frees the block.
        :class:`BadResult` if the block cannot be read or is not UTF-8."""
        ptr = self._calls.last_error()
        if ptr == 0:
            return None
        message = self.take("last_error", ptr)
        try:
            return message.decode()
        except UnicodeDecodeError as error:
            raise BadResult("last_error", ResultProblem.NOT_UTF8, str(error)) from None

    def clear_pending_error(self) -> None:
        """Takes an error an earlier ``0`` left, so that this call's failure is its own."""
        if self._calls.error_pending:
            self.last_error()

    def failure(self, function: str) -> GuestFailed:
        """The failure of ``function``, which returned ``0``, with ``last_error``'s message."""
        try:
            message = self.last_error()
        except GuestError as error:
            message = f"returned 0 and last_error failed: {error}"
        return GuestFailed(function, message or "returned 0 and no error is pending")

    def _locate(self, function: str, ptr: int) -> tuple[int, int]:
        try:
            return locate(
                function, ptr, self._memory.size(), self._memory.read_u32, self._calls.result_cap
            )
        except BadResult as error:
            # A block that is only too long is still a block: give it back. Anything else is not
            # a block, and freeing it would only make the guest trap.
            if error.problem is ResultProblem.TOO_LONG:
                self._calls.free(ptr)
            raise
