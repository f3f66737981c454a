//! Hosts the `greet` example guest with two host functions: a salutation that can fail, and a
//! log. `cargo run -p guestmem-host --example greet -- target/wasm32-unknown-unknown/guest/greet.wasm`

use std::sync::{Arc, Mutex};

use guestmem_host::{Error, Guest, HostFunctions};
use wasmtime::{Engine, Linker, Module, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: greet GREET.wasm")?;
    let engine = Engine::default();
    let module = Module::from_file(&engine, path)?;
    let open = Arc::new(Mutex::new(true));
    let salutation_open = Arc::clone(&open);
    let mut linker = Linker::new(&engine);
    HostFunctions::new(&mut linker)? // defines guestmem.last_error
        .func("env", "salutation", move || -> Result<String, String> {
            match *salutation_open.lock().map_err(|error| error.to_string())? {
                true => Ok("Hello".into()),
                false => Err("the host has no salutation today".into()),
            }
        })?
        .func("env", "log", |line: &str| println!("log: {line}"))?;
    let mut guest = Guest::instantiate(Store::new(&engine, ()), &linker, &module)?;
    let greeting = guest.call_string("greet", &[b"guestmem"])?;
    println!("{greeting}");
    assert_eq!(greeting, "Hello, guestmem!");

    *open.lock().map_err(|error| error.to_string())? = false;
    let error = guest.call_string("greet", &[b"guestmem"]).unwrap_err();
    println!("{error}"); // `greet` failed: the host has no salutation today
    assert!(matches!(&error, Error::Guest { message, .. } if message.contains("no salutation")));
    println!("live blocks: {:?}", guest.live_blocks()?);
    assert_eq!(guest.live_blocks()?, Some(0));
    Ok(())
}
