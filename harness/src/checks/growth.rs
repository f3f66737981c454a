//! Inputs and results of 64 MiB, across calls that grow linear memory.
//!
//! The host never keeps a view of guest memory across a call: [`crate::Guest`] takes a new one for
//! every access, and wasmtime's borrow of the store rejects any other order at compile time. This
//! check makes sure the calls really do grow memory (so a stale view would have been wrong) and
//! that everything read afterwards is right.

use crate::checks::Context;
use crate::guest::Guest;
use crate::report::{Findings, Row};
use crate::{HostError, ResultProblem};

/// Runs the growth check.
#[must_use]
pub fn check(context: &Context) -> Row {
    let mut findings = Findings::new();
    let outcome = run(context, &mut findings);
    findings.finish(outcome);
    findings.into_row("growth", "echo, upper, array_sum")
}

fn mib(bytes: usize) -> usize {
    bytes >> 20
}

/// Passes `input` to `function`, checking that the call itself grows memory, that the input is
/// intact afterwards and that the result is `expected`.
fn grow_through_call(
    guest: &mut Guest,
    function: &str,
    input: &[u8],
    expected: &[u8],
    findings: &mut Findings,
) -> Result<(), HostError> {
    let len =
        u32::try_from(input.len()).map_err(|_| HostError::InputTooLong { len: input.len() })?;
    let ptr = guest.put(input)?;
    let before = guest.memory_pages();
    let raw = guest.call_raw(function, &[ptr, len])?;
    let after = guest.memory_pages();
    findings.expect(after > before, || {
        format!("{function}: memory did not grow during the call ({before} pages), so the check proves nothing")
    });
    let still = guest.read(ptr, input.len())?;
    findings.expect(still == input, || {
        format!("{function}: the input changed during the call")
    });
    let result = guest.take_result(function, raw)?;
    findings.expect(result == expected, || {
        format!(
            "{function}: {} MiB result differs from the expected {} MiB",
            mib(result.len()),
            mib(expected.len())
        )
    });
    guest.free(ptr)?;
    findings.figure(format!(
        "{function} {} MiB: {before} -> {after} pages in the call",
        mib(input.len())
    ));
    Ok(())
}

fn run(context: &Context, findings: &mut Findings) -> Result<(), HostError> {
    let size = context.scale.growth_bytes();

    let bytes: Vec<u8> = (0..size)
        .map(|index| (index ^ (index >> 9)).to_le_bytes()[0])
        .collect();
    let mut echo = context.example("echo")?.instantiate()?;
    let baseline = echo.live_blocks()?;
    grow_through_call(&mut echo, "echo", &bytes, &bytes, findings)?;

    // A result one byte over the cap is refused, and given back to the guest.
    let cap = u32::try_from(size - 1).unwrap_or(u32::MAX);
    echo.set_result_cap(cap);
    let capped = echo.call_bytes("echo", &[&bytes]);
    findings.expect(
        matches!(
            capped,
            Err(HostError::BadResult {
                problem: ResultProblem::TooLong { .. },
                ..
            })
        ),
        || format!("a result over the {cap}-byte cap was not refused: {capped:?}"),
    );
    let live = echo.live_blocks()?;
    findings.expect(live == baseline, || {
        format!("live_blocks {live:?} after the capped call, expected {baseline:?}")
    });
    drop(echo);

    let text: Vec<u8> = b"guestmem grows "
        .iter()
        .copied()
        .cycle()
        .take(size)
        .collect();
    let mut upper = context.example("upper")?.instantiate()?;
    grow_through_call(
        &mut upper,
        "upper",
        &text,
        &text.to_ascii_uppercase(),
        findings,
    )?;
    drop(upper);

    let ones = vec![1_u8; size];
    let mut array_sum = context.example("array_sum")?.instantiate()?;
    let sum = array_sum.call_u32("array_sum", &[&ones])?;
    findings.expect(usize::try_from(sum).is_ok_and(|sum| sum == size), || {
        format!("array_sum of {size} ones = {sum}")
    });
    findings.figure(format!("array_sum {} MiB = {sum}", mib(size)));
    Ok(())
}
