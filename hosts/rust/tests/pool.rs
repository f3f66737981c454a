//! Pools: every recycling policy recycles (a fresh instance starts its `count` from 1 again),
//! deadlines end a looping guest with `Error::Timeout`, checkouts wait and then give up, the
//! counters add up, many threads share one pool, and the module cache hits, misses and heals.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use guestmem_host::pool::{
    CacheOutcome, EpochTicker, ModuleCache, Pool, PoolBuilder, PoolError, PooledGuest,
    RecycleCause, recommended_config,
};
use guestmem_host::{Error, Plugin};
use sha2::{Digest, Sha256};
use wasmtime::{Engine, Linker, Trap};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The ABI over a bump allocator that grows memory as it goes and counts live blocks, with:
/// `count()` (calls so far, from 1: a fresh instance says 1), `echo(ptr, len)`, `boom()` (traps),
/// `spin()` (loops forever), `grow()` (`memory.grow(1)`, returns the pages after).
const GUEST: &str = r#"
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (global $live (mut i32) (i32.const 0))
  (global $count (mut i32) (i32.const 0))
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
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $ptr))
  (func (export "free") (param i32)
    (if (local.get 0) (then (global.set $live (i32.sub (global.get $live) (i32.const 1))))))
  (func (export "dealloc") (param i32 i32)
    (if (local.get 0) (then (global.set $live (i32.sub (global.get $live) (i32.const 1))))))
  (func (export "realloc") (param $ptr i32) (param $len i32) (result i32)
    (local $new i32)
    (local.set $new (call $alloc (local.get $len)))
    (if (i32.eqz (local.get $new)) (then (return (i32.const 0))))
    (memory.copy (local.get $new) (local.get $ptr) (local.get $len))
    (if (local.get $ptr) (then (global.set $live (i32.sub (global.get $live) (i32.const 1)))))
    (local.get $new))
  (func (export "abi_version") (result i32) (i32.const 1))
  (func (export "live_blocks") (result i32) (global.get $live))
  (func (export "last_error") (result i32) (i32.const 0))
  (func (export "count") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (global.get $count))
  (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
    (local $block i32)
    (local.set $block (call $alloc (i32.add (local.get $len) (i32.const 4))))
    (if (i32.eqz (local.get $block)) (then (return (i32.const 0))))
    (i32.store (local.get $block) (local.get $len))
    (memory.copy (i32.add (local.get $block) (i32.const 4)) (local.get $ptr) (local.get $len))
    (local.get $block))
  (func (export "boom") (result i32) (unreachable))
  (func (export "spin") (result i32) (loop (br 0)) (i32.const 0))
  (func (export "grow") (result i32)
    (drop (memory.grow (i32.const 1)))
    (memory.size)))
"#;

/// An engine as a server would have it: pooling, copy-on-write images, epoch interruption.
fn engine() -> Engine {
    Engine::new(&recommended_config(8, 16 << 20)).expect("engine")
}

fn plugin(engine: &Engine) -> Plugin {
    Plugin::new(engine, &wat::parse_str(GUEST).expect("wat")).expect("plugin")
}

fn pool(engine: &Engine, settings: impl FnOnce(PoolBuilder<()>) -> PoolBuilder<()>) -> Pool<()> {
    settings(Pool::builder(&plugin(engine), || ()))
        .build(&Linker::new(engine))
        .expect("pool")
}

fn checkout(pool: &Pool<()>) -> PooledGuest<()> {
    pool.checkout(Duration::from_secs(5)).expect("checkout")
}

/// `count()` through the pool: 1 on a fresh instance.
fn count(guest: &mut PooledGuest<()>) -> u32 {
    guest
        .call(|guest| guest.call_u32("count", &[]))
        .expect("count")
}

/// Runs `work` on a thread of its own and returns what it returns, or fails the test if it takes
/// longer than `limit` (the thread is left behind: a guest that never stops cannot be joined).
fn within<R: Send + 'static>(limit: Duration, work: impl FnOnce() -> R + Send + 'static) -> R {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(work()));
    receiver
        .recv_timeout(limit)
        .unwrap_or_else(|error| panic!("still running after {limit:?}: {error}"))
}

#[test]
fn pools_and_their_guards_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Pool<()>>();
    send::<PooledGuest<()>>();
    send_sync::<EpochTicker>();
}

#[test]
fn a_trap_recycles_the_instance() {
    let engine = engine();
    let pool = pool(&engine, |pool| pool.max_instances(1));
    let mut guest = checkout(&pool);
    assert_eq!((count(&mut guest), count(&mut guest)), (1, 2));
    let error = guest.call(|guest| guest.call_u32("boom", &[])).unwrap_err();
    assert!(error.is_trap(), "{error}");
    assert_eq!(guest.recycle_cause(), Some(RecycleCause::Trap));
    drop(guest);

    let mut guest = checkout(&pool);
    assert_eq!(count(&mut guest), 1, "the trapped instance came back");
    assert_eq!(guest.instance_id(), 2);
    // Within one checkout too: the call after a trap runs on a fresh instance.
    guest.call(|guest| guest.call_u32("boom", &[])).unwrap_err();
    assert_eq!(count(&mut guest), 1);
    drop(guest);
    let metrics = pool.metrics();
    assert_eq!((metrics.traps, metrics.recycles.trap), (2, 2));
    assert_eq!((metrics.created, metrics.live), (3, 1));
}

#[test]
fn a_deadline_ends_a_loop_with_a_timeout_and_the_pool_keeps_serving() -> TestResult {
    let engine = engine();
    let ticker = EpochTicker::new(&engine, Duration::from_millis(5))?;
    let deadline = Duration::from_millis(200);
    let pool = pool(&engine, |pool| {
        pool.max_instances(1).deadline(deadline, &ticker)
    });
    let mut guest = checkout(&pool);
    assert_eq!(count(&mut guest), 1);
    let (error, took, guest) = within(4 * deadline, move || {
        let started = Instant::now();
        let error = guest.call(|guest| guest.call_u32("spin", &[])).unwrap_err();
        (error, started.elapsed(), guest)
    });
    assert!(
        matches!(&error, Error::Timeout { function, deadline: given } if function == "spin" && *given == deadline),
        "{error}"
    );
    assert!(
        took >= deadline && took < 2 * deadline,
        "the loop ended after {took:?}"
    );
    assert_eq!(guest.recycle_cause(), Some(RecycleCause::Timeout));
    drop(guest);

    let mut guest = checkout(&pool);
    assert_eq!(count(&mut guest), 1);
    assert_eq!(
        count(&mut guest),
        2,
        "a call within its deadline is not interrupted"
    );
    drop(guest);
    let metrics = pool.metrics();
    assert_eq!((metrics.timeouts, metrics.recycles.timeout), (1, 1));
    assert_eq!(metrics.traps, 0);
    Ok(())
}

#[test]
fn a_call_is_cancelled_from_another_thread() -> TestResult {
    let engine = engine();
    let ticker = EpochTicker::new(&engine, Duration::from_millis(5))?;
    let pool = pool(&engine, |pool| {
        pool.max_instances(1)
            .deadline(Duration::from_secs(30), &ticker)
    });
    let mut guest = checkout(&pool);
    let cancel = guest.cancel_handle().ok_or("no cancel handle")?;
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        cancel.cancel();
    });
    let (error, mut guest) = within(Duration::from_secs(5), move || {
        let error = guest.call(|guest| guest.call_u32("spin", &[])).unwrap_err();
        (error, guest)
    });
    canceller.join().map_err(|_| "canceller panicked")?;
    assert!(
        matches!(
            &error,
            Error::Trap {
                trap: Trap::Interrupt,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(guest.recycle_cause(), Some(RecycleCause::Trap));
    assert_eq!(count(&mut guest), 1);
    Ok(())
}

#[test]
fn fuel_ends_a_loop_deterministically() {
    let mut config = recommended_config(2, 16 << 20);
    config.consume_fuel(true);
    let engine = Engine::new(&config).expect("engine");
    let pool = pool(&engine, |pool| pool.max_instances(1).fuel(100_000));
    let mut guest = checkout(&pool);
    let error = guest.call(|guest| guest.call_u32("spin", &[])).unwrap_err();
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
    // Each call gets the whole budget again, on a fresh instance.
    for expected in 1..=100 {
        assert_eq!(count(&mut guest), expected);
    }
}

#[test]
fn memory_above_the_high_water_mark_recycles() {
    let engine = engine();
    let pool = pool(&engine, |pool| pool.max_instances(1).recycle_above_pages(3));
    let mut guest = checkout(&pool);
    assert_eq!(count(&mut guest), 1);
    let mut grow = || {
        guest
            .call(|guest| guest.call_u32("grow", &[]))
            .expect("grow")
    };
    assert_eq!((grow(), grow()), (2, 3));
    assert_eq!(guest.recycle_cause(), None);
    assert_eq!(pool.metrics().instances[0].peak_memory_pages, 3);
    assert_eq!(
        guest
            .call(|guest| guest.call_u32("grow", &[]))
            .expect("grow"),
        4
    );
    assert_eq!(guest.recycle_cause(), Some(RecycleCause::Memory));
    assert_eq!(count(&mut guest), 1);
    assert_eq!(guest.memory_pages(), 1);
    drop(guest);
    assert_eq!(pool.metrics().recycles.memory, 1);
}

#[test]
fn an_instance_is_recycled_after_its_call_quota() {
    let engine = engine();
    let pool = pool(&engine, |pool| pool.max_instances(1).recycle_after_calls(3));
    let mut guest = checkout(&pool);
    assert_eq!((count(&mut guest), count(&mut guest)), (1, 2));
    assert_eq!(guest.recycle_cause(), None);
    assert_eq!(count(&mut guest), 3);
    assert_eq!(guest.recycle_cause(), Some(RecycleCause::Calls));
    drop(guest);
    let mut guest = checkout(&pool);
    assert_eq!(count(&mut guest), 1);
    assert_eq!(guest.calls(), 1);
    drop(guest);
    assert_eq!(pool.metrics().recycles.calls, 1);
}

#[test]
fn an_instance_is_recycled_on_demand() {
    let engine = engine();
    let pool = pool(&engine, |pool| pool.max_instances(1));
    let mut guest = checkout(&pool);
    assert_eq!(count(&mut guest), 1);
    drop(guest);
    let mut guest = checkout(&pool);
    assert_eq!(
        count(&mut guest),
        2,
        "a healthy instance goes back to the pool"
    );
    guest.recycle();
    let mut guest = checkout(&pool);
    assert_eq!(count(&mut guest), 1);
    drop(guest);
    assert_eq!(pool.metrics().recycles.demand, 1);
}

#[test]
fn a_checkout_waits_for_a_busy_pool_then_gives_up() -> TestResult {
    let engine = engine();
    let pool = pool(&engine, |pool| pool.max_instances(1));
    let held = checkout(&pool);
    let timeout = Duration::from_millis(100);
    let started = Instant::now();
    let Err(PoolError::Busy { waited }) = pool.checkout(timeout) else {
        return Err("a checkout of a busy pool did not fail".into());
    };
    assert!(
        waited >= timeout && started.elapsed() >= timeout,
        "{waited:?}"
    );

    // Returned within the timeout: the waiting checkout gets it.
    let returner = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        drop(held);
    });
    let started = Instant::now();
    let mut guest = pool.checkout(Duration::from_secs(10))?;
    let waited = started.elapsed();
    returner.join().map_err(|_| "returner panicked")?;
    // Woken by the return, not by its own timeout.
    assert!(
        waited >= Duration::from_millis(50) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert_eq!(count(&mut guest), 1);
    drop(guest);
    let metrics = pool.metrics();
    assert_eq!((metrics.checkouts, metrics.waits, metrics.busy), (2, 2, 1));
    assert!(metrics.wait_time >= timeout + Duration::from_millis(50));
    Ok(())
}

#[test]
fn the_metrics_count_what_happened() {
    let engine = engine();
    let pool = pool(&engine, |pool| pool.max_instances(2).prewarm(1));
    let metrics = pool.metrics();
    assert_eq!((metrics.live, metrics.idle, metrics.created), (1, 1, 1));

    let mut first = checkout(&pool);
    let mut second = checkout(&pool);
    assert_eq!((count(&mut first), count(&mut first)), (1, 2));
    assert_eq!(
        second
            .call(|guest| guest.call_bytes("echo", &[b"hi"]))
            .expect("echo"),
        b"hi"
    );
    let metrics = pool.metrics();
    assert_eq!((metrics.live, metrics.idle, metrics.checkouts), (2, 0, 2));
    let mut instances = metrics.instances.clone();
    instances.sort_by_key(|instance| instance.id);
    let calls: Vec<_> = instances.iter().map(|instance| instance.calls).collect();
    assert_eq!(calls, [2, 1]);
    assert!(instances.iter().all(|instance| instance.checked_out));
    assert!(instances.iter().all(|instance| instance.memory_pages == 1));

    second
        .call(|guest| guest.call_u32("boom", &[]))
        .unwrap_err();
    drop(second);
    first.recycle();
    let metrics = pool.metrics();
    assert_eq!((metrics.live, metrics.idle, metrics.created), (0, 0, 2));
    assert_eq!((metrics.calls, metrics.traps, metrics.timeouts), (4, 1, 0));
    assert_eq!((metrics.waits, metrics.busy), (0, 0));
    let recycles = metrics.recycles;
    assert_eq!(
        (recycles.trap, recycles.demand, recycles.total()),
        (1, 1, 2)
    );
    assert!(metrics.instances.is_empty());
}

#[test]
fn many_threads_share_one_pool() {
    const THREADS: usize = 4;
    const CALLS: usize = 100;
    let engine = engine();
    let pool = pool(&engine, |pool| {
        pool.max_instances(2).recycle_after_calls(37)
    });
    let served = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (pool, served) = (pool.clone(), Arc::clone(&served));
            std::thread::spawn(move || {
                for call in 0..CALLS {
                    let input = format!("thread {thread} call {call}");
                    let mut guest = checkout(&pool);
                    let output = guest
                        .call(|guest| guest.call_bytes("echo", &[input.as_bytes()]))
                        .expect("echo");
                    assert_eq!(output, input.as_bytes());
                    served.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a thread panicked");
    }
    let metrics = pool.metrics();
    let total = u64::try_from(THREADS * CALLS).expect("fits");
    assert_eq!(served.load(Ordering::Relaxed), total);
    assert_eq!((metrics.calls, metrics.checkouts), (total, total));
    assert!(
        metrics.live <= 2 && metrics.idle == metrics.live,
        "{metrics:?}"
    );
    // 400 calls at 37 per instance: 10 instances recycled, 2 alive at most.
    assert_eq!(metrics.recycles.calls, 10);
    assert!(metrics.created <= 12, "{metrics:?}");
}

#[test]
fn a_store_data_closure_that_panics_does_not_cost_the_pool_an_instance() {
    let engine = engine();
    let panicked = Arc::new(AtomicU64::new(0));
    let first = Arc::clone(&panicked);
    let pool = Pool::builder(&plugin(&engine), move || {
        assert_ne!(
            first.fetch_add(1, Ordering::Relaxed),
            0,
            "the first store's data"
        );
    })
    .max_instances(1)
    .build(&Linker::new(&engine))
    .expect("pool");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.checkout(Duration::from_secs(1)).map(drop)
    }));
    assert!(outcome.is_err());
    let mut guest = pool
        .checkout(Duration::from_millis(100))
        .expect("the place of the instance that was not made");
    assert_eq!(count(&mut guest), 1);
}

#[test]
fn settings_that_do_not_fit_the_engine_are_refused() -> TestResult {
    let plain = Engine::default();
    let other = engine();
    let ticker = EpochTicker::new(&other, Duration::from_millis(5))?;
    let refused = |builder: PoolBuilder<()>, engine: &Engine| {
        builder.build(&Linker::new(engine)).map(drop).unwrap_err()
    };
    let error = refused(
        Pool::builder(&plugin(&plain), || ()).deadline(Duration::from_secs(1), &ticker),
        &plain,
    );
    assert!(error.to_string().contains("epoch_interruption"), "{error}");
    let error = refused(
        Pool::builder(&plugin(&engine()), || ()).deadline(Duration::from_secs(1), &ticker),
        &other,
    );
    assert!(error.to_string().contains("another engine"), "{error}");
    let error = refused(Pool::builder(&plugin(&plain), || ()).fuel(10), &plain);
    assert!(error.to_string().contains("consume_fuel"), "{error}");
    let error = refused(
        Pool::builder(&plugin(&other), || ()).max_instances(9),
        &other,
    );
    assert!(error.to_string().contains("8 instance slots"), "{error}");
    Ok(())
}

/// A directory of its own under the system's temporary directory, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("guestmem-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_module_cache_misses_hits_and_replaces_a_corrupted_file() -> TestResult {
    let engine = engine();
    let wasm = wat::parse_str(GUEST)?;
    let dir = TempDir::new("module-cache");
    let cache = ModuleCache::new(&dir.0);
    let path = cache.path(&engine, &wasm);
    let checksum = format!("{}.sha256", path.display());

    let (_, outcome) = cache.load(&engine, &wasm)?;
    assert_eq!(outcome, CacheOutcome::Miss);
    let written = std::fs::read(&path)?;
    assert!(std::fs::metadata(&checksum)?.len() == 64);
    let (module, outcome) = cache.load(&engine, &wasm)?;
    assert_eq!(outcome, CacheOutcome::Hit);
    let pool = Pool::builder(&Plugin::from_module(module, &wasm)?, || ())
        .max_instances(1)
        .build(&Linker::new(&engine))?;
    assert_eq!(count(&mut checkout(&pool)), 1);

    // One flipped byte in the middle: the checksum no longer matches.
    let mut corrupted = written.clone();
    let middle = corrupted.len() / 2;
    corrupted[middle] ^= 0x55;
    std::fs::write(&path, &corrupted)?;
    assert_eq!(cache.load(&engine, &wasm)?.1, CacheOutcome::Replaced);
    assert_eq!(
        std::fs::read(&path)?,
        written,
        "the entry was not rewritten"
    );
    assert_eq!(cache.load(&engine, &wasm)?.1, CacheOutcome::Hit);

    // A matching checksum over bytes wasmtime refuses (another version's output, say).
    std::fs::write(&path, b"not a compiled module")?;
    let forged = format!("{:x}", Sha256::digest(b"not a compiled module"));
    std::fs::write(&checksum, forged)?;
    assert_eq!(cache.load(&engine, &wasm)?.1, CacheOutcome::Replaced);
    assert_eq!(cache.load(&engine, &wasm)?.1, CacheOutcome::Hit);

    // Another engine configuration is another entry.
    let plain = Engine::default();
    assert_ne!(cache.path(&plain, &wasm), path);
    assert_eq!(cache.load(&plain, &wasm)?.1, CacheOutcome::Miss);
    Ok(())
}
