//! What a pool buys, in one run: a checkout and a 16-byte echo through the pool against
//! instantiating the compiled module for each call; two threads against one through the pool;
//! and the resident memory of a guest that leaks 1 KiB a call, with and without a 16 MiB
//! high-water mark.
//!
//! `cargo run --release -p guestmem-host --example pool_bench -- target/guests/echo.wasm`

use std::time::{Duration, Instant};

use guestmem_host::pool::{Pool, recommended_config};
use guestmem_host::{Guest, Plugin};
use wasmtime::{Engine, Linker, Store};

/// An echo over a bump allocator that never reuses memory and grows it as needed, which also
/// fills a 1 KiB block it never frees: the memory of a leaking guest, touched so that it counts.
const LEAKY_ECHO: &str = r#"
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32) (local $end i32) (local $have i32)
    (local.set $ptr (global.get $next))
    (local.set $end
      (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow (i32.shr_u
                (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535))
                (i32.const 16)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $next (local.get $end))
    (local.get $ptr))
  (func (export "free") (param i32))
  (func (export "dealloc") (param i32 i32))
  (func (export "realloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "abi_version") (result i32) (i32.const 1))
  (func (export "last_error") (result i32) (i32.const 0))
  (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
    (local $leak i32) (local $block i32)
    (local.set $leak (call $alloc (i32.const 1024)))
    (if (i32.eqz (local.get $leak)) (then (return (i32.const 0))))
    (memory.fill (local.get $leak) (i32.const 0xab) (i32.const 1024))
    (local.set $block (call $alloc (i32.add (local.get $len) (i32.const 4))))
    (if (i32.eqz (local.get $block)) (then (return (i32.const 0))))
    (i32.store (local.get $block) (local.get $len))
    (memory.copy (i32.add (local.get $block) (i32.const 4)) (local.get $ptr) (local.get $len))
    (local.get $block)))
"#;

const INPUT: &[u8; 16] = b"sixteen bytes!!!";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: pool_bench ECHO.wasm")?;
    let wasm = std::fs::read(path)?;
    let engine = Engine::new(&recommended_config(8, 256 << 20))?;
    let plugin = Plugin::new(&engine, &wasm)?;
    let linker = Linker::new(&engine);

    // 1. Checkout and call, against an instance made for each call.
    let pool = Pool::builder(&plugin, || ())
        .max_instances(2)
        .build(&linker)?;
    let pooled = per_call(20_000, || {
        let mut guest = pool.checkout(Duration::from_secs(1))?;
        let echoed = guest.call(|guest| guest.call_bytes("echo", &[INPUT]))?;
        assert_eq!(echoed, INPUT);
        Ok(())
    })?;
    let fresh = |engine: &Engine, iterations| {
        let module = wasmtime::Module::new(engine, &wasm)?;
        let linker = Linker::new(engine);
        per_call(iterations, || {
            let mut store = Store::new(engine, ());
            // Nothing moves the epoch here, but with epoch interruption a store starts at its
            // deadline.
            store.set_epoch_deadline(1);
            let mut guest = Guest::instantiate(store, &linker, &module)?;
            assert_eq!(guest.call_bytes("echo", &[INPUT])?, INPUT);
            Ok(())
        })
    };
    let default_engine = Engine::default();
    let instantiated = fresh(&default_engine, 2_000)?;
    let instantiated_pooling = fresh(&engine, 2_000)?;
    println!("checkout + 16 B echo through the pool: {pooled:?} a call");
    println!(
        "Guest::instantiate + the same call: {instantiated:?} (default engine, {:.1}x the pool), \
         {instantiated_pooling:?} (pooling engine, {:.1}x)",
        ratio(instantiated, pooled),
        ratio(instantiated_pooling, pooled),
    );

    // 2. Two threads against one, through one pool of two.
    let calls = 100_000;
    let one = throughput(&pool, 1, calls)?;
    let two = throughput(&pool, 2, calls)?;
    let alone = [1, 2].map(|threads| throughput_unpooled(&plugin, &linker, threads, calls));
    println!(
        "through the pool: {one:.0} calls/s on 1 thread, {two:.0} on 2 ({:.2}x); \
         an instance per thread, no pool: {:.0} and {:.0} ({:.2}x)",
        two / one,
        alone[0],
        alone[1],
        alone[1] / alone[0]
    );

    // 3. Resident memory of a leaking guest after many calls, with and without a high-water mark.
    let leaky = Plugin::new(&engine, &wat_bytes(LEAKY_ECHO)?)?;
    let calls = 100_000;
    let bounded = leak_rss(&leaky, &linker, Some(256), calls)?;
    let unbounded = leak_rss(&leaky, &linker, None, calls)?;
    println!(
        "{calls} calls leaking 1 KiB each: RSS grew {unbounded} MiB without a high-water mark, \
         {bounded} MiB with a 16 MiB one"
    );
    Ok(())
}

/// The mean time of `iterations` runs of `run`.
fn per_call(
    iterations: u32,
    mut run: impl FnMut() -> Result<(), Box<dyn std::error::Error>>,
) -> Result<Duration, Box<dyn std::error::Error>> {
    for _ in 0..iterations / 10 {
        run()?;
    }
    let started = Instant::now();
    for _ in 0..iterations {
        run()?;
    }
    Ok(started.elapsed() / iterations)
}

/// Calls a second through `pool` by `threads` threads making `calls` calls each.
fn throughput(pool: &Pool<()>, threads: u32, calls: u32) -> Result<f64, String> {
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<(), String> {
                    for _ in 0..calls {
                        let mut guest = pool
                            .checkout(Duration::from_secs(1))
                            .map_err(|error| error.to_string())?;
                        guest
                            .call(|guest| guest.call_bytes("echo", &[INPUT]))
                            .map_err(|error| error.to_string())?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|worker| worker.join().map_err(|_| "a worker panicked".to_owned())?)
    })?;
    Ok(f64::from(threads * calls) / started.elapsed().as_secs_f64())
}

/// Calls a second by `threads` threads with an instance each, without a pool: what the machine
/// allows, to compare the pool's scaling with.
fn throughput_unpooled(plugin: &Plugin, linker: &Linker<()>, threads: u32, calls: u32) -> f64 {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut store = Store::new(plugin.module().engine(), ());
                store.set_epoch_deadline(1);
                let mut guest = plugin.instantiate(store, linker).expect("instantiate");
                for _ in 0..calls {
                    guest.call_bytes("echo", &[INPUT]).expect("echo");
                }
            });
        }
    });
    f64::from(threads * calls) / started.elapsed().as_secs_f64()
}

/// How much the resident set grew, in MiB, over `calls` calls of the leaking echo through a pool
/// of one instance recycled above `max_pages` pages, if given (measured with the pool alive).
fn leak_rss(
    plugin: &Plugin,
    linker: &Linker<()>,
    max_pages: Option<u64>,
    calls: u32,
) -> Result<u64, Box<dyn std::error::Error>> {
    let builder = Pool::builder(plugin, || ()).max_instances(1);
    let pool = match max_pages {
        Some(pages) => builder.recycle_above_pages(pages),
        None => builder,
    }
    .build(linker)?;
    let before = resident_bytes()?;
    let mut peak = before;
    for call in 0..calls {
        let mut guest = pool.checkout(Duration::from_secs(1))?;
        guest.call(|guest| guest.call_bytes("echo", &[INPUT]))?;
        if call % 1000 == 0 {
            peak = peak.max(resident_bytes()?);
        }
    }
    peak = peak.max(resident_bytes()?);
    Ok(peak.saturating_sub(before) >> 20)
}

/// The resident set size: the second field of `/proc/self/statm`, in pages.
fn resident_bytes() -> Result<u64, Box<dyn std::error::Error>> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .ok_or("/proc/self/statm has no second field")?
        .parse()?;
    Ok(pages * 4096)
}

fn wat_bytes(text: &str) -> Result<Vec<u8>, wat::Error> {
    wat::parse_str(text)
}

fn ratio(slow: Duration, fast: Duration) -> f64 {
    slow.as_secs_f64() / fast.as_secs_f64().max(f64::MIN_POSITIVE)
}
