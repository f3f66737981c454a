"""Linear memory as the host touches it: a fresh address before every access, every range
checked against the current size first.

A call into the guest may grow memory, and growing may move it, so no address is kept across
calls. wasmtime checks its own accesses; these copies go through ``ctypes``, so the check is
made here, before anything is read or written.
"""

from __future__ import annotations

import ctypes
from typing import TypeAlias

import wasmtime

from .errors import OutOfBounds

#: The bytes the host copies into linear memory: inputs turned into bytes (``inputs.as_bytes``).
Buffer: TypeAlias = bytes | bytearray | memoryview


class LinearMemory:
    """The guest's exported memory, in the user's store."""

    def __init__(self, store: wasmtime.Store, memory: wasmtime.Memory) -> None:
        self.store = store
        self.memory = memory

    def size(self) -> int:
        """The current size, in bytes."""
        return self.memory.data_len(self.store)

    def address(self) -> int:
        """Where memory starts now."""
        return ctypes.addressof(self.memory.data_ptr(self.store).contents)

    def check(self, function: str, ptr: int, length: int) -> None:
        """:class:`OutOfBounds`, naming ``function``, unless ``length`` bytes at ``ptr`` lie
        inside memory."""
        size = self.size()
        if ptr < 0 or length < 0 or ptr + length > size:
            raise OutOfBounds(function, ptr, length, size)

    def write(self, ptr: int, data: Buffer) -> None:
        """Copies ``data`` to ``ptr``, which the caller checked."""
        length = len(data)
        if length == 0:
            return
        address = self.address() + ptr
        if isinstance(data, bytes):
            ctypes.memmove(address, data, length)
            return
        with memoryview((ctypes.c_ubyte * length).from_address(address)) as raw:
            with raw.cast("B") as destination:
                destination[:] = data

    def read(self, ptr: int, length: int) -> bytes:
        """A copy of ``length`` bytes at ``ptr``, which the caller checked."""
        return ctypes.string_at(self.address() + ptr, length) if length else b""

    def read_u32(self, ptr: int) -> int:
        """The little-endian u32 at ``ptr``, which the caller checked."""
        return int.from_bytes(ctypes.string_at(self.address() + ptr, 4), "little")

    def view(self, ptr: int, length: int) -> memoryview:
        """A writable view of ``length`` bytes at ``ptr`` (checked by the caller), valid until
        memory moves."""
        return memoryview((ctypes.c_ubyte * length).from_address(self.address() + ptr))
