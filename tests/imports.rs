//! The `import!` wrappers against the native host (`guestmem::native`): what each result type
//! makes of the host's answers, good and hostile, and that no block is left behind. Run under
//! Miri too.

use guestmem::{ResultBlock, native, stats};

guestmem::import! {
    fn text(key: &str) -> Result<String, String>;
    fn bytes(data: &[u8], times: u32) -> Vec<u8>;
    fn block() -> Result<ResultBlock, String>;
    fn number(wide: i64) -> Result<u64, String>;
    fn note(line: &str) -> Result<(), String>;
    fn plain() -> u32;
}

/// `live_blocks` counts every thread's blocks: the tests that compare it run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Registers the host functions the tests call; `answer` is what `text` and `block` return.
fn host(answer: impl Fn() -> u64 + 'static) {
    native::clear();
    let answer = std::rc::Rc::new(answer);
    let for_block = std::rc::Rc::clone(&answer);
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "text", move |_| answer()) };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "block", move |_| for_block()) };
    let bytes = |args: &[u64]| {
        // SAFETY: the wrapper's (ptr, len) pair, live for the call.
        let data = unsafe { native::bytes(args[0], args[1]) };
        native::result(&data.repeat(usize::try_from(args[2]).unwrap_or(0)))
    };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "bytes", bytes) };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe {
        native::register("env", "number", |args| match args[0].cast_signed() {
            -1 => native::fail("no such number"),
            wide => wide.unsigned_abs(),
        })
    };
    let note = |args: &[u64]| {
        // SAFETY: as above.
        let line = unsafe { native::bytes(args[0], args[1]) };
        if line.is_empty() {
            native::fail("empty line")
        } else {
            1
        }
    };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "note", note) };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "plain", |_| 7) };
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("other", "text", |_| native::result(b"from another module")) };
}

#[test]
fn each_result_type_reads_and_frees_the_host_block() {
    let _serial = serial();
    host(|| native::result(b"hello"));
    let live = stats::live_blocks();
    assert_eq!(text("k").as_deref(), Ok("hello"));
    assert_eq!(bytes(b"ab", 3), b"ababab");
    assert_eq!(&*block().expect("a block"), b"hello");
    assert_eq!(number(-5), Ok(5));
    assert_eq!(number(0), Ok(0), "0 with no message is an answer");
    assert_eq!(note("line"), Ok(()));
    assert_eq!(plain(), 7);
    assert_eq!(self::other_text(), "from another module");
    assert_eq!(stats::live_blocks(), live);
}

/// The `other` module's `text`, named apart from `env`'s.
fn other_text() -> String {
    mod other {
        guestmem::import! {
            module = "other";
            pub fn text() -> String;
        }
    }
    other::text()
}

#[test]
fn host_failures_carry_the_host_message() {
    let _serial = serial();
    host(|| native::fail("closed today"));
    let live = stats::live_blocks();
    assert_eq!(text("k"), Err("closed today".to_owned()));
    assert_eq!(number(-1), Err("no such number".to_owned()));
    assert_eq!(note(""), Err("empty line".to_owned()));
    assert_eq!(stats::live_blocks(), live, "the message blocks are freed");
}

#[test]
fn hostile_answers_are_errors_and_leak_nothing() {
    let _serial = serial();
    let live = stats::live_blocks();
    host(|| 12);
    let misaligned = text("k").expect_err("a misaligned pointer");
    assert!(
        misaligned.contains("host function `env.text`") && misaligned.contains("not a live block"),
        "{misaligned}"
    );

    host(|| {
        let block = guestmem::abi::alloc(8);
        // SAFETY: a fresh block of 8 bytes whose prefix claims 1,000.
        unsafe { block.cast::<[u8; 4]>().write(1000_u32.to_le_bytes()) };
        block.expose_provenance() as u64
    });
    let past = text("k").expect_err("a prefix past the block");
    assert!(
        past.contains("returned a result of 1000 bytes in a block with room for 4"),
        "{past}"
    );

    host(|| 0);
    let nothing = block().expect_err("0 and no message");
    assert!(
        nothing.contains("returned 0 and no error message"),
        "{nothing}"
    );

    host(|| native::result(b"\xFFabc"));
    let not_utf8 = text("k").expect_err("not UTF-8");
    assert!(
        not_utf8.contains("not UTF-8 (invalid byte at offset 0)"),
        "{not_utf8}"
    );
    assert_eq!(
        stats::live_blocks(),
        live,
        "the refused live blocks are freed"
    );
}

#[test]
fn an_import_that_cannot_fail_traps_with_the_reason() {
    let _serial = serial();
    host(|| native::result(b"unused"));
    // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
    unsafe { native::register("env", "bytes", |_| 12) };
    let reason = std::panic::catch_unwind(|| bytes(b"x", 1)).expect_err("a trap");
    let reason = reason.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        reason.contains("host function `env.bytes` returned a pointer that is not a live block"),
        "{reason}"
    );
    native::clear();
    let missing = std::panic::catch_unwind(plain).expect_err("no host function");
    let missing = missing
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        missing.contains("no host function `env.plain` is registered"),
        "{missing}"
    );
}
