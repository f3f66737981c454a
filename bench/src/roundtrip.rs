//! The round trip from the host under wasmtime, for `echo` with payloads from
//! 16 B to 16 MiB. Contenders, run interleaved in one process and one engine:
//!
//! - guestmem: the `echo` example (talc) called through `guestmem-host`'s public API, as users
//!   call it: a [`GuestFunc`] looked up once, `call_bytes` with the payload; and the by-name
//!   convenience [`guestmem_host::Guest::call_bytes`] (looked up at every call), for reference.
//! - the articles' convention (`manual`, std and its default allocator): `alloc` through
//!   `Vec::with_capacity` and `mem::forget`, `echo`, the host reads as many bytes as it sent (no
//!   header), `dealloc` both.
//! - the Component Model: a wit-bindgen guest exporting `echo: func(data: list<u8>) -> list<u8>`,
//!   called through `wasmtime::component` with `&[u8]` in and `Vec<u8>` out.
//! - owned arguments (docs/ABI.md, "Owned arguments"): the `in_place` example's
//!   `echo_owned(bytes: Owned) -> ResultBlock` through `guestmem-host` with the module's interface
//!   set, so the host gives its input block up and gets it back as the result (the guest copies
//!   nothing, as a Component Model callee), read in place with `GuestFunc::call_view`; and, read
//!   the same way, the borrowed `echo`, its counterpart;
//! - async calls (`guestmem-host`'s feature `async`): the same `echo` called with
//!   [`GuestFunc::call_bytes_async`], each call driven to its end on tokio's current-thread
//!   runtime and on a bare poll loop ([`Executor`]), its guest instantiated with
//!   `Guest::instantiate_async`: the async twin of the first contender, whose time it is held to;
//! - baselines: the host copying the same bytes three times (`copy_from_slice`, a memcpy), the
//!   copies a round trip cannot avoid: in, across, out; and once, the copy in alone.
//!
//! Every contender reads its answer the same way ([`digest`]: the length and the first and last
//! bytes), so that none is optimised away and none reads more than another.

use std::hint::black_box;
use std::path::Path;

use guestmem_host::{GuestFunc, Interface};
use wasmtime::component::{Component, Linker, TypedFunc as ComponentFunc};
use wasmtime::{Engine, Instance, Memory, Module, Store, TypedFunc};

use crate::BenchError;
use crate::build::{Build, COMPONENT_FILE, IN_PLACE_FILE, example_file, manual_file};
use crate::executor::{self, AsyncGuest, Executor};
use crate::measure::{self, Operation, Plan, Samples};
use harness::guest::GuestModule;

/// A guest called through `guestmem-host`, and its echo looked up once.
struct HostEcho {
    guest: harness::Guest,
    echo: GuestFunc,
}

impl HostEcho {
    fn new(engine: &Engine, path: &Path) -> Result<Self, BenchError> {
        Self::of(&GuestModule::from_file(engine, path)?)
    }

    fn of(module: &GuestModule) -> Result<Self, BenchError> {
        let mut guest = module.instantiate()?;
        let echo = guest.func("echo")?;
        Ok(Self { guest, echo })
    }

    /// The `in_place` example's `echo_owned`, with the module's interface set, so that the host
    /// passes its argument owned, as users do.
    fn owned(engine: &Engine, path: &Path) -> Result<Self, BenchError> {
        let wasm = std::fs::read(path).map_err(|source| BenchError::Io {
            path: path.to_owned(),
            source,
        })?;
        let interface = Interface::read(&wasm)
            .map_err(guestmem_host::Error::from)?
            .ok_or_else(|| {
                BenchError::Wrong(format!("{}: no interface section", path.display()))
            })?;
        let mut guest = GuestModule::from_file(engine, path)?.instantiate()?;
        guest.set_interface(interface)?;
        let echo = guest.func("echo_owned")?;
        Ok(Self { guest, echo })
    }

    fn echo(&mut self, payload: &[u8]) -> Result<Vec<u8>, BenchError> {
        Ok(self.echo.call_bytes(&mut self.guest, &[payload])?)
    }

    /// The echo read in place ([`GuestFunc::call_view`]), no copy out: its [`digest`].
    fn read(&mut self, payload: &[u8]) -> Result<usize, BenchError> {
        Ok(self.echo.call_view(&mut self.guest, &[payload], digest)?)
    }
}

/// The `echo` example called with [`GuestFunc::call_bytes_async`] on `executor`: [`HostEcho`]'s
/// async twin, in a store of its own (async guests are instantiated with
/// `Guest::instantiate_async`).
struct AsyncEcho {
    guest: AsyncGuest,
    echo: GuestFunc,
    executor: Executor,
}

impl AsyncEcho {
    fn new(module: &GuestModule, executor: Executor) -> Result<Self, BenchError> {
        let mut guest = executor::instantiate(&executor, module.module(), |_| Ok(()))?;
        let echo = guest.func("echo")?;
        Ok(Self {
            guest,
            echo,
            executor,
        })
    }

    fn echo(&mut self, payload: &[u8]) -> Result<Vec<u8>, BenchError> {
        let inputs = [payload];
        let call = self.echo.call_bytes_async(&mut self.guest, &inputs);
        Ok(self.executor.block_on(call)?)
    }
}

/// How every contender reads its answer: the length and the first and last bytes, enough that the
/// answer cannot be optimised away, the same for every contender.
fn digest(bytes: &[u8]) -> usize {
    bytes.len()
        + usize::from(bytes.first().copied().unwrap_or(0))
        + usize::from(bytes.last().copied().unwrap_or(0))
}

/// The payload sizes: from 16 B, where the cost of the call itself shows, to 16 MiB, where the
/// copies do.
pub const PAYLOADS: [usize; 5] = [16, 1 << 10, 64 << 10, 1 << 20, 16 << 20];

/// The contenders, in report order; a candidate build of guestmem's `echo` (`--candidate`) comes
/// last when there is one.
pub const CONTENDERS: [&str; 11] = [
    "guestmem-host",
    "guestmem-host, by name",
    "articles' convention",
    "Component Model",
    "Component Model, echo-copy",
    "3 × memcpy",
    "guestmem-host, owned (call_view)",
    "guestmem-host, borrowed (call_view)",
    "1 × memcpy",
    "guestmem-host, async (tokio)",
    "guestmem-host, async (poll loop)",
];

/// Index of guestmem through `guestmem-host`'s `GuestFunc::call_bytes` in [`CONTENDERS`].
pub const GUESTMEM: usize = 0;
/// Index of guestmem through `guestmem-host`'s by-name `Guest::call_bytes`.
pub const GENERIC: usize = 1;
/// Index of the articles' convention.
pub const MANUAL: usize = 2;
/// Index of the Component Model.
pub const COMPONENT: usize = 3;
/// Index of the Component Model's `echo-copy`, which copies like guestmem's `echo`.
pub const COMPONENT_COPY: usize = 4;
/// Index of the three-memcpy baseline.
pub const MEMCPY: usize = 5;
/// Index of the `in_place` example's `echo_owned`, its argument passed owned.
pub const OWNED: usize = 6;
/// Index of guestmem's borrowed `echo` read as [`OWNED`] is, with `call_view`.
pub const BORROWED: usize = 7;
/// Index of the one-memcpy baseline.
pub const MEMCPY_ONCE: usize = 8;
/// Index of guestmem's `echo` through `GuestFunc::call_bytes_async` on tokio's current-thread
/// runtime.
pub const ASYNC_TOKIO: usize = 9;
/// Index of the same async call on a bare poll loop.
pub const ASYNC_POLL: usize = 10;
/// Index of the candidate build, when there is one.
pub const CANDIDATE: usize = CONTENDERS.len();

/// The results for one payload size (here and in the host-function benchmark, `imports`).
#[derive(Debug, Clone)]
pub struct PayloadResult {
    /// Bytes sent (and received).
    pub len: usize,
    /// Nanoseconds per call, per round, one entry per contender: [`CONTENDERS`] (and the
    /// candidate) here.
    pub samples: Vec<Samples>,
}

/// All payload sizes.
#[derive(Debug, Clone)]
pub struct RoundTrips {
    /// Per payload size, in [`PAYLOADS`] order.
    pub payloads: Vec<PayloadResult>,
    /// The candidate build's module, when one ran.
    pub candidate: Option<std::path::PathBuf>,
    /// How the guests were built.
    pub build: Build,
}

/// Runs every contender on every payload size, with the guests of `build`; `candidate`, if
/// given, is another build of guestmem's `echo` run as one more contender (to measure a fix
/// side by side).
///
/// # Errors
///
/// A guest that fails to load or to instantiate, a call that traps or fails, or an echo that
/// does not give back the bytes it was sent.
pub fn measure(
    engine: &Engine,
    guests: &Path,
    plan: &Plan,
    build: Build,
    candidate: Option<&Path>,
) -> Result<RoundTrips, BenchError> {
    let payloads = in_passes(plan, |pass| {
        measure_pass(engine, guests, pass, build, candidate)
    })?;
    Ok(RoundTrips {
        payloads,
        candidate: candidate.map(Path::to_owned),
        build,
    })
}

/// Runs `pass` in the [`Plan::passes`] passes of `plan`, each with the plan of one pass, and
/// merges their rounds: each contender's samples, per payload, in pass order.
///
/// # Errors
///
/// The first error a pass returns.
pub fn in_passes<E>(
    plan: &Plan,
    mut pass: impl FnMut(&Plan) -> Result<Vec<PayloadResult>, E>,
) -> Result<Vec<PayloadResult>, E> {
    let mut payloads: Vec<PayloadResult> = Vec::new();
    for index in 0..plan.passes.max(1) {
        let results = pass(&plan.pass())?;
        if index == 0 {
            payloads = results;
            continue;
        }
        for (merged, result) in payloads.iter_mut().zip(results) {
            for (samples, more) in merged.samples.iter_mut().zip(result.samples) {
                samples.per_round.extend(more.per_round);
            }
        }
    }
    Ok(payloads)
}

/// One pass: every contender compiled and instantiated anew, every payload size measured.
fn measure_pass(
    engine: &Engine,
    guests: &Path,
    plan: &Plan,
    build: Build,
    candidate: Option<&Path>,
) -> Result<Vec<PayloadResult>, BenchError> {
    let echo = guests.join(build.file(&example_file("echo", "talc")));
    let component_file = guests.join(build.file(COMPONENT_FILE));
    let mut guestmem = HostEcho::new(engine, &echo)?;
    let mut owned = HostEcho::owned(engine, &guests.join(build.file(IN_PLACE_FILE)))?;
    let mut borrowed = HostEcho::new(engine, &echo)?;
    let mut generic = GuestModule::from_file(engine, &echo)?.instantiate()?;
    let mut manual = HandWrittenHost::new(
        engine,
        &guests.join(build.file(&manual_file("echo"))),
        "echo",
    )?;
    let mut component = ComponentEcho::new(engine, &component_file)?;
    let mut component_copy = ComponentEcho::new(engine, &component_file)?;
    let echo_module = GuestModule::from_file(engine, &echo)?;
    let mut async_tokio = AsyncEcho::new(&echo_module, Executor::tokio()?)?;
    let mut async_poll = AsyncEcho::new(&echo_module, Executor::poll_loop())?;
    let mut candidate_echo = candidate
        .map(|path| HostEcho::new(engine, path))
        .transpose()?;
    let mut payloads = Vec::new();
    for len in PAYLOADS {
        let payload: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let mut copies = [vec![0u8; len], vec![0u8; len], vec![0u8; len]];
        let mut copy = vec![0u8; len];
        let payload = &payload;
        let echo = component.func("echo")?;
        let echo_copy = component_copy.func("echo-copy")?;
        check(payload, "guestmem-host", &guestmem.echo(payload)?)?;
        check(
            payload,
            "guestmem-host, by name",
            &generic.call_bytes("echo", &[payload])?,
        )?;
        check(payload, "manual", &manual.manual(payload)?)?;
        check(payload, "owned", &owned.echo(payload)?)?;
        check_digest(payload, "owned", owned.read(payload)?)?;
        check_digest(payload, "borrowed", borrowed.read(payload)?)?;
        check(payload, "component", &component.echo(&echo, payload)?)?;
        check(
            payload,
            "component",
            &component_copy.echo(&echo_copy, payload)?,
        )?;
        check(payload, "async (tokio)", &async_tokio.echo(payload)?)?;
        check(payload, "async (poll loop)", &async_poll.echo(payload)?)?;
        let mut operations: Vec<Operation<'_, BenchError>> = vec![
            Box::new(|| guestmem.echo(payload).map(|bytes| keep(&bytes))),
            Box::new(|| {
                generic
                    .call_bytes("echo", &[payload])
                    .map(|bytes| keep(&bytes))
                    .map_err(BenchError::from)
            }),
            Box::new(|| manual.manual(payload).map(|bytes| keep(&bytes))),
            Box::new(|| component.echo(&echo, payload).map(|bytes| keep(&bytes))),
            Box::new(|| {
                component_copy
                    .echo(&echo_copy, payload)
                    .map(|bytes| keep(&bytes))
            }),
            Box::new(|| {
                let [first, second, third] = &mut copies;
                first.copy_from_slice(black_box(payload));
                second.copy_from_slice(black_box(first));
                third.copy_from_slice(black_box(second));
                keep(third);
                Ok(())
            }),
            Box::new(|| owned.read(payload).map(drop_digest)),
            Box::new(|| borrowed.read(payload).map(drop_digest)),
            Box::new(|| {
                copy.copy_from_slice(black_box(payload));
                keep(&copy);
                Ok(())
            }),
            Box::new(|| async_tokio.echo(payload).map(|bytes| keep(&bytes))),
            Box::new(|| async_poll.echo(payload).map(|bytes| keep(&bytes))),
        ];
        if let Some(host) = candidate_echo.as_mut() {
            check(payload, "candidate", &host.echo(payload)?)?;
            operations.push(Box::new(|| host.echo(payload).map(|bytes| keep(&bytes))));
        }
        eprintln!(
            "guestmem-bench: round trips of {len} bytes, {}",
            build.label()
        );
        let samples = measure::interleaved(plan, &mut operations)?;
        payloads.push(PayloadResult { len, samples });
    }
    Ok(payloads)
}

/// Reads `bytes` as every contender does ([`digest`]) and keeps the answer from the optimiser.
fn keep(bytes: &[u8]) {
    black_box(digest(bytes));
}

fn drop_digest(digest: usize) {
    black_box(digest);
}

fn check_digest(payload: &[u8], who: &str, read: usize) -> Result<(), BenchError> {
    if read == digest(payload) {
        Ok(())
    } else {
        Err(BenchError::Wrong(format!(
            "{who}: echo of {} bytes read as {read}, not {}",
            payload.len(),
            digest(payload)
        )))
    }
}

fn check(payload: &[u8], who: &str, echoed: &[u8]) -> Result<(), BenchError> {
    if echoed == payload {
        Ok(())
    } else {
        Err(BenchError::Wrong(format!(
            "{who}: echo of {} bytes came back as {} different bytes",
            payload.len(),
            echoed.len()
        )))
    }
}

/// A core module called through wasmtime's typed exports by hand, as the articles' hosts do:
/// `alloc`, an echo, and `dealloc`. For the articles' convention, which `guestmem-host` does
/// not speak.
struct HandWrittenHost {
    module: Module,
    store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    echo: TypedFunc<(u32, u32), u32>,
    dealloc: TypedFunc<(u32, u32), ()>,
}

impl HandWrittenHost {
    fn new(engine: &Engine, path: &Path, function: &str) -> Result<Self, BenchError> {
        let module = Module::from_file(engine, path)?;
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| BenchError::Wrong(format!("{}: no memory", path.display())))?;
        let alloc = instance.get_typed_func(&mut store, "alloc")?;
        let echo = instance.get_typed_func(&mut store, function)?;
        let dealloc = instance.get_typed_func(&mut store, "dealloc")?;
        Ok(Self {
            module,
            store,
            memory,
            alloc,
            echo,
            dealloc,
        })
    }

    fn print_code_map(&self) {
        print_code_map(&self.module);
    }
}

/// Prints where each compiled function of `module` lies in memory, so that a profile of JIT code
/// (callgrind names it by address) can be read function by function.
pub(super) fn print_code_map(module: &Module) {
    let text = module.text().as_ptr().addr();
    for function in module.functions() {
        eprintln!(
            "guestmem-bench: wasm function {} {}: {:#x}..{:#x}",
            function.index.as_u32(),
            function.name.as_deref().unwrap_or(""),
            text + function.offset,
            text + function.offset + function.len
        );
    }
}

impl HandWrittenHost {
    /// Copies `payload` into a new block; returns its pointer and length.
    fn put(&mut self, payload: &[u8]) -> Result<(u32, u32), BenchError> {
        let len = u32::try_from(payload.len())
            .map_err(|_| BenchError::Wrong("payload too long".to_owned()))?;
        let ptr = self.alloc.call(&mut self.store, len)?;
        if ptr == 0 {
            return Err(BenchError::Wrong(format!("alloc({len}) returned 0")));
        }
        let start = ptr as usize;
        self.memory
            .data_mut(&mut self.store)
            .get_mut(start..start + payload.len())
            .ok_or_else(|| BenchError::Wrong("alloc returned a block outside memory".to_owned()))?
            .copy_from_slice(payload);
        Ok((ptr, len))
    }

    /// The articles' round trip: the host reads back as many bytes as it sent, and frees both
    /// blocks with their lengths.
    fn manual(&mut self, payload: &[u8]) -> Result<Vec<u8>, BenchError> {
        let (input, len) = self.put(payload)?;
        let result = self.echo.call(&mut self.store, (input, len))?;
        let start = result as usize;
        let bytes = self
            .memory
            .data(&self.store)
            .get(start..start + payload.len())
            .ok_or_else(|| BenchError::Wrong("echo returned a block outside memory".to_owned()))?
            .to_vec();
        self.dealloc.call(&mut self.store, (result, len))?;
        self.dealloc.call(&mut self.store, (input, len))?;
        Ok(bytes)
    }
}

/// The Component Model echo, instantiated once per contender.
struct ComponentEcho {
    store: Store<()>,
    instance: wasmtime::component::Instance,
}

/// `echo` as a typed function taking a payload borrowed for `'a`.
type EchoFunc<'a> = ComponentFunc<(&'a [u8],), (Vec<u8>,)>;

impl ComponentEcho {
    fn new(engine: &Engine, path: &Path) -> Result<Self, BenchError> {
        let component = Component::from_file(engine, path)?;
        let linker = Linker::<()>::new(engine);
        let mut store = Store::new(engine, ());
        let instance = linker.instantiate(&mut store, &component)?;
        Ok(Self { store, instance })
    }

    /// Looks `echo` up, typed for payloads borrowed for `'a` (a `TypedFunc` over `&[u8]` is a
    /// type per lifetime, so it is looked up once per payload, outside the timed loop).
    fn func<'a>(&mut self, name: &str) -> Result<EchoFunc<'a>, BenchError> {
        Ok(self.instance.get_typed_func(&mut self.store, name)?)
    }

    fn echo<'a>(&mut self, func: &EchoFunc<'a>, payload: &'a [u8]) -> Result<Vec<u8>, BenchError> {
        let (bytes,) = func.call(&mut self.store, (payload,))?;
        Ok(bytes)
    }
}

/// Runs `calls` round trips of `len` bytes through one contender (`guestmem`, `generic`,
/// `manual`, `owned` or `borrowed` (read with `call_view`), `component` or `component-copy`,
/// `async` or `async-poll` (`call_bytes_async` on tokio or on the poll loop); `guestmem-NAME`
/// runs `echo-NAME.wasm`, such as `echo-dlmalloc.wasm`, and `component-NAME` runs
/// `echo_component-NAME.wasm`), untimed: the workload for
/// `valgrind --tool=callgrind target/release/guestmem-bench profile CONTENDER LEN CALLS`.
/// The difference between two call counts gives the instructions of one round trip.
///
/// # Errors
///
/// An unknown contender, or whatever the round trip meets.
pub fn profile(
    engine: &Engine,
    guests: &Path,
    contender: &str,
    len: usize,
    calls: u64,
) -> Result<(), BenchError> {
    let payload: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
    let (contender, variant) = contender.split_once('-').unwrap_or((contender, ""));
    let echo = guests.join(example_file(
        "echo",
        if variant.is_empty() { "talc" } else { variant },
    ));
    match contender {
        "guestmem" => {
            let module = GuestModule::from_file(engine, &echo)?;
            print_code_map(module.module());
            let mut host = HostEcho::of(&module)?;
            for _ in 0..calls {
                black_box(host.echo(&payload)?);
            }
            eprintln!(
                "guestmem-bench: linear memory after {calls} calls: {} pages",
                host.guest.memory_pages()
            );
        }
        "owned" | "borrowed" => {
            let path = if contender == "owned" {
                guests.join(IN_PLACE_FILE)
            } else {
                echo
            };
            print_code_map(GuestModule::from_file(engine, &path)?.module());
            let mut host = if contender == "owned" {
                HostEcho::owned(engine, &path)?
            } else {
                HostEcho::new(engine, &path)?
            };
            for _ in 0..calls {
                black_box(host.read(&payload)?);
            }
        }
        "async" => {
            let module =
                GuestModule::from_file(engine, &guests.join(example_file("echo", "talc")))?;
            print_code_map(module.module());
            let executor = match variant {
                "" => Executor::tokio()?,
                "poll" => Executor::poll_loop(),
                other => {
                    return Err(BenchError::Wrong(format!(
                        "unknown executor `{other}` (async, async-poll)"
                    )));
                }
            };
            let mut host = AsyncEcho::new(&module, executor)?;
            for _ in 0..calls {
                black_box(host.echo(&payload)?);
            }
        }
        "generic" => {
            let mut guest = GuestModule::from_file(engine, &echo)?.instantiate()?;
            for _ in 0..calls {
                black_box(guest.call_bytes("echo", &[&payload])?);
            }
        }
        "manual" => {
            let mut lean = HandWrittenHost::new(engine, &guests.join(manual_file("echo")), "echo")?;
            lean.print_code_map();
            for _ in 0..calls {
                black_box(lean.manual(&payload)?);
            }
            eprintln!(
                "guestmem-bench: linear memory after {calls} calls: {} pages",
                lean.memory.size(&lean.store)
            );
        }
        "component" => {
            let file = match variant {
                "" | "copy" => COMPONENT_FILE.to_owned(),
                build => format!("echo_component-{build}.wasm"),
            };
            let mut component = ComponentEcho::new(engine, &guests.join(file))?;
            let func = component.func(if variant == "copy" {
                "echo-copy"
            } else {
                "echo"
            })?;
            for _ in 0..calls {
                black_box(component.echo(&func, &payload)?);
            }
        }
        other => {
            return Err(BenchError::Wrong(format!(
                "unknown contender `{other}` (guestmem, generic, manual, owned, borrowed, component, async, async-poll)"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_are_merged_round_by_round_in_pass_order() {
        let plan = Plan {
            rounds: 4,
            passes: 2,
            ..Plan::new(true)
        };
        let mut pass = 0.0;
        let merged = in_passes(&plan, |pass_plan| -> Result<_, ()> {
            assert_eq!(pass_plan.rounds, 2);
            pass += 1.0;
            Ok([16, 1024]
                .map(|len| PayloadResult {
                    len,
                    samples: vec![Samples {
                        per_round: vec![pass, pass * 10.0],
                    }],
                })
                .to_vec())
        })
        .unwrap();
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[1].len, 1024);
        assert_eq!(merged[1].samples[0].per_round, [1.0, 10.0, 2.0, 20.0]);
    }
}
