//! How the async contenders run: the executor that drives `guestmem-host`'s `_async` calls
//! ([`Executor`]), and their guests, instantiated with `Guest::instantiate_async` in a store of
//! their own ([`AsyncGuest`]), as a host with async host functions must.
//!
//! Two executors, so that an async call's cost can be split between the executor and wasmtime's
//! fibers: tokio's current-thread runtime, as a server awaits a call; and a poll loop that parks
//! the thread while the future waits, the least an executor does. Each call is driven to its end
//! with `block_on`, since the benchmark's operations are calls, not tasks.

use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use guestmem_host::{GuestmemCtx, GuestmemView};
use wasmtime::{Linker, Module, Store};

use crate::BenchError;

/// What drives an async call to its end.
pub enum Executor {
    /// tokio's current-thread runtime: `Runtime::block_on`.
    Tokio(tokio::runtime::Runtime),
    /// A poll loop on this thread, parked while the future waits; the waker unparks it.
    Poll(Waker),
}

impl Executor {
    /// tokio's current-thread runtime.
    ///
    /// # Errors
    ///
    /// [`BenchError::Runtime`] if the runtime cannot be built.
    pub fn tokio() -> Result<Self, BenchError> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .map(Self::Tokio)
            .map_err(BenchError::Runtime)
    }

    /// The poll loop, for futures driven on the current thread.
    #[must_use]
    pub fn poll_loop() -> Self {
        Self::Poll(Waker::from(Arc::new(Unpark(std::thread::current()))))
    }

    /// The executor's name in the report and on the command line of `profile`.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Tokio(_) => "tokio",
            Self::Poll(_) => "poll loop",
        }
    }

    /// `future`'s output, waiting for it on this thread.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            Self::Tokio(runtime) => runtime.block_on(future),
            Self::Poll(waker) => {
                let mut future = pin!(future);
                let mut context = Context::from_waker(waker);
                loop {
                    if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                        return output;
                    }
                    std::thread::park();
                }
            }
        }
    }
}

/// Wakes the poll loop's thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The store's data of an async guest: only what `guestmem-host`'s host functions keep (the
/// harness's own store data cannot be made outside it, and its guests are called through its own
/// wrapper, while these call `guestmem-host`'s `_async` calls directly, as users do).
#[derive(Default)]
pub struct AsyncState {
    guestmem: GuestmemCtx,
}

impl GuestmemView for AsyncState {
    fn guestmem(&mut self) -> &mut GuestmemCtx {
        &mut self.guestmem
    }
}

/// An instance of a guest called with the `_async` calls.
pub type AsyncGuest = guestmem_host::Guest<AsyncState>;

/// A new instance of `module` in a store of its own, with the imports `link` adds to its linker,
/// instantiated with `Guest::instantiate_async` on `executor`.
///
/// # Errors
///
/// What `link` or `Guest::instantiate_async` returns.
pub fn instantiate(
    executor: &Executor,
    module: &Module,
    link: impl FnOnce(&mut Linker<AsyncState>) -> Result<(), guestmem_host::Error>,
) -> Result<AsyncGuest, BenchError> {
    let mut linker = Linker::new(module.engine());
    link(&mut linker)?;
    let store = Store::new(module.engine(), AsyncState::default());
    Ok(executor.block_on(AsyncGuest::instantiate_async(store, &linker, module))?)
}
