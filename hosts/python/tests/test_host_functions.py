"""HostFunctions on its own: the wasm shape read from annotations, integers of every width,
arguments a guest built with guestmem never passes (tests/wat/host_calls.wat calls with raw
pairs), results of the wrong type, a failed alloc, and the pending message kept per instance and
cleared by the next host function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import wasmtime

from conftest import ENGINE, WAT
from guestmem import (
    I32,
    I64,
    U32,
    U64,
    Guest,
    GuestError,
    HostFunctionError,
    HostFunctions,
    HostTrap,
    Json,
    Postcard,
    to_json,
    to_postcard,
)
from guestmem.host_types import HostSignature, WasmInt

HOST_CALLS = wasmtime.Module(ENGINE, (WAT / "host_calls.wat").read_text())
BIG = 1 << 20


class Host:
    """The host functions host_calls.wat imports, as bound methods; ``received`` records what
    they were given."""

    def __init__(self) -> None:
        self.received: list[object] = []

    def text(self, value: str) -> U32:
        self.received.append(value)
        return len(value.encode())

    def ints(self, a: U32, b: I32, c: U64, d: I64) -> I64:
        self.received.append((a, b, c, d))
        return d - 1

    def fail(self) -> None:
        raise ValueError("failed on purpose")

    def succeed(self) -> None:
        return None

    def big(self) -> bytes:
        return bytes(BIG)

    def define(
        self, linker: wasmtime.Linker, **replaced: Callable[..., object]
    ) -> HostFunctions:
        functions: dict[str, Callable[..., object]] = {
            "text": self.text,
            "ints": self.ints,
            "fail": self.fail,
            "succeed": self.succeed,
            "big": self.big,
            "big_trusted": self.big,
        }
        functions.update(replaced)
        host = HostFunctions(linker)
        for name, function in functions.items():
            fallible = name in ("fail", "succeed", "big")
            host.func("env", name, function, fails_with=ValueError if fallible else ())
        return host


def host_calls(host: Host, **replaced: Callable[..., object]) -> Guest:
    linker = wasmtime.Linker(ENGINE)
    host.define(linker, **replaced)
    return Guest.instantiate(wasmtime.Store(ENGINE), linker, HOST_CALLS, interface=None)


def host_error(guest: Guest) -> str | None:
    """What the guest's ``guestmem.last_error`` import returns now."""
    ptr = guest.call_raw("host_error")
    return guest.take_result("host_error", ptr).decode() if ptr else None


# ---- the wasm shape, from annotations ----------------------------------------------------------


def shape(function: Callable[..., object], fallible: bool = False) -> tuple[list[str], list[str]]:
    ty = HostSignature.of(function, "env.f", fallible).func_type()
    return [str(value) for value in ty.params], [str(value) for value in ty.results]


def test_annotations_give_the_wasm_type() -> None:
    def log(line: str, data: bytes) -> None: ...
    def count(a: U32, b: I32, c: U64, d: I64) -> U64:
        return a

    def fetch(key: bytes) -> str:
        return ""

    assert shape(log) == (["i32", "i32", "i32", "i32"], [])
    assert shape(log, fallible=True) == (["i32", "i32", "i32", "i32"], ["i32"])  # 1 or 0
    assert shape(count) == (["i32", "i32", "i64", "i64"], ["i64"])
    assert shape(count, fallible=True) == (["i32", "i32", "i64", "i64"], ["i64"])
    assert shape(fetch) == (["i32", "i32"], ["i32"])


def untyped(x, /):  # type: ignore[no-untyped-def]
    return x


def plain_int(x: int) -> None: ...
def star_args(*texts: str) -> None: ...
def a_list(items: list[int]) -> None: ...
def no_result(x: str): ...  # type: ignore[no-untyped-def]
def a_float_result() -> float:
    return 0.0


@pytest.mark.parametrize(
    ("function", "words"),
    [
        (untyped, "parameter `x`: no annotation"),
        (plain_int, "U32, I32, U64 or I64"),
        (star_args, "parameter `texts` is not positional"),
        (a_list, "parameter `items`: `list[int]` is not bytes"),
        (no_result, "the result: no annotation"),
        (a_float_result, "the result: `<class 'float'>` is not bytes"),
        (lambda text: None, "parameter `text`: no annotation"),
    ],
    ids=["untyped", "plain int", "*args", "list", "no result annotation", "float", "lambda"],
)
def test_what_the_abi_has_no_type_for_is_refused(
    function: Callable[..., object], words: str
) -> None:
    with pytest.raises(TypeError) as caught:
        HostFunctions(wasmtime.Linker(ENGINE)).func("env", "f", function)
    assert "host function `env.f`" in str(caught.value)
    assert words in str(caught.value)


def test_fails_with_takes_exception_types_only() -> None:
    with pytest.raises(TypeError, match="is no exception"):
        HostFunctions(wasmtime.Linker(ENGINE)).func(
            "env", "f", Host().succeed, fails_with=(ValueError, int)  # type: ignore[arg-type]
        )


def test_a_shape_the_guest_does_not_import_fails_to_instantiate() -> None:
    def text(value: str) -> U64:
        return 0

    with pytest.raises(GuestError, match="env"):
        host_calls(Host(), text=text)


@pytest.mark.parametrize(
    ("kind", "wasm", "value"),
    [
        (WasmInt("u32", 32, signed=False), -1, 0xFFFF_FFFF),
        (WasmInt("i32", 32, signed=True), -1, -1),
        (WasmInt("u64", 64, signed=False), -1, (1 << 64) - 1),
        (WasmInt("i64", 64, signed=True), -(1 << 63), -(1 << 63)),
        (WasmInt("u32", 32, signed=False), 0x7FFF_FFFF, 0x7FFF_FFFF),
    ],
)
def test_integers_cross_at_their_width(kind: WasmInt, wasm: int, value: int) -> None:
    assert kind.from_wasm(wasm) == value
    assert kind.to_wasm(value) == wasm


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (WasmInt("u32", 32, signed=False), -1),
        (WasmInt("u32", 32, signed=False), 1 << 32),
        (WasmInt("i32", 32, signed=True), 1 << 31),
        (WasmInt("i64", 64, signed=True), -(1 << 63) - 1),
        (WasmInt("u64", 64, signed=False), 1 << 64),
    ],
)
def test_integers_out_of_range_are_refused(kind: WasmInt, value: int) -> None:
    with pytest.raises(ValueError, match=f"is out of range for {kind.name}"):
        kind.to_wasm(value)


# ---- calls from host_calls.wat -----------------------------------------------------------------


def test_integers_of_every_width_reach_the_host_and_come_back() -> None:
    host = Host()
    guest = host_calls(host)
    ints = guest.export("ints")
    assert isinstance(ints, wasmtime.Func)
    assert ints(guest.store, -1, -1, -1, -(1 << 63) + 1) == -(1 << 63)
    assert host.received == [(0xFFFF_FFFF, -1, (1 << 64) - 1, -(1 << 63) + 1)]


def test_text_arguments() -> None:
    host = Host()
    guest = host_calls(host)
    ptr = guest.put("straße")
    assert guest.call_raw("text", ptr, 7) == 6 + 1  # "ß" is two bytes
    assert guest.call_raw("text", 0xFFFF_FFF0, 0) == 0  # no bytes: no range to check
    assert host.received == ["straße", ""]


@pytest.mark.parametrize(
    ("ptr", "length", "words"),
    [
        (0xFFFF_0000, 4, "argument 1: 4 bytes at 0xffff0000 are outside linear memory"),
        (0xFFFF_FFFF, 2, "argument 1: 2 bytes at 0xffffffff are outside linear memory"),
        (65_535, 2, "argument 1: 2 bytes at 0xffff are outside linear memory (65536 bytes)"),
        (16, 2, "argument 1: not UTF-8"),
    ],
    ids=["outside", "wrapping", "one byte past the end", "not UTF-8"],
)
def test_bad_arguments_trap_naming_the_host_function(ptr: int, length: int, words: str) -> None:
    host = Host()
    guest = host_calls(host)
    with pytest.raises(HostFunctionError) as caught:
        guest.call_raw("text", ptr, length)
    assert caught.value.function == "text"
    assert caught.value.host_function == "env.text"
    assert words in caught.value.message
    assert caught.value.error is None
    assert host.received == [], "the host function ran"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (lambda value: "four", "returned str where u32 was declared"),
        (lambda value: -1, "returned -1, out of range for u32"),
        (lambda value: 1 << 32, "returned 4294967296, out of range for u32"),
    ],
    ids=["str for U32", "negative", "too large"],
)
def test_results_of_the_wrong_type_trap(text: Callable[[str], object], words: str) -> None:
    def typed(value: str) -> U32:
        return text(value)  # type: ignore[return-value]

    guest = host_calls(Host(), text=typed)
    with pytest.raises(HostFunctionError) as caught:
        guest.call_raw("text", 0, 0)
    assert words in caught.value.message


def test_a_host_call_made_with_wasmtime_directly_raises_host_trap() -> None:
    def ints(a: U32, b: I32, c: U64, d: I64) -> I64:
        return 1 << 63

    guest = host_calls(Host(), ints=ints)
    raw = guest.export("ints")
    assert isinstance(raw, wasmtime.Func)
    with pytest.raises(HostTrap) as caught:
        raw(guest.store, 0, 0, 0, 0)
    assert caught.value.host_function == "env.ints"
    assert caught.value.message == f"returned {1 << 63}, out of range for i64"


def test_a_failed_alloc() -> None:
    guest = host_calls(Host())
    assert guest.call_raw("big") == 0  # fallible: 0 and a message
    assert host_error(guest) == f"the guest's alloc({BIG + 4}) returned 0"
    with pytest.raises(HostFunctionError) as caught:  # cannot fail: a trap
        guest.call_raw("big_trusted")
    assert caught.value.host_function == "env.big_trusted"
    assert caught.value.message == f"the guest's alloc({BIG + 4}) returned 0"


def test_the_pending_message_is_per_instance_and_cleared_by_the_next_host_function() -> None:
    linker = wasmtime.Linker(ENGINE)
    Host().define(linker)
    first, second = (
        Guest.instantiate(wasmtime.Store(ENGINE), linker, HOST_CALLS, interface=None)
        for _ in "ab"
    )
    assert first.call_raw("succeed") == 1
    assert host_error(first) is None
    assert first.call_raw("fail") == 0
    assert host_error(second) is None  # not the other instance's message
    assert host_error(first) == "failed on purpose"
    assert host_error(first) is None  # taken
    assert first.call_raw("fail") == 0
    assert first.call_raw("succeed") == 1
    assert host_error(first) is None  # cleared: a host function succeeded since


# ---- typed values --------------------------------------------------------------------------------


@dataclass
class Rect:
    name: str
    width: U32
    height: U32


def test_typed_values_cross_as_their_format() -> None:
    received: list[Rect] = []

    def text(rect: Json[Rect]) -> U32:  # the guest's `fn text(rect: Json<Rect>) -> u32`
        received.append(rect)
        return rect.width

    def big() -> Postcard[Rect]:  # `fn big() -> Result<Postcard<Rect>, String>`
        return Rect("door", 80, 200)

    def big_trusted() -> Json[list[Rect]]:
        return [Rect("a", 1, 2)]

    guest = host_calls(Host(), text=text, big=big, big_trusted=big_trusted)
    data = to_json(Rect("door", 80, 200))
    assert guest.call_raw("text", guest.put(data), len(data)) == 80
    assert received == [Rect("door", 80, 200)]
    assert guest.take_result("big", guest.call_raw("big")) == to_postcard(Rect("door", 80, 200))
    assert guest.take_result("big_trusted", guest.call_raw("big_trusted")) == (
        b'[{"name":"a","width":1,"height":2}]'
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'{"name":"door","width":-1,"height":2}', "argument 1: not valid JSON: field `width`: -1"),
        (b'{"name":"door"}', "argument 1: not valid JSON: missing field `width`"),
        (b"\x04door", "argument 1: not valid JSON: Expecting value"),
    ],
    ids=["range", "missing", "not JSON"],
)
def test_typed_arguments_that_do_not_decode_trap(data: bytes, words: str) -> None:
    def text(rect: Json[Rect]) -> U32:
        raise AssertionError("not called")

    guest = host_calls(Host(), text=text)
    with pytest.raises(HostFunctionError) as caught:
        guest.call_raw("text", guest.put(data), len(data))
    assert caught.value.host_function == "env.text"
    assert words in caught.value.message


def test_typed_results_that_do_not_encode_trap() -> None:
    def big() -> Postcard[Rect]:
        return Rect("door", -1, 2)

    guest = host_calls(Host(), big=big)
    with pytest.raises(HostFunctionError) as caught:
        guest.call_raw("big")
    assert caught.value.message == (
        "returned a value that is not postcard: field `width`: -1 is out of range for u32"
    )



# ---- the calling store's data ------------------------------------------------------------------


@dataclass
class Tenant:
    name: str
    texts: list[str]


def with_data_linker(text: Callable[..., object]) -> wasmtime.Linker:
    """host_calls.wat's imports, with ``env.text`` given the calling store's data."""
    host = Host()
    linker = wasmtime.Linker(ENGINE)
    functions = HostFunctions(linker).func("env", "text", text, with_data=True)
    functions.func("env", "ints", host.ints).func("env", "big_trusted", host.big)
    for name in ("fail", "succeed", "big"):
        functions.func("env", name, getattr(host, name), fails_with=ValueError)
    return linker


def test_with_data_passes_the_calling_stores_data_first() -> None:
    def text(tenant: Tenant, value: str) -> U32:
        tenant.texts.append(value)
        return len(tenant.name)

    linker = with_data_linker(text)
    tenants = [Tenant("ada", []), Tenant("grace", [])]
    guests = [
        Guest.instantiate(wasmtime.Store(ENGINE, tenant), linker, HOST_CALLS, interface=None)
        for tenant in tenants
    ]
    # Alternating calls on one linker: each reaches its own store's tenant.
    pairs = list(zip(guests, tenants)) * 2
    for (guest, tenant), word in zip(pairs, ["one", "two", "three", "four"]):
        ptr = guest.put(word)
        assert guest.call_raw("text", ptr, len(word)) == len(tenant.name)
    assert tenants[0].texts == ["one", "three"]
    assert tenants[1].texts == ["two", "four"]


def test_with_data_gives_none_for_a_store_without_data() -> None:
    seen: list[object] = []

    def text(data: object, value: str) -> U32:
        seen.append((data, value))
        return 7

    guest = Guest.instantiate(
        wasmtime.Store(ENGINE), with_data_linker(text), HOST_CALLS, interface=None
    )
    ptr = guest.put("x")
    assert guest.call_raw("text", ptr, 1) == 7
    assert seen == [(None, "x")]


def test_with_data_needs_a_parameter_for_the_data() -> None:
    def nothing() -> None: ...

    with pytest.raises(TypeError, match="with_data=True, but it takes no first positional"):
        HostFunctions(wasmtime.Linker(ENGINE)).func("env", "succeed", nothing, with_data=True)
