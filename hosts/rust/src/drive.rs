//! How the call path runs a wasm function: [`Blocking`] for the sync API, [`Fiber`] for the
//! `_async` API (wasmtime's `call_async`, on a fiber that can suspend while an async host
//! function waits). The call path is written once, as async functions generic over the driver;
//! the sync API polls it once ([`now`]): with [`Blocking`] nothing in it ever waits.

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use wasmtime::{Caller, Func, Store, TypedFunc, Val, WasmParams, WasmResults};

/// Runs wasm functions for the call path.
pub(crate) trait Drive<T> {
    /// `func(params)` in `store`.
    fn call<P, R>(
        func: &TypedFunc<P, R>,
        store: &mut Store<T>,
        params: P,
    ) -> impl Future<Output = wasmtime::Result<R>> + Send
    where
        P: WasmParams + Send + Sync,
        R: WasmResults + Send + Sync;

    /// `func(params)` in `store`, untyped.
    fn call_dyn(
        func: &Func,
        store: &mut Store<T>,
        params: &[Val],
        results: &mut [Val],
    ) -> impl Future<Output = wasmtime::Result<()>> + Send;

    /// The calling guest's `alloc(len)`, from inside a host function.
    fn alloc_in(
        alloc: &TypedFunc<u32, u32>,
        caller: &mut Caller<'_, T>,
        len: u32,
    ) -> impl Future<Output = wasmtime::Result<u32>> + Send;
}

/// Wasmtime's blocking calls: the sync API.
pub(crate) struct Blocking;

impl<T> Drive<T> for Blocking {
    #[inline(always)]
    fn call<P, R>(
        func: &TypedFunc<P, R>,
        store: &mut Store<T>,
        params: P,
    ) -> impl Future<Output = wasmtime::Result<R>> + Send
    where
        P: WasmParams + Send + Sync,
        R: WasmResults + Send + Sync,
    {
        std::future::ready(func.call(store, params))
    }

    #[inline(always)]
    fn call_dyn(
        func: &Func,
        store: &mut Store<T>,
        params: &[Val],
        results: &mut [Val],
    ) -> impl Future<Output = wasmtime::Result<()>> + Send {
        std::future::ready(func.call(store, params, results))
    }

    #[inline(always)]
    fn alloc_in(
        alloc: &TypedFunc<u32, u32>,
        caller: &mut Caller<'_, T>,
        len: u32,
    ) -> impl Future<Output = wasmtime::Result<u32>> + Send {
        std::future::ready(alloc.call(caller, len))
    }
}

/// Wasmtime's `call_async`: the `_async` API.
#[cfg(feature = "async")]
pub(crate) struct Fiber;

#[cfg(feature = "async")]
impl<T: Send> Drive<T> for Fiber {
    fn call<P, R>(
        func: &TypedFunc<P, R>,
        store: &mut Store<T>,
        params: P,
    ) -> impl Future<Output = wasmtime::Result<R>> + Send
    where
        P: WasmParams + Send + Sync,
        R: WasmResults + Send + Sync,
    {
        func.call_async(store, params)
    }

    fn call_dyn(
        func: &Func,
        store: &mut Store<T>,
        params: &[Val],
        results: &mut [Val],
    ) -> impl Future<Output = wasmtime::Result<()>> + Send {
        func.call_async(store, params, results)
    }

    fn alloc_in(
        alloc: &TypedFunc<u32, u32>,
        caller: &mut Caller<'_, T>,
        len: u32,
    ) -> impl Future<Output = wasmtime::Result<u32>> + Send {
        alloc.call_async(caller, len)
    }
}

/// The output of `future`, polled once: a call path driven by [`Blocking`] is ready at once.
#[inline(always)]
pub(crate) fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        // Only `Blocking` reaches here, and its futures are `ready`.
        Poll::Pending => unreachable!("a blocking call path waited"),
    }
}
