//! Host functions: closures a guest calls through its `import!` declarations ("Host functions"
//! in guestmem's `docs/ABI.md`), registered on the user's own [`Linker`].

mod args;
mod results;
mod state;

use std::fmt::Display;
use std::mem::MaybeUninit;
use std::panic::{self, AssertUnwindSafe};

use wasmtime::{Caller, FuncType, Linker, ValRaw, ValType};

pub use args::{Bytes, HostArg, Str};
pub use results::{HostResult, Outcome};
pub use state::{GuestmemCtx, GuestmemView};

use crate::{Error, Interface};

/// The most wasm parameters a host function takes: three `(ptr, len)` pairs.
const MAX_PARAMS: usize = 6;

/// Registers host functions on a [`Linker`], with the contract's `guestmem.last_error` beside
/// them.
///
/// A host function is a closure with annotated arguments (`&[u8]`, `&str`, `u32`, `i32`, `u64`,
/// `i64`, up to three), optionally after a first `&mut T` that is the calling store's data (the
/// tenant, the request: whoever called), returning `()`, an integer, `Vec<u8>`, `String`, or a
/// `Result` of one of these whose error is `Display`: its `Err` is the failure the guest reads,
/// a panic is a trap of the guest call ([`Error::HostFunction`]). Byte arguments are read where
/// they lie in guest memory, without a copy; byte results are written into a block from the
/// guest's own `alloc`. The store's data `T` holds guestmem's state ([`GuestmemView`]).
///
/// ```
/// use guestmem_host::{GuestmemCtx, GuestmemView, HostFunctions};
///
/// struct Tenant {
///     name: String,
///     guestmem: GuestmemCtx,
/// }
///
/// impl GuestmemView for Tenant {
///     fn guestmem(&mut self) -> &mut GuestmemCtx {
///         &mut self.guestmem
///     }
/// }
///
/// # fn main() -> Result<(), guestmem_host::Error> {
/// let engine = wasmtime::Engine::default();
/// let mut linker = wasmtime::Linker::<Tenant>::new(&engine);
/// HostFunctions::new(&mut linker)?
///     .func("env", "salutation", |tenant: &mut Tenant| -> Result<String, String> {
///         Ok(format!("Hello from {}", tenant.name))
///     })?
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
/// let mut linker = wasmtime::Linker::<guestmem_host::GuestmemCtx>::new(&engine);
/// let store = wasmtime::Store::new(&engine, guestmem_host::GuestmemCtx::default());
/// let mut guest = guestmem_host::Guest::instantiate(store, &linker, &module)?;
/// let upper = guest.func("upper")?;
/// guestmem_host::HostFunctions::new(&mut linker)?
///     .func("env", "again", move |text: &str| upper.call_string(&mut guest, &[text]).unwrap())?;
/// # Ok(())
/// # }
/// ```
pub struct HostFunctions<'l, T: 'static> {
    linker: &'l mut Linker<T>,
    registered: Vec<Registered>,
}

/// What was registered under one name, for [`HostFunctions::check`].
struct Registered {
    module: String,
    name: String,
    fallible: bool,
}

impl<'l, T: GuestmemView + 'static> HostFunctions<'l, T> {
    /// Defines `guestmem.last_error` on `linker`, through which guests read a host function's
    /// failure.
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if the linker has it already (and does not allow shadowing).
    pub fn new(linker: &'l mut Linker<T>) -> Result<Self, Error> {
        linker.func_wrap("guestmem", "last_error", |mut caller: Caller<'_, T>| {
            let Some(message) = caller.data_mut().guestmem().take_pending() else {
                return Ok(0);
            };
            let exports = state::caller_exports(&mut caller, "guestmem.last_error")?;
            // No memory for the message: a trap, not 0, which a fallible integer would read as
            // an answer (docs/ABI.md, "Failure").
            match results::write_block(&mut caller, &exports, message.as_bytes())? {
                Some(ptr) => Ok(ptr),
                None => Err(HostTrap::new(
                    "guestmem.last_error",
                    format!("the guest's alloc returned 0 for the message: {message}"),
                )
                .into()),
            }
        })?;
        Ok(Self {
            linker,
            registered: Vec::new(),
        })
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
        function: impl IntoHostFunc<T, M, R>,
    ) -> Result<&mut Self, Error> {
        let label = format!("{module}.{name}");
        let (params, results) = function.signature();
        let count = params.len();
        debug_assert!(count <= MAX_PARAMS, "at most three (ptr, len) arguments");
        self.registered.push(Registered {
            module: module.to_owned(),
            name: name.to_owned(),
            fallible: function.fallible(),
        });
        let ty = FuncType::new(self.linker.engine(), params, results);
        let function = function.into_call();
        let call = move |mut caller: Caller<'_, T>, values: &mut [MaybeUninit<ValRaw>]| {
            let exports = state::caller_exports(&mut caller, &label)?;
            caller.data_mut().guestmem().clear_pending();
            let mut params = [ValRaw::i32(0); MAX_PARAMS];
            for (param, value) in params.iter_mut().zip(&values[..count]) {
                // SAFETY: wasmtime passes the function's arguments, initialised, at the front of
                // `values`: `count` of them, of the types `ty` gives.
                *param = unsafe { value.assume_init() };
            }
            let outcome = {
                let (memory, data) = exports.memory.data_and_store_mut(&mut caller);
                panic::catch_unwind(AssertUnwindSafe(|| {
                    function(memory, data, &params[..count])
                }))
            };
            let returned = match outcome {
                Ok(Ok(returned)) => returned,
                Ok(Err(problem)) => return Err(HostTrap::new(&label, problem).into()),
                Err(payload) => {
                    return Err(HostTrap::new(&label, panic_message(&*payload)).into());
                }
            };
            let value =
                results::deliver(&mut caller, &exports, &label, returned).map_err(|error| {
                    // A trap of the guest's `alloc` stays what it is; anything else is this host
                    // function's failure.
                    if error.is::<wasmtime::Trap>() || error.is::<HostTrap>() {
                        error
                    } else {
                        HostTrap::new(&label, format!("{error:#}")).into()
                    }
                })?;
            if let (Some(slot), Some(value)) = (values.first_mut(), value) {
                *slot = MaybeUninit::new(value);
            }
            Ok(())
        };
        // SAFETY: `call` reads its arguments as the `HostArg` kinds whose `PARAMS` made `ty`'s
        // parameters, in order, and writes one result of the `HostResult`'s type, which made
        // `ty`'s results, or none when it has none (`deliver` returns a value exactly when the
        // result type has one).
        unsafe { self.linker.func_new_unchecked(module, name, ty, call) }?;
        Ok(self)
    }

    /// Checks the host functions registered so far against the imports `interface` describes
    /// (a [`Plugin`](crate::Plugin)'s): a host function registered fallible (returning a
    /// `Result`) where the guest's import is not, or the other way round, has the same wasm type,
    /// so wasmtime links it, and the guest would read a failure's `0` as an answer.
    ///
    /// # Errors
    ///
    /// [`Error::Interface`] naming the first host function whose fallibility differs.
    pub fn check(&self, interface: &Interface) -> Result<(), Error> {
        for import in &interface.imports {
            let module = import.module.as_deref().unwrap_or_default();
            let Some(registered) = self
                .registered
                .iter()
                .find(|host| host.module == module && host.name == import.name)
            else {
                continue;
            };
            if registered.fallible != import.fallible {
                let says = |fallible: bool| if fallible { "fallible" } else { "not fallible" };
                return Err(Error::Interface(format!(
                    "host function `{module}.{}` is registered {}, but the guest imports it {} \
                     ({import})",
                    import.name,
                    says(registered.fallible),
                    says(import.fallible),
                )));
            }
        }
        Ok(())
    }
}

/// The first argument of a host function that takes the calling store's data: `&mut T`.
pub struct StoreData;

/// A closure that can be a host function: implemented for `Fn` closures whose arguments are
/// annotated with [`HostArg`] types, optionally after a first `&mut T` (the store's data), and
/// whose result is a [`HostResult`]. `M` names the argument kinds, so that each closure shape has
/// an implementation of its own.
pub trait IntoHostFunc<T, M, R>: Send + Sync + 'static {
    /// The wasm parameter and result types.
    #[doc(hidden)]
    fn signature(&self) -> (Vec<ValType>, Vec<ValType>);
    /// Whether its result is a `Result`.
    #[doc(hidden)]
    fn fallible(&self) -> bool;
    /// The call: reads the arguments out of `memory`, runs the closure.
    #[doc(hidden)]
    fn into_call(self) -> Box<Call<T>>;
}

/// A host function with its arguments read: the closure's outcome, ready to be delivered.
#[doc(hidden)]
pub type Call<T> = dyn Fn(&[u8], &mut T, &[ValRaw]) -> Result<Outcome, String> + Send + Sync;

macro_rules! into_host_func {
    ($($arg:ident: $kind:ident)*) => {
        impl<T, F, R> IntoHostFunc<T, ($($kind,)*), R> for F
        where
            F: Fn($(<$kind as HostArg>::Value<'_>),*) -> R + Send + Sync + 'static,
            R: HostResult + 'static,
        {
            fn signature(&self) -> (Vec<ValType>, Vec<ValType>) {
                let params: &[&[ValType]] = &[$(<$kind as HostArg>::PARAMS),*];
                (params.concat(), R::results().to_vec())
            }

            fn fallible(&self) -> bool {
                R::FALLIBLE
            }

            fn into_call(self) -> Box<Call<T>> {
                Box::new(move |_memory: &[u8], _data: &mut T, params: &[ValRaw]| {
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

        impl<T, F, R> IntoHostFunc<T, (StoreData, $($kind,)*), R> for F
        where
            F: Fn(&mut T, $(<$kind as HostArg>::Value<'_>),*) -> R + Send + Sync + 'static,
            R: HostResult + 'static,
        {
            fn signature(&self) -> (Vec<ValType>, Vec<ValType>) {
                let params: &[&[ValType]] = &[$(<$kind as HostArg>::PARAMS),*];
                (params.concat(), R::results().to_vec())
            }

            fn fallible(&self) -> bool {
                R::FALLIBLE
            }

            fn into_call(self) -> Box<Call<T>> {
                Box::new(move |_memory: &[u8], data: &mut T, params: &[ValRaw]| {
                    let mut _rest = params;
                    let mut _index = 0_usize;
                    $(
                        _index += 1;
                        let $arg = <$kind as HostArg>::read(_memory, &mut _rest)
                            .map_err(|problem| format!("argument {_index}: {problem}"))?;
                    )*
                    Ok(self(data, $($arg),*).into_outcome())
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
