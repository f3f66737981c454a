//! The guest author's side: how a host's arguments become Rust values ([`Input`]) and how a
//! function's return value becomes what the host receives ([`Output`]). The [`export!`](crate::export)
//! macro joins the two, so a guest author writes no `unsafe`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Display;
use core::ptr;

use crate::result::{self, ResultBlock};
use crate::{error, memory};

/// Why a host's argument could not become the Rust value a function takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// A null pointer with a non-zero length.
    Null,
    /// The bytes run past the end of linear memory.
    OutOfBounds,
    /// The bytes are not UTF-8; the first `valid_up_to` bytes are.
    Utf8 {
        /// Length of the longest valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// An owned argument that is not a block the host gave up: the bytes must follow 4 bytes of
    /// room at the start of a live block of exactly 4 + `len` bytes.
    NotOwned,
    /// The bytes are not a value of the type in the typed-value format.
    Decode {
        /// The format: `JSON` or `postcard`.
        format: &'static str,
        /// The decoder's message.
        message: String,
    },
}

impl InputError {
    /// Records this error for `last_error`, naming the `argument`.
    #[doc(hidden)]
    pub fn record(self, argument: &str) {
        error::record(|message| {
            message.push("argument `").push(argument).push("`: ");
            match self {
                Self::Null => message.push("null pointer with a non-zero length"),
                Self::NotOwned => {
                    message.push("not an owned block (4 bytes of room, then the bytes, in a block the host gives up)")
                }
                Self::OutOfBounds => message.push("runs past the end of linear memory"),
                Self::Utf8 { .. } if cfg!(feature = "compact") => message.push("not valid UTF-8"),
                Self::Utf8 { valid_up_to } => message
                    .push("not valid UTF-8 (invalid byte at offset ")
                    .push_dec(valid_up_to)
                    .push(")"),
                Self::Decode {
                    format,
                    message: text,
                } => message
                    .push("not valid ")
                    .push(format)
                    .push(": ")
                    .push(&text),
            };
        });
    }
}

/// A value a guest function can take from the host as a `(ptr, len)` pair of ABI arguments.
///
/// The value borrows the host's block: the guest never frees its inputs (docs/ABI.md,
/// "Ownership").
pub trait Input<'a>: Sized {
    /// Builds the value from the host's pointer and length.
    ///
    /// # Errors
    ///
    /// An [`InputError`] when the pointer and length do not make a valid value.
    ///
    /// # Safety
    ///
    /// - `len` bytes from `ptr` are initialised and stay unchanged and live for `'a`, unless
    ///   `len` is 0: on wasm32, a range inside a block the host allocated and does not free or
    ///   write to during the call (docs/ABI.md, "Ownership"). Ranges outside linear memory are
    ///   caught; a range over memory the guest itself uses (a freed block, its stack) is not.
    /// - For [`Owned`](crate::Owned), natively: `ptr - 4` is the start of a block from `alloc`
    ///   of `len + 4` bytes, which the caller gives up with the call (on wasm32 any value is
    ///   checked).
    unsafe fn from_abi(ptr: *const u8, len: usize) -> Result<Self, InputError>;
}

impl<'a> Input<'a> for &'a [u8] {
    #[cfg_attr(not(feature = "compact"), inline(always))]
    unsafe fn from_abi(ptr: *const u8, len: usize) -> Result<Self, InputError> {
        if len == 0 {
            return Ok(&[]);
        }
        if ptr.is_null() {
            return Err(InputError::Null);
        }
        // A slice may not be longer than isize::MAX (2 GiB - 1 on wasm32), even inside memory.
        if len > isize::MAX as usize || !memory::contains(ptr.addr(), len) {
            return Err(InputError::OutOfBounds);
        }
        // SAFETY: non-null, inside memory, and initialised and live for 'a (the caller's
        // promise); u8 has alignment 1.
        Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
    }
}

impl<'a> Input<'a> for &'a str {
    unsafe fn from_abi(ptr: *const u8, len: usize) -> Result<Self, InputError> {
        // SAFETY: the caller's promise, passed on.
        let bytes: &[u8] = unsafe { Input::from_abi(ptr, len) }?;
        core::str::from_utf8(bytes).map_err(|error| InputError::Utf8 {
            valid_up_to: error.valid_up_to(),
        })
    }
}

/// A value a guest function can return to the host.
///
/// Bytes and strings become a result block (a pointer, null on failure); integers are returned as
/// they are; `Result<T, E>` records `E`'s `Display` text for `last_error` and returns `T`'s
/// failure value (null, or 0 for integers).
pub trait Output {
    /// What the export returns.
    type Abi;
    /// Converts a successful value.
    fn into_abi(self) -> Self::Abi;
    /// What the export returns on failure, once the error is recorded.
    fn failure() -> Self::Abi;
}

macro_rules! output_as_is {
    ($($ty:ty),*) => {$(
        impl Output for $ty {
            type Abi = $ty;
            fn into_abi(self) -> $ty {
                self
            }
            fn failure() -> $ty {
                0 as $ty
            }
        }
    )*};
}

output_as_is!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

impl Output for () {
    type Abi = ();
    fn into_abi(self) {}
    fn failure() {}
}

impl Output for ResultBlock {
    type Abi = *mut u8;
    fn into_abi(self) -> *mut u8 {
        self.into_raw()
    }
    fn failure() -> *mut u8 {
        ptr::null_mut()
    }
}

/// Copies `bytes` into a result block, or records that no memory could be had.
#[cfg_attr(not(feature = "compact"), inline(always))]
fn hand_over(bytes: &[u8]) -> *mut u8 {
    match result::copy_out(bytes) {
        Some(start) => start.as_ptr(),
        None => {
            error::record(|message| {
                message
                    .push("guestmem: out of memory for a result of ")
                    .push_dec(bytes.len())
                    .push(" bytes");
            });
            ptr::null_mut()
        }
    }
}

macro_rules! output_as_bytes {
    ($($ty:ty),*) => {$(
        impl Output for $ty {
            type Abi = *mut u8;
            fn into_abi(self) -> *mut u8 {
                hand_over(self.as_ref())
            }
            fn failure() -> *mut u8 {
                ptr::null_mut()
            }
        }
    )*};
}

output_as_bytes!(&[u8], &str, Vec<u8>, String);

impl<T: Output, E: Display> Output for Result<T, E> {
    type Abi = T::Abi;
    fn into_abi(self) -> T::Abi {
        match self {
            Ok(value) => value.into_abi(),
            Err(error) => {
                error::record_formatted(format_args!("{error}"));
                T::failure()
            }
        }
    }
    fn failure() -> T::Abi {
        T::failure()
    }
}
