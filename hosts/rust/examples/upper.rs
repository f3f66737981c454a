//! A complete host: loads the `upper` example guest, calls it, and reads a failure's reason.
//!
//! `cargo run -p guestmem-host --example upper -- target/wasm32-unknown-unknown/guest/upper.wasm`

use guestmem_host::Guest;
use wasmtime::{Engine, Linker, Module, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: upper UPPER.wasm")?;
    let engine = Engine::default();
    let module = Module::from_file(&engine, path)?;
    let linker = Linker::new(&engine); // WASI and host functions go here
    let mut guest = Guest::instantiate(Store::new(&engine, ()), &linker, &module)?;
    let upper = guest.func("upper")?; // looked up and type-checked once
    let text = upper.call_string(&mut guest, &["straße"])?; // copied in, result read and freed
    println!("{text}");
    let error = upper.call_string(&mut guest, &[b"\xff"]).unwrap_err(); // not UTF-8: returns 0
    println!("{error}"); // ...and the error carries last_error's message
    println!("live blocks: {:?}", guest.live_blocks()?);
    assert_eq!((text.as_str(), guest.live_blocks()?), ("STRASSE", Some(0)));
    Ok(())
}
