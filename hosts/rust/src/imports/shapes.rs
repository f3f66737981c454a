//! The closures that can be host functions: one implementation of [`IntoHostFunc`] (and, with
//! the `async` feature, [`IntoAsyncHostFunc`]) per shape of arguments, up to three, each with or
//! without the store's data in front.

use wasmtime::{ValRaw, ValType};

use super::{Bytes, HostArg, HostResult, Outcome, Str};

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

/// A closure that can be an async host function: implemented for `Fn` closures whose arguments
/// are owned forms of the [`HostArg`] types (`Vec<u8>`, `String`, integers), optionally after a
/// first `&mut T` (the store's data), and which return a `Send + 'static` future of a
/// [`HostResult`]. The closure runs at once, with the store's data; the guest waits for its
/// future, and the executor runs other work meanwhile.
#[cfg(feature = "async")]
pub trait IntoAsyncHostFunc<T, M, R>: Send + Sync + 'static {
    /// The wasm parameter and result types.
    #[doc(hidden)]
    fn signature(&self) -> (Vec<ValType>, Vec<ValType>);
    /// Whether its result is a `Result`.
    #[doc(hidden)]
    fn fallible(&self) -> bool;
    /// The call: reads and copies the arguments out of `memory`, runs the closure.
    #[doc(hidden)]
    fn into_call(self) -> Box<AsyncCall<T>>;
}

/// An async host function with its arguments read: the future of its outcome.
#[cfg(feature = "async")]
#[doc(hidden)]
pub type AsyncCall<T> = dyn Fn(&[u8], &mut T, &[ValRaw]) -> Result<Later, String> + Send + Sync;

/// The future of an async host function's outcome.
#[cfg(feature = "async")]
#[doc(hidden)]
pub type Later = std::pin::Pin<Box<dyn Future<Output = Outcome> + Send>>;

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

/// The async closures of one argument shape.
#[cfg(feature = "async")]
macro_rules! into_async_host_func {
    ($($arg:ident: $kind:ident)*) => {
        impl<T, F, Fut, R> IntoAsyncHostFunc<T, ($($kind,)*), R> for F
        where
            F: Fn($(<$kind as HostArg>::Owned),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: HostResult + 'static,
        {
            fn signature(&self) -> (Vec<ValType>, Vec<ValType>) {
                let params: &[&[ValType]] = &[$(<$kind as HostArg>::PARAMS),*];
                (params.concat(), R::results().to_vec())
            }

            fn fallible(&self) -> bool {
                R::FALLIBLE
            }

            fn into_call(self) -> Box<AsyncCall<T>> {
                Box::new(move |_memory: &[u8], _data: &mut T, params: &[ValRaw]| {
                    let mut _rest = params;
                    let mut _index = 0_usize;
                    $(
                        _index += 1;
                        let $arg = <$kind as HostArg>::read(_memory, &mut _rest)
                            .map_err(|problem| format!("argument {_index}: {problem}"))?;
                        let $arg = <$kind as HostArg>::to_owned($arg);
                    )*
                    let future = self($($arg),*);
                    Ok(Box::pin(async move { future.await.into_outcome() }) as Later)
                })
            }
        }

        impl<T, F, Fut, R> IntoAsyncHostFunc<T, (StoreData, $($kind,)*), R> for F
        where
            F: Fn(&mut T, $(<$kind as HostArg>::Owned),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: HostResult + 'static,
        {
            fn signature(&self) -> (Vec<ValType>, Vec<ValType>) {
                let params: &[&[ValType]] = &[$(<$kind as HostArg>::PARAMS),*];
                (params.concat(), R::results().to_vec())
            }

            fn fallible(&self) -> bool {
                R::FALLIBLE
            }

            fn into_call(self) -> Box<AsyncCall<T>> {
                Box::new(move |_memory: &[u8], data: &mut T, params: &[ValRaw]| {
                    let mut _rest = params;
                    let mut _index = 0_usize;
                    $(
                        _index += 1;
                        let $arg = <$kind as HostArg>::read(_memory, &mut _rest)
                            .map_err(|problem| format!("argument {_index}: {problem}"))?;
                        let $arg = <$kind as HostArg>::to_owned($arg);
                    )*
                    let future = self(data, $($arg),*);
                    Ok(Box::pin(async move { future.await.into_outcome() }) as Later)
                })
            }
        }
    };
}

/// Both kinds of closure of one argument shape.
macro_rules! shape {
    ($($arg:ident: $kind:ident)*) => {
        into_host_func!($($arg: $kind)*);
        #[cfg(feature = "async")]
        into_async_host_func!($($arg: $kind)*);
    };
}

macro_rules! for_each_shape {
    () => {
        shape!();
        for_each_shape!(@1 Bytes Str u32 i32 u64 i64);
    };
    (@1 $($a:ident)*) => {
        $(shape!(a: $a);)*
        $(for_each_shape!(@2 $a; Bytes Str u32 i32 u64 i64);)*
    };
    (@2 $a:ident; $($b:ident)*) => {
        $(shape!(a: $a b: $b);)*
        $(for_each_shape!(@3 $a $b; Bytes Str u32 i32 u64 i64);)*
    };
    (@3 $a:ident $b:ident; $($c:ident)*) => {
        $(shape!(a: $a b: $b c: $c);)*
    };
}

for_each_shape!();
