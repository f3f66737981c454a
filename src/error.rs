//! The error slot behind `last_error`: one pending message in a static buffer, so that a trap, a
//! panic or an allocation failure can record its reason without allocating.
//!
//! The slot is guarded by a flag rather than assumed single-threaded, so that native hosts and the
//! test suite may call the ABI from several threads. No guest code runs while the slot is held:
//! `Display` text (an export's error, a panic's message) is formatted into a buffer on the stack
//! first (see `record_formatted`), so a trap or a panic inside it records its own reason. The one
//! exception is the allocator `last_error` takes its result block from, which is the guest's own
//! when it brings one: on single-threaded wasm32 a trap there finds the slot taken, so its reason
//! is not recorded, and `trap` releases the slot.

use core::cell::UnsafeCell;
use core::fmt;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};

/// The longest message kept; longer ones are cut at a character boundary.
const CAPACITY: usize = 1024;

/// The buffer that formatted messages are written into.
pub(crate) struct Message {
    bytes: [u8; CAPACITY],
    len: usize,
}

impl Message {
    pub(crate) const EMPTY: Self = Self {
        bytes: [0; CAPACITY],
        len: 0,
    };
    /// Appends `text`, cut at a character boundary when the buffer is full.
    ///
    /// Written without indexing that could panic: a panic here would pull `core::fmt`'s
    /// formatting code into every module, which the `compact` feature exists to avoid.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        let room = CAPACITY.saturating_sub(self.len);
        let mut take = text.len().min(room);
        while !text.is_char_boundary(take) {
            take -= 1;
        }
        // SAFETY: `take <= text.len()` and `self.len + take <= CAPACITY`, so both ranges are in
        // bounds; a `&mut self` buffer cannot overlap a shared `&str`.
        unsafe {
            self.bytes
                .as_mut_ptr()
                .add(self.len)
                .copy_from_nonoverlapping(text.as_ptr(), take);
        }
        self.len += take;
        self
    }

    /// Appends `value` as `0x` and lowercase hexadecimal digits.
    pub(crate) fn push_hex(&mut self, value: usize) -> &mut Self {
        self.push("0x").push_digits(value, 16)
    }

    /// Appends `value` in decimal.
    pub(crate) fn push_dec(&mut self, value: usize) -> &mut Self {
        self.push_digits(value, 10)
    }

    /// One function for both bases keeps modules small; `base` is 10 or 16.
    fn push_digits(&mut self, mut value: usize, base: usize) -> &mut Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        // Enough for usize::MAX in base 10 (20 digits) and in base 16.
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        while let Some(at) = start.checked_sub(1) {
            let (Some(slot), Some(digit)) = (digits.get_mut(at), DIGITS.get(value % base.max(1)))
            else {
                break;
            };
            *slot = *digit;
            start = at;
            value /= base.max(2);
            if value == 0 {
                break;
            }
        }
        let written = digits.get(start..).unwrap_or_default();
        // SAFETY: only ASCII digits were written.
        self.push(unsafe { core::str::from_utf8_unchecked(written) })
    }

    /// The message written so far.
    pub(crate) fn as_str(&self) -> &str {
        // SAFETY: `push` keeps `len <= CAPACITY` and only ever copies whole characters of `&str`s
        // into the first `len` bytes.
        unsafe { core::str::from_utf8_unchecked(self.bytes.get_unchecked(..self.len)) }
    }
}

impl fmt::Write for Message {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push(text);
        Ok(())
    }
}

/// What the slot holds: the pending message's text, and the buffer that formatted ones are
/// written into.
struct State {
    /// The pending message: the start of a `&'static str`, or of `message`'s buffer; null when
    /// none is pending. One pointer and one length, whichever the message's kind, keep
    /// `last_error` small. Set together, never one without the other.
    pending: *const u8,
    pending_len: usize,
    message: Message,
}

impl State {
    /// The pending message, if any.
    fn pending(&self) -> Option<&[u8]> {
        if self.pending.is_null() {
            return None;
        }
        if ptr::eq(self.pending, self.message.bytes.as_ptr()) {
            // The buffer is read through `self`, which holds the slot: the pointer only marks it.
            return self.message.bytes.get(..self.pending_len);
        }
        // SAFETY: any other non-null `pending` was set with `pending_len` from one
        // `&'static str` (see `fail`), which is readable and unchanging for the whole program.
        Some(unsafe { core::slice::from_raw_parts(self.pending, self.pending_len) })
    }
}

/// The slot: the state and the flag that guards it.
struct Slot {
    taken: AtomicBool,
    state: UnsafeCell<State>,
}

// SAFETY: `state` is only reached through `with_state`, which holds `taken` for the whole
// access, so no two threads ever touch it at once; `fail` bypasses the flag only on
// single-threaded wasm32, right before a trap (see there).
unsafe impl Sync for Slot {}

static SLOT: Slot = Slot {
    taken: AtomicBool::new(false),
    state: UnsafeCell::new(State {
        pending: ptr::null(),
        pending_len: 0,
        message: Message::EMPTY,
    }),
};

/// Releases the slot's flag when dropped, also when a native panic unwinds through `with_state`.
struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        SLOT.taken.store(false, Ordering::Release);
    }
}

/// Runs `f` on the slot's state, or returns `None` when it cannot be had (see the module docs).
fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    while SLOT
        .taken
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        // Single-threaded wasm32: no other thread will release it (see the module docs).
        if cfg!(all(target_arch = "wasm32", not(target_feature = "atomics"))) {
            return None;
        }
        core::hint::spin_loop();
    }
    let _release = Release;
    // SAFETY: the flag taken above gives this call sole access to the state until `_release`
    // drops; nothing in `f` can reach the slot again without first taking the flag. The
    // exceptions, `fail` and `trap` on wasm32, run only right before a trap, which no frame
    // resumes after, so this reference is never used again once another is made.
    let state = unsafe { &mut *SLOT.state.get() };
    Some(f(state))
}

/// Records `text` as the reason and traps: the cheapest way to fail, for the traps that
/// modules built with the `compact` feature raise.
#[cold]
#[inline(never)]
pub(crate) fn fail(text: &'static str) -> ! {
    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    {
        let state = SLOT.state.get();
        // SAFETY: single-threaded wasm32, and the guest traps right below, so no frame that may
        // hold the slot (a `Display` implementation that failed while a message was written)
        // ever resumes: these writes race with nothing. Raw place writes create no reference.
        unsafe {
            (*state).pending = text.as_ptr();
            (*state).pending_len = text.len();
        }
    }
    #[cfg(not(all(target_arch = "wasm32", not(target_feature = "atomics"))))]
    with_state(|state| {
        state.pending = text.as_ptr();
        state.pending_len = text.len();
    });
    #[cfg(target_arch = "wasm32")]
    trap();
    // Natively the panic carries `text` itself, not whatever the slot holds by now: another
    // thread may have recorded its own reason in between.
    #[cfg(not(target_arch = "wasm32"))]
    panic!("{text}")
}

/// Records the message that `write` builds as the reason and traps. Natively the panic carries
/// the message, taken while the slot is still held, so a trap in another thread cannot swap it.
#[cfg_attr(target_arch = "wasm32", inline(always))]
pub(crate) fn record_and_trap(write: impl FnOnce(&mut Message)) -> ! {
    #[cfg(target_arch = "wasm32")]
    {
        record(write);
        trap()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        // The text is copied out while the slot is held, and the panic raised once it is
        // released: the panic hook runs before any unwinding, and a hook that asks `last_error`
        // must find the slot free.
        let mut text = Message::EMPTY;
        with_state(|state| {
            write_pending(state, write);
            text.push(state.message.as_str());
        });
        panic!("{}", text.as_str())
    }
}

/// Replaces the pending error with the message that `write` builds.
pub(crate) fn record(write: impl FnOnce(&mut Message)) {
    with_state(|state| write_pending(state, write));
}

/// Makes the message that `write` builds the pending one.
fn write_pending(state: &mut State, write: impl FnOnce(&mut Message)) {
    // Cleared first: the buffer is about to change under whatever `pending` says.
    state.pending = ptr::null();
    state.message.len = 0;
    write(&mut state.message);
    let len = state.message.len;
    state.pending = state.message.bytes.as_ptr();
    state.pending_len = len;
}

/// Replaces the pending error with the text `arguments` format to.
///
/// The text is written into a buffer of this frame's before the slot is taken: formatting runs
/// the guest's own `Display` code, and if that calls into the ABI and traps, or panics, the trap
/// must find the slot free to record its own reason (natively a trap found the slot held by its
/// own thread and spun for ever; on wasm32 its reason was lost).
pub(crate) fn record_formatted(arguments: fmt::Arguments<'_>) {
    let mut text = Message::EMPTY;
    // `Message::write_str` never fails; an error here comes from a `Display` implementation, and
    // the text written until then is kept.
    let _ = fmt::write(&mut text, arguments);
    record(|message| {
        message.push(text.as_str());
    });
}

/// Stops the guest with the pending error as its reason.
#[cfg(target_arch = "wasm32")]
pub(crate) fn trap() -> ! {
    // A trap unwinds no frame, so a `with_state` under way (a panic in the allocator while
    // `last_error` took its block) would keep the slot taken for the rest of the instance, and
    // every later reason would be lost. No frame resumes after the trap: release the slot. With
    // threads (`atomics`) the flag may be another thread's, and is left alone.
    #[cfg(not(target_feature = "atomics"))]
    SLOT.taken.store(false, Ordering::Release);
    core::arch::wasm32::unreachable()
}

/// Lends the pending error to `hand_over` and clears it if that returns a block; null when none
/// is pending, or when `hand_over` has no block for it (it then stays pending). The caller makes
/// the block, so that the slot depends on nothing that allocates.
pub(crate) fn take(hand_over: impl FnOnce(&[u8]) -> Option<NonNull<u8>>) -> *mut u8 {
    with_state(|state| {
        let start = hand_over(state.pending()?)?;
        state.pending = ptr::null();
        Some(start.as_ptr())
    })
    .flatten()
    .unwrap_or(ptr::null_mut())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_without_core_fmt() {
        let mut message = Message::EMPTY;
        message
            .push_hex(0)
            .push(" ")
            .push_hex(0x110a8)
            .push(" ")
            .push_dec(0)
            .push(" ")
            .push_dec(usize::MAX);
        let expected = std::format!("0x0 0x110a8 0 {}", usize::MAX);
        assert_eq!(message.as_str(), expected);
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        let mut message = Message::EMPTY;
        message.push(&"a".repeat(CAPACITY - 1));
        message.push("ß");
        assert_eq!(message.as_str().len(), CAPACITY - 1);
        message.push("b");
        assert_eq!(message.as_str().len(), CAPACITY);
        assert!(message.as_str().ends_with("ab"));
    }
}
