//! guestmem-host against Extism's Rust SDK, in one process, in alternating rounds.
//!
//! - The echo round trip at 16 B, 1 KiB, 64 KiB and 1 MiB: guestmem's `examples/echo` (talc,
//!   `target/guests/echo-talc.wasm`) through `guestmem-host`, against the extism-pdk echo plugin
//!   (`bench/extism`) through the `extism` crate. Two pairs: the answer as an owned `Vec<u8>`
//!   (`GuestFunc::call_bytes` against `Plugin::call::<&[u8], Vec<u8>>`), and the answer read where
//!   it lies (`GuestFunc::call_view` against `Plugin::call::<&[u8], &[u8]>`).
//! - A host-function call answering 16 B and 64 KiB: guestmem's `bench/guests/pull` (`pull`
//!   reads the host's block in place, `pull_vec` copies it into a `Vec<u8>`) with a
//!   `HostFunctions` closure, against the extism-pdk plugin `bench/extism-pull` (`pull`, through
//!   `#[host_fn]`, copies the answer into a `Vec<u8>`; `pull_in_place` reads it in place) with an
//!   Extism `Function`. Both host functions answer `payload[..n].to_vec()` of one prebuilt
//!   payload; every guest returns the same digest of the answer (its length plus its first and
//!   last bytes).
//!
//! Every call's answer is checked: its digest (length, first and last bytes) against the
//! expected one in every timed call, and the whole answer against the input in one untimed call
//! before each batch. A round measures every contender of every payload once, for about
//! [`BATCH`] each, the contenders of one payload in an order that rotates from round to round;
//! the figures are the medians over [`ROUNDS`] rounds, and each ratio (guestmem's calls/s over
//! Extism's) is taken per round, between batches run side by side, then its median and range.
//!
//! `nice -n 10 cargo run --release --manifest-path bench/extism-rust/Cargo.toml` (see README.md
//! for the guests it needs).

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use extism::{Function, PTR, UserData};
use guestmem_host::{GuestmemCtx, HostFunctions};
use wasmtime::{Engine, Linker, Store};

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

/// Rounds; every figure is a median over them.
const ROUNDS: usize = 21;
/// The length of one contender's batch in one round.
const BATCH: Duration = Duration::from_millis(100);
/// The echo's payloads.
const ECHO_SIZES: [usize; 4] = [16, 1 << 10, 64 << 10, 1 << 20];
/// The host function's answers.
const PULL_SIZES: [usize; 2] = [16, 64 << 10];

/// One contender's call: returns the digest of its answer; with `full`, first checks the whole
/// answer against what it should be.
type Call<'a> = Box<dyn FnMut(bool) -> Result<u32> + 'a>;

struct Contender<'a> {
    name: &'static str,
    call: Call<'a>,
    calls: u64,
    per_round: Vec<f64>,
}

/// One payload's contenders, the digest every answer must have, and the pairs to compare
/// (guestmem's index, Extism's index).
struct Group<'a> {
    title: String,
    expected: u32,
    contenders: Vec<Contender<'a>>,
    pairs: Vec<(usize, usize)>,
}

/// The bytes the echo sends and the host function answers with.
fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// The answer's length plus its first and last bytes (`bench/guests/pull`'s `digest`).
fn digest(bytes: &[u8]) -> u32 {
    [bytes.first(), bytes.last()]
        .into_iter()
        .flatten()
        .fold(bytes.len() as u32, |sum, &byte| {
            sum.wrapping_add(u32::from(byte))
        })
}

fn same(who: &str, answer: &[u8], input: &[u8]) -> Result<()> {
    if answer == input {
        Ok(())
    } else {
        Err(format!(
            "{who}: the answer ({} bytes) is not the input ({} bytes)",
            answer.len(),
            input.len()
        )
        .into())
    }
}

fn read(path: &Path, build: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|error| format!("{}: {error}; build it with `{build}`", path.display()).into())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// guestmem's `pull.wasm`: the benchmark's copy if there is one, else the `guest` profile's.
fn pull_wasm() -> Result<Vec<u8>> {
    let bench = root().join("target/bench/guests/pull.wasm");
    let path = if bench.exists() {
        bench
    } else {
        root().join("target/wasm32-unknown-unknown/guest/pull.wasm")
    };
    read(
        &path,
        "cargo build --profile guest --target wasm32-unknown-unknown -p pull",
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

fn size(len: usize) -> String {
    match len {
        len if len >= 1 << 20 => format!("{} MiB", len >> 20),
        len if len >= 1 << 10 => format!("{} KiB", len >> 10),
        len => format!("{len} B"),
    }
}

fn rate(calls_per_second: f64) -> String {
    if calls_per_second >= 1e6 {
        format!("{:.2} M/s", calls_per_second / 1e6)
    } else if calls_per_second >= 1e3 {
        format!("{:.1} k/s", calls_per_second / 1e3)
    } else {
        format!("{calls_per_second:.0} /s")
    }
}

/// Runs `calls` timed calls, checking each answer's digest.
fn batch(contender: &mut Contender<'_>, expected: u32, calls: u64) -> Result<Duration> {
    let start = Instant::now();
    for _ in 0..calls {
        let got = (contender.call)(black_box(false))?;
        if got != expected {
            return Err(format!("{}: digest {got}, expected {expected}", contender.name).into());
        }
    }
    Ok(start.elapsed())
}

fn run(groups: &mut [Group<'_>]) -> Result<()> {
    // Warm up, check whole answers, and size each batch to about BATCH.
    for group in groups.iter_mut() {
        for contender in &mut group.contenders {
            let got = (contender.call)(true)?;
            if got != group.expected {
                return Err(format!("{}: wrong digest {got}", contender.name).into());
            }
            let mut calls = 0u64;
            let mut spent = Duration::ZERO;
            while spent < BATCH / 4 {
                spent += batch(contender, group.expected, 1)?;
                calls += 1;
            }
            let per_call = spent.as_secs_f64() / calls as f64;
            contender.calls = ((BATCH.as_secs_f64() / per_call).ceil() as u64).max(1);
        }
    }
    for round in 0..ROUNDS {
        for group in groups.iter_mut() {
            let count = group.contenders.len();
            for offset in 0..count {
                let contender = &mut group.contenders[(round + offset) % count];
                (contender.call)(true)?; // the whole answer, untimed
                let calls = contender.calls;
                let elapsed = batch(contender, group.expected, calls)?;
                contender
                    .per_round
                    .push(calls as f64 / elapsed.as_secs_f64());
            }
        }
        eprintln!("round {}/{ROUNDS} done", round + 1);
    }
    Ok(())
}

fn report(groups: &[Group<'_>]) {
    for group in groups {
        println!("\n{}", group.title);
        for contender in &group.contenders {
            let values = &contender.per_round;
            let low = values.iter().copied().fold(f64::INFINITY, f64::min);
            let high = values.iter().copied().fold(0.0, f64::max);
            println!(
                "  {:<44} {:>11} (rounds {} to {})",
                contender.name,
                rate(median(values)),
                rate(low),
                rate(high)
            );
        }
        for &(guestmem, extism) in &group.pairs {
            let ratios: Vec<f64> = group.contenders[guestmem]
                .per_round
                .iter()
                .zip(&group.contenders[extism].per_round)
                .map(|(g, e)| g / e)
                .collect();
            let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let high = ratios.iter().copied().fold(0.0, f64::max);
            println!(
                "  ratio {} / {}: {:.2}x (rounds {:.2}x to {:.2}x)",
                group.contenders[guestmem].name,
                group.contenders[extism].name,
                median(&ratios),
                low,
                high
            );
        }
    }
}

fn contender<'a>(name: &'static str, call: impl FnMut(bool) -> Result<u32> + 'a) -> Contender<'a> {
    Contender {
        name,
        call: Box::new(call),
        calls: 0,
        per_round: Vec::new(),
    }
}

fn main() -> Result<()> {
    let root = root();
    let echo_wasm = read(
        &root.join("target/guests/echo-talc.wasm"),
        "cargo run -p harness -- guests (or: cargo build --profile guest --target wasm32-unknown-unknown -p echo)",
    )?;
    let pull_wasm = pull_wasm()?;
    let extism_echo_wasm = read(
        &root.join("bench/extism/target/wasm32-unknown-unknown/release/extism_echo.wasm"),
        "cargo build --release --target wasm32-unknown-unknown --manifest-path bench/extism/Cargo.toml",
    )?;
    let extism_pull_wasm = read(
        &root.join("bench/extism-pull/target/wasm32-unknown-unknown/release/extism_pull.wasm"),
        "cargo build --release --target wasm32-unknown-unknown --manifest-path bench/extism-pull/Cargo.toml",
    )?;
    println!("load average at start: {}", load_average());

    // guestmem: one engine, echo instances, pull instances with `env.payload`.
    let engine = Engine::default();
    let echo_plugin = guestmem_host::Plugin::new(&engine, &echo_wasm)?;
    let echo_linker = Linker::new(&engine);
    let mut echo_owned = echo_plugin.instantiate(Store::new(&engine, ()), &echo_linker)?;
    let mut echo_view = echo_plugin.instantiate(Store::new(&engine, ()), &echo_linker)?;
    let echo_owned_func = echo_owned.func("echo")?;
    let echo_view_func = echo_view.func("echo")?;

    let payload: Arc<[u8]> = bytes(PULL_SIZES.into_iter().max().unwrap_or(0)).into();
    let pull_plugin = guestmem_host::Plugin::new(&engine, &pull_wasm)?;
    let mut pull_linker = Linker::<GuestmemCtx>::new(&engine);
    {
        let payload = Arc::clone(&payload);
        HostFunctions::new(&mut pull_linker)?.func("env", "payload", move |n: u32| {
            payload[..n as usize].to_vec()
        })?;
    }
    let mut pull_block =
        pull_plugin.instantiate(Store::new(&engine, GuestmemCtx::default()), &pull_linker)?;
    let mut pull_vec =
        pull_plugin.instantiate(Store::new(&engine, GuestmemCtx::default()), &pull_linker)?;
    let pull_block_func = pull_block.func("pull")?;
    let pull_vec_func = pull_vec.func("pull_vec")?;

    // Extism: its own engine per plugin, as `Plugin::new` makes it.
    let mut extism_echo_owned = extism::Plugin::new(&extism_echo_wasm, [], false)?;
    let mut extism_echo_view = extism::Plugin::new(&extism_echo_wasm, [], false)?;
    let extism_payload = || {
        let payload = Arc::clone(&payload);
        Function::new(
            "payload",
            [PTR],
            [PTR],
            UserData::new(()),
            move |plugin, inputs, outputs, _| {
                let n: u32 = plugin.memory_get_val(&inputs[0])?;
                let answer = payload[..n as usize].to_vec();
                let handle = plugin.memory_new(&answer)?;
                outputs[0] = plugin.memory_to_val(handle);
                Ok(())
            },
        )
    };
    let mut extism_pull = extism::Plugin::new(&extism_pull_wasm, [extism_payload()], false)?;
    let mut extism_pull_in_place =
        extism::Plugin::new(&extism_pull_wasm, [extism_payload()], false)?;

    let echo_inputs: Vec<Vec<u8>> = ECHO_SIZES.into_iter().map(bytes).collect();
    // One instance per contender, shared by that contender's closures of every payload.
    let echo_owned = std::cell::RefCell::new((&mut echo_owned, &echo_owned_func));
    let echo_view = std::cell::RefCell::new((&mut echo_view, &echo_view_func));
    let extism_echo_owned = std::cell::RefCell::new(&mut extism_echo_owned);
    let extism_echo_view = std::cell::RefCell::new(&mut extism_echo_view);
    let pull_block = std::cell::RefCell::new((&mut pull_block, &pull_block_func));
    let pull_vec = std::cell::RefCell::new((&mut pull_vec, &pull_vec_func));
    let extism_pull = std::cell::RefCell::new(&mut extism_pull);
    let extism_pull_in_place = std::cell::RefCell::new(&mut extism_pull_in_place);
    let mut groups = Vec::new();
    for input in &echo_inputs {
        let input = input.as_slice();
        let (echo_owned, echo_view) = (&echo_owned, &echo_view);
        let (extism_echo_owned, extism_echo_view) = (&extism_echo_owned, &extism_echo_view);
        groups.push(Group {
            title: format!("echo round trip, {}", size(input.len())),
            expected: digest(input),
            contenders: vec![
                contender("guestmem call_bytes -> Vec<u8>", move |full| {
                    let (guest, func) = &mut *echo_owned.borrow_mut();
                    let answer = func.call_bytes(&mut **guest, &[input])?;
                    if full {
                        same("guestmem call_bytes", &answer, input)?;
                    }
                    Ok(digest(&answer))
                }),
                contender("Extism call::<&[u8], Vec<u8>>", move |full| {
                    let plugin = &mut *extism_echo_owned.borrow_mut();
                    let answer = plugin.call::<&[u8], Vec<u8>>("echo", input)?;
                    if full {
                        same("Extism Vec<u8>", &answer, input)?;
                    }
                    Ok(digest(&answer))
                }),
                contender("guestmem call_view (read in place)", move |full| {
                    let (guest, func) = &mut *echo_view.borrow_mut();
                    func.call_view(&mut **guest, &[input], |answer| {
                        if full {
                            same("guestmem call_view", answer, input)?;
                        }
                        Ok(digest(answer))
                    })?
                }),
                contender("Extism call::<&[u8], &[u8]>", move |full| {
                    let plugin = &mut *extism_echo_view.borrow_mut();
                    let answer = plugin.call::<&[u8], &[u8]>("echo", input)?;
                    if full {
                        same("Extism &[u8]", answer, input)?;
                    }
                    Ok(digest(answer))
                }),
            ],
            pairs: vec![(0, 1), (2, 3)],
        });
    }

    for len in PULL_SIZES {
        let n = u32::try_from(len)?;
        let (pull_block, pull_vec) = (&pull_block, &pull_vec);
        let (extism_pull, extism_pull_in_place) = (&extism_pull, &extism_pull_in_place);
        groups.push(Group {
            title: format!("host function answering {}", size(len)),
            expected: digest(&payload[..len]),
            contenders: vec![
                contender("guestmem pull (ResultBlock, in place)", move |_| {
                    let (guest, func) = &mut *pull_block.borrow_mut();
                    Ok(func.call_u32(&mut **guest, &[n.to_le_bytes()])?)
                }),
                contender("Extism pull (#[host_fn] -> Vec<u8>)", move |_| {
                    Ok(extism_pull.borrow_mut().call::<u32, u32>("pull", n)?)
                }),
                contender("guestmem pull_vec (Vec<u8>)", move |_| {
                    let (guest, func) = &mut *pull_vec.borrow_mut();
                    Ok(func.call_u32(&mut **guest, &[n.to_le_bytes()])?)
                }),
                contender("Extism pull_in_place (load_u8)", move |_| {
                    Ok(extism_pull_in_place
                        .borrow_mut()
                        .call::<u32, u32>("pull_in_place", n)?)
                }),
            ],
            // Each side's first form; both copying into a Vec<u8>; both reading in place.
            pairs: vec![(0, 1), (2, 1), (0, 3)],
        });
    }

    run(&mut groups)?;
    report(&groups);
    println!("\nload average at end: {}", load_average());
    println!(
        "({ROUNDS} rounds, batches of about {} ms; ratios are guestmem's calls/s over Extism's, per round)",
        BATCH.as_millis()
    );
    Ok(())
}
