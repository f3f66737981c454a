//! `export_input`: arbitrary bytes as the arguments of functions declared with
//! `guestmem::export!`, called natively as a host calls them: `&[u8]`, `&str`, `Owned`,
//! `Json<T>` and `Postcard<T>` arguments given input blocks, owned blocks of the right length or
//! not, null pointers, empty and over-long lengths. A bad argument must make the export return its
//! failure value with a `last_error` message naming the first bad argument, never a panic or a
//! read; a good one must reach the function as it is. Borrowed inputs stay the host's, unchanged;
//! an owned block of exactly `len + 4` bytes is the guest's whatever the outcome, and any other is
//! refused and left alone (docs/ABI.md, "Ownership", "Owned arguments", "Typed values").
//!
//! Natively every address is "inside memory", so the argument shapes are those that need no
//! bounds, and an owned argument's pointer is never one whose header would be read from memory
//! that is not a block's: the wasm32 range checks are the harness's and the hosts'.

use arbitrary::{Arbitrary, Unstructured};
use guestmem::abi::{alloc, dealloc};
use guestmem::stats::live_blocks;
use guestmem::{Json, Owned, Postcard, ResultBlock};

use crate::model::{self, take_error, take_result};

/// Calls per input.
const MAX_CALLS: usize = 64;

/// The typed value the typed exports take: what a JSON array or a postcard tuple holds.
type Pair = (u32, String);

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

    fn shout(owned: Owned) -> ResultBlock {
        let mut owned = owned;
        owned.make_ascii_uppercase();
        owned.into_result()
    }

    fn owned_after(text: &str, owned: Owned) -> u32 {
        u32::try_from(text.len() + owned.len()).map_or(u32::MAX, |len| len + 1)
    }

    fn swap_json(pair: Json<Pair>) -> Json<(String, u32)> {
        let (number, text) = pair.0;
        Json((text, number))
    }

    fn swap_postcard(pair: Postcard<Pair>) -> Postcard<(String, u32)> {
        let (number, text) = pair.0;
        Postcard((text, number))
    }
}

/// How an export declares an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bytes,
    Text,
    Owned,
    Json,
    Postcard,
}

/// The exports above, each with the arguments a host passes it.
#[derive(Debug, Arbitrary)]
enum Function {
    TextLen(Arg),
    EchoBytes(Arg),
    EchoText(Arg),
    Joined(Arg, Arg),
    Shout(Arg),
    OwnedAfter(Arg, Arg),
    SwapJson(Arg),
    SwapPostcard(Arg),
}

/// The `(ptr, len)` pair a host passes for one argument.
#[derive(Debug, Arbitrary)]
enum Arg {
    /// These bytes in an input block from `alloc`, as a host places a borrowed input.
    Bytes(Vec<u8>),
    /// Valid UTF-8, so that text arguments get through too.
    Text(String),
    /// A valid JSON encoding of a [`Pair`].
    Json(u32, String),
    /// A valid postcard encoding of a [`Pair`].
    Postcard(u32, String),
    /// These bytes after 4 bytes of room in a block `len + 4 + extra` bytes long, the pointer
    /// past the room: an owned argument when `extra` is 0 (a longer block for a borrowed one).
    Owned(Vec<u8>, i8),
    /// Length 0 with any pointer at all, null or not: never read.
    Empty(usize),
    /// The null pointer with a non-zero length.
    Null(u16),
    /// A block's pointer with a length above `isize::MAX`, which no slice may have.
    TooLong(u64),
}

/// An argument as passed: the pair, the block the harness allocated for it (start, length and
/// bytes), and whether the guest takes that block.
struct Placed {
    ptr: *const u8,
    len: usize,
    block: Option<(*mut u8, Vec<u8>)>,
    taken: bool,
}

/// A block of `bytes.len()` bytes holding `bytes`.
fn block_of(bytes: &[u8]) -> *mut u8 {
    let ptr = alloc(bytes.len());
    assert!(!ptr.is_null(), "a block of {} bytes", bytes.len());
    // SAFETY: a fresh block of `bytes.len()` bytes.
    unsafe { ptr.copy_from_nonoverlapping(bytes.as_ptr(), bytes.len()) };
    ptr
}

impl Placed {
    /// Places `arg` for an argument of `kind`, as a host would (or as a confused one would).
    fn new(arg: &Arg, kind: Kind) -> Self {
        let borrowed = |bytes: &[u8]| {
            let block = block_of(bytes);
            Self {
                ptr: block,
                len: bytes.len(),
                block: Some((block, bytes.to_vec())),
                taken: false,
            }
        };
        let owned = |bytes: &[u8], extra: isize| {
            // The room, then the bytes, cut or padded to the block's length.
            let size = (bytes.len() as isize + 4 + extra).max(0) as usize;
            let mut contents = vec![0xA5; 4];
            contents.extend_from_slice(bytes);
            contents.resize(size, 0x5A);
            let block = block_of(&contents);
            Self {
                ptr: block.wrapping_add(4),
                len: bytes.len(),
                block: Some((block, contents)),
                taken: kind == Kind::Owned && size == bytes.len() + 4,
            }
        };
        match arg {
            Arg::Bytes(bytes) => borrowed(bytes),
            Arg::Text(text) => borrowed(text.as_bytes()),
            Arg::Json(number, text) => {
                borrowed(&serde_json::to_vec(&(number, text)).expect("a pair encodes"))
            }
            Arg::Postcard(number, text) => {
                borrowed(&postcard::to_allocvec(&(number, text)).expect("a pair encodes"))
            }
            // A borrowed argument reads `len` bytes: its block is never shorter.
            Arg::Owned(bytes, extra) if kind != Kind::Owned => {
                owned(bytes, isize::from(*extra).max(0))
            }
            Arg::Owned(bytes, extra) => owned(bytes, isize::from(*extra)),
            // An owned argument's header is read at `ptr - 12`: an address that is 0 modulo 8
            // is refused before that, as `ptr - 4` is not a multiple of 8.
            Arg::Empty(addr) => Self {
                ptr: std::ptr::without_provenance(if kind == Kind::Owned {
                    addr & !7
                } else {
                    *addr
                }),
                len: 0,
                block: None,
                taken: false,
            },
            Arg::Null(len) => Self {
                ptr: std::ptr::null(),
                len: usize::from(*len).max(1),
                block: None,
                taken: false,
            },
            Arg::TooLong(extra) => {
                let mut placed = if kind == Kind::Owned {
                    owned(b"8 bytes!", 0)
                } else {
                    borrowed(b"8 bytes!")
                };
                placed.len = (isize::MAX as usize)
                    .saturating_add(1)
                    .saturating_add(*extra as usize);
                placed.taken = false;
                placed
            }
        }
    }

    /// The bytes the export's argument `name` of `kind` must get, or the message of the error it
    /// must fail with.
    fn expected(&self, name: &str, kind: Kind) -> Result<Vec<u8>, String> {
        let fail = |problem: &str| Err(format!("argument `{name}`: {problem}"));
        if kind == Kind::Owned {
            if !self.taken {
                return fail(
                    "not an owned block (4 bytes of room, then the bytes, in a block the host \
                     gives up)",
                );
            }
            let (_, contents) = self.block.as_ref().expect("an owned block");
            return Ok(contents[4..].to_vec());
        }
        let bytes = if self.len == 0 {
            Vec::new()
        } else if self.ptr.is_null() {
            return fail("null pointer with a non-zero length");
        } else {
            let Some((block, contents)) = &self.block else {
                unreachable!("a non-empty argument without a block");
            };
            let offset = self.ptr.addr() - block.addr();
            match contents.get(offset..offset + self.len.min(contents.len())) {
                Some(bytes) if bytes.len() == self.len => bytes.to_vec(),
                _ => return fail("runs past the end of linear memory"),
            }
        };
        match kind {
            Kind::Text => {
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
            Kind::Json => {
                if let Err(error) = serde_json::from_slice::<Pair>(&bytes) {
                    return fail(&format!("not valid JSON: {error}"));
                }
            }
            Kind::Postcard => {
                if let Err(error) = postcard::from_bytes::<Pair>(&bytes) {
                    return fail(&format!("not valid postcard: {error}"));
                }
            }
            Kind::Bytes | Kind::Owned => {}
        }
        Ok(bytes)
    }

    /// Frees the harness's block after the call, checking that the guest left it as it was,
    /// unless the guest took it.
    fn release(self) {
        let Some((block, contents)) = self.block.filter(|_| !self.taken) else {
            return;
        };
        assert_eq!(
            model::bytes_of(block, contents.len()),
            contents,
            "the guest changed a block it does not own"
        );
        // SAFETY: the block allocated in `new`, with its length, freed once.
        unsafe { dealloc(block, contents.len()) };
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

/// What a call gave: a result block (null on failure), or an integer (0 on failure).
enum Answer {
    Block(*mut u8),
    Integer(u32),
}

fn call(function: &Function) {
    let (params, args): (&[(&str, Kind)], Vec<&Arg>) = match function {
        Function::TextLen(arg) => (&[("text", Kind::Text)], vec![arg]),
        Function::EchoBytes(arg) => (&[("bytes", Kind::Bytes)], vec![arg]),
        Function::EchoText(arg) => (&[("text", Kind::Text)], vec![arg]),
        Function::Joined(a, b) => (&[("bytes", Kind::Bytes), ("text", Kind::Text)], vec![a, b]),
        Function::Shout(arg) => (&[("owned", Kind::Owned)], vec![arg]),
        Function::OwnedAfter(a, b) => (&[("text", Kind::Text), ("owned", Kind::Owned)], vec![a, b]),
        Function::SwapJson(arg) => (&[("pair", Kind::Json)], vec![arg]),
        Function::SwapPostcard(arg) => (&[("pair", Kind::Postcard)], vec![arg]),
    };
    let placed: Vec<Placed> = args
        .iter()
        .zip(params)
        .map(|(arg, &(_, kind))| Placed::new(arg, kind))
        .collect();
    // The export checks its arguments in order and fails at the first bad one.
    let expected: Result<Vec<Vec<u8>>, String> = placed
        .iter()
        .zip(params)
        .map(|(placed, &(name, kind))| placed.expected(name, kind))
        .collect();
    let live = live_blocks();
    let pair = |i: usize| (placed[i].ptr, placed[i].len);
    // SAFETY: each pair is an input block, an owned block given up with the call, or a pair that
    // is never read (see `Arg` and `Placed::new`).
    let answer = unsafe {
        match function {
            Function::TextLen(_) => Answer::Integer(text_len(pair(0).0, pair(0).1)),
            Function::EchoBytes(_) => Answer::Block(echo_bytes(pair(0).0, pair(0).1)),
            Function::EchoText(_) => Answer::Block(echo_text(pair(0).0, pair(0).1)),
            Function::Joined(..) => {
                Answer::Block(joined(pair(0).0, pair(0).1, pair(1).0, pair(1).1))
            }
            Function::Shout(_) => Answer::Block(shout(pair(0).0, pair(0).1)),
            Function::OwnedAfter(..) => {
                Answer::Integer(owned_after(pair(0).0, pair(0).1, pair(1).0, pair(1).1))
            }
            Function::SwapJson(_) => Answer::Block(swap_json(pair(0).0, pair(0).1)),
            Function::SwapPostcard(_) => Answer::Block(swap_postcard(pair(0).0, pair(0).1)),
        }
    };
    // What the function makes of its arguments, when they are good.
    let result = expected.as_ref().map(|args| match function {
        Function::TextLen(_) => (args[0].len() as u32 + 1).to_le_bytes().to_vec(),
        Function::EchoBytes(_) | Function::EchoText(_) => args[0].clone(),
        Function::Joined(..) => args.concat(),
        Function::Shout(_) => args[0].to_ascii_uppercase(),
        Function::OwnedAfter(..) => ((args[0].len() + args[1].len()) as u32 + 1)
            .to_le_bytes()
            .to_vec(),
        Function::SwapJson(_) => {
            let (number, text): Pair = serde_json::from_slice(&args[0]).expect("decoded above");
            serde_json::to_vec(&(text, number)).expect("a pair encodes")
        }
        Function::SwapPostcard(_) => {
            let (number, text): Pair = postcard::from_bytes(&args[0]).expect("decoded above");
            postcard::to_allocvec(&(text, number)).expect("a pair encodes")
        }
    });
    // Checked before anything is freed: a block the guest took by mistake is never freed twice.
    let given = match (&answer, &result) {
        (Answer::Block(ptr), Err(message)) => {
            assert!(ptr.is_null(), "{function:?}: a result despite {message:?}");
            false
        }
        (Answer::Integer(value), Err(message)) => {
            assert_eq!(*value, 0, "{function:?}: an answer despite {message:?}");
            false
        }
        (Answer::Block(ptr), Ok(_)) => {
            assert!(!ptr.is_null(), "{function:?} failed: {:?}", take_error());
            true
        }
        (Answer::Integer(value), Ok(bytes)) => {
            assert_eq!(value.to_le_bytes().as_slice(), bytes, "{function:?}");
            false
        }
    };
    let taken = placed.iter().filter(|placed| placed.taken).count() as u32;
    assert_eq!(
        live_blocks(),
        live - taken + u32::from(given),
        "{function:?}: the guest took other blocks than the owned ones, or kept one"
    );
    if let (Answer::Block(ptr), Ok(bytes)) = (answer, &result) {
        if matches!(function, Function::Shout(_)) {
            let (block, _) = placed[0].block.as_ref().expect("an owned block");
            assert_eq!(ptr, *block, "the owned block is the result, in place");
        }
        assert_eq!(&take_result(ptr), bytes, "{function:?}: the result");
    }
    assert_eq!(
        take_error().as_ref(),
        result.err(),
        "last_error after {function:?}"
    );
    for placed in placed {
        placed.release();
    }
}
