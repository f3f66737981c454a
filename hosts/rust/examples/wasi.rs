//! A wasm32-wasip1 guest hosted with wasmtime's WASI preview 1, added to the user's own linker:
//! the `wasi_env` example reads the environment the host gives it.
//!
//! `cargo run -p guestmem-host --example wasi -- target/wasm32-wasip1/guest/wasi_env.wasm`

use guestmem_host::Guest;
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::{self, WasiP1Ctx};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: wasi WASI_ENV.wasm")?;
    let engine = Engine::default();
    let module = Module::from_file(&engine, path)?;
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |wasi| wasi)?;
    let wasi = WasiCtxBuilder::new()
        .env("GUESTMEM_GREETING", "Hello")
        .build_p1();
    let mut guest = Guest::instantiate(Store::new(&engine, wasi), &linker, &module)?;
    let greet = guest.func("greet")?;
    let text = greet.call_string(&mut guest, &["plugin"])?;
    println!("{text}");
    assert_eq!(text, "Hello, plugin!");

    // Without the variable the guest's error comes back, with its message.
    let wasi = WasiCtxBuilder::new().build_p1();
    let mut guest = Guest::instantiate(Store::new(&engine, wasi), &linker, &module)?;
    let greet = guest.func("greet")?; // a function belongs to its instance
    let error = greet.call_string(&mut guest, &["plugin"]).unwrap_err();
    println!("{error}");
    assert!(error.to_string().contains("GUESTMEM_GREETING"), "{error}");
    Ok(())
}
