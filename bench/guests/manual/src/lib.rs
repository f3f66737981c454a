//! guestmem's examples written the way the articles in `/work/shared/articles` write guests: std
//! and Rust's default allocator, `alloc` through `Vec::with_capacity` and `mem::forget`,
//! `dealloc` through `Vec::from_raw_parts`, no header and no checks. The benchmarks compare it
//! with guestmem: its size per example, and `echo`'s round trip, whose result length the host
//! knows (the input's).
//!
//! Where the host cannot know the result's length (`upper`, `replace`), the result is a u32
//! length followed by the bytes, so that the guest does the same job as guestmem's example.
//! Without a feature the module is `alloc` and `dealloc` alone: the counterpart of `minimal`.
//!
//! Unlike the articles' snippets, inputs are borrowed, never rebuilt into a `Vec` and dropped:
//! that is the double free the articles carry.

/// Returns a block of `len` bytes for the host, as the articles do.
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

/// Frees a block of `len` bytes from [`alloc`] or a guest function.
///
/// # Safety
///
/// `ptr` came from [`alloc`] (or a function below) with this `len`, and is freed once.
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
    // SAFETY: the caller's promise: a `Vec<u8>`'s buffer of capacity `len`.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len) });
}

/// Hands `bytes` to the host: its buffer, shrunk to its length so that `dealloc(ptr, len)` is
/// right, and forgotten.
#[cfg(any(feature = "echo", feature = "upper", feature = "replace"))]
fn hand_over(bytes: Vec<u8>) -> *mut u8 {
    let mut bytes = bytes.into_boxed_slice();
    let ptr = bytes.as_mut_ptr();
    std::mem::forget(bytes);
    ptr
}

/// A u32 length, then the bytes: for results whose length the host cannot know.
#[cfg(any(feature = "upper", feature = "replace"))]
fn prefixed(bytes: &[u8]) -> *mut u8 {
    let mut out = Vec::with_capacity(bytes.len() + 4);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
    hand_over(out)
}

/// # Safety
///
/// `len` initialised bytes at `ptr` (any pointer when `len` is 0).
#[cfg(any(
    feature = "echo",
    feature = "upper",
    feature = "replace",
    feature = "array_sum"
))]
unsafe fn input<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the caller's promise.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// A copy of the input, `len` bytes, which the host frees with `dealloc(result, len)`.
///
/// # Safety
///
/// `len` initialised bytes at `ptr`.
#[cfg(feature = "echo")]
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub unsafe extern "C" fn echo(ptr: *const u8, len: usize) -> *mut u8 {
    // SAFETY: the caller's promise.
    hand_over(unsafe { input(ptr, len) }.to_vec())
}

/// The sum of the bytes, saturating.
///
/// # Safety
///
/// `len` initialised bytes at `ptr`.
#[cfg(feature = "array_sum")]
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub unsafe extern "C" fn array_sum(ptr: *const u8, len: usize) -> u32 {
    // SAFETY: the caller's promise.
    let bytes = unsafe { input(ptr, len) };
    bytes
        .iter()
        .try_fold(0u32, |sum, &b| sum.checked_add(u32::from(b)))
        .unwrap_or(u32::MAX)
}

/// Unicode uppercase, as a length-prefixed result; invalid UTF-8 returns null.
///
/// # Safety
///
/// `len` initialised bytes at `ptr`.
#[cfg(feature = "upper")]
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub unsafe extern "C" fn upper(ptr: *const u8, len: usize) -> *mut u8 {
    // SAFETY: the caller's promise.
    match std::str::from_utf8(unsafe { input(ptr, len) }) {
        Ok(text) => prefixed(text.to_uppercase().as_bytes()),
        Err(_) => std::ptr::null_mut(),
    }
}

/// Every occurrence of `from` replaced by `to`, as a length-prefixed result; invalid UTF-8 or an
/// empty `from` returns null.
///
/// # Safety
///
/// Each `(ptr, len)` pair is `len` initialised bytes.
#[cfg(feature = "replace")]
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub unsafe extern "C" fn replace(
    ptr: *const u8,
    len: usize,
    from_ptr: *const u8,
    from_len: usize,
    to_ptr: *const u8,
    to_len: usize,
) -> *mut u8 {
    // SAFETY: the caller's promise, for each pair.
    let (text, from, to) = unsafe {
        (
            input(ptr, len),
            input(from_ptr, from_len),
            input(to_ptr, to_len),
        )
    };
    match (
        std::str::from_utf8(text),
        std::str::from_utf8(from),
        std::str::from_utf8(to),
    ) {
        (Ok(text), Ok(from), Ok(to)) if !from.is_empty() => {
            prefixed(text.replace(from, to).as_bytes())
        }
        _ => std::ptr::null_mut(),
    }
}
