"""A guest export looked up once: the calls users make."""

from __future__ import annotations

from typing import TYPE_CHECKING

import wasmtime

from .errors import ArityError, BadResult, ExportError, GuestFailed, ResultProblem

if TYPE_CHECKING:
    from .guest import Guest
    from .inputs import Input


class GuestFunc:
    """A guest export taking byte inputs as ``(ptr, len)`` pairs and returning an i32 (a result
    block, or an integer), looked up once with :meth:`Guest.func`.

    Each call copies its inputs in (``bytes``, ``bytearray``, ``memoryview``, or ``str`` as
    UTF-8), calls the export, and frees what it allocated.
    """

    def __init__(self, guest: Guest, name: str) -> None:
        func = guest.export(name)
        if not isinstance(func, wasmtime.Func):
            raise ExportError(name, "missing, or not a function")
        ty = func.type(guest.store)
        i32 = wasmtime.ValType.i32()
        params = len(ty.params)
        if (
            params % 2
            or len(ty.results) != 1
            or not all(value == i32 for value in [*ty.params, *ty.results])
        ):
            raise ExportError(
                name, "is not a function taking (ptr: i32, len: i32) pairs and returning an i32"
            )
        self._guest = guest
        self._func = func
        self.name = name
        #: How many byte inputs it takes.
        self.inputs = params // 2

    def __repr__(self) -> str:
        return f"GuestFunc({self.name!r}, inputs={self.inputs})"

    def call_bytes(self, *inputs: Input) -> bytes:
        """Calls it and returns a copy of the result block's bytes; the block is freed.

        Raises :class:`GuestFailed` if it returned ``0`` (with ``last_error``'s message),
        :class:`BadResult` if the block cannot be trusted, :class:`GuestTrap` if it trapped.
        """
        ptr = self._call(inputs)
        return self._guest._take(self.name, ptr) if ptr else self._fail()

    def call_str(self, *inputs: Input) -> str:
        """Calls it and returns the result block's text; :class:`BadResult` if not UTF-8."""
        data = self.call_bytes(*inputs)
        try:
            return data.decode()
        except UnicodeDecodeError as error:
            raise BadResult(self.name, ResultProblem.NOT_UTF8, str(error)) from None

    def call_view(self, *inputs: Input) -> memoryview:
        """Calls it and lends the result's bytes where they lie in guest memory, without a copy.

        The read-only view is valid until the next call into this guest (any call: it may grow
        memory and move it); then it is released, so that using it raises ``ValueError``, and the
        block is freed. Slices of the view are not released with it: copy (``bytes(view)``)
        whatever must outlive the next call.
        """
        ptr = self._call(inputs)
        return self._guest._lend(self.name, ptr)

    def call_int(self, *inputs: Input) -> int:
        """Calls a function that returns an integer (a u32). ``0`` is an answer unless the call
        left an error pending: then it is :class:`GuestFailed`. An error pending from an earlier
        call is cleared first, so it is never reported as this call's."""
        value = self._call(inputs)
        if value == 0:
            message = self._guest.last_error()
            if message is not None:
                raise GuestFailed(self.name, message)
        return value

    def call_raw(self, *inputs: Input) -> int:
        """Calls it and returns its raw i32 result as a u32: a result block's pointer is the
        caller's to take (:meth:`Guest.take_result`)."""
        if len(inputs) != self.inputs:
            raise ArityError(self.name, self.inputs, len(inputs))
        return self._guest._call(self.name, self._func, inputs)

    def _call(self, inputs: tuple[Input, ...]) -> int:
        if len(inputs) != self.inputs:
            raise ArityError(self.name, self.inputs, len(inputs))
        guest = self._guest
        guest._refuse_call_back(self.name)
        # Whatever a result or an integer call reports as its failure must be its own.
        guest._clear_pending_error()
        return guest._call(self.name, self._func, inputs)

    def _fail(self) -> bytes:
        raise self._guest._failure(self.name)
