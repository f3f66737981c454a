//! A complete host: loads the `upper` example guest, calls it, and reads a failure's reason.
//!
//! `cargo run -p guestmem-host --example upper -- target/wasm32-unknown-unknown/guest/upper.wasm`

use guestmem_host::Plugin;
use wasmtime::{Engine, Linker, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: upper UPPER.wasm")?;
    let engine = Engine::default();
    let plugin = Plugin::from_file(&engine, path)?; // compiled once, its interface section read
    let linker = Linker::new(&engine); // WASI and host functions go here
    let mut guest = plugin.instantiate(Store::new(&engine, ()), &linker)?;
    let upper = guest.func("upper")?; // looked up and type-checked once
    let text = upper.call_string(&mut guest, &["straße"])?; // copied in, result read and freed
    println!("{text}");
    let error = upper.call_string(&mut guest, &[b"\xff"]).unwrap_err(); // `text: string`...
    println!("{error}"); // ...so bytes that are not UTF-8 are refused before the guest runs
    println!("live blocks: {:?}", guest.live_blocks()?);
    assert_eq!((text.as_str(), guest.live_blocks()?), ("STRASSE", Some(0)));
    Ok(())
}
