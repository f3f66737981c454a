//! A model of the ABI's blocks (docs/ABI.md) and the driver that holds the native exports to it,
//! step by step: the live blocks with their lengths and bytes, `live_blocks`, the pending error,
//! and every misuse trapping with its exact reason while leaving the heap as it was.
//!
//! One piece of logic, two drivers: tests/contract.rs feeds it proptest's sequences (under Miri
//! too), and the fuzz target `abi_sequence` (fuzz/) feeds it libFuzzer's; harness/tests/fuzz.rs
//! replays the committed fuzz inputs through the same code.
//!
//! Natively a trap is a panic carrying the reason, and only misuse that reads live, initialised
//! memory is modelled: a wrong length, a pointer into a live block past bytes that were written,
//! a misaligned pointer, a pointer into the host's own memory. A double free or a stale pointer
//! would read freed memory (the Safety section of `abi::dealloc`): that is the guest's defence on
//! wasm32, where memory stays readable, and undefined behaviour natively.

#![allow(
    dead_code,
    reason = "each includer uses a different part: the contract tests, the fuzz crate, the harness"
)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, MutexGuard, OnceLock};

use guestmem::ResultBlock;
use guestmem::abi::{alloc, dealloc, free, last_error, realloc};
use guestmem::stats::live_blocks;

/// Serialises whatever calls the exports: they share global state (the error slot, the
/// counters), and tests run side by side.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads and frees a result block.
pub fn take_result(ptr: *mut u8) -> Vec<u8> {
    let block = read_result(ptr);
    // SAFETY: the length the block has is the prefix plus its payload.
    unsafe { dealloc(ptr, block.len()) };
    block[4..].to_vec()
}

/// The whole result block at `ptr`, prefix included, left live.
fn read_result(ptr: *mut u8) -> Vec<u8> {
    assert!(!ptr.is_null(), "expected a result block");
    // SAFETY: a result block starts with its u32 little-endian length.
    let len = u32::from_le_bytes(unsafe { ptr.cast::<[u8; 4]>().read() }) as usize;
    bytes_of(ptr, 4 + len)
}

/// Takes the pending error, freeing its block.
pub fn take_error() -> Option<String> {
    let ptr = last_error();
    (!ptr.is_null()).then(|| String::from_utf8(take_result(ptr)).expect("UTF-8 message"))
}

/// Runs `f`, which must trap (natively: panic), and returns the reason it carries. The panic
/// hook in place (libFuzzer's aborts) is set aside meanwhile, and put back.
pub fn trap_reason(f: impl FnOnce()) -> String {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    panic_text(&*outcome.expect_err("expected a trap"))
}

/// Runs `f`, expecting the trap whose reason contains `reason`; checks that `last_error`
/// reports the same reason afterwards.
pub fn expect_trap(reason: &str, f: impl FnOnce()) {
    let message = trap_reason(f);
    assert!(
        message.contains(reason),
        "trap reason {message:?} lacks {reason:?}"
    );
    assert_eq!(take_error().as_deref(), Some(message.as_str()));
}

/// The text a native trap (a panic) carries.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Whether the guestmem linked in writes the `compact` feature's fixed messages: asked of the
/// crate once (a wrong length, caught), so that every includer agrees with the build it tests.
pub fn compact_messages() -> bool {
    static COMPACT: OnceLock<bool> = OnceLock::new();
    *COMPACT.get_or_init(|| {
        let ptr = alloc(8);
        // SAFETY: a live block; the wrong length traps before anything is freed.
        let reason = trap_reason(|| unsafe { dealloc(ptr, 9) });
        let _ = take_error();
        // SAFETY: still live: the trap freed nothing.
        unsafe { free(ptr) };
        reason == "guestmem: wrong length"
    })
}

/// Fills `len` bytes at `ptr` with `byte`.
pub fn fill(ptr: *mut u8, len: usize, byte: u8) {
    // SAFETY: callers pass a live block of `len` bytes.
    unsafe { ptr.write_bytes(byte, len) };
}

/// Copies `len` bytes out of `ptr`.
pub fn bytes_of(ptr: *mut u8, len: usize) -> Vec<u8> {
    // SAFETY: callers pass a live block of `len` initialised bytes.
    unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
}

/// One step of a workload against the exports. Blocks are named by an index into the live ones
/// (taken modulo their number; a step that needs a block does nothing when there is none).
#[derive(Debug, Clone)]
pub enum Step {
    /// `alloc(len)`, filled with this step's byte.
    Alloc(usize),
    /// `realloc(block, len)`: the bytes it can keep are kept; then filled with this step's byte.
    Realloc(usize, usize),
    /// `free(block)`.
    Free(usize),
    /// `dealloc(block, its length)`.
    Dealloc(usize),
    /// A result block of `len` bytes made by the guest (`ResultBlock`), handed over: a block of
    /// `len + 4` bytes, freed like any other.
    Result(usize),
    /// `alloc(u32::MAX + extra)`: beyond any block (null, no error, heap untouched).
    AllocTooLarge(usize),
    /// `realloc(block, u32::MAX + extra)`: null, and the block stays live and unchanged.
    ReallocTooLarge(usize, usize),
    /// The null pointer given to `call`: `free` and `dealloc` do nothing, `realloc` allocates.
    Null(Call),
    /// `dealloc(block, len)` with a length the block does not have: traps, block kept.
    WrongLength(usize, usize),
    /// `call` on the pointer `8 * (1 + words)` bytes into a block (modulo its length, so the
    /// eight bytes in front are the block's own, written ones): traps, heap untouched.
    Interior(usize, usize, Call),
    /// `call` on a pointer `1..=7` bytes past a block's start: traps before any read.
    Misaligned(usize, usize, Call),
    /// `call` on a pointer into the host's own memory, 8-aligned, past written bytes: traps.
    Foreign(usize, Call),
    /// `last_error()`: the reason of the latest trap not taken yet, as a result block, which
    /// becomes a live block of the model; null when none is pending.
    LastError,
}

/// The export a pointer is given to.
#[derive(Debug, Clone, Copy)]
pub enum Call {
    /// `free(ptr)`.
    Free,
    /// `dealloc(ptr, len)`.
    Dealloc(usize),
    /// `realloc(ptr, len)`.
    Realloc(usize),
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Dealloc(_) => "dealloc",
            Self::Realloc(_) => "realloc",
        }
    }

    /// Calls the export on `ptr`; `realloc`'s result is returned (null for the others).
    ///
    /// # Safety
    ///
    /// As the export's own.
    unsafe fn on(self, ptr: *mut u8) -> *mut u8 {
        // SAFETY: the caller's promise, passed on.
        unsafe {
            match self {
                Self::Free => free(ptr),
                Self::Dealloc(len) => dealloc(ptr, len),
                Self::Realloc(len) => return realloc(ptr, len),
            }
        }
        std::ptr::null_mut()
    }
}

/// A live block in the model: where it is and the bytes it must hold (its length is theirs).
struct Live {
    ptr: *mut u8,
    bytes: Vec<u8>,
}

impl Live {
    fn check(&self) {
        assert!(
            holds(self.ptr, &self.bytes),
            "the block at {:#x} does not hold its bytes",
            self.ptr.addr()
        );
    }
}

/// Whether the block at `ptr` starts with `bytes`: compared in place, as this runs after every
/// misuse, over every block.
fn holds(ptr: *mut u8, bytes: &[u8]) -> bool {
    // SAFETY: callers pass a live block of at least `bytes.len()` initialised bytes.
    unsafe { std::slice::from_raw_parts(ptr, bytes.len()) == bytes }
}

/// The exports' state as the model sees it.
struct Model {
    live: Vec<Live>,
    /// The reason of the latest trap, not yet taken with `last_error`.
    pending: Option<String>,
    /// `live_blocks()` before the run: blocks of others that this run must leave alone.
    before: u32,
    compact: bool,
    /// The host's own memory, for foreign pointers: every word written.
    foreign: Vec<u64>,
}

/// Runs `steps` against the exports and the model, checking after each one; frees every block
/// at the end and checks that none leaked. Callers hold [`serial`].
pub fn run(steps: &[Step]) {
    // Whatever an earlier run left pending is not this run's.
    let _ = take_error();
    let compact = compact_messages();
    let mut model = Model {
        live: Vec::new(),
        pending: None,
        before: live_blocks(),
        compact,
        foreign: (0..64_u64)
            .map(|word| word.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect(),
    };
    for (n, step) in steps.iter().enumerate() {
        model.step(step, n as u8);
        assert_eq!(
            live_blocks(),
            model.before + model.live.len() as u32,
            "live_blocks after {step:?}"
        );
    }
    for block in model.live.drain(..) {
        block.check();
        // SAFETY: a live block, freed once.
        unsafe { free(block.ptr) };
    }
    assert_eq!(live_blocks(), model.before, "blocks leaked");
    assert_eq!(take_error(), model.pending, "the pending error");
}

impl Model {
    fn step(&mut self, step: &Step, byte: u8) {
        match *step {
            Step::Alloc(len) => {
                let ptr = alloc(len);
                self.add(ptr, len, byte);
            }
            Step::Realloc(i, len) => {
                let Some(at) = self.index(i) else { return };
                let block = &self.live[at];
                block.check();
                // SAFETY: a live block; only the returned pointer is used afterwards.
                let ptr = unsafe { realloc(block.ptr, len) };
                let kept = block.bytes.len().min(len);
                assert!(!ptr.is_null(), "realloc to {len} failed");
                assert!(holds(ptr, &block.bytes[..kept]), "realloc lost bytes");
                self.live.swap_remove(at);
                self.add(ptr, len, byte);
            }
            Step::Free(i) | Step::Dealloc(i) => {
                let Some(at) = self.index(i) else { return };
                let block = self.live.swap_remove(at);
                block.check();
                // SAFETY: a live block with this length, freed once.
                unsafe {
                    match step {
                        Step::Free(_) => free(block.ptr),
                        _ => dealloc(block.ptr, block.bytes.len()),
                    }
                }
            }
            Step::Result(len) => {
                let mut result = ResultBlock::new(len).expect("memory for a result");
                assert_eq!(result.as_bytes(), vec![0; len], "a new result is zeroed");
                result.as_mut_bytes().fill(byte);
                let ptr = result.into_raw();
                let mut bytes = (len as u32).to_le_bytes().to_vec();
                bytes.resize(4 + len, byte);
                let block = Live { ptr, bytes };
                block.check();
                self.live.push(block);
            }
            Step::AllocTooLarge(extra) => {
                let len = (u32::MAX as usize).saturating_add(extra);
                assert!(alloc(len).is_null(), "alloc({len}) should fail");
                self.check_all();
            }
            Step::ReallocTooLarge(i, extra) => {
                let Some(at) = self.index(i) else { return };
                let len = (u32::MAX as usize).saturating_add(extra);
                // SAFETY: a live block; on failure it stays live.
                let ptr = unsafe { realloc(self.live[at].ptr, len) };
                assert!(ptr.is_null(), "realloc to {len} should fail");
                self.check_all();
            }
            Step::Null(call) => {
                // SAFETY: null is always accepted.
                let ptr = unsafe { call.on(std::ptr::null_mut()) };
                if let Call::Realloc(len) = call {
                    self.add(ptr, len, byte);
                }
            }
            Step::WrongLength(i, len) => {
                let Some(at) = self.index(i) else { return };
                let block = &self.live[at];
                let real = block.bytes.len();
                let len = if len == real { len ^ 1 } else { len };
                let expected =
                    self.message("wrong length", "dealloc", block.ptr, Some((len, real)));
                let ptr = block.ptr;
                // SAFETY: a live block; the wrong length is caught before anything is freed.
                self.misuse(expected, || unsafe { dealloc(ptr, len) });
            }
            Step::Interior(i, words, call) => {
                let Some(at) = self.index(i) else { return };
                let block = &self.live[at];
                let room = block.bytes.len() / 8;
                if room == 0 {
                    return;
                }
                let ptr = block.ptr.wrapping_add(8 * (1 + words % room));
                let expected = self.message("not a live block", call.name(), ptr, None);
                // SAFETY: the eight bytes in front of `ptr` lie inside a live block, all written:
                // the header check reads only them, and rejects them.
                self.misuse(expected, || unsafe {
                    call.on(ptr);
                });
            }
            Step::Misaligned(i, offset, call) => {
                let Some(at) = self.index(i) else { return };
                let ptr = self.live[at].ptr.wrapping_add(1 + offset % 7);
                let expected = self.message("not a live block", call.name(), ptr, None);
                // SAFETY: a misaligned pointer is rejected before anything is read.
                self.misuse(expected, || unsafe {
                    call.on(ptr);
                });
            }
            Step::Foreign(word, call) => {
                let ptr = self
                    .foreign
                    .as_mut_ptr()
                    .wrapping_add(1 + word % (self.foreign.len() - 1))
                    .cast::<u8>();
                let expected = self.message("not a live block", call.name(), ptr, None);
                // SAFETY: the eight bytes in front of `ptr` are a written word of `foreign`.
                self.misuse(expected, || unsafe {
                    call.on(ptr);
                });
            }
            Step::LastError => {
                let ptr = last_error();
                let Some(reason) = self.pending.take() else {
                    assert!(ptr.is_null(), "last_error with no error pending");
                    return;
                };
                let block = read_result(ptr);
                assert_eq!(
                    std::str::from_utf8(&block[4..]),
                    Ok(reason.as_str()),
                    "last_error is the latest trap's reason"
                );
                assert!(last_error().is_null(), "last_error cleared the reason");
                self.live.push(Live { ptr, bytes: block });
            }
        }
    }

    /// The live block that index `i` names, or `None` when there is none.
    fn index(&self, i: usize) -> Option<usize> {
        (!self.live.is_empty()).then(|| i % self.live.len())
    }

    /// Adds the new block `ptr` of `len` bytes, after checking it, filled with `byte`.
    fn add(&mut self, ptr: *mut u8, len: usize, byte: u8) {
        assert!(!ptr.is_null(), "no block of {len} bytes");
        assert_eq!(ptr.addr() % 8, 0, "a block of {len} bytes is not 8-aligned");
        fill(ptr, len, byte);
        self.live.push(Live {
            ptr,
            bytes: vec![byte; len],
        });
    }

    fn check_all(&self) {
        for block in &self.live {
            block.check();
        }
    }

    /// The reason guestmem records for `problem` in `call(ptr)` (docs/ABI.md, "Traps").
    fn message(
        &self,
        problem: &str,
        call: &str,
        ptr: *mut u8,
        lengths: Option<(usize, usize)>,
    ) -> String {
        let problem = format!("guestmem: {problem}");
        if self.compact {
            return problem;
        }
        let addr = ptr.addr();
        match lengths {
            Some((len, real)) => {
                format!("{problem}: {call}({addr:#x}, {len}), the block has {real} bytes")
            }
            None => format!("{problem}: {call}({addr:#x})"),
        }
    }

    /// Runs `f`, a misuse that must trap with `expected`; the reason stays pending and the heap
    /// must be as it was.
    fn misuse(&mut self, expected: String, f: impl FnOnce()) {
        let reason = trap_reason(f);
        assert_eq!(reason, expected, "the trap's reason");
        self.pending = Some(reason);
        self.check_all();
    }
}
