//! `host_reader`: the Rust host (`guestmem_host`) against a hostile guest, a real wasmtime
//! instance whose exports answer what libFuzzer chooses (pointers, lengths, traps) and whose
//! memory holds bytes it chooses, driven through the public API as a user drives it.
//!
//! Whatever the guest does, the host must give either exactly the bytes that lie at `ptr + 4`
//! (read here independently, from a copy of memory taken when the guest answered) or an error
//! whose claim is true of the block; never a panic, and never an allocation larger than linear
//! memory, however long a length prefix claims to be ([`Watch`] sees every allocation).
//!
//! The crate that includes this module provides `crate::hostile_guest` (src/hostile_guest.rs)
//! and `crate::hostile_module`, which makes the guest's module: the fuzz crate loads it as
//! build.rs compiled it, so that the fuzz build links wasmtime's runtime without its compiler;
//! the harness's replay test compiles it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use guestmem_host::{DEFAULT_RESULT_CAP, Error, Guest, GuestFunc, ResultProblem, result_block};
use wasmtime::{Caller, Engine, Extern, Linker, Module, Store};

use crate::hostile_guest;

/// The guest's functions of 0, 1, 2 and 4 inputs.
const FUNCTIONS: [&str; 4] = ["hostile0", "hostile1", "hostile2", "hostile4"];

/// Steps per input.
const MAX_STEPS: usize = 12;

/// Where the honest `alloc` starts handing out blocks.
const HEAP_START: u32 = 1024;

/// What the guest asks `script.answer` for (the WAT's first argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Alloc,
    Realloc,
    Free,
    Dealloc,
    LastError,
    Stats,
    Grow,
    Result,
}

impl Kind {
    fn from_wasm(kind: i32) -> Self {
        [
            Self::Alloc,
            Self::Realloc,
            Self::Free,
            Self::Dealloc,
            Self::LastError,
            Self::Stats,
            Self::Grow,
        ]
        .get(kind as usize)
        .copied()
        .unwrap_or(Self::Result)
    }
}

/// One answer of the guest's, taken in order by the exports that return an `i32`; `free` and
/// `dealloc` take one only when it is [`Answer::Trap`].
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Answer {
    /// What a well-behaved guest says: a fresh block for `alloc`, 0 for the rest.
    Honest,
    /// Trap.
    Trap,
    /// `8 * n`, wrapped into memory: an aligned pointer inside it.
    Inside(u16),
    /// The memory size less `n`: near the end, past it when `n` is 0, or wrapping round.
    FromEnd(u16),
    /// This value.
    Raw(u32),
}

impl Answer {
    /// The value of a pointer-like answer in a memory of `size` bytes; `None` for a trap.
    fn resolve(self, size: usize) -> Option<u32> {
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        match self {
            Self::Honest => Some(0),
            Self::Trap => None,
            Self::Inside(n) => Some((u32::from(n) * 8) % size.max(1)),
            Self::FromEnd(n) => Some(size.wrapping_sub(u32::from(n))),
            Self::Raw(value) => Some(value),
        }
    }
}

/// Where a write lands.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Place {
    Inside(u16),
    FromEnd(u16),
}

/// Bytes the guest writes into its memory when it answers a call (or before a step that calls
/// nothing): to plant a length prefix, a result or a message where an answer points.
#[derive(Debug, Clone, Arbitrary)]
enum Write {
    Bytes(Place, Vec<u8>),
    /// A length prefix: this value.
    Prefix(Place, u32),
    /// A length prefix that reaches `delta` bytes past the end of memory (before it, when
    /// negative): the edges a bounds check gets wrong.
    PrefixToEnd(Place, i8),
}

/// An input the host passes.
#[derive(Debug, Clone, Arbitrary)]
enum InputSpec {
    Bytes(Vec<u8>),
    /// `2 * len` copies of `byte`: long enough for blocks of their own (above 64 KiB).
    Long(u8, u16),
}

/// How the host reads the answer.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Read {
    Bytes,
    String,
    Borrowed,
    U32,
}

/// What the host is asked to do.
#[derive(Debug, Clone, Arbitrary)]
enum Action {
    /// Calls one of the guest's functions through a [`GuestFunc`].
    Call {
        function: u8,
        read: Read,
        inputs: Vec<InputSpec>,
    },
    LastError,
    /// [`Guest::take_result`] on a pointer the host was handed some other way.
    TakeResult(Answer),
    /// [`result_block::payload`] on the memory as it is.
    Payload(Answer, u32),
    SetCap(Cap),
    Stats,
    ReleaseInputBlock,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Cap {
    Default,
    Small(u8),
    Raw(u32),
}

/// One step: the answers the guest gives and the writes it makes, then what the host does.
#[derive(Debug, Clone, Arbitrary)]
struct Step {
    answers: Vec<Answer>,
    writes: Vec<Write>,
    grow: u8,
    action: Action,
}

/// One answer the guest gave, with a copy of memory when the host reads memory next (a result
/// or a `last_error` pointer).
#[derive(Debug)]
struct Answered {
    kind: Kind,
    /// `None`: it trapped.
    value: Option<u32>,
    memory: Vec<u8>,
}

/// The store's data: the script of the step under way, and what was answered.
#[derive(Default)]
struct Script {
    answers: VecDeque<Answer>,
    writes: Vec<Write>,
    grow: u32,
    bump: u32,
    log: Vec<Answered>,
}

/// Runs the steps that `data` encodes against a fresh instance of the hostile guest.
pub fn check(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let mut guest = instantiate();
    let functions = FUNCTIONS.map(|name| guest.func(name).expect("the hostile guest's exports"));
    let mut cap = DEFAULT_RESULT_CAP;
    for _ in 0..MAX_STEPS {
        let Ok(step) = Step::arbitrary(&mut input) else {
            break;
        };
        run(&mut guest, &functions, &mut cap, step);
    }
}

fn instantiate() -> Guest<Script> {
    static ENGINE: OnceLock<(Engine, Module, Linker<Script>)> = OnceLock::new();
    let (engine, module, linker) = ENGINE.get_or_init(|| {
        let engine = Engine::new(&hostile_guest::config()).expect("engine");
        let module = crate::hostile_module(&engine);
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("script", "answer", answer)
            .expect("define script.answer");
        (engine, module, linker)
    });
    let store = Store::new(
        engine,
        Script {
            bump: HEAP_START,
            ..Script::default()
        },
    );
    Guest::instantiate(store, linker, module).expect("instantiate the hostile guest")
}

/// `script.answer(kind, arg)`: the guest's next answer; negative to trap.
fn answer(mut caller: Caller<'_, Script>, kind: i32, arg: i32) -> i64 {
    let kind = Kind::from_wasm(kind);
    let Some(memory) = caller.get_export("memory").and_then(Extern::into_memory) else {
        return -1;
    };
    let script = caller.data_mut();
    let answer = match kind {
        Kind::Grow => return i64::from(std::mem::take(&mut script.grow)),
        Kind::Free | Kind::Dealloc => match script.answers.front() {
            Some(Answer::Trap) => script.answers.pop_front(),
            _ => return 0,
        },
        _ => script.answers.pop_front(),
    }
    .unwrap_or(Answer::Honest);
    if kind == Kind::Result {
        let writes = std::mem::take(&mut caller.data_mut().writes);
        apply(memory.data_mut(&mut caller), &writes);
    }
    let size = memory.data_size(&caller);
    let value = match (kind, answer) {
        (Kind::Alloc, Answer::Honest) => honest_alloc(&mut caller, &memory, arg as u32),
        _ => answer.resolve(size),
    };
    let memory = match (kind, value) {
        (Kind::Result | Kind::LastError, Some(_)) => memory.data(&caller).to_vec(),
        _ => Vec::new(),
    };
    caller.data_mut().log.push(Answered {
        kind,
        value,
        memory,
    });
    value.map_or(-1, i64::from)
}

/// A fresh 8-aligned block of `len` bytes past the last one, growing memory if need be; 0 when
/// memory cannot hold it.
fn honest_alloc(
    caller: &mut Caller<'_, Script>,
    memory: &wasmtime::Memory,
    len: u32,
) -> Option<u32> {
    let ptr = caller.data().bump;
    let Some(end) = ptr
        .checked_add(len)
        .and_then(|end| end.checked_next_multiple_of(8))
    else {
        return Some(0);
    };
    let size = memory.data_size(&*caller) as u64;
    if u64::from(end) > size {
        let pages = (u64::from(end) - size).div_ceil(0x1_0000);
        if memory.grow(&mut *caller, pages).is_err() {
            return Some(0);
        }
    }
    caller.data_mut().bump = end;
    Some(ptr)
}

/// Makes `writes` in `memory`, each cut at its end.
fn apply(memory: &mut [u8], writes: &[Write]) {
    let size = memory.len();
    let at = |place: Place| match place {
        Place::Inside(n) => (usize::from(n) * 8) % size,
        Place::FromEnd(n) => size.saturating_sub(usize::from(n)),
    };
    for write in writes {
        let (start, bytes) = match write {
            Write::Bytes(place, bytes) => (at(*place), bytes.clone()),
            Write::Prefix(place, len) => (at(*place), len.to_le_bytes().to_vec()),
            Write::PrefixToEnd(place, delta) => {
                let start = at(*place);
                let to_end = size as i64 - start as i64 - 4 + i64::from(*delta);
                (start, (to_end as u32).to_le_bytes().to_vec())
            }
        };
        let end = start.saturating_add(bytes.len()).min(size);
        memory[start..end].copy_from_slice(&bytes[..end - start]);
    }
}

/// Runs one step and checks what the host made of it.
fn run(guest: &mut Guest<Script>, functions: &[GuestFunc; 4], cap: &mut u32, step: Step) {
    let Step {
        answers,
        writes,
        grow,
        action,
    } = step;
    let calls_guest = matches!(action, Action::Call { .. });
    let script = guest.store_mut().data_mut();
    script.answers = answers.into();
    script.grow = u32::from(grow % 3);
    script.log.clear();
    if calls_guest {
        script.writes = writes;
    } else {
        // Nothing will answer `$result`: the guest wrote its memory before.
        let memory = memory_of(guest);
        apply(memory.data_mut(guest.store_mut()), &writes);
    }
    match action {
        Action::Call {
            function,
            read,
            inputs,
        } => {
            let func = &functions[usize::from(function) % functions.len()];
            let inputs: Vec<Vec<u8>> = (0..func.inputs())
                .map(|i| match inputs.get(i) {
                    Some(InputSpec::Bytes(bytes)) => bytes.clone(),
                    Some(InputSpec::Long(byte, len)) => vec![*byte; 2 * usize::from(*len)],
                    None => Vec::new(),
                })
                .collect();
            call(guest, func, read, &inputs, *cap);
        }
        Action::LastError => {
            let (outcome, largest) = watched(|| guest.last_error());
            within_memory(largest, guest);
            check_last_error(outcome, &guest.store().data().log, *cap);
        }
        Action::TakeResult(answer) => {
            let memory = memory_of(guest).data(guest.store()).to_vec();
            let ptr = answer.resolve(memory.len()).unwrap_or(0);
            let (outcome, largest) = watched(|| guest.take_result("taken", ptr));
            within_memory(largest, guest);
            match outcome {
                Ok(bytes) => check_read(&bytes, "taken", &memory, ptr, *cap, false),
                Err(Error::BadResult { function, problem }) if function == "taken" => {
                    check_refusal(&problem, "taken", &memory, ptr, *cap);
                }
                Err(Error::Guest { function, message }) if function == "taken" => {
                    assert_eq!(ptr, 0, "taken: {message}");
                    check_message(&message, &guest.store().data().log, *cap, false);
                }
                Err(error) => check_other_error(&error, &guest.store().data().log, *cap),
            }
        }
        Action::Payload(answer, cap) => {
            let memory = memory_of(guest).data(guest.store());
            let ptr = answer.resolve(memory.len()).unwrap_or(0);
            match result_block::payload(memory, ptr, cap) {
                Ok(payload) => {
                    assert_eq!(
                        Some(payload),
                        expected(memory, ptr, cap),
                        "payload at {ptr:#x}"
                    );
                    let start = payload.as_ptr().addr() - memory.as_ptr().addr();
                    assert_eq!(start, ptr as usize + 4, "payload lent from the wrong place");
                }
                Err(problem) => check_refusal(&problem, "payload", memory, ptr, cap),
            }
        }
        Action::SetCap(new) => {
            *cap = match new {
                Cap::Default => DEFAULT_RESULT_CAP,
                Cap::Small(cap) => u32::from(cap),
                Cap::Raw(cap) => cap,
            };
            guest.set_result_cap(*cap);
        }
        Action::Stats => {
            let _ = guest.live_blocks();
            let _ = guest.heap_bytes();
        }
        Action::ReleaseInputBlock => {
            let _ = guest.release_input_block();
        }
    }
}

fn memory_of(guest: &mut Guest<Script>) -> wasmtime::Memory {
    let instance = guest.instance();
    instance
        .get_memory(guest.store_mut(), "memory")
        .expect("the hostile guest's memory")
}

/// What a call gave back.
enum Got {
    Bytes(Vec<u8>),
    Integer(u32),
}

/// Calls `func` and checks its answer the way `read` takes it.
fn call(guest: &mut Guest<Script>, func: &GuestFunc, read: Read, inputs: &[Vec<u8>], cap: u32) {
    let name = func.name();
    let (outcome, largest) = watched(|| match read {
        Read::Bytes => func.call_bytes(guest, inputs).map(Got::Bytes),
        Read::String => func
            .call_string(guest, inputs)
            .map(|text| Got::Bytes(text.into_bytes())),
        Read::Borrowed => func
            .call_borrowed(guest, inputs)
            .map(|bytes| Got::Bytes(bytes.to_vec())),
        Read::U32 => func.call_u32(guest, inputs).map(Got::Integer),
    });
    within_memory(largest, guest);
    let log = &guest.store().data().log;
    let result = last(log, Kind::Result);
    // The pointer the guest answered, and the memory the host read it in.
    let answered = || {
        let result = result.unwrap_or_else(|| panic!("{name}: read a result the guest never gave"));
        let ptr = result.value.expect("a result from a guest that trapped");
        (ptr, result.memory.as_slice())
    };
    match outcome {
        Ok(Got::Bytes(bytes)) => {
            let (ptr, memory) = answered();
            check_read(&bytes, name, memory, ptr, cap, matches!(read, Read::String));
        }
        Ok(Got::Integer(value)) => {
            let answer = result.and_then(|result| result.value);
            assert_eq!(
                Some(value),
                answer,
                "call_u32 returned what the guest did not"
            );
        }
        Err(Error::BadResult { function, problem }) if function == name => {
            let (ptr, memory) = answered();
            check_refusal(&problem, name, memory, ptr, cap);
        }
        Err(Error::Guest { function, message }) if function == name => {
            let answer = result.and_then(|result| result.value);
            assert_eq!(
                answer,
                Some(0),
                "{name} failed, but the guest answered {answer:?}"
            );
            check_message(&message, log, cap, matches!(read, Read::U32));
        }
        Err(error) => check_other_error(&error, log, cap),
    }
}

/// The latest answer of `kind` in this step.
fn last(log: &[Answered], kind: Kind) -> Option<&Answered> {
    log.iter().rev().find(|answered| answered.kind == kind)
}

/// What an honest reader makes of the block at `ptr`: its payload, or `None` when it is not a
/// block the host may read (misaligned, outside memory, longer than `cap`). Computed in u64, so
/// that nothing wraps.
fn expected(memory: &[u8], ptr: u32, cap: u32) -> Option<&[u8]> {
    let size = memory.len() as u64;
    if !ptr.is_multiple_of(8) || u64::from(ptr) + 4 > size {
        return None;
    }
    let start = ptr as usize;
    let len = prefix(memory, ptr)?;
    if len > cap || u64::from(ptr) + 4 + u64::from(len) > size {
        return None;
    }
    Some(&memory[start + 4..start + 4 + len as usize])
}

fn prefix(memory: &[u8], ptr: u32) -> Option<u32> {
    let start = ptr as usize;
    let bytes = memory.get(start..start.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// Whether `problem`, which the host reported for the block at `ptr`, is true of it.
fn holds(problem: &ResultProblem, memory: &[u8], ptr: u32, cap: u32) -> bool {
    let size = memory.len() as u64;
    match *problem {
        ResultProblem::Misaligned { ptr: claimed } => claimed == ptr && !ptr.is_multiple_of(8),
        ResultProblem::PrefixOutOfBounds {
            ptr: claimed,
            memory: claimed_size,
        } => claimed == ptr && claimed_size == memory.len() && u64::from(ptr) + 4 > size,
        ResultProblem::PayloadOutOfBounds {
            ptr: claimed,
            len,
            memory: claimed_size,
        } => {
            claimed == ptr
                && claimed_size == memory.len()
                && prefix(memory, ptr) == Some(len)
                && u64::from(ptr) + 4 + u64::from(len) > size
        }
        ResultProblem::TooLong {
            len,
            cap: claimed_cap,
        } => claimed_cap == cap && len > cap && prefix(memory, ptr) == Some(len),
        ResultProblem::NotUtf8 => {
            expected(memory, ptr, cap).is_some_and(|bytes| std::str::from_utf8(bytes).is_err())
        }
    }
}

/// Bytes read from the block at `ptr`: exactly its payload.
fn check_read(bytes: &[u8], function: &str, memory: &[u8], ptr: u32, cap: u32, text: bool) {
    let payload = expected(memory, ptr, cap);
    assert_eq!(Some(bytes), payload, "{function}: a wrong read at {ptr:#x}");
    if text {
        assert!(
            std::str::from_utf8(bytes).is_ok(),
            "{function}: text that is not UTF-8"
        );
    }
}

/// A block at `ptr` the host refused: the reason must be true of it.
fn check_refusal(problem: &ResultProblem, function: &str, memory: &[u8], ptr: u32, cap: u32) {
    assert!(
        holds(problem, memory, ptr, cap),
        "{function}: {problem:?} is not true of the block at {ptr:#x}"
    );
}

/// The text of the `last_error` block the guest answered last in this step, if it is one the
/// host can read.
fn last_message(log: &[Answered], cap: u32) -> Option<&str> {
    let answered = last(log, Kind::LastError)?;
    let payload = expected(&answered.memory, answered.value?, cap)?;
    std::str::from_utf8(payload).ok()
}

/// `Guest::last_error`'s answer: the message in memory, nothing when the guest had none, or a
/// refusal that is true of the block.
fn check_last_error(outcome: Result<Option<String>, Error>, log: &[Answered], cap: u32) {
    let answered = last(log, Kind::LastError);
    match outcome {
        Ok(None) => assert_eq!(
            answered.and_then(|a| a.value),
            Some(0),
            "no message, yet the guest had one"
        ),
        Ok(Some(message)) => assert_eq!(
            Some(message.as_str()),
            last_message(log, cap),
            "a wrong message"
        ),
        Err(Error::BadResult { function, problem }) if function == "last_error" => {
            let answered = answered.expect("a refused message the guest never gave");
            let ptr = answered.value.expect("a message from a guest that trapped");
            check_refusal(&problem, "last_error", &answered.memory, ptr, cap);
        }
        Err(error) => check_other_error(&error, log, cap),
    }
}

/// The message of an [`Error::Guest`]: the guest's own, or the host's note of why there is none.
fn check_message(message: &str, log: &[Answered], cap: u32, integer: bool) {
    if last_message(log, cap) == Some(message) {
        return;
    }
    assert!(
        !integer,
        "call_u32 failed with {message:?}, not the guest's message"
    );
    if message == "returned 0 and no error is pending" {
        let answered = last(log, Kind::LastError).and_then(|answered| answered.value);
        assert_eq!(answered, Some(0), "no message, yet the guest had one");
        return;
    }
    assert!(
        message.starts_with("returned 0 and last_error failed: "),
        "{message:?} is neither the guest's message nor a failure to read it"
    );
}

/// Any other error: what it claims must be true.
fn check_other_error(error: &Error, log: &[Answered], cap: u32) {
    match error {
        Error::Trap {
            reason: Some(reason),
            ..
        } => assert_eq!(
            Some(reason.as_str()),
            last_message(log, cap),
            "a trap's reason"
        ),
        Error::OutOfBounds { ptr, len, memory } => {
            assert!(
                u64::from(*ptr) + len > *memory as u64,
                "{error}: inside memory"
            );
        }
        Error::AllocFailed { .. } => {
            let failed = log.iter().any(|answered| {
                matches!(answered.kind, Kind::Alloc | Kind::Realloc) && answered.value == Some(0)
            });
            assert!(failed, "{error}, yet no alloc returned 0");
        }
        // `call_u32` first clears an error pending from an earlier call: a message it cannot
        // read fails the call.
        Error::BadResult { function, problem } if function == "last_error" => {
            let answered = last(log, Kind::LastError).expect("a refused message never given");
            let ptr = answered.value.expect("a message from a guest that trapped");
            check_refusal(problem, function, &answered.memory, ptr, cap);
        }
        Error::BadResult { function, problem } => {
            panic!("{function}: {problem:?} from a function this step did not read");
        }
        _ => {}
    }
}

/// Checks that the largest allocation of a step fits in linear memory: the host allocates for
/// what is there, never for what a length prefix claims.
fn within_memory(largest: usize, guest: &Guest<Script>) {
    let size = guest.memory_size();
    assert!(
        largest <= size,
        "the host allocated {largest} bytes with {size} bytes of linear memory"
    );
}

/// A global allocator (the system's) that notes the largest allocation made on the thread
/// that arms it with [`watched`]. The fuzz target and the replay test install it; [`check`]
/// fails without it.
pub struct Watch;

std::thread_local! {
    /// The largest allocation since [`watched`] armed it; `None` when not armed.
    static LARGEST: Cell<Option<usize>> = const { Cell::new(None) };
}

fn note(size: usize) {
    // `try_with`: allocations during the thread's teardown find no slot, and are not watched.
    let _ = LARGEST.try_with(|largest| {
        if let Some(so_far) = largest.get() {
            largest.set(Some(so_far.max(size)));
        }
    });
}

// SAFETY: every call is forwarded to `System` with the caller's arguments unchanged; noting a
// size has no effect on the memory handed out, and allocates nothing.
unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded with the caller's obligations.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded with the caller's obligations.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's obligations.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded with the caller's obligations.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns what it returned with the largest allocation it made on this thread.
fn watched<R>(f: impl FnOnce() -> R) -> (R, usize) {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let installed = *INSTALLED.get_or_init(|| {
        LARGEST.set(Some(0));
        drop(std::hint::black_box(Vec::<u8>::with_capacity(4096)));
        LARGEST.replace(None) >= Some(4096)
    });
    assert!(
        installed,
        "install host_reader::Watch as the #[global_allocator]"
    );
    LARGEST.set(Some(0));
    let value = f();
    (value, LARGEST.replace(None).unwrap_or(0))
}
