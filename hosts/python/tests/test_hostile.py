"""A hostile guest gets an exception, never a wrong read or a crash: harness/tests/hostile.wat
(the Rust harness's cases), and guests whose alloc, abi_version or exports lie."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import wasmtime

from conftest import ENGINE, HOSTILE_WAT, WAT, GuestModule, wat_module
from guestmem import (
    AbiMismatch,
    AllocFailed,
    ArityError,
    BadResult,
    ExportError,
    Guest,
    GuestError,
    GuestFailed,
    GuestTrap,
    OutOfBounds,
    ResultProblem,
)

MESSAGE = "hostile guest: asked to fail"


def bad(problem: ResultProblem) -> Callable[[GuestError], bool]:
    return lambda error: isinstance(error, BadResult) and error.problem is problem


def failed_with(text: str) -> Callable[[GuestError], bool]:
    return lambda error: isinstance(error, GuestFailed) and text in error.message


CASES: dict[str, Callable[[GuestError], bool]] = {
    "out_of_range": bad(ResultProblem.PREFIX_OUT_OF_BOUNDS),
    "at_end": bad(ResultProblem.PREFIX_OUT_OF_BOUNDS),
    "wraps_around": bad(ResultProblem.PREFIX_OUT_OF_BOUNDS),
    "past_end": bad(ResultProblem.PAYLOAD_OUT_OF_BOUNDS),
    "near_max": bad(ResultProblem.PAYLOAD_OUT_OF_BOUNDS),
    "max_len": bad(ResultProblem.PAYLOAD_OUT_OF_BOUNDS),
    "runs_off_end": bad(ResultProblem.PAYLOAD_OUT_OF_BOUNDS),
    "misaligned": bad(ResultProblem.MISALIGNED),
    "huge": bad(ResultProblem.TOO_LONG),
    "zero_no_message": failed_with("no error is pending"),
    "zero_bad_message": failed_with("outside linear memory"),
    "zero_not_utf8": failed_with("not UTF-8"),
    "zero_with_message": failed_with(MESSAGE),
    "trap_with_reason": lambda error: isinstance(error, GuestTrap) and error.reason == MESSAGE,
    "trap_out_of_bounds": lambda error: isinstance(error, GuestTrap)
    and error.reason is None
    and error.trap_code is wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS,
}

HOSTILE = wat_module(HOSTILE_WAT.read_text(), "hostile")


def counting(alloc_body: str = "", abi_version: int = 1) -> GuestModule:
    source = (WAT / "counting.wat").read_text()
    return wat_module(
        source.replace("ALLOC_BODY", alloc_body).replace("ABI_VERSION", str(abi_version)),
        "counting",
    )


@pytest.mark.parametrize("function", list(CASES))
@pytest.mark.parametrize("view", [False, True], ids=["bytes", "view"])
def test_bad_results_are_exceptions(function: str, view: bool) -> None:
    guest = HOSTILE.instantiate()
    guest.result_cap = 64 << 10
    call = guest.func(function).call_view if view else guest.func(function).call_bytes
    with pytest.raises(GuestError) as caught:
        call(b"input")
    assert caught.value.function == function
    assert CASES[function](caught.value), repr(caught.value)
    assert guest.abi_version() == 1  # the host, and the instance, keep working


def test_a_failed_second_input_frees_the_first() -> None:
    guest = counting().instantiate()
    lengths = guest.func("lengths")
    assert lengths.call_int(b"a" * 70_000, b"b" * 10) == 70_010
    assert guest.live_blocks() == 0
    with pytest.raises(AllocFailed) as caught:
        lengths.call_int(b"a" * 70_000, b"b" * (1 << 20))
    assert caught.value.function == "lengths"
    assert guest.live_blocks() == 0, "the first input was left allocated"


def test_a_lying_alloc_is_out_of_bounds() -> None:
    body = "(if (i32.eq (local.get $len) (i32.const 70000)) (then (return (i32.const 0xfff0000))))"
    guest = counting(body).instantiate()
    with pytest.raises(OutOfBounds) as caught:
        guest.func("lengths").call_int(b"a" * 1000, b"b" * 70_000)
    assert caught.value.function == "lengths"
    assert guest.live_blocks() == 0
    with pytest.raises(OutOfBounds):
        guest.put(b"c" * 70_000)


def test_integer_calls_clear_an_earlier_pending_error() -> None:
    guest = counting().instantiate()
    assert guest.func("fail").call_raw(b"") == 0  # leaves "nope" pending
    assert guest.func("zero").call_int(b"") == 0  # a 0 answer, not that failure
    with pytest.raises(GuestFailed, match="nope"):
        guest.func("fail").call_int(b"")


def test_result_calls_report_their_own_failure() -> None:
    guest = HOSTILE.instantiate()
    guest.func("zero_with_message").call_raw(b"")  # leaves MESSAGE pending
    with pytest.raises(GuestFailed, match="no error is pending"):
        guest.func("zero_no_message").call_bytes(b"")


def test_stale_view_is_released() -> None:
    guest = counting().instantiate()
    echo = guest.func("echo")
    view = echo.call_view("borrowed")
    assert view.readonly and bytes(view) == b"borrowed"
    assert guest.live_blocks() == 0  # a call into the guest: the view's block is freed
    with pytest.raises(ValueError):
        bytes(view)
    assert echo.call_bytes(b"") == b""
    # A slice of a lent view, passed back in: copied before its block is freed.
    view = echo.call_view(b"x" * 100)
    assert echo.call_bytes(view[10:20]) == b"x" * 10
    assert guest.live_blocks() == 0


def test_abi_version_mismatch() -> None:
    with pytest.raises(AbiMismatch) as caught:
        counting(abi_version=2).instantiate()
    assert caught.value.found == 2 and caught.value.function == "abi_version"


@pytest.mark.parametrize(
    ("source", "export"),
    [
        ("(module (memory (export \"memory\") 1))", "alloc"),
        ("(module (func (export \"alloc\") (param i32) (result i32) (i32.const 0)))", "memory"),
        (HOSTILE_WAT.read_text().replace('(func (export "free") (param i32))',
                                         '(func (export "free") (param i32 i32))'), "free"),
    ],
    ids=["no alloc", "no memory", "free of the wrong type"],
)
def test_missing_or_mistyped_exports(source: str, export: str) -> None:
    with pytest.raises(ExportError) as caught:
        wat_module(source).instantiate()
    assert caught.value.function == export


def test_guest_functions_are_checked() -> None:
    guest = HOSTILE.instantiate()
    with pytest.raises(ExportError):
        guest.func("nonexistent")
    with pytest.raises(ExportError):
        guest.func("free")  # returns nothing
    with pytest.raises(ArityError):
        guest.func("zero_with_message").call_bytes(b"a", b"b")


def test_a_trap_in_start_or_instantiation_is_an_exception() -> None:
    source = "(module (import \"env\" \"f\" (func)))"
    with pytest.raises(GuestError):
        Guest.instantiate(
            wasmtime.Store(ENGINE), wasmtime.Linker(ENGINE), wasmtime.Module(ENGINE, source),
            interface=None,
        )
