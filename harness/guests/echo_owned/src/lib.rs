//! A sketch of what owned inputs would buy, measured by the round-trip benchmark: not part of
//! ABI v1, where the guest only borrows its inputs.
//!
//! `echo_owned(block, len) -> result`: the host allocates a block of `len + 4` bytes, writes its
//! input at `block + 4`, and gives the block up with the call. The guest writes `len` into the
//! first four bytes, which makes the block a result block (docs/ABI.md, "Results"), and returns
//! it: no copy, one block instead of two. The host reads the result and frees it once. The
//! Component Model does the same with a `list<u8>`: the callee owns what it is given.
//!
//! A real version would live in guestmem, which would check that `block` is a live block of
//! `len + 4` bytes (its header holds the length) before taking it; this sketch trusts the host.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p echo_owned`
#![cfg_attr(target_arch = "wasm32", no_std)]

// The ABI exports (`alloc`, `free`, ...) come with guestmem.
use guestmem as _;

/// Turns the block the host handed over into the result, in place.
///
/// # Safety
///
/// `block` is a live block of `len + 4` bytes from `alloc`, which the host gives up with this
/// call.
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub unsafe extern "C" fn echo_owned(block: *mut u8, len: usize) -> *mut u8 {
    let Ok(prefix) = u32::try_from(len) else {
        return core::ptr::null_mut();
    };
    // SAFETY: the block has at least four bytes and is aligned to 8 (the caller's promise).
    unsafe { block.cast::<[u8; 4]>().write(prefix.to_le_bytes()) };
    block
}
