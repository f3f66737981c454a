//! A WASI guest through the user's own `Linker`: wasmtime-wasi's preview 1 added by the user,
//! the reactor's `_initialize` run by the host, the `guestmem_` export names of wasm32-wasip1.

use guestmem_host::Guest;
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::{self, WasiP1Ctx};

/// The ABI over a bump allocator, with wasm32-wasip1's export names, and `env_count()`: the
/// number of environment variables WASI reports, or 0 if `_initialize` has not run.
const WASI_GUEST: &str = r#"
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (global $initialized (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $initialized (i32.const 1)))
  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next
      (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
    (local.get $ptr))
  (func (export "guestmem_free") (param i32))
  (func (export "dealloc") (param i32 i32))
  (func (export "guestmem_realloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "abi_version") (result i32) (i32.const 1))
  (func (export "last_error") (result i32) (i32.const 0))
  (func (export "env_count") (result i32)
    (if (i32.eqz (global.get $initialized)) (then (return (i32.const 0))))
    (drop (call $sizes (i32.const 16) (i32.const 20)))
    (i32.load (i32.const 16))))
"#;

#[test]
fn a_wasi_guest_runs_with_the_users_wasi_context() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::default();
    let module = Module::new(&engine, WASI_GUEST)?;
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |wasi| wasi)?;
    let wasi = WasiCtxBuilder::new()
        .envs(&[("PLUGIN_MODE", "test"), ("PLUGIN_LEVEL", "3")])
        .build_p1();
    let mut guest = Guest::instantiate(Store::new(&engine, wasi), &linker, &module)?;
    assert_eq!(guest.call_u32("env_count", &[])?, 2);
    Ok(())
}
