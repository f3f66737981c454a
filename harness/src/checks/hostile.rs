//! A hostile guest (`harness/tests/hostile.wat`) returns out-of-range pointers, lengths
//! past the end of memory or near `u32::MAX`, misaligned results, zeros with missing or broken
//! messages, and traps. Every case must come back as an error, and the host keeps running.

use crate::checks::Context;
use crate::report::{Findings, Row};
use crate::{HostError, ResultProblem};

/// The hostile guest's name.
pub const NAME: &str = "hostile";

/// The hostile guest, in text form.
pub const HOSTILE_WAT: &str = include_str!("../../tests/hostile.wat");

/// The message the hostile guest records.
const MESSAGE: &str = "hostile guest: asked to fail";

/// Cap for the `huge` case, below its 1 MiB result.
const SMALL_CAP: u32 = 64 << 10;

/// Which error a case must produce.
type Verdict = fn(&HostError) -> bool;

fn bad(problem: &HostError, matches: fn(&ResultProblem) -> bool) -> bool {
    matches!(problem, HostError::BadResult { problem, .. } if matches(problem))
}

fn prefix_out_of_bounds(error: &HostError) -> bool {
    bad(error, |problem| {
        matches!(problem, ResultProblem::PrefixOutOfBounds { .. })
    })
}

fn payload_out_of_bounds(error: &HostError) -> bool {
    bad(error, |problem| {
        matches!(problem, ResultProblem::PayloadOutOfBounds { .. })
    })
}

fn guest_error_containing(error: &HostError, text: &str) -> bool {
    matches!(error, HostError::Guest { message, .. } if message.contains(text))
}

/// Every hostile function and the error it must produce.
const CASES: [(&str, Verdict); 15] = [
    ("out_of_range", prefix_out_of_bounds),
    ("at_end", prefix_out_of_bounds),
    ("wraps_around", prefix_out_of_bounds),
    ("past_end", payload_out_of_bounds),
    ("near_max", payload_out_of_bounds),
    ("max_len", payload_out_of_bounds),
    ("runs_off_end", payload_out_of_bounds),
    ("misaligned", |error| {
        bad(error, |problem| {
            matches!(problem, ResultProblem::Misaligned { .. })
        })
    }),
    ("huge", |error| {
        bad(error, |problem| {
            matches!(problem, ResultProblem::TooLong { .. })
        })
    }),
    ("zero_no_message", |error| {
        guest_error_containing(error, "no error is pending")
    }),
    ("zero_bad_message", |error| {
        guest_error_containing(error, "outside linear memory")
    }),
    ("zero_not_utf8", |error| {
        guest_error_containing(error, "not UTF-8")
    }),
    ("zero_with_message", |error| {
        guest_error_containing(error, MESSAGE)
    }),
    ("trap_with_reason", |error| {
        error.trap_reason() == Some(MESSAGE)
    }),
    ("trap_out_of_bounds", |error| {
        matches!(
            error,
            HostError::Trap {
                trap: wasmtime::Trap::MemoryOutOfBounds,
                reason: None,
                ..
            }
        )
    }),
];

/// Runs the hostile-guest check.
#[must_use]
pub fn check(context: &Context) -> Row {
    let mut findings = Findings::new();
    let outcome = run(context, &mut findings);
    findings.finish(outcome);
    findings.into_row("hostile", "tests/hostile.wat")
}

fn run(context: &Context, findings: &mut Findings) -> Result<(), HostError> {
    let module = context.inline(NAME, HOSTILE_WAT.as_bytes())?;
    let mut rejected = 0;
    for (function, verdict) in CASES {
        // A fresh instance per case: after a trap the instance is dropped, as the ABI advises.
        let mut guest = module.instantiate()?;
        guest.set_result_cap(SMALL_CAP);
        match guest.call_bytes(function, &[b"input"]) {
            Ok(bytes) => findings.fail(format!(
                "{function}: accepted as a result of {} bytes",
                bytes.len()
            )),
            Err(error) => {
                if findings.expect(verdict(&error), || {
                    format!("{function}: unexpected error: {error}")
                }) {
                    rejected += 1;
                }
            }
        }
        // The host (and, unless it trapped, the instance) keeps working.
        let version = guest.abi_version()?;
        findings.expect(version == 1, || {
            format!("after {function}: abi_version() = {version}")
        });
    }
    findings.figure(format!(
        "{rejected} of {} bad results rejected",
        CASES.len()
    ));
    Ok(())
}
