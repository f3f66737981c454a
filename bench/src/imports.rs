//! A guest that calls a host function returning 16 B and 64 KiB, against the Component
//! Model's import of the same shape. Contenders, run interleaved in one process and one engine,
//! each making one call into the guest that makes one call to the host:
//!
//! - guestmem: `bench/guests/pull` (`guestmem::import!`), hosted through `guestmem-host`'s
//!   public API as users host it: a [`HostFunctions`] closure `|n: u32| -> Vec<u8>` on the
//!   linker, the export looked up once and called with [`GuestFunc::call_u32`] (the length as 4
//!   bytes, since export arguments are bytes). Its `pull` takes the answer as a `ResultBlock`
//!   (the block the host filled, read in place), its `pull_vec` as a `Vec<u8>` (a copy);
//! - guestmem with an async host function (`guestmem-host`'s feature `async`): the same `pull`,
//!   its `payload` registered with [`HostFunctions::func_async`] on
//!   [`HostFunctions::new_async`], the guest instantiated with `Guest::instantiate_async` and
//!   called with [`GuestFunc::call_u32_async`], each call driven to its end on tokio's
//!   current-thread runtime ([`Executor`]): held to the blocking `pull`'s time;
//! - the Component Model: `bench/guests/pull_component`, a wit-bindgen guest importing
//!   `payload: func(n: u32) -> list<u8>` and exporting `pull: func(n: u32) -> u32`, hosted
//!   through `wasmtime::component` with `func_wrap` returning `(Vec<u8>,)`.
//!
//! Both hosts answer with `payload[..n].to_vec()` of the same prebuilt payload, so the host
//! function's own work is the same; both guests return the answer's length plus its first and
//! last bytes, which the benchmark checks.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use guestmem_host::{GuestFunc, HostFunctions};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker, TypedFunc as ComponentFunc};

use crate::BenchError;
use crate::build::{Build, PULL_COMPONENT_FILE, PULL_FILE};
use crate::executor::{self, AsyncGuest, Executor};
use crate::measure::{self, Operation, Plan};
use crate::roundtrip::{PayloadResult, print_code_map};
use harness::guest::{GuestModule, GuestOptions};

/// The lengths of the host's answers: a small one, where the cost of the call itself shows,
/// and one where copying the answer into the guest does.
pub const PAYLOADS: [usize; 2] = [16, 64 << 10];

/// The contenders, in report order.
pub const CONTENDERS: [&str; 4] = [
    "guestmem, ResultBlock",
    "guestmem, Vec<u8>",
    "Component Model",
    "guestmem, ResultBlock, async host function",
];

/// Index of guestmem's `pull` (the answer as a `ResultBlock`) in [`CONTENDERS`].
pub const BLOCK: usize = 0;
/// Index of guestmem's `pull_vec` (the answer copied into a `Vec<u8>`).
pub const VEC: usize = 1;
/// Index of the Component Model.
pub const COMPONENT: usize = 2;
/// Index of guestmem's `pull` with `payload` as an async host function, called with
/// `call_u32_async` on tokio.
pub const ASYNC: usize = 3;

/// Every payload length, for one build of the guests.
#[derive(Debug, Clone)]
pub struct HostCalls {
    /// Per answer length, in [`PAYLOADS`] order; each [`PayloadResult::len`] is the length of
    /// the host's answer.
    pub payloads: Vec<PayloadResult>,
    /// How the guests were built.
    pub build: Build,
}

/// The host's answers: `payload(n)` is its first `n` bytes.
fn payload() -> Arc<[u8]> {
    let len = PAYLOADS.into_iter().max().unwrap_or(0);
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// What both guests return for the host's `bytes` (see `bench/guests/pull`).
fn digest(bytes: &[u8]) -> u32 {
    [bytes.first(), bytes.last()]
        .into_iter()
        .flatten()
        .fold(bytes.len() as u32, |sum, &byte| {
            sum.wrapping_add(u32::from(byte))
        })
}

/// A guestmem guest with `env.payload` registered through [`HostFunctions`], and one of its
/// exports looked up once.
struct GuestmemPull {
    guest: harness::Guest,
    pull: GuestFunc,
}

impl GuestmemPull {
    fn new(module: &GuestModule, export: &str, payload: Arc<[u8]>) -> Result<Self, BenchError> {
        let mut guest = module.instantiate_linked(&GuestOptions::default(), move |linker| {
            HostFunctions::new(linker)?.func("env", "payload", move |n: u32| {
                payload[..n as usize].to_vec()
            })?;
            Ok(())
        })?;
        let pull = guest.func(export)?;
        Ok(Self { guest, pull })
    }

    fn pull(&mut self, n: u32) -> Result<u32, BenchError> {
        Ok(self.pull.call_u32(&mut self.guest, &[n.to_le_bytes()])?)
    }
}

/// [`GuestmemPull`]'s async twin: `pull` with `env.payload` registered with
/// [`HostFunctions::func_async`], called with [`GuestFunc::call_u32_async`] on `executor`.
struct AsyncPull {
    guest: AsyncGuest,
    pull: GuestFunc,
    executor: Executor,
}

impl AsyncPull {
    fn new(
        module: &GuestModule,
        payload: Arc<[u8]>,
        executor: Executor,
    ) -> Result<Self, BenchError> {
        let mut guest = executor::instantiate(&executor, module.module(), move |linker| {
            // The answer is copied before the future, as the blocking closure copies it, so that
            // the two differ only in how they are called; a future that waits would take what it
            // needs (an `Arc` of the payload) and copy inside.
            HostFunctions::new_async(linker)?.func_async("env", "payload", move |n: u32| {
                let answer = payload[..n as usize].to_vec();
                async move { answer }
            })?;
            Ok(())
        })?;
        let pull = guest.func("pull")?;
        Ok(Self {
            guest,
            pull,
            executor,
        })
    }

    fn pull(&mut self, n: u32) -> Result<u32, BenchError> {
        let inputs = [n.to_le_bytes()];
        let call = self.pull.call_u32_async(&mut self.guest, &inputs);
        Ok(self.executor.block_on(call)?)
    }
}

/// The Component Model guest with `payload` defined on its linker, and `pull` looked up once.
struct ComponentPull {
    store: wasmtime::Store<()>,
    pull: ComponentFunc<(u32,), (u32,)>,
}

impl ComponentPull {
    fn new(engine: &Engine, path: &Path, payload: Arc<[u8]>) -> Result<Self, BenchError> {
        let component = Component::from_file(engine, path)?;
        let mut linker = Linker::<()>::new(engine);
        linker.root().func_wrap("payload", move |_, (n,): (u32,)| {
            Ok((payload[..n as usize].to_vec(),))
        })?;
        let mut store = wasmtime::Store::new(engine, ());
        let instance = linker.instantiate(&mut store, &component)?;
        let pull = instance.get_typed_func(&mut store, "pull")?;
        Ok(Self { store, pull })
    }

    fn pull(&mut self, n: u32) -> Result<u32, BenchError> {
        let (digest,) = self.pull.call(&mut self.store, (n,))?;
        Ok(digest)
    }
}

/// Runs every contender on every answer length, with the guests of `build`.
///
/// # Errors
///
/// A guest that fails to load or to instantiate, a call that traps or fails, or a guest whose
/// answer is not the digest of the host's bytes.
pub fn measure(
    engine: &Engine,
    guests: &Path,
    plan: &Plan,
    build: Build,
) -> Result<HostCalls, BenchError> {
    let payloads =
        crate::roundtrip::in_passes(plan, |plan| measure_pass(engine, guests, plan, build))?;
    Ok(HostCalls { payloads, build })
}

/// One pass: every contender compiled and instantiated anew, every answer length measured.
fn measure_pass(
    engine: &Engine,
    guests: &Path,
    plan: &Plan,
    build: Build,
) -> Result<Vec<PayloadResult>, BenchError> {
    let payload = payload();
    let module = GuestModule::from_file(engine, &guests.join(build.file(PULL_FILE)))?;
    let mut block = GuestmemPull::new(&module, "pull", Arc::clone(&payload))?;
    let mut vec = GuestmemPull::new(&module, "pull_vec", Arc::clone(&payload))?;
    let mut component = ComponentPull::new(
        engine,
        &guests.join(build.file(PULL_COMPONENT_FILE)),
        Arc::clone(&payload),
    )?;
    let mut asynchronous = AsyncPull::new(&module, Arc::clone(&payload), Executor::tokio()?)?;
    let mut results = Vec::new();
    for len in PAYLOADS {
        let n = u32::try_from(len).map_err(|_| BenchError::Wrong("payload too long".to_owned()))?;
        let expected = digest(&payload[..len]);
        check(expected, "guestmem, ResultBlock", block.pull(n)?)?;
        check(expected, "guestmem, Vec<u8>", vec.pull(n)?)?;
        check(expected, "Component Model", component.pull(n)?)?;
        check(expected, "guestmem, async", asynchronous.pull(n)?)?;
        let mut operations: Vec<Operation<'_, BenchError>> = vec![
            Box::new(|| block.pull(black_box(n)).map(drop)),
            Box::new(|| vec.pull(black_box(n)).map(drop)),
            Box::new(|| component.pull(black_box(n)).map(drop)),
            Box::new(|| asynchronous.pull(black_box(n)).map(drop)),
        ];
        eprintln!(
            "guestmem-bench: host functions answering {len} bytes, {}",
            build.label()
        );
        let samples = measure::interleaved(plan, &mut operations)?;
        results.push(PayloadResult { len, samples });
    }
    Ok(results)
}

fn check(expected: u32, who: &str, digest: u32) -> Result<(), BenchError> {
    if digest == expected {
        Ok(())
    } else {
        Err(BenchError::Wrong(format!(
            "{who}: the digest of the host's answer is {digest}, not {expected}"
        )))
    }
}

/// Runs `calls` calls of `pull` with answers of `len` bytes through one contender (`pull`,
/// `pull-vec`, `pull-component` or `pull-async`), untimed: the workload for
/// `valgrind --tool=callgrind target/release/guestmem-bench profile CONTENDER LEN CALLS`.
///
/// # Errors
///
/// An unknown contender, an answer longer than the benchmark's payload, or whatever the calls
/// meet.
pub fn profile(
    engine: &Engine,
    guests: &Path,
    contender: &str,
    len: usize,
    calls: u64,
) -> Result<(), BenchError> {
    let payload = payload();
    let n = u32::try_from(len)
        .ok()
        .filter(|_| len <= payload.len())
        .ok_or_else(|| {
            BenchError::Wrong(format!(
                "the host's answers are at most {} bytes",
                payload.len()
            ))
        })?;
    let expected = digest(&payload[..len]);
    let mut pull: Box<dyn FnMut() -> Result<u32, BenchError>> = match contender {
        "pull" | "pull-vec" => {
            let module = GuestModule::from_file(engine, &guests.join(PULL_FILE))?;
            print_code_map(module.module());
            let export = if contender == "pull" {
                "pull"
            } else {
                "pull_vec"
            };
            let mut guest = GuestmemPull::new(&module, export, payload)?;
            Box::new(move || guest.pull(n))
        }
        "pull-async" => {
            let module = GuestModule::from_file(engine, &guests.join(PULL_FILE))?;
            print_code_map(module.module());
            let mut guest = AsyncPull::new(&module, payload, Executor::tokio()?)?;
            Box::new(move || guest.pull(n))
        }
        "pull-component" => {
            let mut component =
                ComponentPull::new(engine, &guests.join(PULL_COMPONENT_FILE), payload)?;
            Box::new(move || component.pull(n))
        }
        other => {
            return Err(BenchError::Wrong(format!(
                "unknown contender `{other}` (pull, pull-vec, pull-component, pull-async)"
            )));
        }
    };
    check(expected, contender, pull()?)?;
    for _ in 0..calls {
        black_box(pull()?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_the_length_plus_the_first_and_last_bytes() {
        assert_eq!(digest(&[]), 0);
        assert_eq!(digest(&[7]), 1 + 7 + 7);
        assert_eq!(digest(&[1, 200, 3]), 3 + 1 + 3);
        let payload = payload();
        assert_eq!(payload.len(), 64 << 10);
        // Bytes 0 and 15 of the payload: 7 and (15 × 31 + 7) mod 256.
        assert_eq!(digest(&payload[..16]), 16 + 7 + 216);
    }
}
