//! Host functions defined on the linker: blocking ones on raw values, or, for guests called
//! with the `_async` calls, async ones that wasmtime runs on the call's fiber. Both read the
//! arguments, run the closure with a panic caught, and deliver its outcome the same way
//! ([`results::deliver`], generic over the [`Drive`]).

use std::mem::MaybeUninit;
use std::panic::{self, AssertUnwindSafe};

use wasmtime::{Caller, FuncType, Linker, ValRaw};

use super::results::{self, Outcome};
#[cfg(feature = "async")]
use super::shapes::AsyncCall;
use super::shapes::Call;
use super::state::{self, CallerExports, GuestmemView};
use super::{HostTrap, MAX_PARAMS, panic_message};
use crate::drive::{Blocking, Drive, now};

/// A host function to define.
pub(super) struct Definition<T> {
    pub(super) module: String,
    pub(super) name: String,
    pub(super) ty: FuncType,
    pub(super) body: Body<T>,
}

/// What a host function runs.
pub(super) enum Body<T> {
    /// A closure whose outcome is there when it returns.
    Now(Box<Call<T>>),
    /// A closure that returns the future of its outcome.
    #[cfg(feature = "async")]
    Later(Box<AsyncCall<T>>),
}

/// `guestmem.last_error` for blocking calls.
pub(super) fn last_error<T: GuestmemView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    linker.func_wrap("guestmem", "last_error", |mut caller: Caller<'_, T>| {
        now(take_message::<Blocking, T>(&mut caller))
    })?;
    Ok(())
}

/// `guestmem.last_error` for the `_async` calls: its `alloc` runs on the call's fiber.
#[cfg(feature = "async")]
pub(super) fn last_error_async<T: GuestmemView + Send + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    linker.func_wrap_async(
        "guestmem",
        "last_error",
        |mut caller: Caller<'_, T>, (): ()| {
            Box::new(async move { take_message::<crate::drive::Fiber, T>(&mut caller).await })
        },
    )?;
    Ok(())
}

/// The pending message as a result block, or `0` when there is none.
async fn take_message<D: Drive<T>, T: GuestmemView>(
    caller: &mut Caller<'_, T>,
) -> wasmtime::Result<u32> {
    let Some(message) = caller.data_mut().guestmem().take_pending() else {
        return Ok(0);
    };
    let exports = state::caller_exports(caller, "guestmem.last_error")?;
    // No memory for the message: a trap, not 0, which a fallible integer would read as an
    // answer (docs/ABI.md, "Failure").
    match results::write_block::<D, T>(caller, &exports, message.as_bytes()).await? {
        Some(ptr) => Ok(ptr),
        None => Err(HostTrap::new(
            "guestmem.last_error",
            format!("the guest's alloc returned 0 for the message: {message}"),
        )
        .into()),
    }
}

/// Defines a blocking host function on raw values.
pub(super) fn blocking<T: GuestmemView + 'static>(
    linker: &mut Linker<T>,
    definition: Definition<T>,
) -> wasmtime::Result<()> {
    let Definition {
        module,
        name,
        ty,
        body,
    } = definition;
    #[cfg_attr(
        not(feature = "async"),
        expect(
            clippy::infallible_destructuring_match,
            reason = "Body has a second variant with the async feature"
        )
    )]
    let function = match body {
        Body::Now(function) => function,
        #[cfg(feature = "async")]
        Body::Later(_) => {
            return Err(wasmtime::Error::msg(format!(
                "async host function `{module}.{name}`: register it on HostFunctions::new_async"
            )));
        }
    };
    let label = format!("{module}.{name}");
    let count = ty.params().len();
    let call = move |mut caller: Caller<'_, T>, values: &mut [MaybeUninit<ValRaw>]| {
        let exports = state::caller_exports(&mut caller, &label)?;
        caller.data_mut().guestmem().clear_pending();
        let mut params = [ValRaw::i32(0); MAX_PARAMS];
        for (param, value) in params.iter_mut().zip(&values[..count]) {
            // SAFETY: wasmtime passes the function's arguments, initialised, at the front of
            // `values`: `count` of them, of the types `ty` gives.
            *param = unsafe { value.assume_init() };
        }
        let outcome = run(&mut caller, &exports, &label, |memory, data| {
            function(memory, data, &params[..count])
        })?;
        let value = now(deliver::<Blocking, T>(
            &mut caller,
            &exports,
            &label,
            outcome,
        ))?;
        if let (Some(slot), Some(value)) = (values.first_mut(), value) {
            *slot = MaybeUninit::new(value);
        }
        Ok(())
    };
    // SAFETY: `call` reads its arguments as the `HostArg` kinds whose `PARAMS` made `ty`'s
    // parameters, in order, and writes one result of the `HostResult`'s type, which made `ty`'s
    // results, or none when it has none (`deliver` returns a value exactly when the result type
    // has one).
    unsafe { linker.func_new_unchecked(&module, &name, ty, call) }?;
    Ok(())
}

/// Defines a host function as an async one to wasmtime, for the `_async` calls: a blocking
/// closure's outcome is delivered on the call's fiber, an async closure's once its future is
/// ready.
#[cfg(feature = "async")]
pub(super) fn fiber<T: GuestmemView + Send + 'static>(
    linker: &mut Linker<T>,
    definition: Definition<T>,
) -> wasmtime::Result<()> {
    use std::sync::Arc;
    use std::task::Poll;

    use wasmtime::{Val, ValType};

    use crate::drive::Fiber;

    let Definition {
        module,
        name,
        ty,
        body,
    } = definition;
    let label: Arc<str> = format!("{module}.{name}").into();
    let body = Arc::new(body);
    let wide_result = matches!(ty.results().next(), Some(ValType::I64));
    linker.func_new_async(&module, &name, ty, move |mut caller, values, results| {
        let (label, body) = (Arc::clone(&label), Arc::clone(&body));
        Box::new(async move {
            let exports = state::caller_exports(&mut caller, &label)?;
            caller.data_mut().guestmem().clear_pending();
            let mut params = [ValRaw::i32(0); MAX_PARAMS];
            for (param, value) in params.iter_mut().zip(values) {
                *param = match value {
                    Val::I64(value) => ValRaw::i64(*value),
                    Val::I32(value) => ValRaw::i32(*value),
                    // `HostArg::PARAMS` are i32 and i64 alone.
                    _ => return Err(HostTrap::new(&label, "an argument of another type").into()),
                };
            }
            let params = &params[..values.len()];
            let outcome = match &*body {
                Body::Now(function) => run(&mut caller, &exports, &label, |memory, data| {
                    function(memory, data, params)
                })?,
                Body::Later(function) => {
                    let mut later = run(&mut caller, &exports, &label, |memory, data| {
                        function(memory, data, params)
                    })?;
                    // A panic while the future runs is the host function's, as one in its
                    // closure is.
                    std::future::poll_fn(|context| {
                        match panic::catch_unwind(AssertUnwindSafe(|| later.as_mut().poll(context)))
                        {
                            Ok(poll) => poll.map(Ok),
                            Err(payload) => Poll::Ready(Err(payload)),
                        }
                    })
                    .await
                    .map_err(|payload| HostTrap::new(&label, panic_message(&*payload)))?
                }
            };
            let value = deliver::<Fiber, T>(&mut caller, &exports, &label, outcome).await?;
            if let (Some(slot), Some(value)) = (results.first_mut(), value) {
                *slot = if wide_result {
                    Val::I64(value.get_i64())
                } else {
                    Val::I32(value.get_i32())
                };
            }
            Ok(())
        })
    })?;
    Ok(())
}

/// Runs `function` on the guest's memory and the store's data, a panic caught: its `Err` and
/// its panic are the host function's failure, a trap of the guest's call.
fn run<T, O>(
    caller: &mut Caller<'_, T>,
    exports: &CallerExports,
    label: &str,
    function: impl FnOnce(&[u8], &mut T) -> Result<O, String>,
) -> wasmtime::Result<O> {
    let (memory, data) = exports.memory.data_and_store_mut(caller);
    match panic::catch_unwind(AssertUnwindSafe(|| function(memory, data))) {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(problem)) => Err(HostTrap::new(label, problem).into()),
        Err(payload) => Err(HostTrap::new(label, panic_message(&*payload)).into()),
    }
}

/// Writes `outcome` into the guest ([`results::deliver`]). A trap of the guest's `alloc` stays
/// what it is; anything else is this host function's failure.
async fn deliver<D: Drive<T>, T: GuestmemView>(
    caller: &mut Caller<'_, T>,
    exports: &CallerExports,
    label: &str,
    outcome: Outcome,
) -> wasmtime::Result<Option<ValRaw>> {
    results::deliver::<D, T>(caller, exports, label, outcome)
        .await
        .map_err(|error| {
            if error.is::<wasmtime::Trap>() || error.is::<HostTrap>() {
                error
            } else {
                HostTrap::new(label, format!("{error:#}")).into()
            }
        })
}
