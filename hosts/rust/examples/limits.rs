//! Resource limits are the user's: a memory cap through `Store::limiter` and a fuel budget, both
//! set on the store before the guest is instantiated.
//!
//! `cargo run -p guestmem-host --example limits -- target/wasm32-unknown-unknown/guest/echo.wasm`

use guestmem_host::{Error, Guest};
use wasmtime::{Config, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, Trap};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: limits ECHO.wasm")?;
    let engine = Engine::new(Config::new().consume_fuel(true))?;
    let module = Module::from_file(&engine, path)?;
    let limits = StoreLimitsBuilder::new().memory_size(4 << 20).build();
    let mut store = Store::new(&engine, limits);
    store.limiter(|limits: &mut StoreLimits| limits);
    store.set_fuel(10_000_000)?;
    let mut guest = Guest::instantiate(store, &Linker::new(&engine), &module)?;
    let echo = guest.func("echo")?;

    // 8 MiB cannot fit under a 4 MiB cap: alloc returns 0 and the call says so.
    let error = echo
        .call_bytes(&mut guest, &[vec![7_u8; 8 << 20]])
        .unwrap_err();
    assert!(matches!(error, Error::AllocFailed { .. }), "{error}");
    println!("memory cap: {error}");

    // Small calls run until the fuel is spent; then the call traps, and the instance is dropped.
    let mut calls = 0_u32;
    let error = loop {
        match echo.call_bytes(&mut guest, &["ping"]) {
            Ok(bytes) => assert_eq!(bytes, b"ping"),
            Err(error) => break error,
        }
        calls += 1;
    };
    assert!(
        matches!(
            &error,
            Error::Trap {
                trap: Trap::OutOfFuel,
                ..
            }
        ),
        "{error}"
    );
    println!("fuel: {calls} calls, then {error}");
    Ok(())
}
