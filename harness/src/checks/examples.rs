//! The example guests compute what their documentation says.

use crate::HostError;
use crate::checks::Context;
use crate::report::{Findings, Row};

/// Runs the example check: one row for all example functions.
#[must_use]
pub fn check(context: &Context) -> Row {
    let mut findings = Findings::new();
    let outcome = run(context, &mut findings);
    findings.finish(outcome);
    findings.into_row("examples", "array_sum, upper, replace")
}

fn run(context: &Context, findings: &mut Findings) -> Result<(), HostError> {
    let mut array_sum = context.example("array_sum")?.instantiate()?;
    let small = array_sum.call_u32("array_sum", &[&[1, 2, 3, 4, 5]])?;
    findings.expect(small == 15, || {
        format!("array_sum([1, 2, 3, 4, 5]) = {small}, expected 15")
    });
    let large = array_sum.call_u32("array_sum", &[&[255; 1000]])?;
    findings.expect(large == 255_000, || {
        format!("array_sum([255; 1000]) = {large}, expected 255000")
    });
    let empty = array_sum.call_u32("array_sum", &[&[]])?;
    findings.expect(empty == 0, || {
        format!("array_sum([]) = {empty}, expected 0")
    });
    // Zero is a valid sum: a failure is told apart by last_error.
    let overflowing = vec![0xFF; usize::try_from(u32::MAX / 255).unwrap_or(0) + 1];
    let overflow = array_sum.call_u32("array_sum", &[&overflowing]);
    findings.expect(matches!(overflow, Err(HostError::Guest { .. })), || {
        format!("array_sum past u32::MAX = {overflow:?}, expected an error")
    });
    findings.figure(format!("array_sum: {small}, {large}"));

    let mut upper = context.example("upper")?.instantiate()?;
    let strasse = upper.call_bytes("upper", &["straße".as_bytes()])?;
    findings.expect(strasse == b"STRASSE", || {
        format!(
            "upper(\"straße\") = {:?}, expected \"STRASSE\"",
            String::from_utf8_lossy(&strasse)
        )
    });
    let invalid = upper.call_bytes("upper", &[b"stra\xDFe"]);
    findings.expect(
        matches!(&invalid, Err(HostError::Guest { message, .. }) if message.contains("UTF-8")),
        || format!("upper(invalid UTF-8) = {invalid:?}, expected an error mentioning UTF-8"),
    );
    // An error is not a trap: the instance still works.
    let after = upper.call_bytes("upper", &[b"ok"])?;
    findings.expect(after == b"OK", || {
        format!("upper(\"ok\") after an error = {after:?}")
    });
    findings.figure(format!("upper: {}", String::from_utf8_lossy(&strasse)));

    let mut replace = context.example("replace")?.instantiate()?;
    let hello = replace.call_bytes("replace", &[b"Hello World!", b"World", b"WASM"])?;
    findings.expect(hello == b"Hello WASM!", || {
        format!(
            "replace = {:?}, expected \"Hello WASM!\"",
            String::from_utf8_lossy(&hello)
        )
    });
    let empty_pattern = replace.call_bytes("replace", &[b"Hello World!", b"", b"WASM"]);
    findings.expect(
        matches!(empty_pattern, Err(HostError::Guest { .. })),
        || format!("replace with an empty pattern = {empty_pattern:?}, expected an error"),
    );
    let after = replace.call_bytes("replace", &[b"a.b", b".", b""])?;
    findings.expect(after == b"ab", || {
        format!("replace(\"a.b\", \".\", \"\") after an error = {after:?}")
    });
    findings.figure(format!("replace: {}", String::from_utf8_lossy(&hello)));
    Ok(())
}
