//! `export_input`: arbitrary bytes as the arguments of functions declared with
//! `guestmem::export!`, called natively as a host calls them, with `(ptr, len)` pairs that are
//! live input blocks, null, empty or longer than any slice may be. A bad argument must make the
//! export return its failure value with a `last_error` message naming the argument (the first
//! bad one), never a panic or a read; a good one must reach the function as it is, and stay the
//! host's, unchanged.
//!
//! Natively every address is "inside memory", so the argument shapes are those that need no
//! bounds: the wasm32 range check is the harness's and the hosts' (docs/ABI.md, "Ownership").

use arbitrary::{Arbitrary, Result, Unstructured};
use guestmem::abi::{alloc, dealloc};
use guestmem::stats::live_blocks;

use crate::model::{self, take_error, take_result};

/// Calls per input.
const MAX_CALLS: usize = 64;

guestmem::export! {
    fn text_len(text: &str) -> u32 {
        // One more than the length, so that the failure value (0) is never an answer.
        u32::try_from(text.len()).map_or(u32::MAX, |len| len + 1)
    }

    fn echo_bytes<'a>(bytes: &'a [u8]) -> &'a [u8] {
        bytes
    }

    fn echo_text<'a>(text: &'a str) -> &'a str {
        text
    }

    fn joined(bytes: &[u8], text: &str) -> Result<Vec<u8>, &'static str> {
        Ok([bytes, text.as_bytes()].concat())
    }
}

/// The exports above, and how each one's answer is checked.
///
/// Typed inputs are a place to grow: once guestmem decodes JSON or postcard arguments, each
/// decoder gets an export here taking its type, and an [`Arg`] shape that encodes a value (or
/// bytes that are not one), checked like the text arguments are.
#[derive(Debug, Arbitrary)]
enum Function {
    TextLen(Arg),
    EchoBytes(Arg),
    EchoText(Arg),
    Joined(Arg, Arg),
}

/// The `(ptr, len)` pair a host passes for one argument.
#[derive(Debug, Arbitrary)]
enum Arg {
    /// These bytes, in an input block from `alloc`, as a host places them.
    Bytes(Vec<u8>),
    /// Valid UTF-8, so that text arguments get through too.
    Text(String),
    /// Length 0 with any pointer at all, null or not: never read.
    Empty(usize),
    /// The null pointer with a non-zero length.
    Null(u16),
    /// A live block's pointer with a length above `isize::MAX`, which no slice may have.
    TooLong(u64),
}

/// An argument as passed: the pair, and the bytes it holds when it is a block.
struct Placed {
    ptr: *const u8,
    len: usize,
    block: Option<Vec<u8>>,
}

impl Placed {
    fn new(arg: &Arg) -> Self {
        let input = |bytes: &[u8]| {
            let ptr = alloc(bytes.len());
            assert!(!ptr.is_null(), "an input block of {} bytes", bytes.len());
            // SAFETY: a fresh block of `bytes.len()` bytes.
            unsafe { ptr.copy_from_nonoverlapping(bytes.as_ptr(), bytes.len()) };
            Self {
                ptr,
                len: bytes.len(),
                block: Some(bytes.to_vec()),
            }
        };
        match arg {
            Arg::Bytes(bytes) => input(bytes),
            Arg::Text(text) => input(text.as_bytes()),
            Arg::Empty(addr) => Self {
                ptr: std::ptr::without_provenance(*addr),
                len: 0,
                block: None,
            },
            Arg::Null(len) => Self {
                ptr: std::ptr::null(),
                len: usize::from(*len).max(1),
                block: None,
            },
            Arg::TooLong(extra) => {
                let mut placed = input(b"8 bytes!");
                placed.len = (isize::MAX as usize)
                    .saturating_add(1)
                    .saturating_add(*extra as usize);
                placed
            }
        }
    }

    /// What the export's argument `name` must see: its bytes, or the message of the error it
    /// must fail with (docs/ABI.md: a bad argument is an error naming it).
    fn expected(&self, name: &str, text: bool) -> Result<Vec<u8>, String> {
        let fail = |problem: &str| Err(format!("argument `{name}`: {problem}"));
        if self.len == 0 {
            return Ok(Vec::new());
        }
        if self.ptr.is_null() {
            return fail("null pointer with a non-zero length");
        }
        let Some(bytes) = self.block.as_ref().filter(|bytes| bytes.len() == self.len) else {
            return fail("runs past the end of linear memory");
        };
        if text {
            // The valid prefix, found without `from_utf8`, which guestmem itself uses.
            let valid = bytes
                .utf8_chunks()
                .next()
                .map_or(0, |chunk| chunk.valid().len());
            if valid < bytes.len() {
                if model::compact_messages() {
                    return fail("not valid UTF-8");
                }
                return fail(&format!("not valid UTF-8 (invalid byte at offset {valid})"));
            }
        }
        Ok(bytes.clone())
    }

    /// Frees the input block after the call, checking that the guest left it as it was.
    fn release(self) {
        let Some(bytes) = self.block else { return };
        let ptr = self.ptr.cast_mut();
        assert_eq!(
            model::bytes_of(ptr, bytes.len()),
            bytes,
            "the guest changed an input it only borrows"
        );
        // SAFETY: the input block allocated in `new`, with its length, freed once.
        unsafe { dealloc(ptr, bytes.len()) };
    }
}

/// Calls the exports as `data` says, checking every answer and that nothing leaked.
pub fn check(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let _serial = model::serial();
    // Whatever an earlier run left pending is not this run's.
    let _ = take_error();
    let before = live_blocks();
    for _ in 0..MAX_CALLS {
        let Ok(function) = Function::arbitrary(&mut input) else {
            break;
        };
        call(&function);
        assert_eq!(live_blocks(), before, "blocks leaked by {function:?}");
    }
}

fn call(function: &Function) {
    match function {
        Function::TextLen(arg) => {
            let arg = Placed::new(arg);
            let expected = arg.expected("text", true);
            // SAFETY: `arg` is an input block, or a pair that is never read (see `Arg`).
            let answer = unsafe { text_len(arg.ptr, arg.len) };
            match &expected {
                Ok(bytes) => assert_eq!(answer as usize, bytes.len() + 1, "text_len"),
                Err(message) => assert_eq!(answer, 0, "text_len failed: {message}"),
            }
            settle(expected.err(), [arg]);
        }
        Function::EchoBytes(arg) => {
            let arg = Placed::new(arg);
            // SAFETY: as above.
            let result = unsafe { echo_bytes(arg.ptr, arg.len) };
            let expected = arg.expected("bytes", false);
            result_is(result, &expected);
            settle(expected.err(), [arg]);
        }
        Function::EchoText(arg) => {
            let arg = Placed::new(arg);
            // SAFETY: as above.
            let result = unsafe { echo_text(arg.ptr, arg.len) };
            let expected = arg.expected("text", true);
            result_is(result, &expected);
            settle(expected.err(), [arg]);
        }
        Function::Joined(first, second) => {
            let (first, second) = (Placed::new(first), Placed::new(second));
            // SAFETY: as above.
            let result = unsafe { joined(first.ptr, first.len, second.ptr, second.len) };
            let both = [
                first.expected("bytes", false),
                second.expected("text", true),
            ];
            // The export stops at the first bad argument.
            let expected = match both {
                [Ok(bytes), Ok(text)] => Ok([bytes, text].concat()),
                [Err(message), _] | [_, Err(message)] => Err(message),
            };
            result_is(result, &expected);
            settle(expected.err(), [first, second]);
        }
    }
}

/// The result block `result` must hold `expected`'s bytes, or be null when it is an error.
fn result_is(result: *mut u8, expected: &Result<Vec<u8>, String>) {
    match expected {
        Ok(bytes) => assert_eq!(&take_result(result), bytes, "the result"),
        Err(message) => assert!(result.is_null(), "a result despite {message:?}"),
    }
}

/// Checks the pending error against `expected` and frees the inputs.
fn settle<const N: usize>(expected: Option<String>, args: [Placed; N]) {
    assert_eq!(take_error(), expected, "last_error after the call");
    for arg in args {
        arg.release();
    }
}
