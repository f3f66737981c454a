//! Failures inside guest code: a panic, an allocation the global allocator cannot serve, and a
//! panic or an ABI misuse while an error message is being written all trap with a reason that `last_error` hands
//! over afterwards (docs/ABI.md, "Traps").

use crate::HostError;
use crate::checks::Context;
use crate::guest::GuestOptions;
use crate::guests::{FAULTS, FAULTS_STD};
use crate::report::{Findings, Row};

/// Memory the guest may have: enough to run, far too little for the allocation asked for.
const MEMORY_LIMIT: usize = 16 << 20;
/// What `reserve` asks for, past [`MEMORY_LIMIT`].
const TOO_MUCH: usize = 64 << 20;

/// The `faults` test guest as no_std code, and built with guestmem's `std` feature, where std's
/// panic runtime and allocation-failure path replace guestmem's.
pub const FAULT_GUESTS: [&str; 2] = [FAULTS, FAULTS_STD];

/// Runs the check: one row per build of the `faults` test guest.
#[must_use]
pub fn check_all(context: &Context) -> Vec<Row> {
    FAULT_GUESTS
        .iter()
        .map(|name| check(context, name))
        .collect()
}

/// Runs the check on the build of the `faults` guest named `name`.
#[must_use]
pub fn check(context: &Context, name: &str) -> Row {
    let mut findings = Findings::new();
    let outcome = run(context, name, &mut findings);
    findings.finish(outcome);
    findings.into_row("faults", name)
}

fn run(context: &Context, name: &str, findings: &mut Findings) -> Result<(), HostError> {
    let module = context.example(name)?;

    let mut guest = module.instantiate()?;
    let panicked = guest.call_u32("panic_with", &[b"boom"]);
    match &panicked {
        Err(HostError::Trap {
            reason: Some(reason),
            ..
        }) => {
            findings.expect(
                reason.starts_with("guest panicked at ")
                    && reason.contains("lib.rs:")
                    && reason.ends_with("asked to panic: boom"),
                || format!("panic_with(\"boom\") trapped with reason {reason:?}"),
            );
            findings.figure(format!("panic: {reason:?}"));
        }
        _ => findings.fail(format!(
            "panic_with(\"boom\") = {panicked:?}, expected a trap"
        )),
    }

    let mut guest = module.instantiate_with(&GuestOptions {
        memory_limit: Some(MEMORY_LIMIT),
        ..GuestOptions::default()
    })?;
    let small = guest.call_u32("reserve", &[b"100"])?;
    findings.expect(small >= 100, || format!("reserve(100) = {small}"));
    let size = TOO_MUCH.to_string();
    let starved = guest.call_u32("reserve", &[size.as_bytes()]);
    let expected = format!("memory allocation of {TOO_MUCH} bytes failed");
    match &starved {
        Err(HostError::Trap {
            reason: Some(reason),
            ..
        }) => {
            // A std guest aborts with its allocator's note; a no_std one panics inside the
            // standard library, and must not pass std's source off as the guest's location.
            let whose = reason.starts_with("guest aborted: ")
                || reason.starts_with("guest panicked inside the Rust standard library at ");
            findings.expect(whose && reason.ends_with(&expected), || {
                format!("reserve({TOO_MUCH}) trapped with reason {reason:?}, expected {expected:?}")
            });
            findings.figure(format!("out of memory: {reason:?}"));
        }
        _ => findings.fail(format!(
            "reserve({TOO_MUCH}) under a {MEMORY_LIMIT}-byte limit = {starved:?}, expected a trap"
        )),
    }
    findings.expect(guest.memory_size() <= MEMORY_LIMIT, || {
        format!(
            "memory grew to {} bytes past the limit",
            guest.memory_size()
        )
    });

    // The panic comes while guestmem writes the error message: the reason must still be recorded,
    // and so must the reasons of later traps in the same instance.
    let mut guest = module.instantiate()?;
    let unprintable = guest.call_u32("fail_unprintably", &[b"x"]);
    findings.expect(
        matches!(&unprintable, Err(HostError::Trap { reason: Some(reason), .. })
            if reason.ends_with("this error cannot be shown")),
        || format!("fail_unprintably = {unprintable:?}, expected a trap with the panic's reason"),
    );
    let later = guest.free(8);
    findings.expect(
        matches!(&later, Err(HostError::Trap { reason: Some(reason), .. })
            if reason.starts_with("guestmem: not a live block")),
        || format!("free(8) after that trap = {later:?}, expected a trap with its reason"),
    );

    // A trap, not a panic, while the message is written: its own reason, naming the misused call.
    let mut guest = module.instantiate()?;
    let misused = guest.call_u32("fail_misusing", &[b"x"]);
    findings.expect(
        matches!(&misused, Err(HostError::Trap { reason: Some(reason), .. })
            if reason.starts_with("guestmem: wrong length: dealloc(") && reason.contains(", 9)")),
        || format!("fail_misusing = {misused:?}, expected a trap with dealloc's reason"),
    );

    let mut guest = module.instantiate()?;
    let refused = guest.call_u32("reserve", &[b"many"]);
    findings.expect(
        matches!(&refused, Err(HostError::Guest { message, .. }) if message.contains("not a number")),
        || format!("reserve(\"many\") = {refused:?}, expected an error, not a trap"),
    );
    Ok(())
}
