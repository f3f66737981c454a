//! Every line of the ABI v1 contract (`docs/ABI.md`) against every example guest, and
//! against `echo` built with each allocator back end.
//!
//! Anything that traps on purpose runs in an instance of its own, which is dropped afterwards.

use crate::HostError;
use crate::checks::common::pattern;
use crate::checks::{Context, Expected, sample_call};
use crate::guest::{Calls, Guest, GuestModule, GuestOptions};
use crate::guests::{ALLOCATORS, EXAMPLES, MINIMAL, OWN_ALLOCATOR, VARIANTS};
use crate::report::{Findings, Row};
use crate::testdata::CONFORMANCE;

/// Block alignment promised by `alloc` (docs/ABI.md).
const ALIGN: u32 = guestmem_host::result_block::BLOCK_ALIGN;

/// The guests checked again through guestmem-host's `_async` calls.
pub const ASYNC_GUESTS: [&str; 2] = ["echo", "upper"];

/// Runs the conformance check on every example guest, every `echo-<allocator>` build, the
/// guest that brings its own global allocator, and [`ASYNC_GUESTS`] through the `_async` calls.
#[must_use]
pub fn check_all(context: &Context) -> Vec<Row> {
    let examples = EXAMPLES
        .iter()
        .map(|name| (name.to_string(), context.example(name)));
    let allocators = ALLOCATORS
        .iter()
        .map(|allocator| (format!("echo-{allocator}"), context.echo(allocator)));
    let own = std::iter::once((OWN_ALLOCATOR.to_owned(), context.example(OWN_ALLOCATOR)));
    let variants = VARIANTS
        .iter()
        .map(|name| (name.to_string(), context.example(name)));
    let asynchronous = ASYNC_GUESTS.iter().map(|name| {
        let module = context.example(name);
        (
            format!("{name} (async calls)"),
            module.map(|module| module.with_calls(Calls::Async)),
        )
    });
    examples
        .chain(allocators)
        .chain(own)
        .chain(variants)
        .chain(asynchronous)
        .map(|(name, module)| match module {
            Ok(module) => check(&module),
            Err(error) => {
                let mut findings = Findings::new();
                findings.fail(format!("cannot load the guest: {error}"));
                findings.into_row("conformance", name)
            }
        })
        .collect()
}

/// Runs the conformance check on one guest.
#[must_use]
pub fn check(module: &GuestModule) -> Row {
    let mut findings = Findings::new();
    let outcome = run(module, &mut findings);
    findings.finish(outcome);
    let expectations = findings.expectations();
    findings.figure(format!("{expectations} expectations"));
    if Reasons::of(module) == Reasons::Compact {
        findings.figure("compact trap reasons");
    }
    findings.into_row("conformance", module.label())
}

fn run(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    abi_version(module, findings)?;
    stats_exports(module, findings);
    alignment_and_overlap(module, findings)?;
    alloc_zero(module, findings)?;
    impossible_lengths(module, findings)?;
    refused_growth(module, findings)?;
    realloc_keeps_bytes(module, findings)?;
    wrong_length(module, findings)?;
    bad_pointers(module, findings)?;
    null_pointers(module, findings)?;
    stale_after_realloc(module, findings)?;
    results(module, findings)?;
    errors(module, findings)?;
    newest_error_wins(module, findings)?;
    allocation_failure_in_guest_code(module, findings)?;
    ownership(module, findings)?;
    Ok(())
}

fn len_of(len: u32) -> usize {
    usize::try_from(len).expect("u32 fits usize on the hosts the harness supports")
}

fn abi_version(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    let version = module.instantiate()?.abi_version()?;
    let expected = CONFORMANCE.abi_version;
    findings.expect(version == expected, || {
        format!("abi_version() = {version}, expected {expected}")
    });
    Ok(())
}

fn stats_exports(module: &GuestModule, findings: &mut Findings) {
    let live_blocks = module.exports("live_blocks");
    let heap_bytes = module.exports("heap_bytes");
    findings.expect(live_blocks == heap_bytes, || {
        format!("live_blocks exported: {live_blocks}, heap_bytes exported: {heap_bytes}: the stats feature adds both")
    });
    let expected = module.name() != MINIMAL;
    findings.expect(live_blocks == expected, || {
        format!("stats exports present: {live_blocks}, expected {expected} for this guest")
    });
}

/// Checks that `live_blocks` (when exported) is `expected`.
fn expect_live(
    guest: &mut Guest,
    findings: &mut Findings,
    expected: Option<u32>,
    when: &str,
) -> Result<(), HostError> {
    let live = guest.live_blocks()?;
    findings.expect(live == expected, || {
        format!("live_blocks() = {live:?} {when}, expected {expected:?}")
    });
    Ok(())
}

fn alignment_and_overlap(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    let mut guest = module.instantiate()?;
    let baseline = guest.live_blocks()?;
    let mut blocks: Vec<(u32, u32, u32)> = Vec::new();
    for (seed, &len) in (0_u32..).zip(
        CONFORMANCE
            .lengths
            .iter()
            .chain(CONFORMANCE.lengths.iter().rev()),
    ) {
        let ptr = guest.alloc(len)?;
        if !findings.expect(ptr != 0, || {
            format!("alloc({len}) returned 0 with memory to spare")
        }) {
            continue;
        }
        findings.expect(ptr % ALIGN == 0, || {
            format!("alloc({len}) = {ptr:#x}, not a multiple of {ALIGN}")
        });
        guest.write(ptr, &pattern(seed, len_of(len)))?;
        blocks.push((ptr, len, seed));
    }
    let memory = guest.memory_size();
    for &(ptr, len, _) in &blocks {
        findings.expect(len_of(ptr) + len_of(len) <= memory, || {
            format!("block {ptr:#x}+{len} ends past linear memory ({memory} bytes)")
        });
    }
    let mut sorted = blocks.clone();
    sorted.sort_unstable();
    for pair in sorted.windows(2) {
        let ((first, first_len, _), (second, _, _)) = (pair[0], pair[1]);
        findings.expect(
            u64::from(first) + u64::from(first_len) <= u64::from(second) && first != second,
            || format!("block {first:#x}+{first_len} overlaps block {second:#x}"),
        );
    }
    for &(ptr, len, seed) in &blocks {
        let content = guest.read(ptr, len_of(len))?;
        findings.expect(content == pattern(seed, len_of(len)), || {
            format!("block {ptr:#x}+{len} was changed while other blocks were allocated")
        });
    }
    let count = u32::try_from(blocks.len()).unwrap_or(u32::MAX);
    expect_live(
        &mut guest,
        findings,
        baseline.map(|base| base + count),
        "with every block live",
    )?;
    for (index, &(ptr, len, _)) in blocks.iter().enumerate() {
        if index % 2 == 0 {
            guest.free(ptr)?
        } else {
            guest.dealloc(ptr, len)?
        }
    }
    expect_live(&mut guest, findings, baseline, "after freeing every block")
}

fn alloc_zero(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    let mut guest = module.instantiate()?;
    let baseline = guest.live_blocks()?;
    let first = guest.alloc(0)?;
    let second = guest.alloc(0)?;
    findings.expect(first != 0 && second != 0, || {
        format!("alloc(0) returned {first:#x} and {second:#x}: 0 is never a block")
    });
    findings.expect(first % ALIGN == 0 && second % ALIGN == 0, || {
        format!("alloc(0) returned {first:#x} and {second:#x}: not 8-aligned")
    });
    findings.expect(first != second, || {
        format!("two live alloc(0) blocks share the address {first:#x}")
    });
    expect_live(
        &mut guest,
        findings,
        baseline.map(|base| base + 2),
        "with two alloc(0) blocks live",
    )?;
    guest.free(first)?;
    guest.dealloc(second, 0)?;
    expect_live(
        &mut guest,
        findings,
        baseline,
        "after freeing the alloc(0) blocks",
    )
}

/// Calls `alloc(len)` and `realloc(kept, len)` where the result must be `0` without a trap and
/// with `memory.size` unchanged, and `kept` untouched.
fn expect_refused(
    guest: &mut Guest,
    findings: &mut Findings,
    len: u32,
    kept: (u32, &[u8]),
) -> Result<(), HostError> {
    let pages = guest.memory_pages();
    match guest.alloc(len) {
        Ok(ptr) => findings.expect(ptr == 0, || {
            format!("alloc({len}) = {ptr:#x} where no block can be had")
        }),
        Err(error) => findings.expect(false, || {
            format!("alloc({len}) must return 0, not fail: {error}")
        }),
    };
    let after = guest.memory_pages();
    findings.expect(after == pages, || {
        format!("failed alloc({len}) changed memory.size from {pages} to {after} pages")
    });
    let (ptr, content) = kept;
    match guest.realloc(ptr, len) {
        Ok(new_ptr) => findings.expect(new_ptr == 0, || {
            format!("realloc({ptr:#x}, {len}) = {new_ptr:#x} where no block can be had")
        }),
        Err(error) => findings.expect(false, || {
            format!("realloc({ptr:#x}, {len}) must return 0, not fail: {error}")
        }),
    };
    let after = guest.memory_pages();
    findings.expect(after == pages, || {
        format!("failed realloc(_, {len}) changed memory.size from {pages} to {after} pages")
    });
    let now = guest.read(ptr, content.len())?;
    findings.expect(now == content, || {
        format!("failed realloc({ptr:#x}, {len}) changed the old block")
    });
    Ok(())
}

fn impossible_lengths(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    let mut guest = module.instantiate()?;
    let content = pattern(7, 100);
    let kept = guest.put(&content)?;
    for &len in &CONFORMANCE.impossible_lengths {
        expect_refused(&mut guest, findings, len, (kept, &content))?;
    }
    // The old block is still live: freeing it must not trap.
    guest.free(kept)
}

fn refused_growth(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    const PAGE: usize = 65_536;
    const SMALL: u32 = 4096;
    const MOST_SMALL_BLOCKS: usize = 10_000;
    let initial = module.instantiate()?.memory_size();
    let limit = initial + 2 * PAGE;
    let mut guest = module.instantiate_with(&GuestOptions {
        memory_limit: Some(limit),
        ..GuestOptions::default()
    })?;
    let content = pattern(9, 100);
    let kept = guest.put(&content)?;
    expect_refused(&mut guest, findings, 4 << 20, (kept, &content))?;

    // Fill memory with small blocks until `memory.grow` is refused.
    let mut blocks = Vec::new();
    let mut refused = false;
    while blocks.len() < MOST_SMALL_BLOCKS {
        let pages = guest.memory_pages();
        let ptr = guest.alloc(SMALL)?;
        if ptr == 0 {
            let after = guest.memory_pages();
            findings.expect(after == pages, || format!("alloc({SMALL}) refused growth but memory.size went from {pages} to {after} pages"));
            refused = true;
            break;
        }
        blocks.push(ptr);
    }
    findings.expect(refused, || {
        format!("{MOST_SMALL_BLOCKS} blocks of {SMALL} bytes fit under a {limit}-byte memory limit")
    });
    let size = guest.memory_size();
    findings.expect(size <= limit, || {
        format!("memory grew to {size} bytes past the {limit}-byte limit")
    });
    findings.figure(format!(
        "{} blocks of {SMALL} B before growth was refused",
        blocks.len()
    ));
    for ptr in blocks {
        guest.free(ptr)?;
    }
    let again = guest.alloc(SMALL)?;
    findings.expect(again != 0, || {
        format!("alloc({SMALL}) = 0 after every block was freed")
    });
    guest.free(again)?;
    guest.free(kept)
}

fn realloc_keeps_bytes(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    let mut guest = module.instantiate()?;
    let baseline = guest.live_blocks()?;
    let mut content = pattern(1, 100);
    let mut ptr = guest.put(&content)?;
    for (seed, new_len) in (2_u32..).zip([10_000_u32, 50, 0, 200, 70_000, 8]) {
        let new_ptr = guest.realloc(ptr, new_len)?;
        if !findings.expect(new_ptr != 0 && new_ptr % ALIGN == 0, || {
            format!("realloc({ptr:#x}, {new_len}) = {new_ptr:#x}")
        }) {
            return Ok(());
        }
        let kept = content.len().min(len_of(new_len));
        let now = guest.read(new_ptr, kept)?;
        findings.expect(now == content[..kept], || {
            format!("realloc({ptr:#x}, {new_len}) did not keep the first {kept} bytes")
        });
        content.truncate(kept);
        content.extend(pattern(seed, len_of(new_len) - kept));
        guest.write(new_ptr, &content)?;
        ptr = new_ptr;
    }
    // The latest length is the one dealloc takes.
    guest.dealloc(ptr, 8)?;
    let fresh = guest.realloc(0, 32)?;
    findings.expect(fresh != 0 && fresh % ALIGN == 0, || {
        format!("realloc(0, 32) = {fresh:#x}, expected a new block")
    });
    guest.write(fresh, &[0xA5; 32])?;
    guest.dealloc(fresh, 32)?;
    expect_live(&mut guest, findings, baseline, "after the realloc sequence")
}

/// How much a trap's reason must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reasons {
    /// The export and the pointer, as "Traps" in `docs/ABI.md` says.
    Full,
    /// A fixed message, `guestmem: PROBLEM`: guests built with guestmem's `compact` feature
    /// (`minimal`), which trades the formatted message for module size.
    Compact,
}

impl Reasons {
    pub(crate) fn of(module: &GuestModule) -> Self {
        if module.name() == MINIMAL {
            Self::Compact
        } else {
            Self::Full
        }
    }
}

/// Expects `outcome` to be a trap in `function` whose recorded reason says what `reasons` asks.
pub(crate) fn expect_trap(
    findings: &mut Findings,
    reasons: Reasons,
    outcome: Result<(), HostError>,
    function: &str,
    ptr: u32,
    case: &str,
) {
    match outcome {
        Err(HostError::Trap {
            reason: Some(reason),
            ..
        }) => {
            let names_ptr =
                reason.contains(&format!("{ptr:#x}")) || reason.contains(&ptr.to_string());
            // docs/ABI.md, "Traps": both forms start `guestmem: PROBLEM`; the full one goes on
            // to name the export and the pointer.
            let enough = reason.starts_with("guestmem: ")
                && match reasons {
                    Reasons::Full => reason.contains(function) && names_ptr,
                    Reasons::Compact => true,
                };
            findings.expect(enough, || {
                format!(
                    "{case}: the trap's reason {reason:?} does not start with `guestmem: ` or does \
                     not name `{function}` and {ptr:#x}"
                )
            });
        }
        Err(HostError::Trap { reason: None, .. }) => {
            findings.fail(format!("{case}: trapped without recording a reason"));
        }
        Err(error) => findings.fail(format!("{case}: expected a trap, got {error}")),
        Ok(()) => findings.fail(format!("{case}: expected a trap, the call returned")),
    }
}

fn wrong_length(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    for (len, wrong) in [(24, 25), (24, 23), (24, 0), (0, 8), (4096, 4097)] {
        let mut guest = module.instantiate()?;
        let ptr = guest.alloc(len)?;
        let live = guest.live_blocks()?;
        let outcome = guest.dealloc(ptr, wrong);
        expect_trap(
            findings,
            Reasons::of(module),
            outcome,
            "dealloc",
            ptr,
            &format!("dealloc(alloc({len}), {wrong})"),
        );
        expect_live(&mut guest, findings, live, "after a trapping dealloc")?;
    }
    Ok(())
}

/// A pointer that is not a live block, made in a fresh instance.
type BadPointer = fn(&mut Guest) -> Result<u32, HostError>;

const BAD_POINTERS: [(&str, BadPointer); 8] = [
    ("double free", |guest| {
        let ptr = guest.alloc(16)?;
        guest.free(ptr)?;
        Ok(ptr)
    }),
    ("interior pointer", |guest| Ok(guest.alloc(64)? + 8)),
    ("never handed out (low)", |guest| {
        guest.alloc(16)?;
        Ok(1024)
    }),
    ("never handed out (top of memory)", |guest| {
        guest.alloc(16)?;
        let top = u32::try_from(guest.memory_size()).unwrap_or(u32::MAX);
        Ok((top - 64) & !7)
    }),
    ("misaligned by 1", |guest| Ok(guest.alloc(16)? + 1)),
    ("misaligned by 4", |guest| Ok(guest.alloc(16)? + 4)),
    ("past the end of memory", |guest| {
        guest.alloc(16)?;
        Ok(u32::try_from(guest.memory_size())
            .unwrap_or(u32::MAX)
            .saturating_add(8))
    }),
    ("near u32::MAX", |_| Ok(0xFFFF_FFF8)),
];

fn bad_pointers(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    for (case, make) in BAD_POINTERS {
        for function in ["free", "dealloc", "realloc"] {
            let mut guest = module.instantiate()?;
            let ptr = make(&mut guest)?;
            let live = guest.live_blocks()?;
            let outcome = match function {
                "free" => guest.free(ptr),
                "dealloc" => guest.dealloc(ptr, 16),
                _ => guest.realloc(ptr, 32).map(drop),
            };
            expect_trap(
                findings,
                Reasons::of(module),
                outcome,
                function,
                ptr,
                &format!("{function}({ptr:#x}), {case}"),
            );
            expect_live(&mut guest, findings, live, "after a trapping call")?;
        }
    }
    Ok(())
}

/// `free(0)` and `dealloc(0, _)` do nothing; `realloc(0, n)` is `alloc(n)` (checked with the
/// realloc sequence).
fn null_pointers(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    let mut guest = module.instantiate()?;
    let kept = guest.put(b"still here")?;
    let live = guest.live_blocks()?;
    let pages = guest.memory_pages();
    guest.free(0)?;
    guest.dealloc(0, 0)?;
    guest.dealloc(0, 123)?;
    expect_live(
        &mut guest,
        findings,
        live,
        "after free(0) and dealloc(0, _)",
    )?;
    let after = guest.memory_pages();
    findings.expect(after == pages, || {
        format!("free(0) or dealloc(0, _) changed memory.size from {pages} to {after} pages")
    });
    let content = guest.read(kept, 10)?;
    findings.expect(content == b"still here", || {
        "free(0) or dealloc(0, _) changed another block".to_owned()
    });
    guest.free(kept)
}

/// Once `realloc` has moved a block, the old pointer is not a block any more.
fn stale_after_realloc(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    let mut guest = module.instantiate()?;
    let old = guest.alloc(16)?;
    // A neighbour keeps the block from growing in place.
    guest.alloc(16)?;
    let moved = guest.realloc(old, 1 << 20)?;
    if !findings.expect(moved != 0, || "realloc(_, 1 MiB) returned 0".to_owned()) || moved == old {
        findings.figure("realloc grew in place: stale pointer not checked");
        return Ok(());
    }
    let live = guest.live_blocks()?;
    let outcome = guest.free(old);
    expect_trap(
        findings,
        Reasons::of(module),
        outcome,
        "free",
        old,
        &format!("free({old:#x}) after realloc moved it to {moved:#x}"),
    );
    expect_live(&mut guest, findings, live, "after freeing a stale pointer")
}

/// Reads the result block at `ptr` by hand and frees it with `dealloc(ptr, n + 4)`.
fn read_by_hand(
    guest: &mut Guest,
    findings: &mut Findings,
    ptr: u32,
    what: &str,
) -> Result<Vec<u8>, HostError> {
    findings.expect(ptr != 0 && ptr.is_multiple_of(ALIGN), || {
        format!("{what}: result pointer {ptr:#x} is not a block")
    });
    let prefix = guest.read(ptr, 4)?;
    let len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    let bytes = guest.read(ptr + 4, len_of(len))?;
    guest.dealloc(ptr, len + 4)?;
    Ok(bytes)
}

fn results(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    // A result from a guest function, freed with dealloc(p, n + 4).
    if let Some(call) = sample_call(|name| module.exports(name))
        && let Expected::Bytes(expected) = &call.expected
    {
        let mut guest = module.instantiate()?;
        let baseline = guest.live_blocks()?;
        let inputs: Vec<&[u8]> = call.inputs.iter().map(Vec::as_slice).collect();
        let ptr = guest.call_with_inputs(call.function, &inputs)?;
        let bytes = read_by_hand(&mut guest, findings, ptr, call.function)?;
        findings.expect(&bytes == expected, || {
            format!("{}: result {bytes:?}, expected {expected:?}", call.function)
        });
        expect_live(
            &mut guest,
            findings,
            baseline,
            "after freeing a result with dealloc(p, n + 4)",
        )?;
    }
    // No error is pending in a fresh instance; a trap's reason is pending until read once.
    let mut guest = module.instantiate()?;
    let pending = guest.call_raw("last_error", &[])?;
    findings.expect(pending == 0, || {
        format!("a fresh instance has a pending error ({pending:#x})")
    });
    let trapped = guest.free(1024);
    findings.expect(
        trapped
            .as_ref()
            .is_err_and(|error| error.trap_reason().is_some()),
        || format!("free(0x400) = {trapped:?}, expected a trap with a reason"),
    );
    let cleared = guest.call_raw("last_error", &[])?;
    findings.expect(cleared == 0, || {
        format!("the trap's reason is still pending after it was read ({cleared:#x})")
    });

    // A last_error message is a result block like any other.
    if module.exports("upper") {
        let mut guest = module.instantiate()?;
        let baseline = guest.live_blocks()?;
        guest.call_with_inputs("upper", &[b"\xFF"])?;
        let ptr = guest.call_raw("last_error", &[])?;
        let message = read_by_hand(&mut guest, findings, ptr, "last_error")?;
        findings.expect(
            std::str::from_utf8(&message).is_ok_and(|text| !text.is_empty()),
            || format!("last_error's message {message:?} is not non-empty UTF-8"),
        );
        expect_live(
            &mut guest,
            findings,
            baseline,
            "after freeing last_error's block with dealloc(p, n + 4)",
        )?;
    }
    Ok(())
}

fn errors(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    if module.exports("upper") {
        let mut guest = module.instantiate()?;
        let invalid: &[u8] = b"caf\xC3";
        let raw = guest.call_with_inputs("upper", &[invalid])?;
        findings.expect(raw == 0, || {
            format!("upper(invalid UTF-8) = {raw:#x}, expected 0")
        });
        let message = guest.last_error()?;
        findings.expect(message.as_deref().is_some_and(|message| message.contains("UTF-8")), || {
            format!("upper(invalid UTF-8) left last_error = {message:?}, expected a message mentioning UTF-8")
        });
        let cleared = guest.last_error()?;
        findings.expect(cleared.is_none(), || {
            format!("last_error did not clear the message: then {cleared:?}")
        });

        // A later success does not clear a pending error.
        guest.call_with_inputs("upper", &[invalid])?;
        let upper = guest.call_bytes("upper", &[b"ok"])?;
        findings.expect(upper == b"OK", || format!("upper(\"ok\") = {upper:?}"));
        let still = guest.last_error()?;
        findings.expect(still.is_some(), || {
            "a successful call cleared the pending error".to_owned()
        });

        // The host API turns the 0 into a typed error carrying the message.
        let typed = guest.call_bytes("upper", &[invalid]);
        findings.expect(
            matches!(&typed, Err(HostError::Guest { message, .. }) if message.contains("UTF-8")),
            || format!("call_bytes(upper, invalid UTF-8) = {typed:?}"),
        );
    }
    if module.exports("replace") {
        let mut guest = module.instantiate()?;
        let raw = guest.call_with_inputs("replace", &[b"abc", b"", b"x"])?;
        findings.expect(raw == 0, || {
            format!("replace with an empty pattern = {raw:#x}, expected 0")
        });
        let message = guest.last_error()?;
        findings.expect(message.is_some(), || {
            "replace with an empty pattern left no message".to_owned()
        });
    }
    Ok(())
}

/// A new error replaces a pending one: after two failures, `last_error` holds the second's
/// message.
fn newest_error_wins(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    if !module.exports("upper") {
        return Ok(());
    }
    let first: &[u8] = b"ok \xC3";
    let second: &[u8] = b"\xFF";
    let message_after = |inputs: &[&[u8]]| -> Result<Option<String>, HostError> {
        let mut guest = module.instantiate()?;
        for input in inputs {
            guest.call_with_inputs("upper", &[input])?;
        }
        guest.last_error()
    };
    let only_first = message_after(&[first])?;
    let only_second = message_after(&[second])?;
    let both = message_after(&[first, second])?;
    findings.expect(only_first != only_second, || {
        format!("both failures give the same message {only_first:?}: the check proves nothing")
    });
    findings.expect(both == only_second, || {
        format!("after two failures last_error = {both:?}, expected the second's {only_second:?}")
    });
    Ok(())
}

/// An allocation that fails inside guest code is a panic with a recorded reason; one that fails
/// for a result block is an error.
fn allocation_failure_in_guest_code(
    module: &GuestModule,
    findings: &mut Findings,
) -> Result<(), HostError> {
    const INPUT: usize = 1 << 20;
    for function in ["upper", "echo"] {
        if !module.exports(function) {
            continue;
        }
        let probe = module.instantiate()?;
        // Room for the input, not for the guest's copy of it.
        let limit = probe.memory_size() + INPUT + (128 << 10);
        let mut guest = module.instantiate_with(&GuestOptions {
            memory_limit: Some(limit),
            ..GuestOptions::default()
        })?;
        let input = vec![b'a'; INPUT];
        let outcome = guest.call_bytes(function, &[&input]);
        let size = guest.memory_size();
        findings.expect(size <= limit, || {
            format!("memory grew to {size} bytes past the {limit}-byte limit")
        });
        match (function, &outcome) {
            ("upper", Err(HostError::Trap { reason, .. })) => {
                findings.expect(
                    reason
                        .as_deref()
                        .is_some_and(|reason| reason.contains("memory allocation of")),
                    || format!("upper out of memory trapped with reason {reason:?}"),
                );
            }
            ("echo", Err(HostError::Guest { message, .. })) => {
                findings.expect(!message.is_empty(), || {
                    "echo out of memory left no message".to_owned()
                });
            }
            _ => findings.fail(format!(
                "{function} of {INPUT} bytes under a {limit}-byte memory limit: {outcome:?}"
            )),
        }
    }
    Ok(())
}

fn ownership(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    let Some(call) = sample_call(|name| module.exports(name)) else {
        return Ok(());
    };
    let mut guest = module.instantiate()?;
    let baseline = guest.live_blocks()?;
    let mut args = Vec::new();
    for input in &call.inputs {
        args.push(guest.put(input)?);
        args.push(u32::try_from(input.len()).unwrap_or(u32::MAX));
    }
    let raw = guest.call_raw(call.function, &args)?;
    for (pair, input) in args.chunks_exact(2).zip(&call.inputs) {
        let now = guest.read(pair[0], input.len())?;
        findings.expect(&now == input, || {
            format!("{} changed its input at {:#x}", call.function, pair[0])
        });
    }
    match &call.expected {
        Expected::Bytes(expected) => {
            let bytes = guest.take_result(call.function, raw)?;
            findings.expect(&bytes == expected, || {
                format!("{}: result {bytes:?}, expected {expected:?}", call.function)
            });
        }
        Expected::Integer(expected) => {
            findings.expect(raw == *expected, || {
                format!("{} = {raw}, expected {expected}", call.function)
            });
        }
    }
    // The inputs are still live blocks: freeing them must not trap.
    for pair in args.chunks_exact(2) {
        guest.free(pair[0])?;
    }
    expect_live(
        &mut guest,
        findings,
        baseline,
        "after freeing the inputs and the result",
    )
}
