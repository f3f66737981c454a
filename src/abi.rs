//! The host ABI, version 1: the exports every guest gets. The contract is docs/ABI.md.
//!
//! On wasm32 these are the module's exports (`alloc`, `dealloc`, `free`, `realloc`, `last_error`,
//! `abi_version`). Natively they are ordinary Rust functions with the same behaviour, exported
//! under no symbol name (an unmangled `free` would replace the C library's), so native hosts and
//! memory checkers can drive them directly; a trap is a panic carrying the recorded reason, which
//! is why they use the `C-unwind` ABI (on wasm32, the same as `C`).

use core::ptr::{self, NonNull};

use crate::block::{Block, misuse};
use crate::{ABI_VERSION, error, result};

/// Returns a new block of `len` bytes, aligned to 8, or null when none can be had.
///
/// `alloc(0)` returns a real block of length 0.
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub extern "C-unwind" fn alloc(len: usize) -> *mut u8 {
    // A host's first call is usually `alloc`: a std guest's hook is then in place also for
    // exports written without `export!`.
    crate::panic::enter();
    Block::allocate(len).map_or(ptr::null_mut(), NonNull::as_ptr)
}

/// Frees the block at `ptr`, whose length must be `len`; null is a no-op.
///
/// # Panics
///
/// Natively, when `ptr` is not a live block or `len` is not its length (a trap on wasm32).
///
/// # Safety
///
/// `ptr` is null or was returned by [`alloc()`], [`realloc`] or a guest function. On wasm32, where
/// all of linear memory stays readable, any other value is caught and traps. Natively the eight
/// bytes in front of `ptr` must be readable, initialised memory: a pointer into a live block whose
/// bytes in front of it were written is caught, but a freed one is undefined behaviour (the check
/// would read freed memory), and so is one into bytes never written.
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub unsafe extern "C-unwind" fn dealloc(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` is non-null; the rest is the caller's promise.
    let block = unsafe { Block::find("dealloc", ptr) };
    if block.len() != len {
        misuse(
            "dealloc",
            ptr.addr(),
            "guestmem: wrong length",
            Some((len, block.len())),
        );
    }
    // SAFETY: found just above; the host gives up `ptr` with this call.
    unsafe { block.release() }
}

/// Frees the block at `ptr` without being told its length; null is a no-op.
///
/// # Panics
///
/// Natively, when `ptr` is not a live block (a trap on wasm32).
///
/// # Safety
///
/// As for [`dealloc`].
// wasi-libc defines `free`: on WASI the export is `guestmem_free` (docs/ABI.md, "Exports").
#[cfg_attr(
    all(target_arch = "wasm32", not(target_os = "wasi")),
    unsafe(no_mangle)
)]
#[cfg_attr(
    all(target_arch = "wasm32", target_os = "wasi"),
    unsafe(export_name = "guestmem_free")
)]
pub unsafe extern "C-unwind" fn free(ptr: *mut u8) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` is non-null; the rest is the caller's promise.
    let block = unsafe { Block::find("free", ptr) };
    // SAFETY: found just above; the host gives up `ptr` with this call.
    unsafe { block.release() }
}

/// Resizes the block at `ptr` to `new_len` bytes, keeping its first `min(old, new)` bytes.
///
/// Null `ptr` acts as [`alloc()`]. On failure it returns null and the old block stays live.
///
/// # Panics
///
/// Natively, when `ptr` is not a live block (a trap on wasm32).
///
/// # Safety
///
/// As for [`dealloc`]; once this returns non-null, the old `ptr` is no longer a block.
// wasi-libc defines `realloc`: on WASI the export is `guestmem_realloc` (docs/ABI.md, "Exports").
#[cfg_attr(
    all(target_arch = "wasm32", not(target_os = "wasi")),
    unsafe(no_mangle)
)]
#[cfg_attr(
    all(target_arch = "wasm32", target_os = "wasi"),
    unsafe(export_name = "guestmem_realloc")
)]
pub unsafe extern "C-unwind" fn realloc(ptr: *mut u8, new_len: usize) -> *mut u8 {
    if ptr.is_null() {
        return alloc(new_len);
    }
    // SAFETY: `ptr` is non-null; the rest is the caller's promise.
    let block = unsafe { Block::find("realloc", ptr) };
    // SAFETY: found just above; on success the host gives up `ptr` for the returned pointer.
    let resized = unsafe { block.resize(new_len) };
    resized.map_or(ptr::null_mut(), NonNull::as_ptr)
}

/// Returns the pending error message as a result block and clears it, or null when none is
/// pending. The host frees the block like any result.
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub extern "C-unwind" fn last_error() -> *mut u8 {
    error::take(result::copy_out)
}

/// Returns the version of this ABI: 1.
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub extern "C-unwind" fn abi_version() -> u32 {
    ABI_VERSION
}
