//! An instance called the way a check asks: through guestmem-host's blocking calls, or through
//! its `_async` calls driven to completion here, so that every check written against
//! [`Guest`]'s methods runs unchanged on both paths.

use std::ops::{Deref, DerefMut};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::thread;

use guestmem_host::Error as HostError;
use wasmtime::{Linker, Module, Store};

use crate::guest::HostState;

/// Which of guestmem-host's calls an instance gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Calls {
    /// `call_bytes` and the other blocking calls.
    #[default]
    Blocking,
    /// `call_bytes_async` and the other `_async` calls, on wasmtime's fibers.
    Async,
}

/// An instance of a guest, in a store holding a [`HostState`], called as its [`Calls`] say. It
/// is a `guestmem_host::Guest` (through `Deref`) whose calls into the guest go the chosen way.
pub struct Guest {
    inner: guestmem_host::Guest<HostState>,
    calls: Calls,
}

impl Deref for Guest {
    type Target = guestmem_host::Guest<HostState>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for Guest {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// The blocking method and its `_async` twin, chosen by the instance's [`Calls`].
macro_rules! either {
    ($($name:ident / $name_async:ident ($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`, blocking or async.")]
        ///
        /// # Errors
        ///
        #[doc = concat!("What `guestmem_host::Guest::", stringify!($name), "` returns.")]
        pub fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, HostError> {
            match self.calls {
                Calls::Blocking => self.inner.$name($($arg),*),
                Calls::Async => block_on(self.inner.$name_async($($arg),*)),
            }
        }
    )*};
}

impl Guest {
    /// Instantiates `module` as [`guestmem_host::Guest::instantiate`] does, or as
    /// `instantiate_async` does for [`Calls::Async`].
    ///
    /// # Errors
    ///
    /// What those return.
    pub fn instantiate(
        calls: Calls,
        store: Store<HostState>,
        linker: &Linker<HostState>,
        module: &Module,
    ) -> Result<Self, HostError> {
        let inner = match calls {
            Calls::Blocking => guestmem_host::Guest::instantiate(store, linker, module)?,
            Calls::Async => block_on(guestmem_host::Guest::instantiate_async(
                store, linker, module,
            ))?,
        };
        Ok(Self { inner, calls })
    }

    /// How it is called.
    #[must_use]
    pub fn calls(&self) -> Calls {
        self.calls
    }

    either! {
        alloc / alloc_async(len: u32) -> u32;
        dealloc / dealloc_async(ptr: u32, len: u32) -> ();
        free / free_async(ptr: u32) -> ();
        realloc / realloc_async(ptr: u32, new_len: u32) -> u32;
        abi_version / abi_version_async() -> u32;
        live_blocks / live_blocks_async() -> Option<u32>;
        heap_bytes / heap_bytes_async() -> Option<u32>;
        release_input_block / release_input_block_async() -> ();
        last_error / last_error_async() -> Option<String>;
        put / put_async(bytes: &[u8]) -> u32;
        take_result / take_result_async(function: &str, ptr: u32) -> Vec<u8>;
        call_raw / call_raw_async(function: &str, args: &[u32]) -> u32;
        call_with_inputs / call_with_inputs_async(function: &str, inputs: &[&[u8]]) -> u32;
        call_bytes / call_bytes_async(function: &str, inputs: &[&[u8]]) -> Vec<u8>;
        call_string / call_string_async(function: &str, inputs: &[&[u8]]) -> String;
        call_u32 / call_u32_async(function: &str, inputs: &[&[u8]]) -> u32;
    }
}

/// Runs `future` to completion on this thread. The harness's host functions never wait on
/// anything but the guest, so the future is ready at its first poll; if it ever is not, it is
/// polled again after a yield. (A waker that unparks this thread would need its `Thread` handle,
/// whose lazily made allocation Valgrind reports as possibly lost.)
fn block_on<F: Future>(future: F) -> F::Output {
    let mut context = Context::from_waker(Waker::noop());
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        thread::yield_now();
    }
}
