//! Hosts the `greet` example guest with two host functions: a salutation that is the calling
//! store's own (one per tenant) and can fail, and a log.
//! `cargo run -p guestmem-host --example greet -- target/wasm32-unknown-unknown/guest/greet.wasm`

use guestmem_host::{Error, GuestmemCtx, GuestmemView, HostFunctions, Plugin};
use wasmtime::{Engine, Linker, Store};

/// Each store's data: the tenant's salutation, and guestmem's state for host functions.
struct Tenant {
    salutation: Option<&'static str>,
    guestmem: GuestmemCtx,
}

impl GuestmemView for Tenant {
    fn guestmem(&mut self) -> &mut GuestmemCtx {
        &mut self.guestmem
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: greet GREET.wasm")?;
    let engine = Engine::default();
    let plugin = Plugin::from_file(&engine, path)?;
    let mut linker = Linker::new(&engine);
    let mut host = HostFunctions::new(&mut linker)?; // defines guestmem.last_error
    host.func("env", "salutation", |tenant: &mut Tenant| {
        tenant
            .salutation
            .map(str::to_owned)
            .ok_or("the host has no salutation today")
    })?
    .func("env", "log", |line: &str| println!("log: {line}"))?;
    // Each host function is fallible exactly where the guest's import is.
    host.check(
        plugin
            .interface()
            .ok_or("greet.wasm has an interface section")?,
    )?;

    let tenant = |salutation| Tenant {
        salutation,
        guestmem: GuestmemCtx::default(),
    };
    let mut hello = plugin.instantiate(Store::new(&engine, tenant(Some("Hello"))), &linker)?;
    let mut ahoy = plugin.instantiate(Store::new(&engine, tenant(Some("Ahoy"))), &linker)?;
    let greetings = [
        hello.call_string("greet", &[b"guestmem"])?,
        ahoy.call_string("greet", &[b"guestmem"])?,
    ];
    println!("{greetings:?}");
    assert_eq!(greetings, ["Hello, guestmem!", "Ahoy, guestmem!"]);

    ahoy.store_mut().data_mut().salutation = None;
    let error = ahoy.call_string("greet", &[b"guestmem"]).unwrap_err();
    println!("{error}"); // `greet` failed: the host has no salutation today
    assert!(matches!(&error, Error::Guest { message, .. } if message.contains("no salutation")));
    println!(
        "live blocks: {:?} {:?}",
        hello.live_blocks()?,
        ahoy.live_blocks()?
    );
    assert_eq!(
        (hello.live_blocks()?, ahoy.live_blocks()?),
        (Some(0), Some(0))
    );
    Ok(())
}
