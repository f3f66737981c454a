//! Host functions registered with `HostFunctions`, called by a hand-written guest whose
//! arguments are chosen: every argument kind, results written with the guest's `alloc`, failures
//! read through `guestmem.last_error`, and the guest's bad arguments and the host's panics as
//! `Error::HostFunction`.

use guestmem_host::{Error, Guest, GuestmemCtx, GuestmemView, HostFunctions, Interface};
use wasmtime::{Engine, Linker, Module, Store};

/// The store's data: whose instance it is, for the host functions that ask.
struct Tenant {
    name: &'static str,
    guestmem: GuestmemCtx,
}

impl GuestmemView for Tenant {
    fn guestmem(&mut self) -> &mut GuestmemCtx {
        &mut self.guestmem
    }
}

/// A guest over a bump allocator (`alloc` returns 0 for lengths above 100,000) whose exports
/// call the host: `concat(a, b)` (a `&str` and a `&[u8]`), `add()` (`add(40, 2)`, a u32 and an
/// i64), `fallible(text)` and `host_error()` (`guestmem.last_error`), `note(text)` (no result),
/// `big()` (a result `alloc` refuses), `bad_arg()` (a range past memory), `bad_text()` (invalid
/// UTF-8 at 64), `whoami()` (the calling store's tenant).
const GUEST: &str = include_str!("imports.wat");

fn guest() -> Guest<Tenant> {
    guest_of(&Engine::default(), "tenant")
}

fn guest_of(engine: &Engine, name: &'static str) -> Guest<Tenant> {
    let module = Module::new(engine, GUEST).expect("the guest compiles");
    let mut linker = Linker::new(engine);
    HostFunctions::new(&mut linker)
        .expect("guestmem.last_error")
        .func("env", "concat", |a: &str, b: &[u8]| {
            let mut joined = a.as_bytes().to_vec();
            joined.extend_from_slice(b);
            joined
        })
        .and_then(|host| host.func("env", "add", |a: u32, b: i64| i64::from(a) + b))
        .and_then(|host| {
            host.func("env", "fallible", |text: &str| -> Result<String, String> {
                if text == "fail" {
                    return Err(format!("refused {text:?}"));
                }
                Ok(text.to_uppercase())
            })
        })
        .and_then(|host| {
            host.func("env", "note", |text: &str| {
                assert!(text != "panic", "told to panic");
            })
        })
        .and_then(|host| host.func("env", "big", || vec![0_u8; 200_000]))
        .and_then(|host| {
            host.func("env", "whoami", |tenant: &mut Tenant| {
                tenant.name.to_owned()
            })
        })
        .expect("the host functions");
    let tenant = Tenant {
        name,
        guestmem: GuestmemCtx::default(),
    };
    Guest::instantiate(Store::new(engine, tenant), &linker, &module).expect("instantiates")
}

#[test]
fn arguments_of_every_kind_reach_the_host_and_results_come_back() {
    let mut guest = guest();
    let joined = guest.call_bytes("concat", &["straße ".as_bytes(), b"\xff\x00"]);
    assert_eq!(joined.expect("concat"), b"stra\xc3\x9fe \xff\x00");
    assert_eq!(guest.call_u32("add", &[] as &[&[u8]]).expect("add"), 42);
    assert_eq!(
        guest.call_string("fallible", &[b"ok"]).expect("fallible"),
        "OK"
    );
    assert_eq!(guest.call_u32("note", &[b"line"]).expect("note"), 1);
}

#[test]
fn a_failure_is_pending_for_guestmem_last_error_once() {
    let mut guest = guest();
    let empty = guest.call_raw("fallible", &[0, 0]).expect("no trap");
    let empty = guest
        .take_result("fallible", empty)
        .expect("an empty text is fine");
    assert!(empty.is_empty());
    let input = guest.put(b"fail").expect("input");
    assert_eq!(guest.call_raw("fallible", &[input, 4]).expect("no trap"), 0);
    let message = guest.call_raw("host_error", &[]).expect("host_error");
    let message = guest
        .take_result("host_error", message)
        .expect("a message block");
    assert_eq!(message, b"refused \"fail\"");
    assert_eq!(
        guest.call_raw("host_error", &[]).expect("host_error"),
        0,
        "cleared"
    );

    // The message belongs to the instance whose host function failed.
    assert_eq!(guest.call_raw("fallible", &[input, 4]).expect("no trap"), 0);
    let mut other = self::guest();
    assert_eq!(other.call_raw("host_error", &[]).expect("host_error"), 0);
}

#[test]
fn bad_arguments_panics_and_refused_results_name_the_host_function() {
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "bad_arg",
            b"",
            "argument 1: 100 bytes at 0xfffa are outside linear memory",
        ),
        ("bad_text", b"", "argument 1: not UTF-8"),
        ("note", b"panic", "panicked: told to panic"),
        ("big", b"", "the guest's alloc(200004) returned 0"),
    ];
    for (export, input, expected) in cases {
        let mut guest = guest();
        let args = if input.is_empty() {
            Vec::new()
        } else {
            let ptr = guest.put(input).expect("input");
            vec![ptr, u32::try_from(input.len()).expect("short")]
        };
        match guest.call_raw(export, &args) {
            Err(Error::HostFunction {
                function,
                host_function,
                message,
            }) => {
                assert_eq!(function, export);
                assert!(host_function.starts_with("env."), "{host_function}");
                assert!(message.contains(expected), "{export}: {message}");
            }
            other => panic!("{export}: {other:?}, expected a host function error"),
        }
    }
}

/// Fails `fallible` in `guest`, leaving its message pending for `guestmem.last_error`.
fn fail(guest: &mut Guest<Tenant>) {
    let input = guest.put(b"fail").expect("input");
    assert_eq!(guest.call_raw("fallible", &[input, 4]).expect("no trap"), 0);
    guest.free(input).expect("freed");
}

/// What the guest's `guestmem.last_error` gives now: the message, or `None` for 0.
fn host_error(guest: &mut Guest<Tenant>) -> Option<Vec<u8>> {
    let ptr = guest.call_raw("host_error", &[]).expect("host_error");
    (ptr != 0).then(|| {
        guest
            .take_result("host_error", ptr)
            .expect("a message block")
    })
}

#[test]
fn each_failure_reaches_its_own_guest_with_two_instances_on_one_thread() {
    let engine = Engine::default();
    let (mut first, mut second) = (guest_of(&engine, "first"), guest_of(&engine, "second"));
    fail(&mut first);
    fail(&mut second);
    assert_eq!(
        host_error(&mut second).as_deref(),
        Some(&b"refused \"fail\""[..])
    );
    assert_eq!(host_error(&mut second), None, "read once");
    // The second instance's read left the first one's message where it was.
    assert_eq!(
        host_error(&mut first).as_deref(),
        Some(&b"refused \"fail\""[..])
    );
}

#[test]
fn a_failure_follows_its_instance_to_another_thread() {
    let mut guest = guest();
    fail(&mut guest);
    let message = std::thread::spawn(move || host_error(&mut guest))
        .join()
        .expect("the thread ran");
    assert_eq!(message.as_deref(), Some(&b"refused \"fail\""[..]));
}

#[test]
fn a_host_function_reads_its_callers_data() {
    let engine = Engine::default();
    for name in ["acme", "globex"] {
        let mut guest = guest_of(&engine, name);
        assert_eq!(
            guest
                .call_string("whoami", &[] as &[&[u8]])
                .expect("whoami"),
            name
        );
    }
}

#[test]
fn a_host_function_registered_fallible_where_the_import_is_not_is_refused() {
    let engine = Engine::default();
    let mut linker = Linker::<Tenant>::new(&engine);
    let mut host = HostFunctions::new(&mut linker).expect("guestmem.last_error");
    host.func("env", "fallible", |text: &str| -> Result<String, String> {
        Ok(text.to_owned())
    })
    .expect("registered");
    // `import env.fallible(text: string) -> string`, not fallible, as a guest would describe it.
    let section = b"\x01\x01\x03env\x08fallible\x01\x04text\x02\x02\x00";
    let interface = Interface::parse(section).expect("a valid section");
    let error = host.check(&interface).unwrap_err();
    assert!(
        error.to_string().contains(
            "`env.fallible` is registered fallible, but the guest imports it not fallible"
        ),
        "{error}"
    );
    let fallible = Interface::parse(b"\x01\x01\x03env\x08fallible\x01\x04text\x02\x02\x01")
        .expect("a valid section");
    host.check(&fallible).expect("the same fallibility");
}
