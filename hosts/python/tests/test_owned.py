"""Owned arguments ("Owned arguments" in docs/ABI.md) through this host: an interface section that
marks an argument owned makes the host give its block up with the call, with 4 bytes of room in
front, and never free it; the guest frees it once or returns it as the result, on success, on
failure and after a bad earlier argument (the checks of harness/src/checks/owned.rs)."""

from __future__ import annotations

import pytest
import wasmtime

from conftest import ENGINE, GUEST_DIR
from guestmem import (
    AllocFailed,
    Argument,
    CallRefused,
    Function,
    Guest,
    GuestFailed,
    GuestTrap,
    Interface,
    Kind,
)

_modules: dict[str, wasmtime.Module] = {}


def module(name: str) -> wasmtime.Module:
    if name not in _modules:
        path = GUEST_DIR / f"{name}.wasm"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: build them with `cargo run -p harness -- guests`")
        _modules[name] = wasmtime.Module.from_file(ENGINE, str(path))
    return _modules[name]


def instance(
    name: str,
    *,
    described: bool = True,
    memory_limit: int | None = None,
    interface: Interface | None = None,
) -> Guest:
    """An instance of ``target/guests/NAME.wasm``, knowing its interface if ``described``, or
    ``interface`` if given."""
    store = wasmtime.Store(ENGINE)
    if memory_limit is not None:
        store.set_limits(memory_size=memory_limit)
    if interface is None and described:
        interface = Interface.read_file(GUEST_DIR / f"{name}.wasm")
    return Guest.instantiate(store, wasmtime.Linker(ENGINE), module(name), interface=interface)


def pattern(length: int) -> bytes:
    return bytes((index * 7 + length) % 251 for index in range(length))


def test_the_block_given_up_comes_back_as_the_result() -> None:
    guest = instance("in_place")
    before = guest.live_blocks()
    assert guest.func("ascii_upper").call_bytes("straße") == "STRAßE".encode()
    echo = guest.func("echo_owned")
    for length in (0, 1, 16, 4096, 1 << 20):
        data = pattern(length)
        assert echo.call_bytes(data) == data, length
        assert bytes(echo.call_view(data)) == data, length  # in place, twice over
    assert guest.live_blocks() == before


def test_a_host_unaware_of_ownership_is_refused_and_frees_its_input() -> None:
    guest = instance("in_place", described=False)
    with pytest.raises(GuestFailed) as failed:
        guest.func("ascii_upper").call_bytes(b"abc")
    assert failed.value.message.startswith("argument `text`: not an owned block")
    assert guest.live_blocks() == 0


def test_owned_blocks_are_freed_once_when_the_call_fails() -> None:
    guest = instance("faults")
    before = guest.live_blocks()
    with pytest.raises(GuestFailed) as failed:
        guest.func("owned_fails").call_bytes(b"data")
    assert failed.value.message == "owned_fails: refused"
    owned_after = guest.func("owned_after")
    with pytest.raises(CallRefused, match="argument `text`"):  # before anything is placed...
        owned_after.call_bytes(b"\xff", b"data")
    # ...so the guest's side is driven by hand: a bad first argument, then an owned block the
    # guest must free although the call fails before its body runs.
    text = guest.put(b"\xff")
    block = guest.put(b"\0\0\0\0data")
    assert guest.call_raw("owned_after", text, 1, block + 4, 4) == 0
    message = guest.last_error()
    assert message is not None and "argument `text`" in message
    guest.free(text)
    assert owned_after.call_bytes("ok", b"data") == b"data"
    assert guest.live_blocks() == before
    with pytest.raises(GuestTrap) as trapped:
        guest.func("owned_panics").call_int(b"data")
    assert trapped.value.reason is not None and "owned_panics: 4 bytes" in trapped.value.reason


def test_owned_blocks_placed_before_a_failed_alloc_are_freed_from_their_start() -> None:
    # replace described as taking `text` owned (the same wasm type): the host places it with
    # room, then cannot place `from`; it must free the block it allocated, 4 bytes before the
    # argument, or the guest traps on a pointer that is not a block.
    minimum = next(
        item.type.limits.min
        for item in module("replace").exports
        if isinstance(item.type, wasmtime.MemoryType)
    )
    owned_text = (
        Argument("text", Kind.STRING, owned=True),
        Argument("from", Kind.STRING),
        Argument("to", Kind.STRING),
    )
    guest = instance(
        "replace",
        memory_limit=(minimum + 4) << 16,
        interface=Interface(
            exports=(Function(None, "replace", owned_text, Kind.STRING, fallible=True),)
        ),
    )
    before = guest.live_blocks()
    replace = guest.func("replace")
    with pytest.raises(AllocFailed):
        replace.call_string("some text", "x" * (1 << 20), "y")
    assert guest.live_blocks() == before
