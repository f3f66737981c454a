//! Each check must be able to fail: here it runs against a guest with a planted fault and must
//! report it. (The allocator check carries its own proof, wee_alloc's leak; the native check's is
//! `harness --plant-leak` under Valgrind, in `.ci/valgrind.sh`.)

use harness::checks::{Context, conformance, hostile, leaks};
use harness::guest::Calls;
use harness::guests::GuestDir;
use harness::{GuestModule, HostError};

fn module(name: &str, wat: &str) -> GuestModule {
    let context = Context::new(GuestDir::default_location()).expect("create the wasmtime engine");
    GuestModule::from_bytes(&context.engine, name, wat.as_bytes()).expect("compile the guest")
}

/// A guest whose `alloc` hands out misaligned, overlapping-prone addresses and whose `free`
/// accepts anything.
const SLOPPY: &str = r#"
(module
  (memory (export "memory") 64)
  (global $next (mut i32) (i32.const 1028))
  (global $live (mut i32) (i32.const 0))
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (local.get $ptr) (i32.add (local.get $len) (i32.const 1))))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $ptr))
  (func (export "free") (param i32))
  (func (export "dealloc") (param i32 i32))
  (func (export "realloc") (param i32 i32) (result i32) (call $alloc (local.get 1)))
  (func (export "last_error") (result i32) (i32.const 0))
  (func (export "abi_version") (result i32) (i32.const 1))
  (func (export "live_blocks") (result i32) (global.get $live))
  (func (export "heap_bytes") (result i32) (i32.const 0)))
"#;

#[test]
fn conformance_fails_on_a_sloppy_guest() {
    let row = conformance::check(&module("sloppy", SLOPPY));
    assert!(!row.passed(), "{row}");
    let failures = row.failures.join("\n");
    assert!(failures.contains("not a multiple of 8"), "{failures}");
}

/// An `echo` that forgets one scratch block every 100 calls, on a bump allocator.
const LEAKY_ECHO: &str = r#"
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (global $live (mut i32) (i32.const 0))
  (global $calls (mut i32) (i32.const 0))
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local $end i32)
    (local.set $ptr (global.get $next))
    (local.set $end
      (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 15)) (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (drop (memory.grow
          (i32.add
            (i32.shr_u (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16))) (i32.const 16))
            (i32.const 1))))))
    (global.set $next (local.get $end))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $ptr))
  (func $free (export "free") (param $ptr i32)
    (if (local.get $ptr) (then (global.set $live (i32.sub (global.get $live) (i32.const 1))))))
  (func (export "dealloc") (param $ptr i32) (param i32) (call $free (local.get $ptr)))
  (func (export "realloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "last_error") (result i32) (i32.const 0))
  (func (export "abi_version") (result i32) (i32.const 1))
  (func (export "live_blocks") (result i32) (global.get $live))
  (func (export "heap_bytes") (result i32) (i32.sub (global.get $next) (i32.const 1024)))
  (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
    (local $out i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.eqz (i32.rem_u (global.get $calls) (i32.const 100)))
      (then (drop (call $alloc (i32.const 16)))))
    (local.set $out (call $alloc (i32.add (local.get $len) (i32.const 4))))
    (i32.store (local.get $out) (local.get $len))
    (memory.copy (i32.add (local.get $out) (i32.const 4)) (local.get $ptr) (local.get $len))
    (local.get $out)))
"#;

#[test]
fn leak_check_finds_a_planted_leak() {
    let row = leaks::check_guest(&module("leaky_echo", LEAKY_ECHO), "echo", 2_000);
    assert!(!row.passed(), "{row}");
    let failures = row.failures.join("\n");
    assert!(
        failures.contains("live_blocks went from 0 to"),
        "{failures}"
    );
    assert!(failures.contains("memory.size grew"), "{failures}");
}

#[test]
fn leak_check_finds_a_planted_leak_through_async_calls() {
    let module = module("leaky_echo", LEAKY_ECHO).with_calls(Calls::Async);
    let row = leaks::check_guest(&module, "echo", 2_000);
    assert!(!row.passed(), "{row}");
    assert!(row.subject.contains("async calls"), "{row}");
    let failures = row.failures.join("\n");
    assert!(
        failures.contains("live_blocks went from 0 to"),
        "{failures}"
    );
}

#[test]
fn conformance_fails_on_a_sloppy_guest_through_async_calls() {
    let row = conformance::check(&module("sloppy", SLOPPY).with_calls(Calls::Async));
    assert!(!row.passed(), "{row}");
    let failures = row.failures.join("\n");
    assert!(failures.contains("not a multiple of 8"), "{failures}");
}

#[test]
fn hostile_guest_is_hostile() {
    // Without the host's checks these results would be read as data: make sure each hostile
    // export really returns something that is not a valid result block.
    let context = Context::new(GuestDir::default_location()).expect("create the wasmtime engine");
    let module =
        GuestModule::from_bytes(&context.engine, "hostile", hostile::HOSTILE_WAT.as_bytes())
            .expect("compile the hostile guest");
    let mut guest = module.instantiate().expect("instantiate");
    let raw = guest
        .call_raw("misaligned", &[0, 0])
        .expect("misaligned returns");
    assert_eq!(raw % 8, 1);
    let error = guest.take_result("misaligned", raw).unwrap_err();
    assert!(matches!(error, HostError::BadResult { .. }), "{error}");
}
