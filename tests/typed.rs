//! Typed values natively, through `export!` and `import!`: structs in and out as JSON and
//! postcard, and every way the bytes can be wrong reported as an error naming the argument.
//! Run with `--features json,postcard` (CI does, and under Miri).
#![cfg(all(feature = "json", feature = "postcard"))]

use guestmem::{Json, Postcard, native};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i32,
    y: i32,
    label: String,
}

fn moved(point: Point) -> Point {
    Point {
        x: point.x + 1,
        y: point.y - 1,
        ..point
    }
}

guestmem::export! {
    fn move_json(point: Json<Point>) -> Json<Point> {
        Json(moved(point.0))
    }

    fn move_postcard(point: Postcard<Point>) -> Postcard<Point> {
        Postcard(moved(point.0))
    }
}

guestmem::import! {
    fn lookup(key: Json<Point>) -> Result<Postcard<Point>, String>;
}

/// Calls an export with `bytes` and returns its result's bytes, or the error message.
fn call(
    export: unsafe extern "C-unwind" fn(*const u8, usize) -> *mut u8,
    bytes: &[u8],
) -> Result<Vec<u8>, String> {
    // SAFETY: `bytes` is live for the call.
    let result = unsafe { export(bytes.as_ptr(), bytes.len()) };
    let block = if result.is_null() {
        guestmem::abi::last_error()
    } else {
        result
    };
    // SAFETY: a result block: a u32 length, then the bytes.
    let len = unsafe { block.cast::<u32>().read_unaligned() } as usize;
    // SAFETY: as above.
    let out = unsafe { core::slice::from_raw_parts(block.add(4), len) }.to_vec();
    // SAFETY: freed once, as a host does.
    unsafe { guestmem::abi::free(block) };
    if result.is_null() {
        Err(String::from_utf8(out).expect("UTF-8 message"))
    } else {
        Ok(out)
    }
}

fn point() -> Point {
    Point {
        x: 1,
        y: 2,
        label: "p".to_owned(),
    }
}

#[test]
fn structs_round_trip_in_both_formats() {
    let json = call(move_json, &serde_json::to_vec(&point()).expect("encodes")).expect("moves");
    assert_eq!(
        serde_json::from_slice::<Point>(&json).expect("decodes"),
        moved(point())
    );
    let binary = call(
        move_postcard,
        &postcard::to_allocvec(&point()).expect("encodes"),
    )
    .expect("moves");
    assert_eq!(
        postcard::from_bytes::<Point>(&binary).expect("decodes"),
        moved(point())
    );
}

#[test]
fn bad_bytes_are_errors_naming_the_argument() {
    let json = call(move_json, b"{\"x\": 1}").expect_err("missing fields");
    assert!(
        json.starts_with("argument `point`: not valid JSON: missing field"),
        "{json}"
    );
    let binary = call(move_postcard, b"\x02").expect_err("cut short");
    assert!(
        binary.starts_with("argument `point`: not valid postcard"),
        "{binary}"
    );
}

#[test]
fn typed_imports_encode_arguments_and_decode_results() {
    let lookup_host = |args: &[u64]| {
        // SAFETY: the wrapper's (ptr, len) pair, live for the call.
        let key: Point =
            serde_json::from_slice(unsafe { native::bytes(args[0], args[1]) }).expect("JSON");
        native::result(&postcard::to_allocvec(&moved(key)).expect("encodes"))
    };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "lookup", lookup_host) };
    assert_eq!(
        lookup(Json(point())).map(|found| found.0),
        Ok(moved(point()))
    );
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe {
        native::register("env", "lookup", |_| {
            native::result(b"\xFF\xFF\xFF\xFF\xFF\xFF")
        })
    };
    let bad = lookup(Json(point())).expect_err("not postcard");
    assert!(
        bad.contains("host function `env.lookup` returned a result that is not valid postcard"),
        "{bad}"
    );
    native::clear();
}
