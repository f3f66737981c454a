//! Host functions: closures a guest calls through its `import!` declarations ("Host functions"
//! in guestmem's `docs/ABI.md`), registered on the user's own [`Linker`].

mod args;
mod results;

use std::fmt::Display;
use std::panic::{self, AssertUnwindSafe};

use wasmtime::{Caller, Extern, FuncType, Linker, Memory, Val, ValType};

pub use args::{Bytes, HostArg, Str};
pub use results::{HostResult, Outcome};

use crate::Error;

/// Registers host functions on a [`Linker`], with the contract's `guestmem.last_error` beside
/// them.
///
/// A host function is a closure with annotated arguments (`&[u8]`, `&str`, `u32`, `i32`, `u64`,
/// `i64`, up to three) returning `()`, an integer, `Vec<u8>`, `String`, or a `Result` of one of
/// these whose error is `Display`: its `Err` is the failure the guest reads, a panic is a trap of
/// the guest call ([`Error::HostFunction`]). Byte arguments are read where they lie in guest
/// memory, without a copy; byte results are written into a block from the guest's own `alloc`.
///
/// ```
/// # fn main() -> Result<(), guestmem_host::Error> {
/// let engine = wasmtime::Engine::default();
/// let mut linker = wasmtime::Linker::<()>::new(&engine);
/// guestmem_host::HostFunctions::new(&mut linker)?
///     .func("env", "salutation", || -> Result<String, String> { Ok("Hello".into()) })?
///     .func("env", "log", |line: &str| println!("guest: {line}"))?;
/// # Ok(())
/// # }
/// ```
///
/// A host function gets no access to the instance that calls it, so it cannot call back into
/// it: the contract allows only `alloc` and friends there, and this library makes those calls
/// itself. Trying it does not compile:
///
/// ```compile_fail
/// # fn main() -> Result<(), guestmem_host::Error> {
/// # let engine = wasmtime::Engine::default();
/// # let module = wasmtime::Module::new(&engine, "(module)")?;
/// let mut linker = wasmtime::Linker::<()>::new(&engine);
/// let mut guest = guestmem_host::Guest::instantiate(wasmtime::Store::new(&engine, ()), &linker, &module)?;
/// let upper = guest.func("upper")?;
/// guestmem_host::HostFunctions::new(&mut linker)?
///     .func("env", "again", move |text: &str| upper.call_string(&mut guest, &[text]).unwrap())?;
/// # Ok(())
/// # }
/// ```
pub struct HostFunctions<'l, T: 'static> {
    linker: &'l mut Linker<T>,
}

impl<'l, T: 'static> HostFunctions<'l, T> {
    /// Defines `guestmem.last_error` on `linker`, through which guests read a host function's
    /// failure.
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if the linker has it already (and does not allow shadowing).
    pub fn new(linker: &'l mut Linker<T>) -> Result<Self, Error> {
        linker.func_wrap("guestmem", "last_error", |mut caller: Caller<'_, T>| {
            let memory = memory(&mut caller, "guestmem.last_error")?;
            let Some(message) = pending::take(memory.data_ptr(&caller)) else {
                return Ok(0);
            };
            // No memory for the message: a trap, not 0, which a fallible integer would read as
            // an answer (docs/ABI.md, "Failure").
            match results::write_block(&mut caller, memory, message.as_bytes())? {
                Some(ptr) => Ok(ptr),
                None => Err(HostTrap::new(
                    "guestmem.last_error",
                    format!("the guest's alloc returned 0 for the message: {message}"),
                )
                .into()),
            }
        })?;
        Ok(Self { linker })
    }

    /// Registers `function` as the host function `module.name`.
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if the linker has that name already.
    pub fn func<M, R>(
        &mut self,
        module: &str,
        name: &str,
        function: impl IntoHostFunc<M, R>,
    ) -> Result<&mut Self, Error> {
        let label = format!("{module}.{name}");
        let (params, results) = function.signature();
        let ty = FuncType::new(self.linker.engine(), params, results);
        let function = function.into_call();
        self.linker.func_new(
            module,
            name,
            ty,
            move |mut caller: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
                let memory = memory(&mut caller, &label)?;
                pending::clear();
                let outcome = {
                    let data = memory.data(&caller);
                    panic::catch_unwind(AssertUnwindSafe(|| function(data, params)))
                };
                let returned = match outcome {
                    Ok(Ok(returned)) => returned,
                    Ok(Err(problem)) => return Err(HostTrap::new(&label, problem).into()),
                    Err(payload) => {
                        return Err(HostTrap::new(&label, panic_message(&*payload)).into());
                    }
                };
                let value =
                    results::deliver(&mut caller, memory, &label, returned).map_err(|error| {
                        // A trap of the guest's `alloc` stays what it is; anything else is this
                        // host function's failure.
                        if error.is::<wasmtime::Trap>() || error.is::<HostTrap>() {
                            error
                        } else {
                            HostTrap::new(&label, format!("{error:#}")).into()
                        }
                    })?;
                if let (Some(slot), Some(value)) = (results.first_mut(), value) {
                    *slot = value;
                }
                Ok(())
            },
        )?;
        Ok(self)
    }
}

/// A closure that can be a host function: implemented for `Fn` closures whose arguments are
/// annotated with [`HostArg`] types and whose result is a [`HostResult`]. `M` names the argument
/// kinds, so that each closure shape has an implementation of its own.
pub trait IntoHostFunc<M, R>: Send + Sync + 'static {
    /// The wasm parameter and result types.
    #[doc(hidden)]
    fn signature(&self) -> (Vec<ValType>, Vec<ValType>);
    /// The call: reads the arguments out of `memory`, runs the closure.
    #[doc(hidden)]
    fn into_call(self) -> Box<Call>;
}

/// A host function with its arguments read: the closure's outcome, ready to be delivered.
#[doc(hidden)]
pub type Call = dyn Fn(&[u8], &[Val]) -> Result<Outcome, String> + Send + Sync;

macro_rules! into_host_func {
    ($($arg:ident: $kind:ident)*) => {
        impl<F, R> IntoHostFunc<($($kind,)*), R> for F
        where
            F: Fn($(<$kind as HostArg>::Value<'_>),*) -> R + Send + Sync + 'static,
            R: HostResult + 'static,
        {
            fn signature(&self) -> (Vec<ValType>, Vec<ValType>) {
                let params: &[&[ValType]] = &[$(<$kind as HostArg>::PARAMS),*];
                (params.concat(), R::results().to_vec())
            }

            fn into_call(self) -> Box<Call> {
                Box::new(move |_memory: &[u8], params: &[Val]| {
                    let mut _rest = params;
                    let mut _index = 0_usize;
                    $(
                        _index += 1;
                        let $arg = <$kind as HostArg>::read(_memory, &mut _rest)
                            .map_err(|problem| format!("argument {_index}: {problem}"))?;
                    )*
                    Ok(self($($arg),*).into_outcome())
                })
            }
        }
    };
}

macro_rules! for_each_shape {
    () => {
        into_host_func!();
        for_each_shape!(@1 Bytes Str u32 i32 u64 i64);
    };
    (@1 $($a:ident)*) => {
        $(into_host_func!(a: $a);)*
        $(for_each_shape!(@2 $a; Bytes Str u32 i32 u64 i64);)*
    };
    (@2 $a:ident; $($b:ident)*) => {
        $(into_host_func!(a: $a b: $b);)*
        $(for_each_shape!(@3 $a $b; Bytes Str u32 i32 u64 i64);)*
    };
    (@3 $a:ident $b:ident; $($c:ident)*) => {
        $(into_host_func!(a: $a b: $b c: $c);)*
    };
}

for_each_shape!();

/// The failure of a host function that the guest cannot be told about: it panicked, or the guest
/// passed it an argument that is not one. It becomes a trap of the guest call, reported as
/// [`Error::HostFunction`].
#[derive(Debug, thiserror::Error)]
#[error("host function `{function}`: {message}")]
pub(crate) struct HostTrap {
    pub(crate) function: String,
    pub(crate) message: String,
}

impl HostTrap {
    pub(crate) fn new(function: &str, message: impl Display) -> Self {
        Self {
            function: function.to_owned(),
            message: message.to_string(),
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    format!("panicked: {text}")
}

/// The calling instance's memory.
fn memory<T>(caller: &mut Caller<'_, T>, function: &str) -> wasmtime::Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => Err(HostTrap::new(function, "the calling module exports no memory").into()),
    }
}

/// The message of the host function that failed last, per instance, until the guest reads it.
///
/// Kept per thread, with the calling instance's memory as its key: a host function and the
/// guest's `guestmem.last_error` call that follows run on the same thread, in the same call into
/// the guest, and the user's store data is theirs alone.
pub(crate) mod pending {
    use std::cell::RefCell;

    std::thread_local! {
        static PENDING: RefCell<Option<(usize, String)>> = const { RefCell::new(None) };
    }

    /// Keeps `message` for the instance whose memory starts at `memory`.
    pub(crate) fn set(memory: *mut u8, message: String) {
        PENDING.with_borrow_mut(|pending| *pending = Some((memory.addr(), message)));
    }

    /// Forgets the message: a host function is being called, and its own outcome replaces it.
    pub(crate) fn clear() {
        PENDING.with_borrow_mut(|pending| *pending = None);
    }

    /// The message for the instance whose memory starts at `memory`, cleared.
    pub(crate) fn take(memory: *mut u8) -> Option<String> {
        PENDING.with_borrow_mut(|pending| {
            let (key, _) = pending.as_ref()?;
            if *key != memory.addr() {
                return None;
            }
            pending.take().map(|(_, message)| message)
        })
    }
}
