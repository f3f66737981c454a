//! Owned arguments ("Owned arguments" in `docs/ABI.md`): the host gives an input's block up with
//! the call and never frees it; the guest frees it exactly once, or returns it as its result,
//! on success, on failure, and when an earlier argument is bad. `live_blocks` tells a leak (one
//! more) from a double free (a trap).

use guestmem_host::{Error as HostError, Interface};

use crate::checks::Context;
use crate::checks::common::pattern;
use crate::guest::Guest;
use crate::report::{Findings, Row};

/// Runs the owned-argument check: one row.
#[must_use]
pub fn check(context: &Context) -> Row {
    let mut findings = Findings::new();
    let outcome = run(context, &mut findings);
    findings.finish(outcome);
    findings.into_row("owned", "in_place and faults: owned blocks freed once")
}

/// An instance of `name` that knows its interface, so that its owned arguments are passed owned.
fn described(context: &Context, name: &str) -> Result<Guest, HostError> {
    let path = context.guests.example_path(name);
    let wasm = std::fs::read(&path).map_err(|source| crate::guest::io_error(&path, source))?;
    let mut guest = context.example(name)?.instantiate()?;
    let interface = Interface::read(&wasm)?
        .ok_or_else(|| HostError::Interface(format!("{name} has no section")))?;
    guest.set_interface(interface)?;
    Ok(guest)
}

fn run(context: &Context, findings: &mut Findings) -> Result<(), HostError> {
    let mut guest = described(context, "in_place")?;
    let before = guest.live_blocks()?;
    let upper = guest.call_bytes("ascii_upper", &["straße".as_bytes()])?;
    findings.expect(upper == "STRAßE".as_bytes(), || {
        format!(
            "ascii_upper(\"straße\") = {:?}",
            String::from_utf8_lossy(&upper)
        )
    });
    let echo = guest.func("echo_owned")?;
    for len in [0, 1, 16, 4096, 1 << 20] {
        let input = pattern(u32::try_from(len).unwrap_or(0), len);
        let same = echo.call_view(&mut guest, &[&input], |bytes| bytes == input.as_slice())?;
        findings.expect(same, || format!("echo_owned of {len} bytes changed them"));
    }
    let after = guest.live_blocks()?;
    findings.expect(after == before, || {
        format!("live_blocks went from {before:?} to {after:?} over owned calls that succeed")
    });

    // A host that does not know the argument is owned passes it borrowed: refused, not taken.
    let mut unaware = context.example("in_place")?.instantiate()?;
    let refused = unaware.call_bytes("ascii_upper", &[b"abc"]);
    findings.expect(
        matches!(&refused, Err(HostError::Guest { message, .. })
            if message.starts_with("argument `text`: not an owned block")),
        || format!("ascii_upper passed borrowed = {refused:?}, expected a refusal"),
    );
    let unaware_blocks = unaware.live_blocks()?;
    findings.expect(unaware_blocks == Some(0), || {
        format!("live_blocks {unaware_blocks:?} after a borrowed input was refused")
    });

    let mut faults = described(context, "faults")?;
    let before = faults.live_blocks()?;
    let failed = faults.call_bytes("owned_fails", &[b"data"]);
    findings.expect(
        matches!(&failed, Err(HostError::Guest { message, .. }) if message == "owned_fails: refused"),
        || format!("owned_fails = {failed:?}"),
    );
    // The host refuses text that is not UTF-8 before anything is placed...
    let refused = faults.call_bytes("owned_after", &[b"\xff".as_slice(), b"data"]);
    findings.expect(matches!(&refused, Err(HostError::Call { .. })), || {
        format!("owned_after with a bad first argument = {refused:?}, expected a refused call")
    });
    // ...so the guest's side is driven by hand: a bad first argument, then an owned block the
    // guest must free although the call fails before its body runs.
    let text = faults.put(b"\xff")?;
    let block = faults.put(b"\0\0\0\0data")?;
    let result = faults.call_raw("owned_after", &[text, 1, block + 4, 4])?;
    let message = faults.last_error()?;
    faults.free(text)?;
    findings.expect(
        result == 0
            && message
                .as_deref()
                .is_some_and(|message| message.contains("argument `text`")),
        || format!("owned_after by hand = {result}, last_error {message:?}"),
    );
    let good = faults.call_bytes("owned_after", &[b"ok".as_slice(), b"data"])?;
    findings.expect(good == b"data", || format!("owned_after = {good:?}"));
    let after = faults.live_blocks()?;
    findings.expect(after == before, || {
        format!("live_blocks went from {before:?} to {after:?} over owned calls that fail")
    });
    let trapped = faults.call_u32("owned_panics", &[b"data"]);
    findings.expect(
        trapped
            .as_ref()
            .err()
            .and_then(HostError::trap_reason)
            .is_some_and(|reason| reason.contains("owned_panics: 4 bytes")),
        || format!("owned_panics = {trapped:?}, expected a trap with its reason"),
    );
    findings.figure(format!(
        "live_blocks {before:?} -> {after:?}; echo_owned up to 1 MiB"
    ));
    Ok(())
}
