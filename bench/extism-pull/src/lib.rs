//! guestmem's `bench/guests/pull` as an Extism plugin: each export takes a length `n` (a `u32`,
//! 4 little-endian bytes, as guestmem's `pull` takes it), asks the host function
//! `extism:host/user.payload(n)` for `n` bytes, and returns [`digest`] of them (4 little-endian
//! bytes), which the host checks.
//!
//! - `pull` takes the answer as extism-pdk's `#[host_fn]` hands it over: a `Vec<u8>` copied out
//!   of Extism's memory (the only result form the macro offers; guestmem's `pull_vec`);
//! - `pull_in_place` calls the same import and reads the answer where the host put it (its
//!   length and its first and last bytes through the kernel's `length` and `load_u8`), without
//!   a copy: guestmem's `pull`, which reads the host's `ResultBlock` in place.
//!
//! `cargo build --release --target wasm32-unknown-unknown --manifest-path bench/extism-pull/Cargo.toml`

use extism_pdk::{FnResult, Memory, host_fn, plugin_fn};

#[host_fn]
extern "ExtismHost" {
    /// `n` bytes from the host.
    fn payload(n: u32) -> Vec<u8>;
}

/// What the exports return for the host's `bytes`: their length plus their first and last
/// bytes (the same as guestmem's `pull::digest`).
fn digest(len: usize, first: Option<u8>, last: Option<u8>) -> u32 {
    [first, last]
        .into_iter()
        .flatten()
        .fold(len as u32, |sum, byte| sum.wrapping_add(u32::from(byte)))
}

/// The digest of `n` bytes from the host, copied into a `Vec<u8>` by `#[host_fn]`.
#[plugin_fn]
pub fn pull(n: u32) -> FnResult<u32> {
    // SAFETY: the host defines `payload` with this signature (one memory offset in, one out).
    let bytes = unsafe { payload(n)? };
    Ok(digest(
        bytes.len(),
        bytes.first().copied(),
        bytes.last().copied(),
    ))
}

/// The digest of `n` bytes from the host, read where the host put them.
#[plugin_fn]
pub fn pull_in_place(n: u32) -> FnResult<u32> {
    // The argument as `#[host_fn]` passes it: a block of Extism's memory holding `n`, freed after.
    let argument = Memory::new(&n)?;
    // SAFETY: the same import `#[host_fn]` declared above, called as its wrapper calls it.
    let offset = unsafe { payload_impl(argument.offset()) };
    argument.free();
    let answer = Memory::find(offset).ok_or_else(|| extism_pdk::Error::msg("no answer"))?;
    let len = answer.len();
    let byte = |at: usize| {
        // SAFETY: `at` is inside the answer's block, which the kernel knows.
        unsafe { extism_pdk::extism::load_u8(offset + at as u64) }
    };
    let (first, last) = if len == 0 {
        (None, None)
    } else {
        (Some(byte(0)), Some(byte(len - 1)))
    };
    answer.free();
    Ok(digest(len, first, last))
}
