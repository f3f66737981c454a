//! A native host for [`import!`](crate::import) functions, for tests, Miri and Valgrind: what a
//! wasm host does with a guest's imports, done in the same process.
//!
//! Host functions are registered per thread, so that tests running side by side each have their
//! own. A host function receives the wasm import's arguments as `u64`s (a `(ptr, len)` pair for
//! each `&[u8]` or `&str`, read with [`bytes`]) and returns its wasm result as a `u64`: a result
//! block from [`result`], an integer, or `0` after [`fail`].

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use core::cell::RefCell;
use std::collections::HashMap;

use crate::abi;

type HostFn = Rc<dyn Fn(&[u64]) -> u64>;

/// The functions registered on this thread, and the message of the last one that failed.
#[derive(Default)]
struct Host {
    functions: HashMap<(Box<str>, Box<str>), HostFn>,
    error: Option<String>,
}

std::thread_local! {
    static HOST: RefCell<Host> = RefCell::new(Host::default());
}

/// Registers `function` as the host function `module.name` on this thread, replacing any
/// earlier one.
///
/// # Safety
///
/// Whatever the function answers is what the import's wrapper reads. Where the import returns a
/// block, the answer is `0` or the address of a live block of this heap: one from [`result`], or
/// from [`abi::alloc`] with its bytes written. On wasm32 any address is
/// checked against linear memory; natively there is no such bound, and another address is read
/// as a block header, which is undefined behaviour.
pub unsafe fn register(module: &str, name: &str, function: impl Fn(&[u64]) -> u64 + 'static) {
    HOST.with_borrow_mut(|host| {
        host.functions
            .insert((module.into(), name.into()), Rc::new(function))
    });
}

/// Removes every host function registered on this thread, and any pending message.
pub fn clear() {
    HOST.with_borrow_mut(|host| *host = Host::default());
}

/// Keeps `message` as the failure of the running host function, for `guestmem.last_error`;
/// returns `0`, what a failed host function returns.
pub fn fail(message: &str) -> u64 {
    HOST.with_borrow_mut(|host| host.error = Some(message.into()));
    0
}

/// Allocates a result block holding `bytes` with the guest's `alloc`, as a wasm host does inside
/// a host function, and returns it; `0` after [`fail`] when there is no memory for it.
pub fn result(bytes: &[u8]) -> u64 {
    let Some(len) = bytes
        .len()
        .checked_add(4)
        .filter(|&len| u32::try_from(len).is_ok())
    else {
        return fail("guestmem native host: result too long");
    };
    let ptr = abi::alloc(len);
    if ptr.is_null() {
        return fail("guestmem native host: alloc returned 0");
    }
    // `len` fits in a u32, checked above.
    let prefix = (bytes.len() as u32).to_le_bytes();
    // SAFETY: a new block of `len` = 4 + `bytes.len()` bytes, which `bytes` cannot overlap.
    unsafe {
        ptr.copy_from_nonoverlapping(prefix.as_ptr(), 4);
        ptr.add(4)
            .copy_from_nonoverlapping(bytes.as_ptr(), bytes.len());
    }
    ptr.expose_provenance() as u64
}

/// The bytes of a `(ptr, len)` argument.
///
/// # Safety
///
/// `ptr` and `len` are an argument pair of the running host function, so `len` bytes at `ptr`
/// are live and unchanged for the call, which `'a` must not outlive.
#[must_use]
pub unsafe fn bytes<'a>(ptr: u64, len: u64) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    let (ptr, len) = (ptr as usize, len as usize);
    // SAFETY: the caller's promise: the wrapper passed a live slice's pointer and length.
    unsafe { core::slice::from_raw_parts(core::ptr::with_exposed_provenance(ptr), len) }
}

/// Calls the host function `module.name`, as the wasm import would; panics (natively, a trap)
/// when none is registered. A call that succeeds clears the last failure's message.
#[doc(hidden)]
pub fn call(module: &str, name: &str, args: &[u64]) -> u64 {
    let function = HOST.with_borrow_mut(|host| {
        host.error = None;
        // The lookup key borrows nothing: build it once per call (a native test path only).
        host.functions.get(&(module.into(), name.into())).cloned()
    });
    let Some(function) = function else {
        panic!("guestmem native host: no host function `{module}.{name}` is registered");
    };
    // The registry is not borrowed while the function runs: it may call `fail` or `register`.
    function(args)
}

/// `guestmem.last_error`: the pending message as a result block, cleared, or `0`.
pub(crate) fn take_error() -> usize {
    let Some(message) = HOST.with_borrow_mut(|host| host.error.take()) else {
        return 0;
    };
    let ptr = result(message.as_bytes()) as usize;
    // No memory for the message: a trap (natively, a panic), as a wasm host does, rather than 0,
    // which a fallible integer would read as an answer.
    assert!(
        ptr != 0,
        "guestmem native host: no memory for the message: {message}"
    );
    ptr
}
