//! `host_reader`: the Rust host (`guestmem_host`) against a hostile guest, a real wasmtime
//! instance whose exports answer what libFuzzer chooses (pointers, lengths, traps) and whose
//! memory holds bytes it chooses, driven through the public API as a user drives it: calls read as
//! bytes, text, in place, integers, JSON and postcard, with or without an interface section (owned
//! inputs, text checked before the call), `last_error`, `take_result`, `read`, and
//! `result_block::payload` and `Interface::read` on bytes as they come.
//!
//! Whatever the guest does, the host must give either exactly the bytes that lie at `ptr + 4`
//! (read here independently, from a copy of memory taken when the guest answered) or an error
//! whose claim is true; place its inputs where it says, intact, while the guest answers honestly;
//! never free an owned input once the guest has it; never panic; and never allocate more than
//! linear memory holds, however long a length prefix claims to be ([`Watch`] sees every
//! allocation).
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
use guestmem_host::{
    Argument, DEFAULT_RESULT_CAP, Error, Function, Guest, GuestFunc, Interface, Kind,
    ResultProblem, result_block,
};
use wasmtime::{Caller, Engine, Extern, Linker, Store};

use crate::hostile_guest;

/// The guest's functions of 0, 1, 2 and 4 inputs.
const FUNCTIONS: [&str; 4] = ["hostile0", "hostile1", "hostile2", "hostile4"];

/// Steps per input.
const MAX_STEPS: usize = 12;

/// Where the honest `alloc` starts handing out blocks.
const HEAP_START: u32 = 1024;

/// The typed value read as JSON and postcard: a sequence, whose length postcard takes on trust.
type Typed = (u32, String, Vec<u16>);

/// What the guest asks `script.answer` about (the WAT's first argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Alloc,
    Realloc,
    Free,
    Dealloc,
    LastError,
    Stats,
    Grow,
    Result,
    /// Shows an argument of the function called; answers nothing.
    Argument,
}

impl Ask {
    fn from_wasm(kind: i32) -> Self {
        [
            Self::Alloc,
            Self::Realloc,
            Self::Free,
            Self::Dealloc,
            Self::LastError,
            Self::Stats,
            Self::Grow,
            Self::Result,
        ]
        .get(kind as usize)
        .copied()
        .unwrap_or(Self::Argument)
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
    /// A JSON or postcard encoding of a [`Typed`] value, with its length prefix in front.
    Typed(Place, bool, u32, String, Vec<u16>),
}

/// An input the host passes.
#[derive(Debug, Clone, Arbitrary)]
enum InputSpec {
    Bytes(Vec<u8>),
    /// `2 * len` copies of `byte`: long enough for blocks of their own (above 64 KiB).
    Long(u8, u16),
}

/// How the host reads the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
enum Read {
    Bytes,
    String,
    Borrowed,
    U32,
    Json,
    Postcard,
}

/// An argument as an interface section would describe it.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum ArgKind {
    Bytes,
    Owned,
    String,
    Json,
    Postcard,
}

/// A result as an interface section would describe it.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum ResultKind {
    Bytes,
    String,
    Json,
    Postcard,
    U32,
    I32,
    U64,
}

/// What the interface section says of one of the guest's functions.
#[derive(Debug, Clone, Arbitrary)]
struct Described {
    args: [ArgKind; 4],
    result: ResultKind,
    fallible: bool,
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
    /// [`Guest::read`] of a range the guest named.
    Read(Answer, u32),
    /// [`result_block::payload`] on the memory as it is.
    Payload(Answer, u32),
    /// [`Guest::set_interface`] with a section that describes the guest's functions.
    Describe([Option<Described>; 4]),
    /// [`Interface::parse`] and [`Interface::read`] of bytes as they come; what parses is given
    /// to [`Guest::set_interface`] too.
    Section(Vec<u8>),
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

/// One answer the guest gave: what it was asked about and with what argument, what it answered
/// (`None`: it trapped), and a copy of memory when the host reads memory next (a result or a
/// `last_error` pointer) or has just placed the inputs (the first argument of a call).
#[derive(Debug)]
struct Answered {
    ask: Ask,
    arg: u32,
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
    /// An `alloc` answered other than honestly once: blocks may overlap from then on, and
    /// inputs are no longer checked where the host placed them.
    lied: bool,
}

/// Runs the steps that `data` encodes against a fresh instance of the hostile guest.
pub fn check(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let mut guest = instantiate();
    let mut functions = lookup(&mut guest);
    let mut cap = DEFAULT_RESULT_CAP;
    for _ in 0..MAX_STEPS {
        let Ok(step) = Step::arbitrary(&mut input) else {
            break;
        };
        run(&mut guest, &mut functions, &mut cap, step);
    }
}

fn instantiate() -> Guest<Script> {
    static ENGINE: OnceLock<(Engine, wasmtime::Module, Linker<Script>)> = OnceLock::new();
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

/// The guest's functions, looked up again whenever the interface changes.
fn lookup(guest: &mut Guest<Script>) -> [GuestFunc; 4] {
    FUNCTIONS.map(|name| guest.func(name).expect("the hostile guest's exports"))
}

/// `script.answer(kind, arg)`: the guest's next answer; negative to trap.
fn answer(mut caller: Caller<'_, Script>, kind: i32, arg: i32) -> i64 {
    let ask = Ask::from_wasm(kind);
    let arg = arg.cast_unsigned();
    let Some(memory) = caller.get_export("memory").and_then(Extern::into_memory) else {
        return -1;
    };
    let script = caller.data_mut();
    let answer = match ask {
        Ask::Grow => return i64::from(std::mem::take(&mut script.grow)),
        Ask::Free | Ask::Dealloc | Ask::Argument => match script.answers.front() {
            Some(Answer::Trap) if ask != Ask::Argument => script.answers.pop_front(),
            _ => Some(Answer::Honest),
        },
        _ => script.answers.pop_front(),
    }
    .unwrap_or(Answer::Honest);
    if ask == Ask::Alloc && !matches!(answer, Answer::Honest) {
        script.lied = true;
    }
    if ask == Ask::Result {
        let writes = std::mem::take(&mut caller.data_mut().writes);
        apply(memory.data_mut(&mut caller), &writes);
    }
    let size = memory.data_size(&caller);
    let value = match (ask, answer) {
        (Ask::Alloc, Answer::Honest) => honest_alloc(&mut caller, &memory, arg),
        _ => answer.resolve(size),
    };
    // Memory as the host left it for the guest's function (at its first argument), and as
    // the host reads it next (a result or a message).
    let first_argument = ask == Ask::Argument
        && caller
            .data()
            .log
            .last()
            .is_none_or(|answered| answered.ask != Ask::Argument);
    let memory = match (ask, value) {
        (Ask::Result | Ask::LastError, Some(_)) => memory.data(&caller).to_vec(),
        _ if first_argument => memory.data(&caller).to_vec(),
        _ => Vec::new(),
    };
    caller.data_mut().log.push(Answered {
        ask,
        arg,
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
    // At least one byte: two live blocks never share an address, not even empty ones.
    let Some(end) = ptr
        .checked_add(len.max(1))
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
            Write::Typed(place, json, number, text, values) => {
                let value = (number, text, values);
                let encoded = if *json {
                    serde_json::to_vec(&value).expect("encodes")
                } else {
                    postcard::to_allocvec(&value).expect("encodes")
                };
                let mut bytes = (encoded.len() as u32).to_le_bytes().to_vec();
                bytes.extend_from_slice(&encoded);
                (at(*place), bytes)
            }
        };
        let end = start.saturating_add(bytes.len()).min(size);
        memory[start..end].copy_from_slice(&bytes[..end - start]);
    }
}

/// Runs one step and checks what the host made of it.
fn run(guest: &mut Guest<Script>, functions: &mut [GuestFunc; 4], cap: &mut u32, step: Step) {
    let Step {
        answers,
        writes,
        grow,
        action,
    } = step;
    if std::env::var_os("HOST_READER_TRACE").is_some() {
        eprintln!("{action:?}");
    }
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
            let log = &guest.store().data().log;
            match outcome {
                Ok(bytes) => check_read(&bytes, "taken", &memory, ptr, *cap, false),
                Err(Error::BadResult { function, problem }) if function == "taken" => {
                    check_refusal(&problem, "taken", &memory, ptr, *cap);
                }
                Err(Error::Guest { function, message }) if function == "taken" => {
                    assert_eq!(ptr, 0, "taken: {message}");
                    check_message(&message, log, *cap, false);
                }
                Err(error) => check_other_error(&error, log, *cap, &[]),
            }
        }
        Action::Read(answer, len) => {
            let memory = memory_of(guest).data(guest.store()).to_vec();
            let ptr = answer.resolve(memory.len()).unwrap_or(0);
            let len = len as usize % (memory.len() + 16);
            match guest.read(ptr, len) {
                Ok(bytes) => assert_eq!(
                    Some(bytes.as_slice()),
                    memory.get(ptr as usize..ptr as usize + len),
                    "read({ptr:#x}, {len})"
                ),
                Err(error) => check_other_error(&error, &[], *cap, &[]),
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
        Action::Describe(described) => {
            let interface = Interface {
                exports: FUNCTIONS
                    .iter()
                    .zip(described)
                    .filter_map(|(name, described)| Some(describe(name, described?)))
                    .collect(),
                imports: Vec::new(),
            };
            if guest.set_interface(interface).is_ok() {
                *functions = lookup(guest);
            }
        }
        Action::Section(bytes) => {
            let parsed = Interface::parse(&bytes);
            let mut module = b"\0asm\x01\0\0\0\0".to_vec();
            let name = guestmem_host::interface::SECTION.as_bytes();
            leb128(&mut module, 1 + name.len() + bytes.len());
            module.push(name.len() as u8);
            module.extend_from_slice(name);
            module.extend_from_slice(&bytes);
            let read = Interface::read(&module);
            assert_eq!(
                read.as_ref().ok().cloned().flatten(),
                parsed.as_ref().ok().cloned(),
                "Interface::read of a module with the section and Interface::parse disagree"
            );
            let _ = Interface::read(&bytes);
            if let Ok(interface) = parsed {
                for function in &interface.exports {
                    let _ = function.to_string();
                }
                if guest.set_interface(interface).is_ok() {
                    *functions = lookup(guest);
                }
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

/// Appends `value` as unsigned LEB128.
fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The interface entry of the guest's function `name`, as `described`.
fn describe(name: &str, described: Described) -> Function {
    let inputs = match name {
        "hostile0" => 0,
        "hostile1" => 1,
        "hostile2" => 2,
        _ => 4,
    };
    let args = described.args[..inputs]
        .iter()
        .enumerate()
        .map(|(index, kind)| {
            let (kind, owned) = match kind {
                ArgKind::Bytes => (Kind::Bytes, false),
                ArgKind::Owned => (Kind::Bytes, true),
                ArgKind::String => (Kind::String, false),
                ArgKind::Json => (Kind::Json, false),
                ArgKind::Postcard => (Kind::Postcard, false),
            };
            Argument {
                name: format!("arg{index}"),
                kind,
                owned,
            }
        })
        .collect();
    let result = match described.result {
        ResultKind::Bytes => Kind::Bytes,
        ResultKind::String => Kind::String,
        ResultKind::Json => Kind::Json,
        ResultKind::Postcard => Kind::Postcard,
        ResultKind::U32 => Kind::U32,
        ResultKind::I32 => Kind::I32,
        ResultKind::U64 => Kind::U64,
    };
    Function {
        module: None,
        name: name.to_owned(),
        args,
        result,
        fallible: described.fallible,
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
    Typed(Typed),
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
        Read::Json => func.call_json(guest, inputs).map(Got::Typed),
        Read::Postcard => func.call_postcard(guest, inputs).map(Got::Typed),
    });
    within_memory(largest, guest);
    let script = guest.store().data();
    let log = &script.log;
    check_placement(func, inputs, log, script.lied);
    let result = last(log, Ask::Result);
    // The pointer the guest answered, and the memory the host read it in.
    let answered = || {
        let result = result.unwrap_or_else(|| panic!("{name}: read a result the guest never gave"));
        let ptr = result.value.expect("a result from a guest that trapped");
        (ptr, result.memory.as_slice())
    };
    match outcome {
        Ok(Got::Bytes(bytes)) => {
            let (ptr, memory) = answered();
            check_read(&bytes, name, memory, ptr, cap, read == Read::String);
        }
        Ok(Got::Integer(value)) => {
            let answer = result.and_then(|result| result.value);
            assert_eq!(
                Some(value),
                answer,
                "call_u32 returned what the guest did not"
            );
        }
        Ok(Got::Typed(value)) => {
            let (ptr, memory) = answered();
            let payload = expected(memory, ptr, cap);
            assert_eq!(
                payload.and_then(|bytes| decode(read, bytes).ok()),
                Some(value),
                "{name}: a wrong value from the block at {ptr:#x}"
            );
        }
        Err(Error::BadResult { function, problem }) if function == name => {
            let (ptr, memory) = answered();
            check_refusal(&problem, name, memory, ptr, cap);
        }
        Err(Error::Typed { function, .. }) if function == name => {
            let (ptr, memory) = answered();
            let payload = expected(memory, ptr, cap).expect("a refused value the host never read");
            assert!(
                decode(read, payload).is_err(),
                "{name}: a value that decodes refused"
            );
        }
        Err(Error::Guest { function, message }) if function == name => {
            let answer = result.and_then(|result| result.value);
            assert_eq!(
                answer,
                Some(0),
                "{name} failed, but the guest answered {answer:?}"
            );
            check_message(&message, log, cap, read == Read::U32);
        }
        Err(error) => check_other_error(&error, log, cap, inputs),
    }
}

/// Decodes `bytes` as `read` does.
fn decode(read: Read, bytes: &[u8]) -> Result<Typed, String> {
    match read {
        Read::Json => serde_json::from_slice(bytes).map_err(|error| error.to_string()),
        _ => postcard::from_bytes(bytes).map_err(|error| error.to_string()),
    }
}

/// Where the host put the inputs, as the guest's function saw its arguments: each input intact
/// (while every `alloc` was honest, so that no two blocks overlap), and no owned input freed by
/// the host once the guest had it.
fn check_placement(func: &GuestFunc, inputs: &[Vec<u8>], log: &[Answered], lied: bool) {
    let Some(called) = log
        .iter()
        .position(|answered| answered.ask == Ask::Argument)
    else {
        return;
    };
    let args: Vec<u32> = log[called..]
        .iter()
        .take_while(|answered| answered.ask == Ask::Argument)
        .map(|answered| answered.arg)
        .collect();
    assert_eq!(args.len(), 2 * inputs.len(), "{}: arguments", func.name());
    let memory = &log[called].memory;
    for (index, (pair, input)) in args.chunks_exact(2).zip(inputs).enumerate() {
        let (ptr, len) = (pair[0] as usize, pair[1] as usize);
        assert_eq!(len, input.len(), "{}: input {index}'s length", func.name());
        if !lied {
            assert!(
                memory.get(ptr..ptr + len) == Some(input.as_slice()),
                "{}: input {index} is not where the host put it",
                func.name()
            );
        }
        if is_owned(func, index) {
            // Freed more often than it is something else the host frees after the call: a
            // borrowed input, the result, a message (a lying guest may answer one address for
            // several of them).
            let block = pair[0].wrapping_sub(4);
            let frees = log[called..]
                .iter()
                .filter(|answered| {
                    matches!(answered.ask, Ask::Free | Ask::Dealloc) && answered.arg == block
                })
                .count();
            let borrowed = args
                .chunks_exact(2)
                .enumerate()
                .filter(|&(other, pair)| !is_owned(func, other) && pair[0] == block)
                .count();
            let returned = log[called..]
                .iter()
                .filter(|answered| {
                    matches!(answered.ask, Ask::Result | Ask::LastError)
                        && answered.value == Some(block)
                })
                .count();
            assert!(
                frees <= borrowed + returned,
                "{}: the host freed owned input {index} at {block:#x}: {}",
                func.name(),
                trace(log)
            );
        }
    }
}

/// Whether `func`'s input `index` is owned, by its interface.
fn is_owned(func: &GuestFunc, index: usize) -> bool {
    func.signature()
        .and_then(|signature| signature.args.get(index))
        .is_some_and(|arg| arg.owned)
}

/// The step's answers, for messages: `ask(arg) = value`.
fn trace(log: &[Answered]) -> String {
    let answers: Vec<String> = log
        .iter()
        .map(|answered| match answered.value {
            Some(value) => format!("{:?}({:#x}) = {value:#x}", answered.ask, answered.arg),
            None => format!("{:?}({:#x}) traps", answered.ask, answered.arg),
        })
        .collect();
    answers.join(", ")
}

/// The latest answer about `ask` in this step.
fn last(log: &[Answered], ask: Ask) -> Option<&Answered> {
    log.iter().rev().find(|answered| answered.ask == ask)
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
    let answered = last(log, Ask::LastError)?;
    let payload = expected(&answered.memory, answered.value?, cap)?;
    std::str::from_utf8(payload).ok()
}

/// `Guest::last_error`'s answer: the message in memory, nothing when the guest had none, or a
/// refusal that is true of the block.
fn check_last_error(outcome: Result<Option<String>, Error>, log: &[Answered], cap: u32) {
    let answered = last(log, Ask::LastError);
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
        Err(error) => check_other_error(&error, log, cap, &[]),
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
        let answered = last(log, Ask::LastError).and_then(|answered| answered.value);
        assert_eq!(answered, Some(0), "no message, yet the guest had one");
        return;
    }
    assert!(
        message.starts_with("returned 0 and last_error failed: "),
        "{message:?} is neither the guest's message nor a failure to read it"
    );
}

/// Any other error: what it claims must be true. `inputs` are those of the call, if any.
fn check_other_error(error: &Error, log: &[Answered], cap: u32, inputs: &[Vec<u8>]) {
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
                matches!(answered.ask, Ask::Alloc | Ask::Realloc) && answered.value == Some(0)
            });
            assert!(failed, "{error}, yet no alloc returned 0");
        }
        // `call_u32` first clears an error pending from an earlier call: a message it cannot
        // read fails the call.
        Error::BadResult { function, problem } if function == "last_error" => {
            let answered = last(log, Ask::LastError).expect("a refused message never given");
            let ptr = answered.value.expect("a message from a guest that trapped");
            check_refusal(problem, function, &answered.memory, ptr, cap);
        }
        Error::BadResult { function, problem } => {
            panic!("{function}: {problem:?} from a function this step did not read");
        }
        // Refused before the guest ran, by the interface: text that is not UTF-8, or a result
        // that the call does not read.
        Error::Call { message, .. } => {
            if message.contains("is not UTF-8") {
                let refused = inputs
                    .iter()
                    .any(|input| std::str::from_utf8(input).is_err());
                assert!(refused, "{error}, yet every input is UTF-8");
            }
            assert!(
                log.iter().all(|answered| answered.ask != Ask::Result),
                "{error}, after the guest ran"
            );
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
