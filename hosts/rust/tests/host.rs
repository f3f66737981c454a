//! The host's own guarantees, against small hand-written guests whose misbehaviour is chosen:
//! errors that name the export, no block left behind on an error path, the pending-error rule,
//! checks at instantiation. The whole ABI contract against real guests is the harness's.

use guestmem_host::{Error, Guest, ResultProblem};
use wasmtime::{Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};

/// The ABI over a bump allocator that counts live blocks: `alloc` fails (returns 0) on call
/// number `$fail_at` (0: never); `zero(ptr, len)` returns 0 and records an error when `len` is
/// odd; `fail()` returns 0 with an error; `echo(ptr, len)` copies its input into a result block;
/// `boom(ptr, len)` records a reason and traps; `grow()` is `memory.grow(1)`.
fn guest_wat(fail_at: u32, abi_version: u32) -> String {
    format!(
        r#"
    (module
      (memory (export "memory") 8)
      (data (i32.const 64) "\04\00\00\00odd!")
      (global $next (mut i32) (i32.const 1024))
      (global $error (mut i32) (i32.const 0))
      (global $calls (mut i32) (i32.const 0))
      (global $live (mut i32) (i32.const 0))
      (func $alloc (export "alloc") (param $len i32) (result i32)
        (local $ptr i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (if (i32.eq (global.get $calls) (i32.const {fail_at})) (then (return (i32.const 0))))
        (local.set $ptr (global.get $next))
        (global.set $next
          (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
        (global.set $live (i32.add (global.get $live) (i32.const 1)))
        (local.get $ptr))
      (func (export "free") (param i32)
        (if (local.get 0) (then (global.set $live (i32.sub (global.get $live) (i32.const 1))))))
      (func (export "dealloc") (param i32 i32)
        (if (local.get 0) (then (global.set $live (i32.sub (global.get $live) (i32.const 1))))))
      (func (export "realloc") (param $ptr i32) (param $len i32) (result i32)
        (local $new i32)
        (local.set $new (call $alloc (local.get $len)))
        (if (i32.eqz (local.get $new)) (then (return (i32.const 0))))
        (memory.copy (local.get $new) (local.get $ptr) (local.get $len))
        (if (local.get $ptr) (then (global.set $live (i32.sub (global.get $live) (i32.const 1)))))
        (local.get $new))
      (func (export "abi_version") (result i32) (i32.const {abi_version}))
      (func (export "live_blocks") (result i32) (global.get $live))
      (func (export "last_error") (result i32)
        (local $error i32)
        (local.set $error (global.get $error))
        (global.set $error (i32.const 0))
        (local.get $error))
      (func (export "zero") (param i32 i32) (result i32)
        (if (i32.and (local.get 1) (i32.const 1)) (then (global.set $error (i32.const 64))))
        (i32.const 0))
      (func (export "fail") (result i32)
        (global.set $error (i32.const 64))
        (i32.const 0))
      (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
        (local $block i32)
        (local.set $block (call $alloc (i32.add (local.get $len) (i32.const 4))))
        (if (i32.eqz (local.get $block)) (then (return (i32.const 0))))
        (i32.store (local.get $block) (local.get $len))
        (memory.copy (i32.add (local.get $block) (i32.const 4)) (local.get $ptr) (local.get $len))
        (local.get $block))
      (func (export "concat") (param i32 i32 i32 i32) (result i32) (i32.const 0))
      (func (export "grow") (result i32) (memory.grow (i32.const 1)))
      (func (export "boom") (param i32 i32) (result i32)
        (global.set $error (i32.const 64))
        (unreachable)))
    "#
    )
}

fn instantiate(wat: &str) -> Result<Guest<StoreLimits>, Error> {
    instantiate_with(wat, StoreLimits::default())
}

fn instantiate_with(wat: &str, limits: StoreLimits) -> Result<Guest<StoreLimits>, Error> {
    let engine = Engine::default();
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, limits);
    store.limiter(|limits| limits);
    Guest::instantiate(store, &Linker::new(&engine), &module)
}

fn guest() -> Guest<StoreLimits> {
    instantiate(&guest_wat(0, 1)).expect("instantiate")
}

#[test]
fn zero_is_an_answer_unless_this_call_left_an_error() {
    let mut guest = guest();
    let zero = guest.func("zero").expect("zero");
    assert_eq!(zero.call_u32(&mut guest, &[b"ab"]).expect("even"), 0);
    let error = zero.call_u32(&mut guest, &[b"abc"]).unwrap_err();
    assert!(
        matches!(&error, Error::Guest { function, message } if function == "zero" && message == "odd!"),
        "{error}"
    );
}

/// An error left pending by a raw call must not be reported by the next integer call as its own
/// (`zero("ab")` failing with "odd!").
#[test]
fn an_error_pending_from_an_earlier_call_is_not_reported_as_this_calls() {
    let mut guest = guest();
    assert_eq!(guest.call_raw("fail", &[]).expect("raw"), 0);
    assert_eq!(guest.call_u32("zero", &[b"ab"]).expect("even"), 0);
    assert_eq!(guest.call_raw("fail", &[]).expect("raw"), 0);
    let zero = guest.func("zero").expect("zero");
    assert_eq!(zero.call_u32(&mut guest, &[b"ab"]).expect("even"), 0);
}

#[test]
fn results_are_read_and_freed_and_inputs_share_one_kept_block() {
    let mut guest = guest();
    let echo = guest.func("echo").expect("echo");
    for text in ["", "a", "straße", "a longer input than the others"] {
        assert_eq!(echo.call_string(&mut guest, &[text]).expect("echo"), text);
        assert_eq!(guest.live_blocks().expect("live"), Some(0));
    }
    let seen = echo
        .call_view(&mut guest, &[[9_u8; 300]], |bytes| {
            (bytes.len(), bytes[299])
        })
        .expect("echo");
    assert_eq!(seen, (300, 9));
    assert_eq!(guest.live_blocks().expect("live"), Some(0));
    guest.release_input_block().expect("release");
    assert_eq!(guest.live_blocks().expect("live"), Some(0));
}

#[test]
fn large_inputs_get_blocks_of_their_own_freed_after_the_call() {
    let mut guest = guest();
    let big = vec![5_u8; 100 << 10];
    assert_eq!(guest.call_bytes("echo", &[&big]).expect("echo"), big);
    assert_eq!(guest.live_blocks().expect("live"), Some(0));
}

/// The second input's `alloc` fails: the first input's block is freed, not leaked.
#[test]
fn a_failed_alloc_frees_the_inputs_already_placed() {
    let mut guest = instantiate(&guest_wat(2, 1)).expect("instantiate");
    let big = vec![1_u8; 100 << 10];
    let error = guest.call_u32("concat", &[&big, &big]).unwrap_err();
    assert!(
        matches!(&error, Error::AllocFailed { function, .. } if function == "concat"),
        "{error}"
    );
    assert_eq!(guest.live_blocks().expect("live"), Some(0));
}

/// The kept block's first `alloc` fails: an error naming the export, nothing allocated.
#[test]
fn a_failed_alloc_for_small_inputs_is_an_error_naming_the_export() {
    let mut guest = instantiate(&guest_wat(1, 1)).expect("instantiate");
    let error = guest.call_bytes("echo", &[b"x"]).unwrap_err();
    assert!(
        matches!(&error, Error::AllocFailed { function, .. } if function == "echo"),
        "{error}"
    );
    assert_eq!(guest.call_bytes("echo", &[b"x"]).expect("echo"), b"x");
    assert_eq!(guest.live_blocks().expect("live"), Some(0));
}

#[test]
fn a_trap_carries_the_recorded_reason_and_names_the_export() {
    let mut guest = guest();
    let error = guest.call_bytes("boom", &[b"input"]).unwrap_err();
    assert!(
        matches!(&error, Error::Trap { function, .. } if function == "boom"),
        "{error}"
    );
    assert_eq!(error.trap_reason(), Some("odd!"), "{error}");
    assert_eq!(guest.last_error().expect("last_error"), None);
}

#[test]
fn the_wrong_number_of_inputs_is_refused_before_the_guest_runs() {
    let mut guest = guest();
    let echo = guest.func("echo").expect("echo");
    let error = echo.call_bytes(&mut guest, &["a", "b"]).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Arity {
                expected: 1,
                given: 2,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(guest.live_blocks().expect("live"), Some(0));
}

#[test]
fn a_function_of_another_instance_is_an_error_not_a_panic() {
    let mut first = guest();
    let mut second = guest();
    let echo = first.func("echo").expect("echo");
    let error = echo.call_bytes(&mut second, &["a"]).unwrap_err();
    assert!(matches!(error, Error::WrongInstance { .. }), "{error}");
}

#[test]
fn exports_of_another_shape_are_refused_at_lookup() {
    let mut guest = guest();
    for name in ["free", "nothing", "memory"] {
        let error = guest.func(name).err().expect("refused");
        assert!(
            matches!(&error, Error::Export { name: export, .. } if export == name),
            "{error}"
        );
    }
}

#[test]
fn instantiation_checks_the_abi_version_and_the_exports() {
    let error = instantiate(&guest_wat(0, 2)).err().expect("refused");
    assert!(
        matches!(
            error,
            Error::AbiVersion {
                found: 2,
                expected: 1
            }
        ),
        "{error}"
    );
    let no_free = guest_wat(0, 1).replace(r#"(export "free")"#, "");
    let error = instantiate(&no_free).err().expect("refused");
    assert!(
        matches!(&error, Error::Export { name, .. } if name == "free"),
        "{error}"
    );
}

/// wasm32-wasip1 guests export `guestmem_free` and `guestmem_realloc`: the host takes the
/// prefixed name when it is there, and runs a reactor's `_initialize` first.
#[test]
fn prefixed_exports_are_preferred_and_initialize_runs() {
    let wat = guest_wat(0, 1)
        .replace(r#"(export "free")"#, r#"(export "guestmem_free")"#)
        .replace(r#"(export "realloc")"#, r#"(export "guestmem_realloc")"#)
        .replace(
            "(func (export \"grow\")",
            "(func (export \"_initialize\") (global.set $live (i32.const 5)))\n      (func (export \"grow\")",
        );
    let mut guest = instantiate(&wat).expect("instantiate");
    assert_eq!(guest.live_blocks().expect("live"), Some(5));
    assert_eq!(guest.call_bytes("echo", &[b"abc"]).expect("echo"), b"abc");
    assert_eq!(guest.live_blocks().expect("live"), Some(5));
}

#[test]
fn hostile_result_blocks_are_errors() {
    let mut guest = guest();
    for (ptr, problem) in [
        (9, ResultProblem::Misaligned { ptr: 9 }),
        (
            8 << 16,
            ResultProblem::PrefixOutOfBounds {
                ptr: 8 << 16,
                memory: 8 << 16,
            },
        ),
    ] {
        let error = guest.take_result("hostile", ptr).unwrap_err();
        assert!(
            matches!(&error, Error::BadResult { function, problem: found } if function == "hostile" && *found == problem),
            "{error}"
        );
    }
    guest.write(64, &u32::MAX.to_le_bytes()).expect("write");
    let error = guest.take_result("hostile", 64).unwrap_err();
    assert!(
        matches!(
            error,
            Error::BadResult {
                problem: ResultProblem::PayloadOutOfBounds { .. },
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn accesses_outside_memory_are_errors() {
    let mut guest = guest();
    let size = u32::try_from(guest.memory_size()).expect("small");
    for (ptr, len) in [(u32::MAX, 1), (size - 1, 2), (0, size as usize + 1)] {
        let error = guest.read(ptr, len).unwrap_err();
        assert!(matches!(error, Error::OutOfBounds { .. }), "{error}");
    }
    let error = guest.write(size - 3, b"four").unwrap_err();
    assert!(matches!(error, Error::OutOfBounds { .. }), "{error}");
    assert!(guest.read(size - 4, 4).is_ok());
}

#[test]
fn a_memory_limit_set_on_the_store_refuses_growth() {
    let limits = StoreLimitsBuilder::new().memory_size(8 << 16).build();
    let mut capped = instantiate_with(&guest_wat(0, 1), limits).expect("instantiate");
    assert_eq!(capped.call_raw("grow", &[]).expect("grow"), u32::MAX);
    assert_eq!(capped.memory_pages(), 8);
    let mut free = guest();
    assert_eq!(free.call_raw("grow", &[]).expect("grow"), 8);
    assert_eq!(free.memory_pages(), 9);
}

/// A guest whose `free` always traps and whose `last_error` always has a message: reading the
/// reason of a trap in `free` means freeing a message block, which traps again.
const FREE_TRAPS: &str = r#"
(module
  (memory (export "memory") 1)
  (data (i32.const 64) "\04\00\00\00bad!")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32) (unreachable))
  (func (export "dealloc") (param i32 i32))
  (func (export "realloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "abi_version") (result i32) (i32.const 1))
  (func (export "last_error") (result i32) (i32.const 64)))
"#;

#[test]
fn a_free_that_always_traps_ends_in_an_error_not_a_recursion() {
    let mut guest = instantiate(FREE_TRAPS).expect("instantiate");
    let error = guest.free(1024).unwrap_err();
    assert!(error.is_trap(), "{error}");
    assert_eq!(error.trap_reason(), None, "{error}");
}

/// A guest whose `alloc` returns an address past the end of memory, and whose `free` traps on
/// it, as guestmem's would on something that is not a block.
const ALLOC_OUTSIDE: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0x20000))
  (func (export "free") (param i32) (if (local.get 0) (then (unreachable))))
  (func (export "dealloc") (param i32 i32))
  (func (export "realloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "abi_version") (result i32) (i32.const 1))
  (func (export "last_error") (result i32) (i32.const 0))
  (func (export "echo") (param i32 i32) (result i32) (unreachable)))
"#;

#[test]
fn an_alloc_outside_memory_is_an_error_and_never_kept_or_freed() {
    let mut guest = instantiate(ALLOC_OUTSIDE).expect("instantiate");
    for _ in 0..2 {
        let error = guest.call_bytes("echo", &[b"input"]).unwrap_err();
        assert!(
            matches!(error, Error::OutOfBounds { ptr: 0x20000, .. }),
            "{error}"
        );
    }
    guest
        .release_input_block()
        .expect("nothing kept, nothing freed");
}

#[test]
fn a_borrowed_result_is_freed_by_the_next_call() {
    let mut guest = guest();
    let echo = guest.func("echo").expect("echo");
    let raw_live_blocks = guest
        .instance()
        .get_typed_func::<(), u32>(guest.store_mut(), "live_blocks")
        .expect("live_blocks");
    let bytes = echo.call_borrowed(&mut guest, &["in place"]).expect("echo");
    assert_eq!(bytes, b"in place");
    // The result block and the kept input block, seen by the guest itself.
    assert_eq!(raw_live_blocks.call(guest.store_mut(), ()).expect("raw"), 2);
    assert_eq!(
        echo.call_borrowed(&mut guest, &["again"]).expect("echo"),
        b"again"
    );
    assert_eq!(raw_live_blocks.call(guest.store_mut(), ()).expect("raw"), 2);
    assert_eq!(guest.live_blocks().expect("live"), Some(0));
}

/// `echo`'s entry in the interface section: `export echo(data: bytes) -> bytes`.
const ECHO_SECTION: &str =
    r#"(@custom "guestmem.interface" "\01\00\00\04echo\01\04data\01\01\00")"#;

fn plugin_with(section: &str) -> Result<guestmem_host::Plugin, Error> {
    let wat = guest_wat(0, 1).replacen("(module", &format!("(module {section}"), 1);
    let wasm = wat::parse_str(&wat).expect("valid text");
    guestmem_host::Plugin::new(&Engine::default(), &wasm)
}

#[test]
fn a_plugin_reads_its_interface_so_a_wrong_call_is_refused_before_the_guest_runs() {
    let plugin = plugin_with(ECHO_SECTION).expect("compiles");
    let described = plugin.interface().expect("a section").to_string();
    assert_eq!(described, "export echo(data: bytes) -> bytes\n");
    let engine = plugin.module().engine().clone();
    let mut described_guest = plugin
        .instantiate(Store::new(&engine, ()), &Linker::new(&engine))
        .expect("instantiates");
    let echo = described_guest.func("echo").expect("echo");
    let error = echo.call_u32(&mut described_guest, &[b"abc"]).unwrap_err();
    assert!(
        matches!(&error, Error::Call { function, .. } if function == "echo"),
        "{error}"
    );
    assert_eq!(described_guest.live_blocks().expect("stats"), Some(0));
    // Without the section the same call reads the result block's pointer as a number, and the
    // block is never freed: what the plugin's interface guards against.
    let mut bare = guest();
    let pointer = bare
        .func("echo")
        .expect("echo")
        .call_u32(&mut bare, &[b"abc"]);
    assert!(pointer.expect("a number") > 0);
    assert_eq!(bare.live_blocks().expect("stats"), Some(1));
}

#[test]
fn a_plugin_whose_section_does_not_fit_its_exports_is_refused_at_instantiation() {
    let missing = r#"(@custom "guestmem.interface" "\01\00\00\04gone\00\00\00")"#;
    let plugin = plugin_with(missing).expect("compiles");
    let engine = plugin.module().engine().clone();
    let error = plugin
        .instantiate(Store::new(&engine, ()), &Linker::new(&engine))
        .err()
        .expect("refused");
    assert!(
        error
            .to_string()
            .contains("`gone` is described but not exported"),
        "{error}"
    );
    let malformed = r#"(@custom "guestmem.interface" "\01\00\00\04echo")"#;
    let error = plugin_with(malformed).err().expect("refused");
    assert!(
        matches!(&error, Error::Interface(message) if message.contains("cut short")),
        "{error}"
    );
}

#[test]
fn an_epoch_deadline_that_strikes_while_inputs_are_placed_names_the_export() {
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config).expect("engine");
    let module = Module::new(&engine, guest_wat(0, 1)).expect("compiles");
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(1);
    let mut guest = Guest::instantiate(store, &Linker::new(&engine), &module).expect("instance");
    let echo = guest.func("echo").expect("echo");
    // The deadline passes before the call: the first function entered, `alloc` for the input,
    // traps.
    engine.increment_epoch();
    let error = echo.call_bytes(&mut guest, &[b"abc"]).unwrap_err();
    let Error::Trap {
        function,
        trap,
        reason,
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(
        (function.as_str(), *trap, reason.as_deref()),
        ("echo", wasmtime::Trap::Interrupt, None),
        "{error}"
    );
}
