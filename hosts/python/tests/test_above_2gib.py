"""Blocks above 2 GiB: pointers with the top bit set, which wasmtime hands Python as negative
``i32``s (harness/src/checks/above_2gib.rs, through this host). Linear memory is first filled past
2 GiB with large blocks that nothing touches, so the machine commits little of it; then a block
above 2 GiB goes through everything the ABI does with one: written and read, passed to ``echo``,
resized, freed, and misused (a wrong length, an interior pointer, a double free), where the trap's
reason must name the address. The same for a host function: its argument and its result block
above 2 GiB (the ``imports`` guest).

Run for ``echo`` with every allocator back end; each instance reserves about 2.5 GiB of guest
memory, one at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

import guestmem.host_functions
from conftest import BACKENDS, guest_path, load
from guestmem import Guest, GuestTrap
from test_conformance import pattern
from test_imports import imports_host, instantiate

TWO_GIB = 1 << 31
#: The blocks that fill linear memory.
FILLER = 256 << 20
#: At most this many fillers: 10 x 256 MiB reach 2.5 GiB.
MAX_FILLERS = 10
#: At most this many small blocks are tried before one lands above 2 GiB.
MAX_PROBES = 64
#: The small block's length.
LENGTH = 100


@dataclass
class Filled:
    """A guest whose memory is filled past 2 GiB, and what was allocated to get there."""

    guest: Guest
    fillers: list[int] = field(default_factory=list)
    #: Small blocks that landed below 2 GiB on the way.
    low: list[int] = field(default_factory=list)

    def fill(self) -> None:
        guest = self.guest
        while guest.memory_size() <= TWO_GIB + FILLER and len(self.fillers) < MAX_FILLERS:
            ptr = guest.alloc(FILLER)
            assert ptr != 0, f"alloc({FILLER}) returned 0 at {guest.memory_size() >> 20} MiB"
            self.fillers.append(ptr)

    def block_above(self, length: int) -> int:
        """A live block of ``length`` bytes above 2 GiB."""
        for _ in range(MAX_PROBES):
            ptr = self.guest.alloc(length)
            if ptr >= TWO_GIB:
                return ptr
            self.low.append(ptr)
        raise AssertionError(
            f"no block of {length} bytes above 2 GiB in {MAX_PROBES} tries, with "
            f"{self.guest.memory_size() >> 20} MiB of memory"
        )

    def free_the_rest(self) -> None:
        for ptr in self.fillers + self.low:
            self.guest.free(ptr)
        self.fillers, self.low = [], []


def filled(instantiate: Callable[[], Guest]) -> Filled:
    above = Filled(instantiate())
    above.fill()
    return above


@pytest.fixture(params=BACKENDS)
def echo_above(request: pytest.FixtureRequest) -> Iterator[Callable[[], Guest]]:
    """A fresh ``echo`` instance, built with each allocator back end."""
    module = load(guest_path("echo", f"-{request.param}"), "echo")
    yield module.instantiate


def test_a_block_above_2gib_goes_through_the_abi(echo_above: Callable[[], Guest]) -> None:
    baseline = echo_above().live_blocks()
    above = filled(echo_above)
    guest = above.guest
    ptr = above.block_above(LENGTH)
    data = pattern(9, LENGTH)
    guest.write(ptr, data)
    assert guest.read(ptr, LENGTH) == data
    # The block as a guest function's input; the result is another block.
    assert guest.take_result("echo", guest.call_raw("echo", ptr, LENGTH)) == data
    assert guest.func("echo").call_bytes(b"x" * 70_000) == b"x" * 70_000  # an input block of its own
    grown = guest.realloc(ptr, 5_000)
    assert grown != 0, f"realloc({ptr:#x}, 5000) returned 0"
    assert guest.read(grown, LENGTH) == data
    guest.dealloc(grown, 5_000)
    above.free_the_rest()
    assert guest.live_blocks() == baseline


def misuse(guest: Guest, ptr: int, case: str) -> tuple[int, str, Callable[[], object]]:
    """The pointer misused, the export, and the misuse, for the block at ``ptr``."""
    if case == "wrong length":
        return ptr, "dealloc", lambda: guest.dealloc(ptr, LENGTH + 1)
    if case == "interior pointer":
        return ptr + 8, "free", lambda: guest.free(ptr + 8)
    assert case == "double free"
    guest.free(ptr)
    return ptr, "free", lambda: guest.free(ptr)


@pytest.mark.parametrize("case", ["wrong length", "interior pointer", "double free"])
def test_a_misused_block_above_2gib_traps_naming_it(
    echo_above: Callable[[], Guest], case: str
) -> None:
    above = filled(echo_above)
    bad, function, action = misuse(above.guest, above.block_above(LENGTH), case)
    with pytest.raises(GuestTrap) as caught:
        action()
    reason = caught.value.reason or ""
    assert caught.value.function == function
    assert reason.startswith("guestmem: "), reason
    assert function in reason and (f"{bad:#x}" in reason or str(bad) in reason), reason


def test_a_host_function_argument_and_result_above_2gib(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks: list[int] = []
    write_block = guestmem.host_functions._Calling.write_block

    def recording(calling: guestmem.host_functions._Calling, data: bytes) -> int:
        ptr = write_block(calling, data)
        blocks.append(ptr)
        return ptr

    monkeypatch.setattr(guestmem.host_functions._Calling, "write_block", recording)
    above = filled(lambda: instantiate("imports", imports_host))
    guest = above.guest
    before = guest.live_blocks()
    key = "k" * 70_000
    ptr = guest.put(key)
    assert ptr >= TWO_GIB, f"the key's block is at {ptr:#x}"
    assert guest.take_result("relay", guest.call_raw("relay", ptr, len(key))) == key.encode() * 3
    assert blocks and blocks[-1] >= TWO_GIB, f"the host's result blocks: {blocks}"
    guest.free(ptr)
    assert guest.live_blocks() == before
