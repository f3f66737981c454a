//! The ABI v1 contract (docs/ABI.md), line by line, against the native build of the exports.
//!
//! Natively a trap is a panic carrying the recorded reason. The exports share global state (the
//! error slot, the counters), so every test holds `serial()`. `heap_bytes` counts every
//! allocation of the process, the test runner's too, so it is checked in tests/heap_bytes.rs,
//! which runs alone.

mod model;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use guestmem::abi::{abi_version, alloc, dealloc, free, last_error, realloc};
use guestmem::stats::live_blocks;
use model::{Call, Step, bytes_of, expect_trap, fill, panic_text, serial, take_error, take_result};
use proptest::prelude::*;

/// The message expected: `detailed`, or `compact` when guestmem is built with that feature (fixed
/// messages without numbers).
fn message(detailed: &'static str, compact: &'static str) -> &'static str {
    if cfg!(feature = "compact") {
        compact
    } else {
        detailed
    }
}

#[test]
fn abi_version_is_1() {
    assert_eq!(abi_version(), 1);
}

#[test]
fn blocks_are_aligned_writable_and_disjoint() {
    let _serial = serial();
    let lens = [0usize, 1, 3, 7, 8, 9, 100, 4096, 70_000];
    let blocks: Vec<(*mut u8, usize)> = lens.iter().map(|&len| (alloc(len), len)).collect();
    for (i, &(ptr, len)) in blocks.iter().enumerate() {
        assert!(!ptr.is_null());
        assert_eq!(ptr.addr() % 8, 0, "alloc({len}) is not 8-aligned");
        fill(ptr, len, i as u8);
    }
    for (i, &(a, a_len)) in blocks.iter().enumerate() {
        assert_eq!(
            bytes_of(a, a_len),
            vec![i as u8; a_len],
            "block {i} was overwritten"
        );
        for &(b, b_len) in &blocks[i + 1..] {
            let (a0, b0) = (a.addr(), b.addr());
            assert!(
                a0 + a_len.max(1) <= b0 || b0 + b_len.max(1) <= a0,
                "blocks overlap"
            );
        }
    }
    for (ptr, len) in blocks {
        // SAFETY: live blocks with these lengths, each freed once.
        unsafe { dealloc(ptr, len) };
    }
}

#[test]
fn alloc_zero_is_a_real_block() {
    let _serial = serial();
    let before = live_blocks();
    let (a, b) = (alloc(0), alloc(0));
    assert!(!a.is_null() && !b.is_null());
    assert_ne!(a, b, "two live blocks of length 0 share an address");
    assert_eq!(live_blocks(), before + 2);
    // SAFETY: live blocks of length 0, each freed once.
    unsafe {
        free(a);
        dealloc(b, 0);
    }
    assert_eq!(live_blocks(), before);
}

#[test]
fn alloc_beyond_the_address_space_returns_null() {
    let _serial = serial();
    let _ = take_error();
    let before = live_blocks();
    for len in [usize::MAX, usize::MAX - 7, u32::MAX as usize + 1] {
        assert!(alloc(len).is_null(), "alloc({len}) should fail");
    }
    assert_eq!(live_blocks(), before);
    assert_eq!(take_error(), None, "a failed alloc records no error");
}

#[test]
fn null_is_a_no_op_for_dealloc_and_free() {
    let _serial = serial();
    let before = live_blocks();
    // SAFETY: null is always accepted.
    unsafe {
        free(std::ptr::null_mut());
        dealloc(std::ptr::null_mut(), 123);
    }
    assert_eq!(live_blocks(), before);
}

#[test]
fn dealloc_with_the_wrong_length_traps_and_keeps_the_block() {
    let _serial = serial();
    let ptr = alloc(16);
    fill(ptr, 16, 0xAB);
    // SAFETY: a live block; the wrong length is caught before anything is freed.
    expect_trap(
        message("wrong length: dealloc(", "guestmem: wrong length"),
        || unsafe { dealloc(ptr, 12) },
    );
    assert_eq!(bytes_of(ptr, 16), vec![0xAB; 16], "the block was touched");
    // SAFETY: still live, with its real length.
    unsafe { dealloc(ptr, 16) };
}

#[test]
fn wrong_length_message_names_both_lengths() {
    let _serial = serial();
    let ptr = alloc(16);
    // SAFETY: a live block; the wrong length is caught before anything is freed.
    expect_trap(
        message(", 12), the block has 16 bytes", "wrong length"),
        || unsafe { dealloc(ptr, 12) },
    );
    // SAFETY: still live.
    unsafe { free(ptr) };
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads a freed block's header; the check is for wasm32, where memory stays readable"
)]
fn double_free_traps() {
    let _serial = serial();
    let ptr = alloc(32);
    // SAFETY: a live block, freed once.
    unsafe { free(ptr) };
    // SAFETY: not sound natively (see the ignore reason); the tag check must catch it.
    expect_trap(
        message("not a live block: free(", "guestmem: not a live block"),
        || unsafe { free(ptr) },
    );
}

#[test]
fn interior_pointers_trap() {
    let _serial = serial();
    let ptr = alloc(64);
    fill(ptr, 64, 0);
    // SAFETY: the header read lies inside the live, initialised block.
    expect_trap(
        message("not a live block: dealloc(", "guestmem: not a live block"),
        || unsafe { dealloc(ptr.add(16), 48) },
    );
    // SAFETY: still live.
    unsafe { free(ptr) };
}

#[test]
fn foreign_and_misaligned_pointers_trap() {
    let _serial = serial();
    let mut foreign = [0u64; 4];
    let inside = foreign.as_mut_ptr().wrapping_add(2).cast::<u8>();
    // SAFETY: the eight bytes in front of `inside` are `foreign[1]`, readable.
    expect_trap(
        message("not a live block: free(", "guestmem: not a live block"),
        || unsafe { free(inside) },
    );
    let ptr = alloc(8);
    // SAFETY: misaligned pointers are rejected before any read.
    expect_trap(
        message("not a live block: realloc(", "guestmem: not a live block"),
        || unsafe {
            realloc(ptr.wrapping_add(3), 4);
        },
    );
    // SAFETY: still live.
    unsafe { free(ptr) };
}

#[test]
fn realloc_keeps_the_bytes_it_can() {
    let _serial = serial();
    // SAFETY: null acts as alloc.
    let ptr = unsafe { realloc(std::ptr::null_mut(), 10) };
    assert!(!ptr.is_null());
    fill(ptr, 10, 7);
    // SAFETY: a live block; afterwards only the returned pointer is used.
    let grown = unsafe { realloc(ptr, 100_000) };
    assert_eq!(grown.addr() % 8, 0);
    assert_eq!(bytes_of(grown, 10), vec![7; 10]);
    // SAFETY: as above.
    let shrunk = unsafe { realloc(grown, 3) };
    assert_eq!(bytes_of(shrunk, 3), vec![7; 3]);
    // SAFETY: as above; length 0 gives a live block, not a free.
    let empty = unsafe { realloc(shrunk, 0) };
    assert!(!empty.is_null());
    // SAFETY: live, length 0.
    unsafe { dealloc(empty, 0) };
}

#[test]
fn failed_realloc_returns_null_and_keeps_the_block() {
    let _serial = serial();
    let ptr = alloc(5);
    fill(ptr, 5, 9);
    // SAFETY: a live block; on failure it stays live.
    assert!(unsafe { realloc(ptr, usize::MAX) }.is_null());
    assert_eq!(bytes_of(ptr, 5), vec![9; 5]);
    // SAFETY: still live with length 5.
    unsafe { dealloc(ptr, 5) };
}

#[test]
fn last_error_is_taken_once() {
    let _serial = serial();
    let _ = take_error();
    assert!(last_error().is_null(), "no error pending");
    let ptr = alloc(8);
    // SAFETY: caught before anything is freed.
    expect_trap("wrong length", || unsafe { dealloc(ptr, 9) });
    assert!(last_error().is_null(), "the message was cleared when taken");
    // SAFETY: still live.
    unsafe { free(ptr) };
}

guestmem::export! {
    fn shout(text: &str) -> String {
        text.to_uppercase()
    }

    fn checked_sum(bytes: &[u8]) -> Result<u32, &'static str> {
        bytes.iter().try_fold(0u32, |sum, &b| sum.checked_add(u32::from(b))).ok_or("overflow")
    }

    fn join<'a>(left: &'a str, right: &'a str) -> Result<String, String> {
        if left.is_empty() {
            return Err(format!("left is empty, right is {right:?}"));
        }
        Ok(format!("{left}{right}"))
    }

    fn first_half<'a>(bytes: &'a [u8]) -> &'a [u8] {
        &bytes[..bytes.len() / 2]
    }

    fn parse_digit<'a>(text: &'a str) -> Result<u32, &'a str> {
        text.parse().map_err(|_| text)
    }

    fn describe(bytes: &[u8]) -> Result<u32, core::num::TryFromIntError> {
        u8::try_from(bytes.len()).map(u32::from)
    }

    fn misuse_while_failing(bytes: &[u8]) -> Result<u32, Misuse> {
        Err(Misuse(bytes.len()))
    }
}

/// An error whose `Display` misuses the ABI: it frees a fresh block with a wrong length, which
/// traps while the export is writing the error's message. The block stays live (a trap frees
/// nothing); its address is kept in [`MISUSED`] for the test to free.
struct Misuse(usize);

static MISUSED: std::sync::atomic::AtomicPtr<u8> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

impl std::fmt::Display for Misuse {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ptr = alloc(self.0);
        MISUSED.store(ptr, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: a live block; the wrong length traps before anything is freed.
        unsafe { dealloc(ptr, self.0 + 1) };
        write!(out, "unreachable: the line above traps")
    }
}

/// Copies `bytes` into a new block, as a host does with an input.
fn input(bytes: &[u8]) -> (*mut u8, usize) {
    let ptr = alloc(bytes.len());
    // SAFETY: a fresh block of `bytes.len()` bytes.
    unsafe { ptr.copy_from_nonoverlapping(bytes.as_ptr(), bytes.len()) };
    (ptr, bytes.len())
}

#[test]
fn exports_return_length_prefixed_results_and_borrow_their_inputs() {
    let _serial = serial();
    let before = live_blocks();
    let (ptr, len) = input("straße".as_bytes());
    // SAFETY: a live input block.
    let result = unsafe { shout(ptr, len) };
    assert_eq!(take_result(result), b"STRASSE");
    // SAFETY: the input is still the host's, unchanged: the guest only borrowed it.
    assert_eq!(bytes_of(ptr, len), "straße".as_bytes());
    // SAFETY: the host frees its own input, once.
    unsafe { dealloc(ptr, len) };
    let (ptr, len) = input(b"abcd");
    // SAFETY: a live input block.
    assert_eq!(take_result(unsafe { first_half(ptr, len) }), b"ab");
    // SAFETY: as above.
    unsafe { dealloc(ptr, len) };
    assert_eq!(live_blocks(), before, "every block was freed");
}

#[test]
fn invalid_utf8_is_an_error_naming_the_argument_not_a_trap() {
    let _serial = serial();
    let (ptr, len) = input(&[b'o', b'k', 0xFF]);
    // SAFETY: a live input block.
    assert!(unsafe { shout(ptr, len) }.is_null());
    assert_eq!(
        take_error().as_deref(),
        Some(message(
            "argument `text`: not valid UTF-8 (invalid byte at offset 2)",
            "argument `text`: not valid UTF-8"
        ))
    );
    // SAFETY: as above.
    unsafe { dealloc(ptr, len) };
}

#[test]
fn errors_carry_their_display_text() {
    let _serial = serial();
    let (left, left_len) = input(b"");
    let (right, right_len) = input(b"x");
    // SAFETY: live input blocks.
    assert!(unsafe { join(left, left_len, right, right_len) }.is_null());
    assert_eq!(
        take_error().as_deref(),
        Some("left is empty, right is \"x\"")
    );
    // SAFETY: as above, swapped.
    let joined = unsafe { join(right, right_len, right, right_len) };
    assert_eq!(take_result(joined), b"xx");
    // SAFETY: the host's own blocks, freed once.
    unsafe {
        dealloc(left, left_len);
        dealloc(right, right_len);
    }
}

/// Natively the panic used to re-read the slot after recording, so a trap could carry the reason
/// another thread had just recorded: 69 of 200,000 traps did with 4 threads, before the message
/// was taken while the slot was still held.
#[test]
fn a_native_trap_carries_its_own_reason_while_other_threads_trap_too() {
    let _serial = serial();
    let rounds = if cfg!(miri) { 10 } else { 20_000 };
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let foreign: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(move || {
                    let mut foreign = 0;
                    for _ in 0..rounds {
                        let ptr = alloc(8);
                        // SAFETY: caught before anything is freed.
                        let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { dealloc(ptr, 9) }));
                        let text = panic_text(&*outcome.expect_err("expected a trap"));
                        let own = if cfg!(feature = "compact") {
                            text == "guestmem: wrong length"
                        } else {
                            text.contains(&format!("dealloc({:#x}, 9)", ptr.addr()))
                        };
                        foreign += usize::from(!own);
                        // SAFETY: still live: the trap freed nothing.
                        unsafe { free(ptr) };
                    }
                    foreign
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("worker"))
            .sum()
    });
    std::panic::set_hook(previous);
    let _ = take_error();
    assert_eq!(foreign, 0, "traps that carried another thread's reason");
}

#[test]
fn text_errors_are_copied_as_they_are_even_when_borrowed_from_an_input() {
    let _serial = serial();
    let (ptr, len) = input("7".as_bytes());
    // SAFETY: a live input block.
    assert_eq!(unsafe { parse_digit(ptr, len) }, 7);
    assert_eq!(take_error(), None);
    // SAFETY: the host's own block, freed once.
    unsafe { dealloc(ptr, len) };
    let (ptr, len) = input("seven".as_bytes());
    // SAFETY: a live input block.
    assert_eq!(unsafe { parse_digit(ptr, len) }, 0);
    // SAFETY: the host's own block, freed once: the message is a copy, not a borrow of it.
    unsafe { dealloc(ptr, len) };
    assert_eq!(take_error().as_deref(), Some("seven"));
}

#[test]
fn other_errors_are_written_with_display() {
    let _serial = serial();
    let (ptr, len) = input(&[0; 300]);
    // SAFETY: a live input block.
    assert_eq!(unsafe { describe(ptr, len) }, 0);
    // SAFETY: the host's own block, freed once.
    unsafe { dealloc(ptr, len) };
    let expected = u8::try_from(300usize).unwrap_err().to_string();
    assert_eq!(take_error(), Some(expected));
}

/// Runs `call` on a thread of its own and ends the test process with a failure if it has not
/// returned within 30 s: a hang fails instead of stalling the suite. Under Miri it runs directly.
fn without_hanging(what: &str, call: impl FnOnce() + Send + 'static) {
    if cfg!(miri) {
        call();
        return;
    }
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        call();
        let _ = done.send(());
    });
    if let Err(outcome) = finished.recv_timeout(std::time::Duration::from_secs(30)) {
        // Not a panic: the hung thread may hold what a panic hook needs (the error slot).
        eprintln!("{what} hung (or panicked otherwise): {outcome:?}");
        std::process::exit(101);
    }
}

/// The guest's `Display` runs before the error slot is taken: natively a trap inside it used to
/// find the slot held by its own thread and spin for ever (on wasm32 its reason was lost).
#[test]
fn a_trap_inside_an_errors_display_carries_its_own_reason() {
    let _serial = serial();
    without_hanging("an export whose error's Display traps", || {
        let (ptr, len) = input(&[1; 24]);
        let before = live_blocks();
        let reason = message("dealloc(", "guestmem: wrong length");
        // SAFETY: a live input block; the export traps in the error's `Display`.
        expect_trap(reason, || unsafe {
            misuse_while_failing(ptr, len);
        });
        // The trap freed nothing: the `Display`'s block is still live, and the input intact.
        assert_eq!(live_blocks(), before + 1);
        let misused = MISUSED.swap(std::ptr::null_mut(), std::sync::atomic::Ordering::Relaxed);
        // SAFETY: the block the `Display` allocated, with the length it asked for, freed once.
        unsafe { dealloc(misused, len) };
        assert_eq!(bytes_of(ptr, len), vec![1; 24]);
        // SAFETY: the host's own block, freed once.
        unsafe { dealloc(ptr, len) };
    });
}

/// Natively the panic hook runs before anything unwinds, so a trap must not hold the error slot
/// while it panics: a hook that asks `last_error` found the slot taken and spun for ever.
#[test]
fn a_panic_hook_may_ask_for_the_reason() {
    let _serial = serial();
    static SEEN: Mutex<Option<String>> = Mutex::new(None);
    without_hanging("a trap whose panic hook calls last_error", || {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {
            let reason = take_error();
            *SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = reason;
        }));
        let ptr = alloc(8);
        // SAFETY: a live block; the wrong length traps before anything is freed.
        let outcome = catch_unwind(|| unsafe { dealloc(ptr, 9) });
        std::panic::set_hook(previous);
        let text = panic_text(&*outcome.expect_err("expected a trap"));
        let seen = SEEN
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        assert_eq!(
            seen.as_deref(),
            Some(text.as_str()),
            "the hook saw the trap's reason"
        );
        assert_eq!(take_error(), None, "the hook took it");
        // SAFETY: still live: the trap freed nothing.
        unsafe { free(ptr) };
    });
}

#[test]
fn integer_results_fail_with_zero_and_a_message() {
    let _serial = serial();
    let (ptr, len) = input(&[255; 3]);
    // SAFETY: a live input block.
    assert_eq!(unsafe { checked_sum(ptr, len) }, 765);
    // SAFETY: as above.
    unsafe { dealloc(ptr, len) };
    // Null with a non-zero length is rejected, not read.
    // SAFETY: never read.
    assert_eq!(unsafe { checked_sum(std::ptr::null(), 4) }, 0);
    assert_eq!(
        take_error().as_deref(),
        Some("argument `bytes`: null pointer with a non-zero length")
    );
    // Length 0 needs no pointer at all.
    // SAFETY: never read.
    assert_eq!(unsafe { checked_sum(std::ptr::null(), 0) }, 0);
    assert_eq!(take_error(), None);
}

#[test]
fn the_model_expects_the_messages_of_this_build() {
    let _serial = serial();
    assert_eq!(model::compact_messages(), cfg!(feature = "compact"));
}

/// Lengths: mostly small, some of several pages.
fn len() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..16, 0usize..10_000]
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        Just(Call::Free),
        len().prop_map(Call::Dealloc),
        len().prop_map(Call::Realloc),
    ]
}

/// One step of a random workload against the exports: mostly the ABI used as it should be,
/// with misuse mixed in (tests/model/mod.rs).
fn step() -> impl Strategy<Value = Step> {
    let block = any::<usize>;
    prop_oneof![
        6 => len().prop_map(Step::Alloc),
        4 => (block(), len()).prop_map(|(i, l)| Step::Realloc(i, l)),
        2 => block().prop_map(Step::Free),
        2 => block().prop_map(Step::Dealloc),
        1 => len().prop_map(Step::Result),
        1 => any::<usize>().prop_map(Step::AllocTooLarge),
        1 => (block(), any::<usize>()).prop_map(|(i, extra)| Step::ReallocTooLarge(i, extra)),
        1 => call().prop_map(Step::Null),
        1 => (block(), len()).prop_map(|(i, l)| Step::WrongLength(i, l)),
        1 => (block(), any::<usize>(), call()).prop_map(|(i, w, c)| Step::Interior(i, w, c)),
        1 => (block(), any::<usize>(), call()).prop_map(|(i, o, c)| Step::Misaligned(i, o, c)),
        1 => (any::<usize>(), call()).prop_map(|(w, c)| Step::Foreign(w, c)),
        1 => Just(Step::LastError),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_workloads_match_the_model(steps in prop::collection::vec(step(), 1..if cfg!(miri) { 20 } else { 200 })) {
        let _serial = serial();
        model::run(&steps);
    }
}

/// A std guest's panic hook: the panic's message and location become the pending error, and the
/// hook that was in place still runs. (Not with `compact`, whose hook traps at once.)
#[cfg(all(feature = "std", not(feature = "compact")))]
#[test]
fn the_std_panic_hook_records_the_panic_and_keeps_the_previous_hook() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static PREVIOUS_RAN: AtomicBool = AtomicBool::new(false);

    let _serial = serial();
    let original = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| PREVIOUS_RAN.store(true, Ordering::Relaxed)));
    guestmem::__install_panic_hook();
    let line = line!() + 1;
    let outcome = catch_unwind(|| panic!("asked to panic: {}", 7));
    let message = take_error().expect("the hook recorded the panic");
    // A panic raised inside the standard library: its location is std's source, not the guest's,
    // and the record says so.
    let inside_std = catch_unwind(|| Vec::<u64>::with_capacity(usize::MAX).len());
    std::panic::set_hook(original);

    assert!(inside_std.is_err());
    let std_message = take_error().expect("the hook recorded the panic inside std");
    assert!(
        std_message.starts_with("guest panicked inside the Rust standard library at "),
        "{std_message:?}"
    );
    assert!(outcome.is_err());
    let at = format!("guest panicked at {}:{line}:", file!());
    assert!(
        message.starts_with(&at),
        "{message:?} does not start with {at:?}"
    );
    assert!(message.ends_with(": asked to panic: 7"), "{message:?}");
    assert!(
        PREVIOUS_RAN.load(Ordering::Relaxed),
        "the previous hook was not called"
    );
}
