//! The `_async` calls and async host functions (feature `async`) on tokio, against the guest of
//! `imports.rs`: the same answers and failures as the blocking path, each failure reaching its
//! own guest while instances move between threads, panics in a future named, and a call future
//! dropped half way leaving an instance that refuses every later call.

use std::time::Duration;

use guestmem_host::{Error, Guest, GuestmemCtx, GuestmemView, HostFunctions};
use wasmtime::{Engine, Linker, Module, Store};

/// The guest of `imports.rs`, whose exports call the host functions below.
const GUEST: &str = include_str!("imports.wat");

/// The store's data: whose instance it is, for the host functions that ask.
struct Tenant {
    name: String,
    guestmem: GuestmemCtx,
}

impl GuestmemView for Tenant {
    fn guestmem(&mut self) -> &mut GuestmemCtx {
        &mut self.guestmem
    }
}

/// A linker whose host functions wait (`tokio::time::sleep`, or forever for `note("hang")`)
/// beside blocking ones.
fn linker(engine: &Engine) -> Linker<Tenant> {
    let mut linker = Linker::new(engine);
    HostFunctions::new_async(&mut linker)
        .expect("guestmem.last_error")
        .func_async("env", "concat", |a: String, b: Vec<u8>| async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let mut joined = a.into_bytes();
            joined.extend_from_slice(&b);
            joined
        })
        .and_then(|host| host.func("env", "add", |a: u32, b: i64| i64::from(a) + b))
        .and_then(|host| {
            host.func_async("env", "fallible", |tenant: &mut Tenant, text: String| {
                let name = tenant.name.clone();
                async move {
                    tokio::task::yield_now().await;
                    if text == "fail" {
                        return Err(format!("{name} refused {text:?}"));
                    }
                    Ok(text.to_uppercase())
                }
            })
        })
        .and_then(|host| {
            host.func_async("env", "note", |text: String| async move {
                match text.as_str() {
                    "hang" => std::future::pending::<()>().await,
                    "panic" => {
                        tokio::task::yield_now().await;
                        panic!("told to panic after a wait");
                    }
                    _ => {}
                }
            })
        })
        .and_then(|host| host.func_async("env", "big", || async { vec![0_u8; 200_000] }))
        .and_then(|host| host.func("env", "whoami", |tenant: &mut Tenant| tenant.name.clone()))
        .expect("the host functions");
    linker
}

async fn guest(engine: &Engine, linker: &Linker<Tenant>, name: &str) -> Guest<Tenant> {
    let module = Module::new(engine, GUEST).expect("the guest compiles");
    let tenant = Tenant {
        name: name.to_owned(),
        guestmem: GuestmemCtx::default(),
    };
    Guest::instantiate_async(Store::new(engine, tenant), linker, &module)
        .await
        .expect("instantiates")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_calls_reach_async_and_blocking_host_functions() {
    let engine = Engine::default();
    let linker = linker(&engine);
    let mut guest = guest(&engine, &linker, "tenant").await;
    let joined = guest
        .call_bytes_async("concat", &["straße ".as_bytes(), b"\xff\x00"])
        .await;
    assert_eq!(joined.expect("concat"), b"stra\xc3\x9fe \xff\x00");
    let add = guest.call_u32_async("add", &[]).await;
    assert_eq!(add.expect("add"), 42);
    let upper = guest.call_string_async("fallible", &[b"ok"]).await;
    assert_eq!(upper.expect("fallible"), "OK");
    let whoami = guest.call_string_async("whoami", &[]).await;
    assert_eq!(whoami.expect("whoami"), "tenant");
    let note = guest.call_u32_async("note", &[b"line"]).await;
    assert_eq!(note.expect("note"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_calls_on_an_async_guest_are_refused_not_a_panic() {
    let engine = Engine::default();
    let linker = linker(&engine);
    let mut guest = guest(&engine, &linker, "tenant").await;
    match guest.call_u32("add", &[]) {
        Err(Error::Wasmtime(error)) => {
            assert!(format!("{error:#}").contains("_async"), "{error:#}");
        }
        other => panic!("{other:?}, expected wasmtime's refusal of a blocking call"),
    }
    // Nor does an async host function go on blocking host functions.
    let mut linker = Linker::<Tenant>::new(&engine);
    let mut host = HostFunctions::new(&mut linker).expect("guestmem.last_error");
    match host.func_async("env", "later", || async {}) {
        Err(Error::Wasmtime(error)) => {
            assert!(format!("{error:#}").contains("new_async"), "{error:#}");
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("an async host function on HostFunctions::new"),
    }
}

/// Fails `fallible` in `guest`, leaving its message pending for `guestmem.last_error`.
async fn fail(guest: &mut Guest<Tenant>) {
    let input = guest.put_async(b"fail").await.expect("input");
    let failed = guest.call_raw_async("fallible", &[input, 4]).await;
    assert_eq!(failed.expect("no trap"), 0);
    guest.free_async(input).await.expect("freed");
}

/// What the guest's `guestmem.last_error` gives now: the message, or `None` for 0.
async fn host_error(guest: &mut Guest<Tenant>) -> Option<String> {
    let ptr = guest
        .call_raw_async("host_error", &[])
        .await
        .expect("host_error");
    if ptr == 0 {
        return None;
    }
    let message = guest.take_result_async("host_error", ptr).await;
    Some(String::from_utf8(message.expect("a message block")).expect("UTF-8"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failure_reaches_its_own_guest_on_one_thread_and_across_threads() {
    let engine = Engine::default();
    let linker = linker(&engine);
    let (mut first, mut second) = (
        guest(&engine, &linker, "first").await,
        guest(&engine, &linker, "second").await,
    );
    // Two instances on one thread, their failures interleaved.
    fail(&mut first).await;
    fail(&mut second).await;
    assert_eq!(
        host_error(&mut first).await.as_deref(),
        Some("first refused \"fail\"")
    );
    assert_eq!(
        host_error(&mut second).await.as_deref(),
        Some("second refused \"fail\"")
    );
    assert_eq!(host_error(&mut first).await, None, "read once");

    // Each instance fails on one thread and is read on another, swapped.
    let first = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        runtime.block_on(fail(&mut first));
        first
    });
    fail(&mut second).await;
    let mut first = first.join().expect("the thread");
    let second = tokio::spawn(async move {
        let message = host_error(&mut second).await;
        (second, message)
    });
    assert_eq!(
        host_error(&mut first).await.as_deref(),
        Some("first refused \"fail\"")
    );
    let (_, message) = second.await.expect("the task");
    assert_eq!(message.as_deref(), Some("second refused \"fail\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_function_that_fails_or_panics_after_waiting_names_itself() {
    let engine = Engine::default();
    let linker = linker(&engine);
    let cases: [(&str, &[u8], &str); 3] = [
        ("note", b"panic", "panicked: told to panic after a wait"),
        ("big", b"", "the guest's alloc(200004) returned 0"),
        ("bad_text", b"", "argument 1: not UTF-8"),
    ];
    for (export, input, expected) in cases {
        let mut guest = guest(&engine, &linker, "tenant").await;
        let args = if input.is_empty() {
            Vec::new()
        } else {
            let ptr = guest.put_async(input).await.expect("input");
            vec![ptr, u32::try_from(input.len()).expect("short")]
        };
        match guest.call_raw_async(export, &args).await {
            Err(Error::HostFunction {
                function,
                host_function,
                message,
            }) => {
                assert_eq!(function, export);
                assert_eq!(
                    host_function,
                    format!("env.{}", if export == "bad_text" { "note" } else { export })
                );
                assert!(message.contains(expected), "{export}: {message}");
            }
            other => panic!("{export}: {other:?}, expected a host function error"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_dropped_half_way_leaves_an_instance_that_refuses_every_call() {
    let engine = Engine::default();
    let linker = linker(&engine);
    let mut guest = guest(&engine, &linker, "tenant").await;
    let before = guest.call_u32_async("note", &[b"line"]).await;
    assert_eq!(before.expect("a call before"), 1);
    let waited = tokio::time::timeout(
        Duration::from_millis(20),
        guest.call_u32_async("note", &[b"hang"]),
    )
    .await;
    assert!(
        waited.is_err(),
        "the call hangs until its future is dropped"
    );
    for outcome in [
        guest.call_u32_async("note", &[b"line"]).await,
        guest.call_u32_async("add", &[]).await,
        guest.alloc_async(16).await,
    ] {
        match outcome {
            Err(error @ Error::Abandoned { .. }) => assert!(error.is_trap()),
            other => panic!("{other:?}, expected Error::Abandoned"),
        }
    }
    assert!(matches!(
        guest.live_blocks_async().await,
        Err(Error::Abandoned { .. })
    ));
    // The blocking calls refuse it the same way.
    assert!(matches!(guest.free(8), Err(Error::Abandoned { .. })));
}
