"""Typed values ("Typed values" in docs/ABI.md): postcard and JSON as this package writes and reads
them, against byte vectors of the format and bytes the Rust encoder wrote (the ``shapes`` guest's
answers), and the ``shapes`` example's structs in and out through both of its exports (the checks
of harness/src/checks/interface.rs, ``check_typed``)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import wasmtime

from conftest import ENGINE, GUEST_DIR
from guestmem import (
    I32,
    I64,
    U32,
    U64,
    Argument,
    CallRefused,
    Function,
    Guest,
    GuestFailed,
    Interface,
    Kind,
    PostcardError,
    TypedValueError,
    from_json,
    from_postcard,
    to_json,
    to_postcard,
)
from guestmem.schema import name_of


@dataclass
class Rect:
    """examples/shapes' ``Rect``."""

    name: str
    width: U32
    height: U32


@dataclass
class Measured:
    """examples/shapes' ``Measured``."""

    name: str
    area: U64
    square: bool


def measured(rect: Rect) -> Measured:
    """What the guest answers, in Python."""
    return Measured(rect.name, rect.width * rect.height, rect.width == rect.height)


# ---- postcard -----------------------------------------------------------------------------------

#: Varints and zigzag, from postcard's wire format specification.
INTEGERS: list[tuple[object, int, str]] = [
    (U32, 0, "00"),
    (U32, 127, "7f"),
    (U32, 128, "8001"),
    (U32, 16_383, "ff7f"),
    (U32, 16_384, "808001"),
    (U32, 2**32 - 1, "ffffffff0f"),
    (U64, 2**64 - 1, "ffffffffffffffffff01"),
    (I32, 0, "00"),
    (I32, -1, "01"),
    (I32, 1, "02"),
    (I32, -2, "03"),
    (I32, 2**31 - 1, "feffffff0f"),
    (I32, -(2**31), "ffffffff0f"),
    (I64, -(2**63), "ffffffffffffffffff01"),
]


@pytest.mark.parametrize(
    ("hint", "value", "encoded"),
    INTEGERS,
    ids=[f"{name_of(hint)}-{value}" for hint, value, _ in INTEGERS],
)
def test_integers_are_varints_and_signed_ones_zigzag(
    hint: object, value: int, encoded: str
) -> None:
    assert to_postcard(value, hint) == bytes.fromhex(encoded)
    assert from_postcard(bytes.fromhex(encoded), hint) == value  # type: ignore[arg-type]


#: ``Measured`` values as the shapes guest (Rust's postcard) wrote them, for the Rects here.
WRITTEN_BY_RUST = [
    (Rect("door", 80, 200), "04646f6f72807d00"),
    (Rect("", 1, 1), "000101"),
    (
        Rect("straße ✓", 2**32 - 1, 2**32 - 1),
        "0b73747261c39f6520e29c9381808080e0ffffffff0101",
    ),
    (Rect("x" * 130, 127, 128), "8201" + "78" * 130 + "807f00"),
]


@pytest.mark.parametrize(("rect", "encoded"), WRITTEN_BY_RUST, ids=["door", "empty", "max", "long"])
def test_bytes_written_by_rust_decode_and_encode_back(rect: Rect, encoded: str) -> None:
    data = bytes.fromhex(encoded)
    assert from_postcard(data, Measured) == measured(rect)
    assert to_postcard(measured(rect)) == data


def test_the_rect_of_the_checks_takes_8_bytes() -> None:
    assert to_postcard(Rect("door", 80, 200)) == bytes.fromhex("04646f6f72" "50" "c801")


@dataclass
class Everything:
    flag: bool
    small: I32
    ratio: float
    data: bytes
    tags: list[str]
    maybe: U64 | None
    nested: list[Rect]


def test_every_supported_type_round_trips() -> None:
    value = Everything(
        flag=True,
        small=-300,
        ratio=0.1,
        data=b"\x00\xff",
        tags=["a", "", "ü"],
        maybe=None,
        nested=[Rect("r", 1, 2)],
    )
    data = to_postcard(value)
    assert data == bytes.fromhex(
        "01" "d704" "9a9999999999b93f" "0200ff" "030161" "00" "02c3bc" "00" "010172" "0102"
    )
    assert from_postcard(data, Everything) == value
    some = Everything(False, 0, 0.0, b"", [], 2**40, [])
    assert from_postcard(to_postcard(some), Everything) == some


@pytest.mark.parametrize(
    ("encoded", "into", "problem"),
    [
        ("04646f6f72807d", Measured, "field `square`: the input ends early"),
        ("04646f6f72807d0000", Measured, "1 bytes left over"),
        ("04646f6f72807d02", Measured, "a bool of 2"),
        ("02ffff0102", Rect, "field `name`: a string that is not UTF-8"),
        ("00ffffffff1f01", Rect, "field `width`: a varint of 8589934591 does not fit 32 bits"),
        ("0001ffffffffff01", Rect, "field `height`: a varint longer than a 32-bit value's"),
        ("ff7f", list[bool], "16383 items announced, 0 bytes left"),
    ],
    ids=["short", "left-over", "bool", "utf8", "overflow", "too-long", "count"],
)
def test_bytes_that_are_not_the_type_are_errors(encoded: str, into: type, problem: str) -> None:
    with pytest.raises(PostcardError, match=problem):
        from_postcard(bytes.fromhex(encoded), into)


def test_values_that_do_not_fit_their_type_are_errors() -> None:
    with pytest.raises(PostcardError, match="field `width`: -1 is out of range for u32"):
        to_postcard(Rect("a", -1, 1))
    with pytest.raises(PostcardError, match="4294967296 is out of range"):
        to_postcard(Rect("a", 1, 2**32))
    with pytest.raises(TypeError, match="field `name`: bytes"):
        to_postcard(Rect(b"a", 1, 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bool True where"):
        to_postcard(Rect("a", True, 1))

    @dataclass
    class Unsized:
        count: int

    with pytest.raises(TypeError, match="without a width"):
        to_postcard(Unsized(1))
    with pytest.raises(TypeError, match="without a width"):
        to_postcard(5)


# ---- JSON ---------------------------------------------------------------------------------------


def test_json_is_written_as_serde_json_writes_it() -> None:
    assert to_json(Rect("door", 80, 200)) == b'{"name":"door","width":80,"height":200}'
    assert to_json(Rect("ü", 1, 2)) == '{"name":"ü","width":1,"height":2}'.encode()
    assert to_json(Everything(True, -1, 0.5, b"\x01", [], None, [])) == (
        b'{"flag":true,"small":-1,"ratio":0.5,"data":[1],"tags":[],"maybe":null,"nested":[]}'
    )


def test_json_builds_dataclasses_and_checks_their_fields() -> None:
    text = b'{"name":"door","area":16000,"square":false,"colour":"red"}'
    assert from_json(text, Measured) == Measured("door", 16_000, False)
    assert from_json(text) == {"name": "door", "area": 16_000, "square": False, "colour": "red"}
    everything = Everything(True, -1, 0.5, b"\x01", ["a"], 7, [Rect("r", 1, 2)])
    assert from_json(to_json(everything), Everything) == everything
    without_maybe = b'{"flag":true,"small":-1,"ratio":1,"data":[],"tags":[],"nested":[]}'
    assert from_json(without_maybe, Everything).maybe is None
    for bad, problem in [
        (b'{"name":"door","area":16000}', "missing field `square`"),
        (b'{"name":"door","area":-1,"square":false}', "field `area`: -1 is out of range for u64"),
        (b'{"name":5,"area":1,"square":false}', "field `name`: 5 is not a"),
        (b'{"name":"a","area":true,"square":false}', "field `area`: true is not a"),
        (b"[1]", "^\\[1\\] is not a"),
        (b"\xff", "can't decode"),
        (b'{"name"', "Expecting"),
    ]:
        with pytest.raises(ValueError, match=problem):
            from_json(bad, Measured)


# ---- the shapes guest ---------------------------------------------------------------------------

_modules: dict[str, tuple[wasmtime.Module, Interface | None]] = {}


def shapes(build: str, **interface: Interface | None) -> Guest:
    """An instance of ``target/guests/BUILD.wasm`` with its interface, or with
    ``interface=...``."""
    if build not in _modules:
        path = GUEST_DIR / f"{build}.wasm"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: build them with `cargo run -p harness -- guests`")
        wasm = Path(path).read_bytes()
        _modules[build] = (wasmtime.Module(ENGINE, wasm), Interface.read(wasm))
    module, described = _modules[build]
    return Guest.instantiate(
        wasmtime.Store(ENGINE),
        wasmtime.Linker(ENGINE),
        module,
        interface=interface.get("interface", described),
    )


DOOR = Rect("door", 80, 200)


@pytest.mark.parametrize("build", ["shapes", "shapes-json"])
def test_measure_takes_and_returns_json(build: str) -> None:
    guest = shapes(build)
    before = guest.live_blocks()
    measure = guest.func("measure")
    assert measure.call_json(DOOR, into=Measured) == Measured("door", 16_000, False)
    assert measure.call_json(DOOR) == {"name": "door", "area": 16_000, "square": False}
    assert measure.call_json({"name": "sq", "width": 3, "height": 3}, into=Measured) == (
        Measured("sq", 9, True)
    )
    assert len(to_json(DOOR)) == 39
    assert guest.live_blocks() == before


@pytest.mark.parametrize("build", ["shapes", "shapes-postcard"])
def test_measure_compact_takes_and_returns_postcard(build: str) -> None:
    guest = shapes(build)
    before = guest.live_blocks()
    compact = guest.func("measure_compact")
    assert compact.call_postcard(DOOR, into=Measured) == Measured("door", 16_000, False)
    for rect, encoded in WRITTEN_BY_RUST:
        assert compact.call_bytes(to_postcard(rect)) == bytes.fromhex(encoded)
    assert len(to_postcard(DOOR)) == 8
    assert guest.live_blocks() == before


def test_both_formats_agree_with_the_model_on_random_rects() -> None:
    guest = shapes("shapes")
    before = guest.live_blocks()
    measure, compact = guest.func("measure"), guest.func("measure_compact")
    chance = random.Random(14)
    edges = [1, 127, 128, 16_383, 16_384, 2**31, 2**32 - 1]
    for index in range(300):
        width, height = (
            chance.choice(edges) if chance.random() < 0.3 else chance.randrange(1, 2**32)
            for _ in range(2)
        )
        letters = "aß✓\U0001f600\"\\\n"
        name = "".join(chance.choice(letters) for _ in range(chance.randrange(200)))
        rect = Rect(name, width, height)
        assert measure.call_json(rect, into=Measured) == measured(rect), rect
        assert compact.call_postcard(rect, into=Measured) == measured(rect), rect
    assert guest.live_blocks() == before


def test_the_guests_errors_name_the_argument() -> None:
    guest = shapes("shapes")
    before = guest.live_blocks()
    measure, compact = guest.func("measure"), guest.func("measure_compact")
    calls: list[Callable[[], Measured]] = [
        lambda: measure.call_json(Rect("door", 80, 0), into=Measured),
        lambda: compact.call_postcard(Rect("door", 0, 200), into=Measured),
    ]
    for call in calls:
        with pytest.raises(GuestFailed) as failed:
            call()
        assert failed.value.message == "`door` has no area"
    for func, data, words in [
        (measure, b'{"name": 5}', "argument `rect`: not valid JSON"),
        (compact, b"\x05ab", "argument `rect`: not valid postcard"),
        (measure, b'{"name":"door"}', "argument `rect`: not valid JSON: missing field `width`"),
    ]:
        with pytest.raises(GuestFailed) as failed:
            func.call_bytes(data)
        assert failed.value.message.startswith(words), failed.value.message
    assert guest.live_blocks() == before


def test_typed_calls_the_section_rules_out_are_refused() -> None:
    guest = shapes("shapes")
    before = guest.live_blocks()
    measure, compact = guest.func("measure"), guest.func("measure_compact")
    with pytest.raises(CallRefused, match="returns postcard .* `call_json` does not read"):
        compact.call_json(DOOR)
    with pytest.raises(CallRefused, match="returns json .* `call_postcard` does not read"):
        measure.call_postcard(DOOR, into=Measured)
    with pytest.raises(CallRefused, match="returns json .* `call_int` does not read"):
        measure.call_int(to_json(DOOR))
    with pytest.raises(CallRefused, match=r"argument `rect` \(json\) is not UTF-8"):
        measure.call_bytes(to_postcard(DOOR))  # c8 01: not UTF-8
    # Described with a string argument (the same wasm type), measure takes no JSON value.
    assert guest.last_error() is None
    assert guest.live_blocks() == before
    text_rect = Function(None, "measure", (Argument("rect", Kind.STRING),), Kind.JSON, True)
    guest = shapes("shapes", interface=Interface(exports=(text_rect,)))
    before = guest.live_blocks()
    with pytest.raises(CallRefused, match="argument `rect` is string .* encodes every argument"):
        guest.func("measure").call_json(DOOR)
    assert guest.last_error() is None
    assert guest.live_blocks() == before


def test_values_that_do_not_encode_are_refused_before_the_guest_runs() -> None:
    guest = shapes("shapes")
    before = guest.live_blocks()
    measure, compact = guest.func("measure"), guest.func("measure_compact")
    with pytest.raises(TypedValueError, match="postcard: argument `rect`: field `width`: -1"):
        compact.call_postcard(Rect("a", -1, 1), into=Measured)
    with pytest.raises(TypedValueError, match="JSON: argument `rect`: .*not JSON serializable"):
        measure.call_json(object())
    with pytest.raises(TypedValueError, match="JSON: argument `rect`: Out of range float"):
        measure.call_json(float("nan"))
    assert guest.last_error() is None
    assert guest.live_blocks() == before


def test_typed_calls_work_without_an_interface() -> None:
    guest = shapes("shapes", interface=None)
    compact = guest.func("measure_compact")
    assert compact.signature is None
    assert compact.call_postcard(DOOR, into=Measured) == measured(DOOR)
    with pytest.raises(TypedValueError, match="postcard: argument 1: field `height`"):
        compact.call_postcard(Rect("a", 1, -1), into=Measured)
    # Nothing tells the host that measure_compact takes no JSON: the guest says so.
    with pytest.raises(GuestFailed, match="argument `rect`: not valid postcard"):
        compact.call_json(DOOR)


def test_results_that_do_not_decode_are_errors_and_freed() -> None:
    @dataclass
    class Longer:
        name: str
        area: U64
        square: bool
        colour: str

    guest = shapes("shapes")
    before = guest.live_blocks()
    with pytest.raises(TypedValueError, match="JSON: the result: missing field `width`"):
        guest.func("measure").call_json(DOOR, into=Rect)
    with pytest.raises(TypedValueError, match="postcard: the result: field `colour`: the input"):
        guest.func("measure_compact").call_postcard(DOOR, into=Longer)
    assert guest.live_blocks() == before
