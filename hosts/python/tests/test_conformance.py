"""Every line of docs/ABI.md that harness/src/checks/conformance.rs checks, through this host,
against every example guest built with every allocator back end. Anything that traps on purpose
runs in an instance of its own."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import GuestModule, builds, read_testdata
from guestmem import ABI_VERSION, Guest, GuestFailed, GuestTrap

#: The ABI's numbers and the lengths the checks allocate, shared with the harness's conformance
#: check and the JavaScript tests.
CONFORMANCE = read_testdata("conformance.json")
ALIGN: int = CONFORMANCE["block_align"]
LENGTHS: list[int] = CONFORMANCE["lengths"]
IMPOSSIBLE_LENGTHS: list[int] = CONFORMANCE["impossible_lengths"]
U32_MAX = 0xFFFF_FFFF


def pattern(seed: int, length: int) -> bytes:
    """Deterministic, index-dependent bytes, so that a block overwritten by another shows."""
    out = bytearray(length)
    for index in range(length):
        mixed = (index * 31 + seed * 97) & U32_MAX
        out[index] = (mixed & 0xFF) ^ ((mixed >> 8) & 0xFF)
    return bytes(out)


def sample_call(module: GuestModule) -> tuple[str, list[bytes], bytes | int] | None:
    """One call of the guest and its answer (harness/src/checks/mod.rs, sample_call)."""
    if module.exports("echo"):
        return "echo", [b"guestmem"], b"guestmem"
    if module.exports("upper"):
        return "upper", [b"guestmem"], b"GUESTMEM"
    if module.exports("replace"):
        return "replace", [b"a-b-c", b"-", b"+"], b"a+b+c"
    if module.exports("array_sum"):
        return "array_sum", [bytes([1, 2, 3, 250])], 256
    return None


def expect_trap(
    module: GuestModule, action: Callable[[], object], function: str, ptr: int, problem: str
) -> None:
    """``action`` traps in ``function`` with a recorded reason ``guestmem: PROBLEM``, which names
    the export and the pointer unless the guest is compact."""
    with pytest.raises(GuestTrap) as caught:
        action()
    reason = caught.value.reason
    assert reason is not None, "trapped without recording a reason"
    assert caught.value.function == function
    assert reason.startswith(f"guestmem: {problem}"), reason
    if not module.compact:
        assert function in reason and (f"{ptr:#x}" in reason or str(ptr) in reason), reason


def test_this_host_speaks_the_abi_version_of_the_contract() -> None:
    assert ABI_VERSION == CONFORMANCE["abi_version"]


def test_abi_version(module: GuestModule) -> None:
    assert module.instantiate().abi_version() == CONFORMANCE["abi_version"]


def test_stats_exports(module: GuestModule) -> None:
    assert module.exports("live_blocks") == module.exports("heap_bytes")
    assert module.exports("live_blocks") == (not module.compact)
    live = module.instantiate().live_blocks()
    assert (live is None) == module.compact


def test_alignment_and_overlap(module: GuestModule) -> None:
    guest = module.instantiate()
    baseline = guest.live_blocks()
    blocks: list[tuple[int, int, int]] = []
    for seed, length in enumerate(LENGTHS + LENGTHS[::-1]):
        ptr = guest.alloc(length)
        assert ptr != 0, f"alloc({length}) returned 0 with memory to spare"
        assert ptr % ALIGN == 0, f"alloc({length}) = {ptr:#x}"
        guest.write(ptr, pattern(seed, length))
        blocks.append((ptr, length, seed))
    memory = guest.memory_size()
    assert all(ptr + length <= memory for ptr, length, _ in blocks)
    ordered = sorted(blocks)
    for (first, first_len, _), (second, _, _) in zip(ordered, ordered[1:]):
        assert first + first_len <= second and first != second, f"{first:#x}+{first_len} overlaps {second:#x}"
    for ptr, length, seed in blocks:
        assert guest.read(ptr, length) == pattern(seed, length), f"block {ptr:#x}+{length} changed"
    if baseline is not None:
        assert guest.live_blocks() == baseline + len(blocks)
    for index, (ptr, length, _) in enumerate(blocks):
        if index % 2:
            guest.dealloc(ptr, length)
        else:
            guest.free(ptr)
    assert guest.live_blocks() == baseline


def test_alloc_zero(module: GuestModule) -> None:
    guest = module.instantiate()
    baseline = guest.live_blocks()
    first, second = guest.alloc(0), guest.alloc(0)
    assert first != 0 and second != 0
    assert first % ALIGN == 0 and second % ALIGN == 0
    assert first != second
    if baseline is not None:
        assert guest.live_blocks() == baseline + 2
    guest.free(first)
    guest.dealloc(second, 0)
    assert guest.live_blocks() == baseline


def expect_refused(guest: Guest, length: int, kept: int, content: bytes) -> None:
    """alloc(length) and realloc(kept, length) return 0, without a trap or growth, and leave
    ``kept`` as it was."""
    pages = guest.memory_pages()
    assert guest.alloc(length) == 0, f"alloc({length}) where no block can be had"
    assert guest.memory_pages() == pages
    assert guest.realloc(kept, length) == 0, f"realloc(_, {length}) where no block can be had"
    assert guest.memory_pages() == pages
    assert guest.read(kept, len(content)) == content


def test_impossible_lengths(module: GuestModule) -> None:
    guest = module.instantiate()
    content = pattern(7, 100)
    kept = guest.put(content)
    for length in IMPOSSIBLE_LENGTHS:
        expect_refused(guest, length, kept, content)
    guest.free(kept)  # still live: must not trap


def test_refused_growth(module: GuestModule) -> None:
    page, small = 65_536, 4096
    limit = module.instantiate().memory_size() + 2 * page
    guest = module.instantiate(memory_limit=limit)
    content = pattern(9, 100)
    kept = guest.put(content)
    expect_refused(guest, 4 << 20, kept, content)
    blocks: list[int] = []
    refused = False
    while len(blocks) < 10_000:
        pages = guest.memory_pages()
        ptr = guest.alloc(small)
        if ptr == 0:
            assert guest.memory_pages() == pages
            refused = True
            break
        blocks.append(ptr)
    assert refused, f"10,000 blocks of {small} B fit under a {limit}-byte limit"
    assert guest.memory_size() <= limit
    for ptr in blocks:
        guest.free(ptr)
    again = guest.alloc(small)
    assert again != 0, "alloc = 0 after every block was freed"
    guest.free(again)
    guest.free(kept)


def test_realloc_keeps_bytes(module: GuestModule) -> None:
    guest = module.instantiate()
    baseline = guest.live_blocks()
    content = pattern(1, 100)
    ptr = guest.put(content)
    for seed, new_len in enumerate([10_000, 50, 0, 200, 70_000, 8], start=2):
        new_ptr = guest.realloc(ptr, new_len)
        assert new_ptr != 0 and new_ptr % ALIGN == 0, f"realloc({ptr:#x}, {new_len}) = {new_ptr:#x}"
        kept = min(len(content), new_len)
        assert guest.read(new_ptr, kept) == content[:kept]
        content = content[:kept] + pattern(seed, new_len - kept)
        guest.write(new_ptr, content)
        ptr = new_ptr
    guest.dealloc(ptr, 8)  # the latest length is the one dealloc takes
    fresh = guest.realloc(0, 32)
    assert fresh != 0 and fresh % ALIGN == 0
    guest.write(fresh, b"\xa5" * 32)
    guest.dealloc(fresh, 32)
    assert guest.live_blocks() == baseline


@pytest.mark.parametrize(("length", "wrong"), [(24, 25), (24, 23), (24, 0), (0, 8), (4096, 4097)])
def test_wrong_length_traps(module: GuestModule, length: int, wrong: int) -> None:
    guest = module.instantiate()
    ptr = guest.alloc(length)
    live = guest.live_blocks()
    expect_trap(module, lambda: guest.dealloc(ptr, wrong), "dealloc", ptr, "wrong length")
    assert guest.live_blocks() == live  # the heap is not touched


def _double_free(guest: Guest) -> int:
    ptr = guest.alloc(16)
    guest.free(ptr)
    return ptr


def _after(guest: Guest, ptr: int) -> int:
    guest.alloc(16)
    return ptr


BAD_POINTERS: dict[str, Callable[[Guest], int]] = {
    "double free": _double_free,
    "interior pointer": lambda guest: guest.alloc(64) + 8,
    "never handed out (low)": lambda guest: _after(guest, 1024),
    "never handed out (top of memory)": lambda guest: _after(guest, (guest.memory_size() - 64) & ~7),
    "misaligned by 1": lambda guest: guest.alloc(16) + 1,
    "misaligned by 4": lambda guest: guest.alloc(16) + 4,
    "past the end of memory": lambda guest: _after(guest, guest.memory_size() + 8),
    "near u32::MAX": lambda guest: 0xFFFF_FFF8,
}


@pytest.mark.parametrize("function", ["free", "dealloc", "realloc"])
@pytest.mark.parametrize("case", list(BAD_POINTERS))
def test_bad_pointers_trap(module: GuestModule, case: str, function: str) -> None:
    guest = module.instantiate()
    ptr = BAD_POINTERS[case](guest)
    live = guest.live_blocks()
    calls: dict[str, Callable[[], object]] = {
        "free": lambda: guest.free(ptr),
        "dealloc": lambda: guest.dealloc(ptr, 16),
        "realloc": lambda: guest.realloc(ptr, 32),
    }
    expect_trap(module, calls[function], function, ptr, "not a live block")
    assert guest.live_blocks() == live


def test_null_pointers(module: GuestModule) -> None:
    guest = module.instantiate()
    kept = guest.put(b"still here")
    live, pages = guest.live_blocks(), guest.memory_pages()
    guest.free(0)
    guest.dealloc(0, 0)
    guest.dealloc(0, 123)
    assert guest.live_blocks() == live
    assert guest.memory_pages() == pages
    assert guest.read(kept, 10) == b"still here"
    guest.free(kept)


def test_stale_pointer_after_realloc(module: GuestModule) -> None:
    guest = module.instantiate()
    old = guest.alloc(16)
    guest.alloc(16)  # a neighbour keeps the block from growing in place
    moved = guest.realloc(old, 1 << 20)
    assert moved != 0
    assert moved != old, "realloc grew in place past a live neighbour"
    live = guest.live_blocks()
    expect_trap(module, lambda: guest.free(old), "free", old, "not a live block")
    assert guest.live_blocks() == live


def read_by_hand(guest: Guest, ptr: int) -> bytes:
    """Reads the result block at ``ptr`` and frees it with ``dealloc(ptr, n + 4)``."""
    assert ptr != 0 and ptr % ALIGN == 0, f"result pointer {ptr:#x} is not a block"
    length = int.from_bytes(guest.read(ptr, 4), "little")
    data = guest.read(ptr + 4, length)
    guest.dealloc(ptr, length + 4)
    return data


@pytest.mark.parametrize("module", builds("echo", "upper", "replace"), indirect=True)
def test_results_freed_with_dealloc(module: GuestModule) -> None:
    call = sample_call(module)
    assert call is not None
    function, inputs, expected = call
    assert isinstance(expected, bytes)
    guest = module.instantiate()
    baseline = guest.live_blocks()
    ptr = guest.func(function).call_raw(*inputs)
    assert read_by_hand(guest, ptr) == expected
    assert guest.live_blocks() == baseline


def test_trap_reason_pending_until_read(module: GuestModule) -> None:
    guest = module.instantiate()
    assert guest.call_raw("last_error") == 0, "a fresh instance has a pending error"
    with pytest.raises(GuestTrap) as caught:
        guest.free(1024)
    assert caught.value.reason is not None
    assert guest.call_raw("last_error") == 0, "the reason is still pending after it was read"


@pytest.mark.parametrize("module", builds("upper"), indirect=True)
def test_last_error_block_is_a_result_block(module: GuestModule) -> None:
    guest = module.instantiate()
    baseline = guest.live_blocks()
    assert guest.func("upper").call_raw(b"\xff") == 0
    message = read_by_hand(guest, guest.call_raw("last_error"))
    assert message.decode()
    assert guest.live_blocks() == baseline


@pytest.mark.parametrize("module", builds("upper"), indirect=True)
def test_upper_errors(module: GuestModule) -> None:
    guest = module.instantiate()
    upper = guest.func("upper")
    invalid = b"caf\xc3"
    assert upper.call_raw(invalid) == 0
    message = guest.last_error()
    assert message is not None and "UTF-8" in message
    assert guest.last_error() is None, "last_error did not clear the message"
    # A later success does not clear a pending error.
    assert upper.call_raw(invalid) == 0
    ok = guest.take_result("upper", guest.func("upper").call_raw(b"ok"))
    assert ok == b"OK"
    assert guest.last_error() is not None, "a successful call cleared the pending error"
    with pytest.raises(GuestFailed, match="UTF-8") as caught:
        upper.call_bytes(invalid)
    assert caught.value.function == "upper"


@pytest.mark.parametrize("module", builds("replace"), indirect=True)
def test_replace_errors(module: GuestModule) -> None:
    guest = module.instantiate()
    assert guest.func("replace").call_raw(b"abc", b"", b"x") == 0
    assert guest.last_error() is not None
    with pytest.raises(GuestFailed):
        guest.func("replace").call_string("abc", "", "x")


@pytest.mark.parametrize("module", builds("upper"), indirect=True)
def test_newest_error_wins(module: GuestModule) -> None:

    def message_after(*inputs: bytes) -> str | None:
        guest = module.instantiate()
        for value in inputs:
            guest.func("upper").call_raw(value)
        return guest.last_error()

    first, second = b"ok \xc3", b"\xff"
    assert message_after(first) != message_after(second), "the check would prove nothing"
    assert message_after(first, second) == message_after(second)


@pytest.mark.parametrize("module", builds("upper", "echo"), indirect=True)
def test_allocation_failure_in_guest_code(module: GuestModule) -> None:
    size = 1 << 20
    for function in [name for name in ("upper", "echo") if module.exports(name)]:
        limit = module.instantiate().memory_size() + size + (128 << 10)
        guest = module.instantiate(memory_limit=limit)
        if function == "upper":
            with pytest.raises(GuestTrap) as trapped:
                guest.func(function).call_bytes(b"a" * size)
            assert trapped.value.reason is not None
            assert "memory allocation of" in trapped.value.reason
        else:
            with pytest.raises(GuestFailed) as failed:
                guest.func(function).call_bytes(b"a" * size)
            assert failed.value.message
            assert guest.live_blocks() == 0, "the input was not freed after the failure"
        assert guest.memory_size() <= limit


@pytest.mark.parametrize("module", builds("echo", "upper", "replace", "array_sum"), indirect=True)
def test_ownership(module: GuestModule) -> None:
    call = sample_call(module)
    assert call is not None
    function, inputs, expected = call
    guest = module.instantiate()
    baseline = guest.live_blocks()
    args = []
    for value in inputs:
        args += [guest.put(value), len(value)]
    raw = guest.call_raw(function, *args)
    for ptr, value in zip(args[::2], inputs):
        assert guest.read(ptr, len(value)) == value, f"{function} changed its input"
    if isinstance(expected, int):
        assert raw == expected
    else:
        assert guest.take_result(function, raw) == expected
    for ptr in args[::2]:
        guest.free(ptr)  # still live blocks: must not trap
    assert guest.live_blocks() == baseline
