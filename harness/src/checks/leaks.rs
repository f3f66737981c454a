//! No leaks inside linear memory over many `echo` and `upper` round trips of mixed
//! sizes. After a warm-up (a tenth of the rounds), `heap_bytes` and `memory.size` must not move,
//! and at the end `live_blocks` must be back where it started.

use crate::HostError;
use crate::checks::Context;
use crate::checks::common::{Xorshift, expected, input};
use crate::guest::{Calls, Guest, GuestModule};
use crate::report::{Findings, Row};

/// The guests driven by this check.
pub const GUESTS: [&str; 2] = ["echo", "upper"];

/// Runs the leak check: one row per guest and way of calling it (the blocking calls and the
/// `_async` ones).
#[must_use]
pub fn check(context: &Context) -> Vec<Row> {
    [Calls::Blocking, Calls::Async]
        .iter()
        .flat_map(|&calls| GUESTS.iter().map(move |&name| (calls, name)))
        .map(|(calls, name)| match context.example(name) {
            Ok(module) => check_guest(
                &module.with_calls(calls),
                name,
                context.scale.leak_round_trips(),
            ),
            Err(error) => {
                let mut findings = Findings::new();
                findings.fail(format!("cannot load the guest: {error}"));
                findings.into_row("leaks", name)
            }
        })
        .collect()
}

/// Runs the leak check on `module`, whose export `function` behaves like the example of that
/// name (`echo` or `upper`), for `rounds` round trips.
#[must_use]
pub fn check_guest(module: &GuestModule, function: &str, rounds: u32) -> Row {
    let mut findings = Findings::new();
    let outcome = run(module, function, rounds, &mut findings);
    findings.finish(outcome);
    findings.into_row("leaks", module.label())
}

/// One round trip: returns `false` (after recording why) if the result was wrong.
fn round_trip(
    guest: &mut Guest,
    name: &str,
    random: &mut Xorshift,
    findings: &mut Findings,
) -> Result<bool, HostError> {
    let len = random.mixed_len();
    let input = input(name, len, random);
    let result = guest.call_bytes(name, &[&input])?;
    Ok(findings.expect(result == expected(name, &input), || {
        format!(
            "{name} returned a wrong result for an input of {} bytes",
            input.len()
        )
    }))
}

fn stat(value: Option<u32>, name: &str) -> Result<u32, HostError> {
    value.ok_or_else(|| HostError::Export {
        name: name.to_owned(),
        message: "missing: the guest must be built with the stats feature".to_owned(),
    })
}

fn run(
    module: &GuestModule,
    name: &str,
    rounds: u32,
    findings: &mut Findings,
) -> Result<(), HostError> {
    let mut guest = module.instantiate()?;
    let warm_up = rounds / 10;
    let mut random = Xorshift::new(0x9E37_79B9);
    let live_at_start = stat(guest.live_blocks()?, "live_blocks")?;
    // The counters must count, or "unchanged" would prove nothing.
    let heap_before = stat(guest.heap_bytes()?, "heap_bytes")?;
    let probe = guest.put(&[0; 1000])?;
    let heap_during = stat(guest.heap_bytes()?, "heap_bytes")?;
    let live_during = stat(guest.live_blocks()?, "live_blocks")?;
    guest.free(probe)?;
    findings.expect(
        heap_during >= heap_before + 1000 && live_during == live_at_start + 1,
        || {
            format!(
                "a live 1000-byte block moved heap_bytes {heap_before} -> {heap_during} and \
                 live_blocks {live_at_start} -> {live_during}: the counters do not count"
            )
        },
    );
    findings.figure(format!(
        "a live 1000-byte block: heap_bytes +{}",
        heap_during.saturating_sub(heap_before)
    ));
    for _ in 0..warm_up {
        if !round_trip(&mut guest, name, &mut random, findings)? {
            return Ok(());
        }
    }
    let heap_after_warm_up = stat(guest.heap_bytes()?, "heap_bytes")?;
    let pages_after_warm_up = guest.memory_pages();
    for _ in warm_up..rounds {
        if !round_trip(&mut guest, name, &mut random, findings)? {
            return Ok(());
        }
    }
    let live_at_end = stat(guest.live_blocks()?, "live_blocks")?;
    let heap_at_end = stat(guest.heap_bytes()?, "heap_bytes")?;
    let pages_at_end = guest.memory_pages();
    findings.figure(format!("{rounds} round trips"));
    findings.figure(format!("live_blocks {live_at_start} -> {live_at_end}"));
    findings.figure(format!(
        "heap_bytes after warm-up {heap_after_warm_up} -> {heap_at_end}"
    ));
    findings.figure(format!(
        "pages after warm-up {pages_after_warm_up} -> {pages_at_end}"
    ));
    findings.expect(live_at_end == live_at_start, || {
        format!("live_blocks went from {live_at_start} to {live_at_end}")
    });
    findings.expect(heap_at_end == heap_after_warm_up, || {
        format!("heap_bytes went from {heap_after_warm_up} after warm-up to {heap_at_end}")
    });
    findings.expect(pages_at_end == pages_after_warm_up, || {
        format!("memory.size grew from {pages_after_warm_up} pages after warm-up to {pages_at_end}")
    });
    Ok(())
}
