//! Self-describing modules and typed values: every guest's `guestmem.interface` section against
//! what the module really exports and imports, the Rust host refusing calls that do not match it,
//! and the `shapes` example's structs in and out as JSON and postcard.

use std::collections::BTreeSet;

use guestmem_host::{Error as HostError, Interface, to_json, to_postcard};

use crate::checks::Context;
use crate::examples::shapes::{Measured, Rect};
use crate::guest::GuestModule;
use crate::guests::{EXAMPLES, VARIANTS};
use crate::report::{Findings, Row};

/// Guests built with the macros whose section is checked, beside the examples and variants.
const DESCRIBED: [&str; 6] = [
    "greet",
    "greet-wasip1",
    "imports",
    "shapes",
    "in_place",
    "faults",
];

/// Runs the interface and typed-value checks.
#[must_use]
pub fn check_all(context: &Context) -> Vec<Row> {
    let mut sections = Findings::new();
    let outcome = check_sections(context, &mut sections);
    sections.finish(outcome);
    let mut enforced = Findings::new();
    let outcome = check_enforced(context, &mut enforced);
    enforced.finish(outcome);
    let mut typed = Findings::new();
    let outcome = check_typed(context, &mut typed);
    typed.finish(outcome);
    vec![
        sections.into_row(
            "interface",
            "every example's section = its exports and imports",
        ),
        enforced.into_row(
            "interface",
            "the Rust host refuses calls the section rules out",
        ),
        typed.into_row("interface", "shapes: structs as JSON and postcard"),
    ]
}

/// The interface of the module built as `name`.
fn interface_of(context: &Context, name: &str) -> Result<Option<Interface>, HostError> {
    let path = context.guests.example_path(name);
    let wasm = std::fs::read(&path).map_err(|source| crate::guest::io_error(&path, source))?;
    Ok(Interface::read(&wasm)?)
}

fn check_sections(context: &Context, findings: &mut Findings) -> Result<(), HostError> {
    let mut described = 0;
    for name in EXAMPLES.iter().chain(&VARIANTS).chain(&DESCRIBED) {
        let module = context.example(name)?;
        let Some(interface) = interface_of(context, name)? else {
            findings.expect(*name == "minimal", || {
                format!("{name}: no guestmem.interface section, but it declares functions")
            });
            continue;
        };
        described += 1;
        let exported: BTreeSet<String> = module
            .module()
            .exports()
            .filter(|export| export.ty().func().is_some())
            .map(|export| export.name().to_owned())
            // The ABI's exports, and WASI's reactor entry point, are not the author's.
            .filter(|name| guestmem_abi::names::abi_export(name).is_none() && name != "_initialize")
            .collect();
        let in_section: BTreeSet<String> = interface
            .exports
            .iter()
            .map(|function| function.name.clone())
            .collect();
        findings.expect(exported == in_section, || {
            format!("{name}: exports {exported:?}, the section describes {in_section:?}")
        });
        let imported: BTreeSet<String> = module
            .module()
            .imports()
            .filter(|import| !matches!(import.module(), "guestmem" | "wasi_snapshot_preview1"))
            .map(|import| format!("{}.{}", import.module(), import.name()))
            .collect();
        let in_section: BTreeSet<String> = interface
            .imports
            .iter()
            .map(|function| {
                format!(
                    "{}.{}",
                    function.module.as_deref().unwrap_or(""),
                    function.name
                )
            })
            .collect();
        findings.expect(imported == in_section, || {
            format!("{name}: imports {imported:?}, the section describes {in_section:?}")
        });
        if let Some(expected) = crate::testdata::describe_text(name) {
            // The linker decides the order of the entries: compare the lines as a set.
            let text = interface.to_string();
            let lines = |text: &str| text.lines().map(str::to_owned).collect::<BTreeSet<_>>();
            findings.expect(lines(&text) == lines(expected), || {
                format!("{name}: the section reads\n{text}expected\n{expected}")
            });
        }
        // The wasm types agree with the kinds: `set_interface` checks every described export.
        if !name.ends_with("-wasip1") && *name != "greet" && *name != "imports" {
            let mut guest = module.instantiate()?;
            if let Err(error) = guest.set_interface(interface) {
                findings.fail(format!("{name}: {error}"));
            }
        }
    }
    findings.figure(format!("{described} sections match their modules"));
    Ok(())
}

fn check_enforced(context: &Context, findings: &mut Findings) -> Result<(), HostError> {
    let module = context.example("upper")?;
    let mut guest = module.instantiate()?;
    let interface = interface_of(context, "upper")?
        .ok_or_else(|| HostError::Interface("upper has no section".to_owned()))?;
    guest.set_interface(interface)?;
    let upper = guest.func("upper")?;
    let as_integer = upper.call_u32(&mut guest, &["abc"]);
    findings.expect(matches!(&as_integer, Err(HostError::Call { .. })), || {
        format!("upper read as an integer = {as_integer:?}, expected a refused call")
    });
    let not_utf8 = upper.call_string(&mut guest, &[b"\xff"]);
    findings.expect(
        matches!(&not_utf8, Err(HostError::Call { message, .. }) if message.contains("argument `text`")),
        || format!("upper(invalid UTF-8) = {not_utf8:?}, expected a refused call naming `text`"),
    );
    // Refused before the guest ran: it recorded nothing.
    let pending = guest.last_error()?;
    findings.expect(pending.is_none(), || {
        format!("the guest ran the refused call: last_error {pending:?}")
    });
    let answer = upper.call_string(&mut guest, &["ok"])?;
    findings.expect(answer == "OK", || format!("upper(\"ok\") = {answer:?}"));
    findings.figure("a wrong result kind and a non-UTF-8 string refused");
    Ok(())
}

fn check_typed(context: &Context, findings: &mut Findings) -> Result<(), HostError> {
    let module: GuestModule = context.example("shapes")?;
    let mut guest = module.instantiate()?;
    let interface = interface_of(context, "shapes")?
        .ok_or_else(|| HostError::Interface("shapes has no section".to_owned()))?;
    guest.set_interface(interface)?;
    let before = guest.live_blocks()?;
    let rect = Rect {
        name: "door".to_owned(),
        width: 80,
        height: 200,
    };
    let expected = Measured {
        name: "door".to_owned(),
        area: 16_000,
        square: false,
    };
    let measure = guest.func("measure")?;
    let compact = guest.func("measure_compact")?;
    let json: Measured = measure.call_json(&mut guest, &[to_json(&rect)?])?;
    findings.expect(json == expected, || format!("measure (JSON) = {json:?}"));
    let binary: Measured = compact.call_postcard(&mut guest, &[to_postcard(&rect)?])?;
    findings.expect(binary == expected, || {
        format!("measure_compact (postcard) = {binary:?}")
    });

    let flat = Rect {
        height: 0,
        ..rect.clone()
    };
    let failed = measure.call_json::<_, _, Measured>(&mut guest, &[to_json(&flat)?]);
    findings.expect(
        matches!(&failed, Err(HostError::Guest { message, .. }) if message == "`door` has no area"),
        || format!("measure of a flat rectangle = {failed:?}, expected the guest's error"),
    );
    for (func, input, format) in [
        (&measure, b"{\"name\": 5}".as_slice(), "JSON"),
        (&compact, b"\x05ab".as_slice(), "postcard"),
    ] {
        let bad = func.call_bytes(&mut guest, &[input]);
        let words = format!("argument `rect`: not valid {format}");
        findings.expect(
            matches!(&bad, Err(HostError::Guest { message, .. }) if message.starts_with(&words)),
            || {
                format!(
                    "{} of bad {format} = {bad:?}, expected {words:?}",
                    func.name()
                )
            },
        );
    }
    let wrong = compact.call_json::<_, _, Measured>(&mut guest, &[to_postcard(&rect)?]);
    findings.expect(matches!(&wrong, Err(HostError::Call { .. })), || {
        format!("measure_compact read as JSON = {wrong:?}, expected a refused call")
    });
    let after = guest.live_blocks()?;
    findings.expect(after == before, || {
        format!("live_blocks went from {before:?} to {after:?}")
    });
    findings.figure(format!(
        "JSON {} B, postcard {} B for one Rect",
        to_json(&rect)?.len(),
        to_postcard(&rect)?.len()
    ));
    Ok(())
}
