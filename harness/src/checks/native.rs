//! The native half of the harness: guestmem and the example guests linked into this x86_64
//! binary, on the system allocator, and driven directly, so that Valgrind's memcheck sees every
//! block they allocate.
//!
//! Natively a trap is a panic carrying the recorded reason (the exports are `extern "C-unwind"`);
//! this check catches the ones it causes on purpose. Only misuse that reads live memory is tried here (a wrong length, a pointer into a
//! live block): a double free would read freed memory, which is the guest's defence on wasm32 but
//! an invalid read natively.
//!
//! `heap_bytes` counts only when [`guestmem::stats::Counting`] is the program's global allocator,
//! as it is in the `harness` binary and its tests; the check fails if it does not count.

use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use guestmem::stats;
use guestmem::{abi, native};

use crate::checks::Scale;
use crate::checks::common::{Xorshift, expected, input, pattern};
use crate::examples::{
    array_sum, echo, greet, imports, in_place, replace, shapes, upper, word_count,
};
use crate::report::{Findings, Row};

/// Lengths allocated, resized and freed in every round.
const LENGTHS: [usize; 12] = [0, 1, 7, 8, 9, 63, 64, 100, 1000, 4096, 4097, 70_000];

/// Runs the native check.
#[must_use]
pub fn check(scale: Scale) -> Row {
    let mut findings = Findings::new();
    let previous_hook = panic::take_hook();
    // The panics this check causes are expected; keep them off stderr.
    panic::set_hook(Box::new(|_| {}));
    let outcome = run(scale, &mut findings);
    drop(panic::take_hook());
    panic::set_hook(previous_hook);
    findings.finish(outcome);
    findings.into_row("native", "guestmem + examples, x86_64")
}

fn run(scale: Scale, findings: &mut Findings) -> Result<(), String> {
    counting_is_installed(findings);
    runs_alone(findings);
    // Registered once, before the heap is measured: the registry's own allocations stay.
    register_host_functions();
    let mut random = Xorshift::new(0x2545_F491);
    // Warm up: the first panic and the first messages initialise state that stays for good.
    round(0, &mut random, findings)?;
    let live_before = stats::live_blocks();
    let heap_before = stats::heap_bytes();
    let rounds = scale.native_round_trips();
    for index in 1..=rounds {
        round(index, &mut random, findings)?;
        if !findings.passed_so_far() {
            break;
        }
    }
    let live_after = stats::live_blocks();
    let heap_after = stats::heap_bytes();
    findings.figure(format!("{rounds} rounds"));
    findings.figure(format!("live_blocks {live_before} -> {live_after}"));
    findings.figure(format!("heap_bytes {heap_before} -> {heap_after}"));
    findings.expect(live_after == live_before, || {
        format!("live_blocks went from {live_before} to {live_after}")
    });
    findings.expect(heap_after == heap_before, || {
        format!("heap_bytes went from {heap_before} to {heap_after}")
    });
    Ok(())
}

fn counting_is_installed(findings: &mut Findings) {
    let before = stats::heap_bytes();
    let block = std::hint::black_box(Vec::<u8>::with_capacity(4096));
    let during = stats::heap_bytes();
    drop(block);
    findings.expect(during >= before.saturating_add(4096), || {
        format!(
            "heap_bytes went from {before} to {during} across a 4096-byte allocation: install \
             guestmem::stats::Counting as the #[global_allocator]"
        )
    });
}

/// `heap_bytes` counts every thread's allocations, so another thread's would read as a leak (or
/// hide one): the check must run on the process's only thread. A libtest suite has its runner's
/// thread too, which books the running test after spawning it; hence `harness = false` for
/// tests/native.rs. Counted where the system lists threads (Linux); elsewhere not checked.
fn runs_alone(findings: &mut Findings) {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return;
    };
    let threads = tasks.count();
    findings.expect(threads == 1, || {
        format!(
            "{threads} threads in the process: heap_bytes counts all of them, so this check must \
             run on the only one (a test of it needs `harness = false`)"
        )
    });
}

/// A host-owned input block holding `bytes`.
fn put(bytes: &[u8]) -> Result<*mut u8, String> {
    let ptr = abi::alloc(bytes.len());
    if ptr.is_null() {
        return Err(format!("alloc({}) returned null", bytes.len()));
    }
    // SAFETY: `ptr` is a fresh block of `bytes.len()` writable bytes, which cannot overlap
    // `bytes`, a live Rust slice.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
    Ok(ptr)
}

/// Frees a block the host owns.
///
/// # Safety
///
/// - `ptr` is null or a live block, freed by nobody else.
unsafe fn free(ptr: *mut u8) {
    // SAFETY: the caller's promise.
    unsafe { abi::free(ptr) };
}

/// Copies the result block at `ptr` out and frees it; `None` for null.
///
/// # Safety
///
/// - `ptr` is null or a result block returned by guestmem and not freed yet.
unsafe fn take_result(ptr: *mut u8) -> Option<Vec<u8>> {
    if ptr.is_null() {
        return None;
    }
    let mut prefix = [0_u8; 4];
    // SAFETY: a result block starts with its 4-byte length.
    unsafe { ptr::copy_nonoverlapping(ptr, prefix.as_mut_ptr(), 4) };
    let len = usize::try_from(u32::from_le_bytes(prefix)).ok()?;
    // SAFETY: the `len` bytes of the result follow the prefix.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.add(4), len) }.to_vec();
    // SAFETY: a result block, freed once, here.
    unsafe { abi::free(ptr) };
    Some(bytes)
}

/// The pending error message, taken from `last_error`.
fn last_error() -> Option<String> {
    // SAFETY: `last_error` returns null or a fresh result block.
    let bytes = unsafe { take_result(abi::last_error()) }?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Calls a guest function taking one `(ptr, len)` input and returning a result block, the way a
/// host does: input in a block of its own, result copied out, both freed.
fn call_result(
    function: unsafe extern "C-unwind" fn(*const u8, usize) -> *mut u8,
    bytes: &[u8],
) -> Result<Option<Vec<u8>>, String> {
    let input = put(bytes)?;
    // SAFETY: `input` holds `bytes.len()` initialised bytes, live for the call.
    let result = unsafe { function(input, bytes.len()) };
    // SAFETY: what the guest returns is null or a result block.
    let taken = unsafe { take_result(result) };
    // SAFETY: the input block is the host's, still live (the guest only borrows it).
    unsafe { free(input) };
    Ok(taken)
}

/// Runs `call`, which must panic (a native trap); returns the panic's message.
fn expect_trap(call: impl FnOnce()) -> Option<String> {
    let payload = panic::catch_unwind(AssertUnwindSafe(call)).err()?;
    payload.downcast_ref::<String>().cloned().or_else(|| {
        payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
    })
}

fn round(index: u32, random: &mut Xorshift, findings: &mut Findings) -> Result<(), String> {
    blocks(findings)?;
    examples(random, findings)?;
    errors(findings)?;
    host_functions(findings)?;
    if index.is_multiple_of(100) {
        traps(findings)?;
        host_function_traps(findings);
    }
    Ok(())
}

fn blocks(findings: &mut Findings) -> Result<(), String> {
    let mut live = Vec::new();
    for (seed, len) in (0..).zip(LENGTHS) {
        let content = pattern(seed, len);
        let ptr = put(&content)?;
        findings.expect(ptr.addr() % 8 == 0, || {
            format!("alloc({len}) = {ptr:p}, not 8-aligned")
        });
        live.push((ptr, content));
    }
    for (ptr, content) in &mut live {
        let new_len = content.len() * 2 + 3;
        // SAFETY: `*ptr` is a live block.
        let resized = unsafe { abi::realloc(*ptr, new_len) };
        if resized.is_null() {
            return Err(format!("realloc(_, {new_len}) returned null"));
        }
        // SAFETY: `resized` has `new_len` bytes, of which the first `content.len()` were kept.
        let kept = unsafe { std::slice::from_raw_parts(resized, content.len()) };
        findings.expect(kept == content.as_slice(), || {
            format!("realloc to {new_len} bytes lost content")
        });
        *ptr = resized;
        content.resize(new_len, 0);
        // SAFETY: `resized` has `new_len` writable bytes.
        unsafe { ptr::write_bytes(resized, 0, new_len) };
    }
    for (position, (ptr, content)) in live.into_iter().enumerate() {
        if position % 2 == 0 {
            // SAFETY: a live block of `content.len()` bytes, freed once.
            unsafe { abi::dealloc(ptr, content.len()) };
        } else {
            // SAFETY: a live block, freed once.
            unsafe { free(ptr) };
        }
    }
    let refused = abi::alloc(usize::MAX);
    findings.expect(refused.is_null(), || {
        "alloc(usize::MAX) did not return null".to_owned()
    });
    // SAFETY: null is a no-op.
    unsafe { free(ptr::null_mut()) };
    Ok(())
}

fn examples(random: &mut Xorshift, findings: &mut Findings) -> Result<(), String> {
    for guest in ["echo", "upper"] {
        let len = random.mixed_len() % 8192;
        let bytes = input(guest, len, random);
        let function = if guest == "echo" {
            echo::echo
        } else {
            upper::upper
        };
        let result = call_result(function, &bytes)?;
        findings.expect(
            result.as_deref() == Some(expected(guest, &bytes).as_slice()),
            || {
                format!(
                    "native {guest} returned a wrong result for {} bytes",
                    bytes.len()
                )
            },
        );
    }

    // Typed values: a struct in and out as JSON and as postcard.
    let rect = br#"{"name":"door","width":80,"height":200}"#;
    let measured = call_result(shapes::measure, rect)?;
    findings.expect(
        measured.as_deref() == Some(br#"{"name":"door","area":16000,"square":false}"#.as_slice()),
        || format!("native measure = {measured:?}"),
    );
    let compact = call_result(shapes::measure_compact, b"\x04door\x50\xc8\x01")?;
    findings.expect(
        compact.as_deref() == Some(b"\x04door\x80\x7d\x00".as_slice()),
        || format!("native measure_compact = {compact:?}"),
    );

    // An owned argument: the block, with 4 bytes of room in front, comes back as the result.
    let mut owned = vec![0_u8; 4];
    owned.extend_from_slice("straße".as_bytes());
    let block = put(&owned)?;
    // SAFETY: the host gives the block up with the call; the bytes follow the 4 bytes of room.
    let result = unsafe { in_place::ascii_upper(block.add(4), owned.len() - 4) };
    findings.expect(result == block, || {
        "native ascii_upper did not answer in place".to_owned()
    });
    // SAFETY: null or a result block, freed once.
    let upper = unsafe { take_result(result) };
    findings.expect(upper.as_deref() == Some("STRAßE".as_bytes()), || {
        format!("native ascii_upper = {upper:?}")
    });
    // A borrowed input where an owned one is due: refused, and nothing freed.
    let refused = call_result(in_place::ascii_upper, b"abc")?;
    let message = last_error();
    findings.expect(
        refused.is_none()
            && message
                .as_deref()
                .is_some_and(|message| message.contains("not an owned block")),
        || format!("native ascii_upper of a borrowed input = {refused:?}, {message:?}"),
    );

    // The std guest: std's collections and formatting over guestmem's blocks.
    let counted = call_result(word_count::word_count, b"b a b")?;
    findings.expect(counted.as_deref() == Some(b"a: 1\nb: 2\n"), || {
        format!("native word_count returned {counted:?}")
    });

    let numbers = put(&[1, 2, 3, 4, 5])?;
    // SAFETY: five initialised bytes, live for the call.
    let sum = unsafe { array_sum::array_sum(numbers, 5) };
    // SAFETY: the host's input block, freed once.
    unsafe { free(numbers) };
    findings.expect(sum == 15, || {
        format!("native array_sum([1, 2, 3, 4, 5]) = {sum}")
    });

    let [text, from, to] = [&b"Hello World!"[..], b"World", b"WASM"].map(put);
    let (text, from, to) = (text?, from?, to?);
    // SAFETY: three live input blocks of the lengths given.
    let replaced = unsafe { replace::replace(text, 12, from, 5, to, 4) };
    // SAFETY: null or a result block.
    let replaced = unsafe { take_result(replaced) };
    for block in [text, from, to] {
        // SAFETY: the host's input blocks, freed once each.
        unsafe { free(block) };
    }
    findings.expect(
        replaced.as_deref() == Some(b"Hello WASM!".as_slice()),
        || format!("native replace = {replaced:?}"),
    );
    Ok(())
}

fn errors(findings: &mut Findings) -> Result<(), String> {
    let result = call_result(upper::upper, b"stra\xDFe")?;
    findings.expect(result.is_none(), || {
        "native upper(invalid UTF-8) succeeded".to_owned()
    });
    let message = last_error();
    findings.expect(
        message
            .as_deref()
            .is_some_and(|message| message.contains("UTF-8")),
        || format!("native last_error after invalid UTF-8 = {message:?}"),
    );
    let cleared = last_error();
    findings.expect(cleared.is_none(), || {
        format!("native last_error was not cleared: {cleared:?}")
    });
    Ok(())
}

fn traps(findings: &mut Findings) -> Result<(), String> {
    let block = put(&[0x5A; 32])?;
    // SAFETY: `block` is live; a wrong length is caught before anything is freed.
    let wrong_length = expect_trap(|| unsafe { abi::dealloc(block, 33) });
    let reason = last_error();
    findings.expect(
        wrong_length
            .as_deref()
            .is_some_and(|message| message.contains("dealloc"))
            && wrong_length == reason,
        || {
            format!(
                "native dealloc with a wrong length: panic {wrong_length:?}, last_error {reason:?}"
            )
        },
    );
    // SAFETY: `block + 8` points into the live block; the header read in front of it is the
    // block's own initialised bytes, and the tag check rejects it.
    let interior = expect_trap(|| unsafe { abi::free(block.add(8)) });
    let reason = last_error();
    findings.expect(interior.is_some() && interior == reason, || {
        format!("native free of an interior pointer: panic {interior:?}, last_error {reason:?}")
    });
    // The trapping calls did not touch the heap: the block is still live, with its length.
    // SAFETY: `block` is live with 32 bytes, freed once.
    unsafe { abi::dealloc(block, 32) };
    Ok(())
}

/// Key of `env.fetch` that fails, and its message.
const FETCH_FAILS: (&[u8], &str) = (b"fail", "no record for this key");

/// The host functions `greet` and the `imports` test guest call, natively. Only answers that are
/// live memory are given natively (a misaligned pointer is refused before it is read; a block
/// with a wrong prefix is a real block): a freed block would be an invalid read here, as for
/// `free`. The wasm checks give every hostile answer (`imports`).
fn register_host_functions() {
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "salutation", |_| native::result(b"Hello")) };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "log", |_| 0) };
    let fetch = |args: &[u64]| {
        // SAFETY: the wrapper's (ptr, len) pair, live for the call.
        let key = unsafe { native::bytes(args[0], args[1]) };
        if key == FETCH_FAILS.0 {
            return native::fail(FETCH_FAILS.1);
        }
        native::result(&key.repeat(3))
    };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "fetch", fetch) };
    let hostile = |args: &[u64]| match args[0] {
        0 => 12,
        3 => {
            let block = abi::alloc(8);
            // SAFETY: a fresh block of 8 bytes: the prefix claims 1,000.
            unsafe { block.cast::<[u8; 4]>().write(1000_u32.to_le_bytes()) };
            block.expose_provenance() as u64
        }
        5 => 0,
        _ => native::result(b"abc"),
    };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "hostile", hostile) };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "trusted", hostile) };
}

/// Calls a guest function taking two string inputs and returning an integer.
fn call_u32(
    function: unsafe extern "C-unwind" fn(*const u8, usize) -> u32,
    bytes: &[u8],
) -> Result<u32, String> {
    let input = put(bytes)?;
    // SAFETY: `input` holds `bytes.len()` initialised bytes, live for the call.
    let value = unsafe { function(input, bytes.len()) };
    // SAFETY: the input block is the host's, still live.
    unsafe { free(input) };
    Ok(value)
}

fn host_functions(findings: &mut Findings) -> Result<(), String> {
    let greeting = call_result(greet::greet, b"guestmem")?;
    findings.expect(greeting.as_deref() == Some(b"Hello, guestmem!"), || {
        format!("native greet = {greeting:?}")
    });
    let relayed = call_result(imports::relay, b"key")?;
    findings.expect(relayed.as_deref() == Some(b"keykeykey"), || {
        format!("native relay(\"key\") = {relayed:?}")
    });
    let failed = call_result(imports::relay, FETCH_FAILS.0)?;
    let message = last_error();
    findings.expect(
        failed.is_none() && message.as_deref() == Some(FETCH_FAILS.1),
        || format!("native relay(\"fail\") = {failed:?}, last_error {message:?}"),
    );
    for (case, words) in [
        ("0", "not a live block"),
        ("3", "bytes in a block with room for"),
        ("5", "returned 0 and no error message"),
    ] {
        let answer = call_u32(imports::relay_hostile, case.as_bytes())?;
        let message = last_error();
        findings.expect(
            answer == 0
                && message
                    .as_deref()
                    .is_some_and(|message| message.contains(words)),
            || format!("native relay_hostile({case}) = {answer}, last_error {message:?}"),
        );
    }
    let valid = call_u32(imports::relay_hostile, b"99")?;
    findings.expect(valid == 3, || format!("native relay_hostile(99) = {valid}"));
    Ok(())
}

/// An import that cannot fail traps on a bad answer, with the reason, and leaks nothing: the
/// block with a wrong prefix is freed before the trap.
fn host_function_traps(findings: &mut Findings) {
    let case = b"3";
    let trapped = expect_trap(|| {
        // SAFETY: `case` is live for the call; the guest traps, as expected.
        unsafe { imports::relay_trusted(case.as_ptr(), case.len()) };
    });
    let reason = last_error();
    findings.expect(
        trapped
            .as_deref()
            .is_some_and(|message| message.contains("host function `env.trusted`"))
            && trapped == reason,
        || format!("native relay_trusted(3): panic {trapped:?}, last_error {reason:?}"),
    );
}

/// Leaks one result block through the natively linked `echo`, on purpose, so that Valgrind's
/// leak check has something to find (`harness --plant-leak`). Returns the payload length.
#[inline(never)]
pub fn plant_leak() -> usize {
    let bytes = b"guestmem: this result block is leaked on purpose";
    // SAFETY: `bytes` is live for the call. The result block is never freed: that is the point.
    let leaked = unsafe { echo::echo(bytes.as_ptr(), bytes.len()) };
    std::hint::black_box(leaked.is_null());
    bytes.len()
}
