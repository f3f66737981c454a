//! The hostile guest of `host_reader`, and the engine it runs on: shared by build.rs, which
//! compiles it ahead of time, and by whoever includes `host_reader` (see its header).

use wasmtime::Config;

/// The hostile guest: the ABI's exports and four functions of 0, 1, 2 and 4 inputs, each of
/// which asks the host function `script.answer` what to return (a negative answer traps). The
/// functions first show the script their arguments (kind 8), then `$result` grows memory by as
/// many pages as it is told, and answers.
pub const GUEST: &str = r#"
(module
  (import "script" "answer" (func $answer (param i32 i32) (result i64)))
  (memory (export "memory") 1 4)
  (func $next (param $kind i32) (param $arg i32) (result i32)
    (local $answer i64)
    (local.set $answer (call $answer (local.get $kind) (local.get $arg)))
    (if (i64.lt_s (local.get $answer) (i64.const 0)) (then (unreachable)))
    (i32.wrap_i64 (local.get $answer)))
  (func (export "alloc") (param i32) (result i32) (call $next (i32.const 0) (local.get 0)))
  (func (export "realloc") (param i32 i32) (result i32) (call $next (i32.const 1) (local.get 1)))
  (func (export "free") (param i32) (drop (call $next (i32.const 2) (local.get 0))))
  (func (export "dealloc") (param i32 i32) (drop (call $next (i32.const 3) (local.get 0))))
  (func (export "last_error") (result i32) (call $next (i32.const 4) (i32.const 0)))
  (func (export "abi_version") (result i32) (i32.const 1))
  (func (export "live_blocks") (result i32) (call $next (i32.const 5) (i32.const 0)))
  (func (export "heap_bytes") (result i32) (call $next (i32.const 5) (i32.const 0)))
  (func $result (result i32)
    (drop (memory.grow (call $next (i32.const 6) (i32.const 0))))
    (call $next (i32.const 7) (i32.const 0)))
  (func $show (param i32) (drop (call $next (i32.const 8) (local.get 0))))
  (func (export "hostile0") (result i32) (call $result))
  (func (export "hostile1") (param i32 i32) (result i32)
    (call $show (local.get 0)) (call $show (local.get 1))
    (call $result))
  (func (export "hostile2") (param i32 i32 i32 i32) (result i32)
    (call $show (local.get 0)) (call $show (local.get 1))
    (call $show (local.get 2)) (call $show (local.get 3))
    (call $result))
  (func (export "hostile4") (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (call $show (local.get 0)) (call $show (local.get 1))
    (call $show (local.get 2)) (call $show (local.get 3))
    (call $show (local.get 4)) (call $show (local.get 5))
    (call $show (local.get 6)) (call $show (local.get 7))
    (call $result)))
"#;

/// The engine's configuration, the same where the guest is compiled and where it runs.
pub fn config() -> Config {
    let mut config = Config::new();
    // No reservation beyond the memory itself: growing it moves it, which the host must survive
    // (it takes a fresh view of memory after every call).
    config.memory_reservation(0);
    config.memory_reservation_for_growth(0);
    config.memory_guard_size(0);
    config
}
