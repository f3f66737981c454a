//! The import direction ("Host functions" in `docs/ABI.md`): the `greet` example under host
//! functions registered with `guestmem_host::HostFunctions`, and the `imports` test guest under
//! well-behaved and hostile hosts.
//!
//! A call back into the calling instance from a host function is refused by the Rust host's
//! types (a `compile_fail` test of `HostFunctions`), so it has no row here; the JavaScript host
//! refuses it at run time, and its tests check that.

use std::sync::{Arc, Mutex, PoisonError};

use wasmtime::{Caller, Extern, Linker};

use crate::HostError;
use crate::checks::Context;
use crate::guest::{Calls, Guest, GuestModule, GuestOptions, HostState};
use crate::report::{Findings, Row};

/// The salutation the well-behaved host gives `greet`.
const SALUTATION: &str = "Hello";

/// What the `fetch` host function answers for key `fail`.
const FETCH_FAILURE: &str = "no record for this key";

/// The length of `grow`'s answer: enough to grow memory by 16 pages.
const GROWN: usize = 1 << 20;

/// Runs the import checks: rows for `greet` and for the `imports` guest, through the blocking
/// calls and again through the `_async` calls, where `greet`'s salutation is an async host
/// function and every other host function runs on the call's fiber. The hostile hosts are
/// written against wasmtime's blocking API: they run with the blocking calls alone.
#[must_use]
pub fn check_all(context: &Context) -> Vec<Row> {
    let mut rows = Vec::new();
    for calls in [Calls::Blocking, Calls::Async] {
        let suffix = match calls {
            Calls::Blocking => "",
            Calls::Async => " (async calls)",
        };
        let mut greet = Findings::new();
        let outcome = check_greet(context, calls, &mut greet);
        greet.finish(outcome);
        rows.push(greet.into_row("imports", format!("greet: env.salutation, env.log{suffix}")));
        let mut imports = Findings::new();
        let outcome = check_imports(context, calls, &mut imports);
        imports.finish(outcome);
        let what = match calls {
            Calls::Blocking => "imports: results, errors, growth, hostile hosts",
            Calls::Async => "imports: results, errors, growth (async calls)",
        };
        rows.push(imports.into_row("imports", what));
    }
    rows
}

/// The `greet` host: a salutation that can be switched off (an async host function for the
/// `_async` calls), and a log.
fn greet_host(
    module: &GuestModule,
    salutation: Option<&'static str>,
    log: &Arc<Mutex<Vec<String>>>,
) -> Result<Guest, HostError> {
    let log = Arc::clone(log);
    let answer = move || {
        salutation
            .map(str::to_owned)
            .ok_or("the host has no salutation today")
    };
    module.instantiate_linked(&GuestOptions::default(), move |linker| {
        let mut host = module.host_functions(linker)?;
        match module.calls() {
            Calls::Blocking => host.func("env", "salutation", answer)?,
            Calls::Async => host.func_async("env", "salutation", move || {
                let answer = answer();
                async move { answer }
            })?,
        };
        host.func("env", "log", move |line: &str| {
            log.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line.to_owned());
        })?;
        Ok(())
    })
}

fn check_greet(context: &Context, calls: Calls, findings: &mut Findings) -> Result<(), HostError> {
    let module = context.example("greet")?.with_calls(calls);
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut guest = greet_host(&module, Some(SALUTATION), &log)?;
    let before = guest.live_blocks()?;
    let greeting = guest.call_string("greet", &[b"guestmem"])?;
    findings.expect(greeting == "Hello, guestmem!", || {
        format!("greet(\"guestmem\") = {greeting:?}, expected \"Hello, guestmem!\"")
    });
    let logged = log.lock().unwrap_or_else(PoisonError::into_inner).clone();
    findings.expect(logged == [greeting.clone()], || {
        format!("env.log received {logged:?}, expected [{greeting:?}]")
    });
    for _ in 0..100 {
        guest.call_string("greet", &[b"guestmem"])?;
    }
    let after = guest.live_blocks()?;
    findings.expect(after == before, || {
        format!("live_blocks went from {before:?} to {after:?} over 101 greetings")
    });
    findings.figure(format!("{greeting:?}, live_blocks {before:?} -> {after:?}"));

    let mut closed = greet_host(&module, None, &log)?;
    let before = closed.live_blocks()?;
    let failure = closed.call_string("greet", &[b"guestmem"]);
    findings.expect(
        matches!(&failure, Err(HostError::Guest { message, .. })
            if message == "the host has no salutation today"),
        || format!("greet without a salutation = {failure:?}, expected the host's message"),
    );
    let after = closed.live_blocks()?;
    findings.expect(after == before, || {
        format!("live_blocks went from {before:?} to {after:?} over a failed greeting")
    });
    Ok(())
}

/// The well-behaved host functions of the `imports` guest, and hostile ones written against
/// wasmtime directly (the library cannot return a bad block).
fn imports_host(module: &GuestModule, linker: &mut Linker<HostState>) -> Result<(), HostError> {
    module
        .host_functions(linker)?
        .func("env", "fetch", |key: &str| match key {
            "fail" => Err(FETCH_FAILURE),
            "panic" => panic!("fetch was told to panic"),
            _ => Ok(key.repeat(3).into_bytes()),
        })?
        .func("env", "count", |text: &str| match text {
            "fail" => Err("cannot count that"),
            _ => Ok(u32::try_from(text.len()).unwrap_or(u32::MAX)),
        })?
        .func("env", "store", |key: &str, value: &[u8]| {
            if key.is_empty() {
                return Err(format!("empty key for {} bytes", value.len()));
            }
            Ok(())
        })?
        .func("env", "grow", |bytes: &[u8]| {
            let mut answer = bytes.to_vec();
            answer.resize(GROWN, 0x5A);
            answer
        })?;
    linker.func_wrap("env", "hostile", hostile_answer)?;
    linker.func_wrap("env", "trusted", hostile_answer)?;
    Ok(())
}

/// The hostile cases, by number: what the host returns, and words the guest's error must hold.
const HOSTILE: [(&str, &str); 6] = [
    ("a misaligned pointer", "not a live block"),
    ("a pointer past the end of memory", "not a live block"),
    (
        "a pointer into the middle of a live block",
        "not a live block",
    ),
    (
        "a live block whose prefix runs past it",
        "bytes in a block with room for",
    ),
    ("a freed block", "not a live block"),
    ("0 and no message", "returned 0 and no error message"),
];

/// A hostile host's answer number `case` (0-based, as in [`HOSTILE`]); any other number gets a
/// valid block of 3 bytes.
fn hostile_answer(mut caller: Caller<'_, HostState>, case: u32) -> wasmtime::Result<u32> {
    let Some(Extern::Func(alloc)) = caller.get_export("alloc") else {
        wasmtime::bail!("no alloc");
    };
    let alloc = alloc.typed::<u32, u32>(&caller)?;
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        wasmtime::bail!("no memory");
    };
    let size = u32::try_from(memory.data_size(&caller)).unwrap_or(u32::MAX);
    Ok(match case {
        0 => 12,
        1 => size.saturating_sub(8).max(8) & !7,
        2 => alloc.call(&mut caller, 64)? + 16,
        3 => {
            let ptr = alloc.call(&mut caller, 8)?;
            memory.write(&mut caller, ptr as usize, &1000_u32.to_le_bytes())?;
            ptr
        }
        4 => {
            let ptr = alloc.call(&mut caller, 8)?;
            let free = caller
                .get_export("guestmem_free")
                .or_else(|| caller.get_export("free"))
                .and_then(Extern::into_func)
                .ok_or_else(|| wasmtime::Error::msg("no free"))?
                .typed::<u32, ()>(&caller)?;
            free.call(&mut caller, ptr)?;
            ptr
        }
        5 => 0,
        _ => {
            let ptr = alloc.call(&mut caller, 7)?;
            memory.write(&mut caller, ptr as usize, b"\x03\0\0\0abc")?;
            ptr
        }
    })
}

fn check_imports(
    context: &Context,
    calls: Calls,
    findings: &mut Findings,
) -> Result<(), HostError> {
    let module = context.example("imports")?.with_calls(calls);
    let new = || {
        module.instantiate_linked(&GuestOptions::default(), |linker| {
            imports_host(&module, linker)
        })
    };
    let mut guest = new()?;
    let before = guest.live_blocks()?;

    // Host results, freed by the guest's wrapper.
    for key in ["", "k", "key of some length", &"x".repeat(30_000)] {
        let answer = guest.call_bytes("relay", &[key.as_bytes()])?;
        findings.expect(answer == key.repeat(3).as_bytes(), || {
            format!(
                "relay({} bytes) = {} bytes, expected the key 3 times",
                key.len(),
                answer.len()
            )
        });
    }
    // Host failures, through guestmem.last_error, for each result kind.
    let failure = guest.call_bytes("relay", &[b"fail"]);
    findings.expect(
        matches!(&failure, Err(HostError::Guest { message, .. }) if message == FETCH_FAILURE),
        || format!("relay(\"fail\") = {failure:?}, expected the host's message"),
    );
    let zero = guest.call_u32("relay_count", &[b""])?;
    findings.expect(zero == 0, || {
        format!("relay_count(\"\") = {zero}, expected the answer 0")
    });
    let count = guest.call_u32("relay_count", &[b"fail"]);
    findings.expect(
        matches!(&count, Err(HostError::Guest { message, .. }) if message == "cannot count that"),
        || format!("relay_count(\"fail\") = {count:?}, expected the host's message"),
    );
    let stored = guest.call_u32("relay_store", &[b"key".as_slice(), b"value"])?;
    findings.expect(stored == 1, || {
        format!("relay_store = {stored}, expected 1")
    });
    let refused = guest.call_u32("relay_store", &[b"".as_slice(), b"value"]);
    findings.expect(
        matches!(&refused, Err(HostError::Guest { message, .. }) if message == "empty key for 5 bytes"),
        || format!("relay_store(\"\", ..) = {refused:?}, expected the host's message"),
    );

    // Memory grows inside the host function; the guest's own block is unchanged.
    let pages = guest.memory_pages();
    let grown = guest.call_u32("relay_grow", &[b"the guest's own bytes"])?;
    let grown_pages = guest.memory_pages();
    findings.expect(grown as usize == GROWN && grown_pages > pages, || {
        format!(
            "relay_grow = {grown} ({pages} -> {grown_pages} pages), expected {GROWN} and growth"
        )
    });
    let after = guest.live_blocks()?;
    findings.expect(after == before, || {
        format!("live_blocks went from {before:?} to {after:?} over the well-behaved calls")
    });
    findings.figure(format!(
        "live_blocks {before:?} -> {after:?}, memory {pages} -> {grown_pages} pages"
    ));

    if calls == Calls::Blocking {
        check_hostile(&new, findings)?;
    }

    // A host function that panics: a trap of the guest call, naming the host function.
    let mut guest = new()?;
    // The panic is expected: keep it off stderr.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let panicked = guest.call_bytes("relay", &[b"panic"]);
    std::panic::set_hook(previous_hook);
    findings.expect(
        matches!(&panicked, Err(HostError::HostFunction { host_function, message, .. })
            if host_function == "env.fetch" && message.contains("fetch was told to panic")),
        || {
            format!(
                "relay(\"panic\") = {panicked:?}, expected a host function error naming env.fetch"
            )
        },
    );
    Ok(())
}

/// Each hostile answer: an error naming the host function through the fallible import, a trap
/// with that reason through the one that cannot fail.
fn check_hostile(
    new: &impl Fn() -> Result<Guest, HostError>,
    findings: &mut Findings,
) -> Result<(), HostError> {
    let mut guest = new()?;
    for (case, (what, words)) in HOSTILE.iter().enumerate() {
        let input = case.to_string();
        let fallible = guest.call_u32("relay_hostile", &[input.as_bytes()]);
        findings.expect(
            matches!(&fallible, Err(HostError::Guest { message, .. })
                if message.contains("host function `env.hostile`") && message.contains(words)),
            || {
                format!(
                    "env.hostile returning {what}: {fallible:?}, expected an error with {words:?}"
                )
            },
        );
        let mut trusting = new()?;
        let trapped = trusting.call_u32("relay_trusted", &[input.as_bytes()]);
        findings.expect(
            matches!(&trapped, Err(error) if error.trap_reason().is_some_and(|reason|
                reason.contains("host function `env.trusted`") && reason.contains(words))),
            || format!("env.trusted returning {what}: {trapped:?}, expected a trap with {words:?}"),
        );
    }
    let valid = guest.call_u32("relay_hostile", &[b"99"])?;
    findings.expect(valid == 3, || {
        format!("relay_hostile with a valid block = {valid}, expected 3")
    });
    findings.figure(format!("{} hostile answers refused", HOSTILE.len()));
    Ok(())
}
