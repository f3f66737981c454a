"""The import direction ("Host functions" in docs/ABI.md) through :class:`guestmem.HostFunctions`:
the checks of harness/src/checks/imports.rs (the ``greet`` example, the ``imports`` test guest
under a well-behaved host and under hostile hosts written against wasmtime directly), and what
only a host that can call back at run time needs: calls back into the instance refused but for
``alloc`` and friends."""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import pytest
import wasmtime

from conftest import ENGINE, GUEST_DIR
from guestmem import (
    U32,
    Guest,
    GuestFailed,
    GuestTrap,
    HostFunctionError,
    HostFunctions,
    ReentrantCall,
)

#: The salutation the well-behaved host gives ``greet``.
SALUTATION = "Hello"
#: What ``fetch`` answers for the key ``fail``.
FETCH_FAILURE = "no record for this key"
#: The length of ``grow``'s answer: enough to grow memory by 16 pages.
GROWN = 1 << 20

#: The hostile answers, by case number (harness/src/checks/imports.rs, HOSTILE): what the host
#: returns, and words the guest's error must hold.
HOSTILE = [
    ("a misaligned pointer", "not a live block"),
    ("a pointer past the end of memory", "not a live block"),
    ("a pointer into the middle of a live block", "not a live block"),
    ("a live block whose prefix runs past it", "bytes in a block with room for"),
    ("a freed block", "not a live block"),
    ("0 and no message", "returned 0 and no error message"),
]



def moving_memory_engine() -> wasmtime.Engine:
    """An engine that reserves no address space ahead of a memory, so that memory moves each time
    it grows: a host that kept an address across the guest's ``alloc`` would write to the old
    place."""
    config = wasmtime.Config()
    config.memory_reservation = 0
    config.memory_reservation_for_growth = 0
    config.memory_guard_size = 0
    config.memory_may_move = True
    return wasmtime.Engine(config)


MOVING = moving_memory_engine()
_compiled: dict[tuple[int, str], wasmtime.Module] = {}


def module(name: str, engine: wasmtime.Engine = ENGINE) -> wasmtime.Module:
    """``target/guests/NAME.wasm``, compiled once per engine."""
    key = (id(engine), name)
    if key not in _compiled:
        path = GUEST_DIR / f"{name}.wasm"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: build the guests with `cargo run -p harness -- guests`")
        _compiled[key] = wasmtime.Module.from_file(engine, str(path))
    return _compiled[key]


def instantiate(
    name: str, define: Callable[[wasmtime.Linker], object], engine: wasmtime.Engine = ENGINE
) -> Guest:
    """An instance of guest ``name`` whose host functions ``define`` puts on a new linker, with
    WASI when the module imports it."""
    linker = wasmtime.Linker(engine)
    store = wasmtime.Store(engine)
    if any(item.module == "wasi_snapshot_preview1" for item in module(name, engine).imports):
        linker.define_wasi()
        store.set_wasi(wasmtime.WasiConfig())
    define(linker)
    # The host functions are under test here, not the section: test_interface checks it.
    return Guest.instantiate(store, linker, module(name, engine), interface=None)


# ---- greet: env.salutation, env.log ------------------------------------------------------------


def greet_host(salutation: str | None, log: list[str]) -> Callable[[wasmtime.Linker], object]:
    def host_salutation() -> str:
        if salutation is None:
            raise LookupError("the host has no salutation today")
        return salutation

    def host_log(line: str) -> None:
        log.append(line)

    def define(linker: wasmtime.Linker) -> HostFunctions:
        return (
            HostFunctions(linker)
            .func("env", "salutation", host_salutation, fails_with=LookupError)
            .func("env", "log", host_log)
        )

    return define


@pytest.mark.parametrize("name", ["greet", "greet-wasip1"])
def test_greet(name: str) -> None:
    log: list[str] = []
    guest = instantiate(name, greet_host(SALUTATION, log))
    before = guest.live_blocks()
    greet = guest.func("greet")
    assert greet.call_string("guestmem") == "Hello, guestmem!"
    assert log == ["Hello, guestmem!"]
    for _ in range(100):
        assert greet.call_string("guestmem") == "Hello, guestmem!"
    assert len(log) == 101
    assert guest.live_blocks() == before


@pytest.mark.parametrize("name", ["greet", "greet-wasip1"])
def test_greet_without_a_salutation_fails_with_the_host_message(name: str) -> None:
    log: list[str] = []
    guest = instantiate(name, greet_host(None, log))
    before = guest.live_blocks()
    with pytest.raises(GuestFailed) as caught:
        guest.func("greet").call_string("guestmem")
    assert caught.value.message == "the host has no salutation today"
    assert log == [], "a failed greeting is not logged"
    assert guest.live_blocks() == before


# ---- imports: results, failures, growth --------------------------------------------------------


def fetch(key: str) -> bytes:
    if key == "fail":
        raise LookupError(FETCH_FAILURE)
    if key == "raise":
        raise RuntimeError("fetch was told to raise")
    return key.encode() * 3


def count(text: str) -> U32:
    if text == "fail":
        raise ValueError("cannot count that")
    return len(text.encode())


def store(key: str, value: bytes) -> None:
    if not key:
        raise ValueError(f"empty key for {len(value)} bytes")


def grow(data: bytes) -> bytes:
    return data.ljust(GROWN, b"\x5a")


def hostile_answer(caller: wasmtime.Caller, case: int) -> int:
    """A hostile host's answer number ``case`` (HOSTILE); any other number gets a valid block of 3
    bytes. Written against wasmtime directly: the library cannot return a bad block."""
    alloc = caller.get("alloc")
    memory = caller.get("memory")
    free = caller.get("guestmem_free") or caller.get("free")
    assert isinstance(alloc, wasmtime.Func) and isinstance(free, wasmtime.Func)
    assert isinstance(memory, wasmtime.Memory)
    size = memory.data_len(caller)
    if case == 0:
        return 12
    if case == 1:
        return max(size - 8, 8) & ~7
    if case == 2:
        return int(alloc(caller, 64)) + 16
    if case == 3:
        ptr = int(alloc(caller, 8))
        memory.write(caller, (1000).to_bytes(4, "little"), ptr)
        return ptr
    if case == 4:
        ptr = int(alloc(caller, 8))
        free(caller, ptr)
        return ptr
    if case == 5:
        return 0
    ptr = int(alloc(caller, 7))
    memory.write(caller, b"\x03\0\0\0abc", ptr)
    return ptr


def imports_host(
    linker: wasmtime.Linker,
    fetch: Callable[[str], bytes] = fetch,
    fetch_fails_with: type[Exception] = LookupError,
) -> HostFunctions:
    host = (
        HostFunctions(linker)
        .func("env", "fetch", fetch, fails_with=fetch_fails_with)
        .func("env", "count", count, fails_with=ValueError)
        .func("env", "store", store, fails_with=ValueError)
        .func("env", "grow", grow)
    )
    i32 = wasmtime.ValType.i32()
    for name in ("hostile", "trusted"):
        linker.define_func(
            "env", name, wasmtime.FuncType([i32], [i32]), hostile_answer, access_caller=True
        )
    return host


def imports_guest() -> Guest:
    return instantiate("imports", imports_host)


@pytest.fixture
def guest() -> Guest:
    return imports_guest()


def test_host_results_are_freed_by_the_guest(guest: Guest) -> None:
    before = guest.live_blocks()
    relay = guest.func("relay")
    for key in ["", "k", "key of some length", "x" * 30_000]:
        assert relay.call_bytes(key) == key.encode() * 3
    assert guest.live_blocks() == before


def test_host_failures_reach_the_guest_through_last_error(guest: Guest) -> None:
    before = guest.live_blocks()
    with pytest.raises(GuestFailed) as caught:
        guest.func("relay").call_bytes("fail")
    assert caught.value.message == FETCH_FAILURE
    relay_count = guest.func("relay_count")
    assert relay_count.call_int("") == 0  # an answer: the host left no message
    assert relay_count.call_int("four") == 4
    with pytest.raises(GuestFailed) as caught:
        relay_count.call_int("fail")
    assert caught.value.message == "cannot count that"
    assert relay_count.call_int("") == 0  # the message was taken, and cleared by this call
    assert guest.live_blocks() == before  # the guest freed the messages' blocks


def test_a_host_function_without_a_result_returns_1_or_fails(guest: Guest) -> None:
    relay_store = guest.func("relay_store")
    assert relay_store.call_int("key", b"value") == 1
    with pytest.raises(GuestFailed) as caught:
        relay_store.call_int("", b"value")
    assert caught.value.message == "empty key for 5 bytes"


def test_memory_grows_inside_a_host_function(guest: Guest) -> None:
    before = guest.live_blocks()
    pages = guest.memory_pages()
    # The guest checks that its own block, the argument, is unchanged and starts the answer.
    assert guest.func("relay_grow").call_int(b"the guest's own bytes") == GROWN
    assert guest.memory_pages() > pages
    assert guest.live_blocks() == before


def test_memory_moves_inside_a_host_function() -> None:
    guest = instantiate("imports", imports_host, MOVING)
    before = guest.live_blocks()

    def address() -> int:
        return ctypes.addressof(guest.memory.data_ptr(guest.store).contents)

    start = address()
    assert guest.func("relay_grow").call_int(b"the guest's own bytes") == GROWN
    assert address() != start, "memory did not move: the test proves nothing"
    start = address()
    assert guest.func("relay").call_bytes("x" * 400_000) == b"x" * 1_200_000
    assert address() != start, "memory did not move: the test proves nothing"
    assert guest.live_blocks() == before


def test_a_failed_alloc_for_a_result(guest: Guest) -> None:
    relay_count = guest.func("relay_count")
    assert relay_count.call_int("x" * 60_000) == 60_000  # the kept input block at its largest
    guest.store.set_limits(memory_size=guest.memory_size())
    # A fallible host function fails with the reason...
    with pytest.raises(GuestFailed) as caught:
        guest.func("relay").call_bytes("x" * 30_000)
    assert caught.value.message == "the guest's alloc(90004) returned 0"
    # ...one that cannot fail traps.
    with pytest.raises(HostFunctionError) as trapped:
        guest.func("relay_grow").call_int(b"bytes")
    assert trapped.value.host_function == "env.grow"
    assert f"alloc({GROWN + 4}) returned 0" in trapped.value.message


@pytest.mark.parametrize("case", range(len(HOSTILE)), ids=[what for what, _ in HOSTILE])
def test_hostile_answers_are_errors_of_a_fallible_import(guest: Guest, case: int) -> None:
    what, words = HOSTILE[case]
    with pytest.raises(GuestFailed) as caught:
        guest.func("relay_hostile").call_int(str(case))
    assert "host function `env.hostile`" in caught.value.message, what
    assert words in caught.value.message, what
    assert guest.func("relay_hostile").call_int("99") == 3  # a valid block: the guest goes on


@pytest.mark.parametrize("case", range(len(HOSTILE)), ids=[what for what, _ in HOSTILE])
def test_hostile_answers_trap_an_import_that_cannot_fail(guest: Guest, case: int) -> None:
    what, words = HOSTILE[case]
    with pytest.raises(GuestTrap) as caught:
        guest.func("relay_trusted").call_int(str(case))
    reason = caught.value.reason or ""
    assert "host function `env.trusted`" in reason, what
    assert words in reason, what


def test_a_host_function_that_raises_traps_the_call(guest: Guest) -> None:
    with pytest.raises(HostFunctionError) as caught:
        guest.func("relay").call_bytes("raise")
    error = caught.value
    assert error.function == "relay"
    assert error.host_function == "env.fetch"
    assert "fetch was told to raise" in error.message
    assert isinstance(error.error, RuntimeError)
    assert "env.fetch" in str(error) and "fetch was told to raise" in str(error)


# ---- calls back into the calling instance ------------------------------------------------------


def calling_back(
    call: Callable[[Guest], object], fails_with: type[Exception] = LookupError
) -> tuple[Guest, list[object]]:
    """An ``imports`` instance whose ``fetch`` first does ``call`` with the instance, recording
    what it returned."""
    outcomes: list[object] = []
    box: list[Guest] = []

    def fetch_calling_back(key: str) -> bytes:
        outcomes.append(call(box[0]))
        return key.encode()

    box.append(
        instantiate("imports", lambda linker: imports_host(linker, fetch_calling_back, fails_with))
    )
    return box[0], outcomes


@pytest.mark.parametrize(
    ("call", "refused"),
    [
        (lambda guest: guest.func("relay_count").call_int("x"), "relay_count"),
        (lambda guest: guest.call_raw("relay_count", 0, 0), "relay_count"),
        (lambda guest: guest.live_blocks(), "live_blocks"),
        (lambda guest: guest.last_error(), "last_error"),
        (lambda guest: guest.release_input_block(), "release_input_block"),
    ],
    ids=["a guest function", "call_raw", "live_blocks", "last_error", "release_input_block"],
)
def test_calls_back_are_refused(call: Callable[[Guest], object], refused: str) -> None:
    guest, outcomes = calling_back(call)
    with pytest.raises(HostFunctionError) as caught:
        guest.func("relay").call_bytes("key")
    assert caught.value.host_function == "env.fetch"
    assert isinstance(caught.value.error, ReentrantCall)
    assert caught.value.error.function == refused
    assert caught.value.error.running == "relay"
    assert outcomes == []


def test_a_refused_call_back_traps_even_a_function_that_fails_with_anything() -> None:
    guest, outcomes = calling_back(lambda guest: guest.func("relay").call_bytes("x"), Exception)
    with pytest.raises(HostFunctionError) as caught:
        guest.func("relay").call_bytes("key")
    assert isinstance(caught.value.error, ReentrantCall)
    assert outcomes == []


def test_alloc_and_free_may_be_called_back() -> None:
    def alloc_and_free(guest: Guest) -> int:
        ptr = guest.put(b"from the host function")
        assert guest.read(ptr, 4) == b"from"
        grown = guest.realloc(ptr, 100_000)  # may grow memory: the guest's arguments stay valid
        assert grown != 0
        guest.free(grown)
        guest.dealloc(guest.alloc(16), 16)
        return grown

    guest, outcomes = calling_back(alloc_and_free)
    before = guest.live_blocks()
    assert guest.func("relay").call_bytes("key") == b"key"
    assert len(outcomes) == 1
    assert guest.live_blocks() == before
    # Outside a host function every call is allowed again.
    assert guest.func("relay_count").call_int("abc") == 3


def test_other_instances_may_be_called() -> None:
    other = imports_guest()

    def fetch_from_other(key: str) -> bytes:
        return other.func("relay").call_bytes(key)

    guest = instantiate("imports", lambda linker: imports_host(linker, fetch_from_other))
    assert guest.func("relay").call_bytes("ab") == b"ab" * 3  # the other instance's fetch
