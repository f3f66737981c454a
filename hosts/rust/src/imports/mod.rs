//! Host functions: closures a guest calls through its `import!` declarations ("Host functions"
//! in guestmem's `docs/ABI.md`), registered on the user's own [`Linker`].

mod args;
mod define;
mod results;
mod shapes;
mod state;

use std::fmt::Display;

use wasmtime::{FuncType, Linker};

pub use args::{Bytes, HostArg, Str};
pub use results::{HostResult, Outcome};
#[cfg(feature = "async")]
pub use shapes::IntoAsyncHostFunc;
pub use shapes::{IntoHostFunc, StoreData};
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
    /// How a function is defined on the linker: blocking, or for async calls
    /// ([`HostFunctions::new_async`]), where every host function is an async one to wasmtime.
    define: fn(&mut Linker<T>, define::Definition<T>) -> wasmtime::Result<()>,
    /// Made with [`HostFunctions::new_async`]: async host functions may be added.
    #[cfg_attr(
        not(feature = "async"),
        expect(dead_code, reason = "read by func_async, with the async feature")
    )]
    asynchronous: bool,
}

/// What was registered under one name, for [`HostFunctions::check`].
struct Registered {
    module: String,
    name: String,
    fallible: bool,
}

impl<'l, T: GuestmemView + 'static> HostFunctions<'l, T> {
    /// Defines `guestmem.last_error` on `linker`, through which guests read a host function's
    /// failure. The guests are called with the blocking calls ([`GuestFunc::call_bytes`] and
    /// the others); for the `_async` calls, see [`HostFunctions::new_async`].
    ///
    /// [`GuestFunc::call_bytes`]: crate::GuestFunc::call_bytes
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if the linker has it already (and does not allow shadowing).
    pub fn new(linker: &'l mut Linker<T>) -> Result<Self, Error> {
        define::last_error(linker)?;
        Ok(Self {
            linker,
            registered: Vec::new(),
            define: define::blocking,
            asynchronous: false,
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
        let (params, results) = function.signature();
        let fallible = function.fallible();
        self.define(
            module,
            name,
            params,
            results,
            fallible,
            define::Body::Now(function.into_call()),
        )
    }

    fn define(
        &mut self,
        module: &str,
        name: &str,
        params: Vec<wasmtime::ValType>,
        results: Vec<wasmtime::ValType>,
        fallible: bool,
        body: define::Body<T>,
    ) -> Result<&mut Self, Error> {
        debug_assert!(
            params.len() <= MAX_PARAMS,
            "at most three (ptr, len) arguments"
        );
        self.registered.push(Registered {
            module: module.to_owned(),
            name: name.to_owned(),
            fallible,
        });
        let definition = define::Definition {
            module: module.to_owned(),
            name: name.to_owned(),
            ty: FuncType::new(self.linker.engine(), params, results),
            body,
        };
        (self.define)(self.linker, definition)?;
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

#[cfg(feature = "async")]
impl<'l, T: GuestmemView + Send + 'static> HostFunctions<'l, T> {
    /// [`HostFunctions::new`] for guests called with the `_async` calls
    /// ([`GuestFunc::call_bytes_async`] and the others, after
    /// [`Guest::instantiate_async`](crate::Guest::instantiate_async)): every host function is
    /// defined as an async one, so that the guest's `alloc` for a result runs on the call's fiber,
    /// and [`HostFunctions::func_async`] may add functions that wait. Those guests can no longer
    /// be called with the blocking calls: wasmtime refuses them ([`Error::Wasmtime`]).
    ///
    /// [`GuestFunc::call_bytes_async`]: crate::GuestFunc::call_bytes_async
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if the linker has `guestmem.last_error` already.
    pub fn new_async(linker: &'l mut Linker<T>) -> Result<Self, Error> {
        define::last_error_async(linker)?;
        Ok(Self {
            linker,
            registered: Vec::new(),
            define: define::fiber,
            asynchronous: true,
        })
    }

    /// Registers `function`, a closure that returns a future, as the host function
    /// `module.name`: the guest waits for the future while the executor runs other work. The
    /// closure takes owned arguments (`Vec<u8>`, `String`, integers), optionally after the
    /// store's data (`&mut T`), and runs at once; its future must be `Send + 'static`, so it
    /// takes from the store's data what it needs before it waits.
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
    /// HostFunctions::new_async(&mut linker)?
    ///     .func_async("env", "salutation", |tenant: &mut Tenant| {
    ///         let name = tenant.name.clone();
    ///         async move {
    ///             // A database, a remote service: anything that waits.
    ///             Ok::<_, String>(format!("Hello from {name}"))
    ///         }
    ///     })?
    ///     .func("env", "log", |line: &str| println!("guest: {line}"))?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if the linker has that name already, or if these host functions were
    /// made with [`HostFunctions::new`] (blocking calls cannot wait).
    pub fn func_async<M, R>(
        &mut self,
        module: &str,
        name: &str,
        function: impl IntoAsyncHostFunc<T, M, R>,
    ) -> Result<&mut Self, Error> {
        if !self.asynchronous {
            return Err(Error::Wasmtime(wasmtime::Error::msg(format!(
                "async host function `{module}.{name}`: register it on HostFunctions::new_async \
                 (the guest is then called with the _async calls)"
            ))));
        }
        let (params, results) = function.signature();
        let fallible = function.fallible();
        self.define(
            module,
            name,
            params,
            results,
            fallible,
            define::Body::Later(function.into_call()),
        )
    }
}

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
