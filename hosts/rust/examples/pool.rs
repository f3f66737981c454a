//! A pool shared by threads: at most 4 instances, a deadline on every call, and an instance whose
//! memory passed 16 MiB replaced by a fresh one.
//!
//! `cargo run -p guestmem-host --example pool -- target/guests/echo.wasm`

use std::time::Duration;

use guestmem_host::Plugin;
use guestmem_host::pool::{EpochTicker, Pool, PoolError, recommended_config};
use wasmtime::{Engine, Linker};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: pool ECHO.wasm")?;
    let engine = Engine::new(&recommended_config(4, 64 << 20))?;
    let ticker = EpochTicker::new(&engine, Duration::from_millis(5))?;
    let pool = Pool::builder(&Plugin::from_file(&engine, path)?, || ())
        .max_instances(4)
        .deadline(Duration::from_millis(100), &ticker)
        .recycle_above_pages(256)
        .build(&Linker::new(&engine))?;
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let pool = pool.clone();
            std::thread::spawn(move || -> Result<(), PoolError> {
                for call in 0..25 {
                    let input = format!("thread {thread}, call {call}");
                    let mut guest = pool.checkout(Duration::from_secs(5))?;
                    let echoed =
                        guest.call(|guest| guest.call_bytes("echo", &[input.as_bytes()]))?;
                    assert_eq!(echoed, input.as_bytes());
                }
                Ok(())
            })
        })
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "a thread panicked")??;
    }
    let metrics = pool.metrics();
    println!(
        "{} calls by 8 threads on {} instances",
        metrics.calls, metrics.created
    );
    assert!(metrics.calls == 200 && metrics.created <= 4);
    Ok(())
}
