//! A host function's result, written into the guest: integers as they are, bytes as a result
//! block from the guest's own `alloc`, failures as `0` and a message for `guestmem.last_error`.

use std::fmt::Display;

use wasmtime::{Caller, ValRaw, ValType};

use super::HostTrap;
use super::state::{CallerExports, GuestmemView};
use crate::drive::Drive;
use crate::result_block::PREFIX_LEN;

/// What a host function returned, before it is written into the guest.
#[doc(hidden)]
pub enum Outcome {
    /// No result.
    Nothing,
    /// A wasm value, as it is.
    Value(ValRaw),
    /// Bytes for a result block; `fallible` says whether `alloc` failing may be reported as a
    /// failure (`0` and a message) or must trap.
    Bytes { bytes: Vec<u8>, fallible: bool },
    /// A failure: `0` of the result's type, and the message.
    Failed { zero: ValRaw, message: String },
}

/// A result a host function can return: `()`, `u32`, `i32`, `u64`, `i64`, `Vec<u8>`, `String`,
/// or a `Result` of one of these whose error is `Display`.
pub trait HostResult {
    /// Whether it is a `Result`: the guest's import must be declared fallible.
    const FALLIBLE: bool = false;
    /// The wasm result types.
    #[doc(hidden)]
    fn results() -> &'static [ValType];
    /// The outcome to deliver.
    #[doc(hidden)]
    fn into_outcome(self) -> Outcome;
    /// The outcome of a fallible host function that succeeded with this value.
    #[doc(hidden)]
    fn into_success(self) -> Outcome
    where
        Self: Sized,
    {
        self.into_outcome()
    }
}

impl HostResult for () {
    fn results() -> &'static [ValType] {
        &[]
    }
    fn into_outcome(self) -> Outcome {
        Outcome::Nothing
    }
    /// A fallible host function with no result returns `1` on success.
    fn into_success(self) -> Outcome {
        Outcome::Value(ValRaw::i32(1))
    }
}

macro_rules! int_result {
    ($($ty:ty: $val:ident $raw:ident;)*) => {$(
        impl HostResult for $ty {
            fn results() -> &'static [ValType] {
                &[ValType::$val]
            }
            fn into_outcome(self) -> Outcome {
                Outcome::Value(ValRaw::$raw(self))
            }
        }
    )*};
}

int_result! {
    u32: I32 u32;
    i32: I32 i32;
    u64: I64 u64;
    i64: I64 i64;
}

impl HostResult for Vec<u8> {
    fn results() -> &'static [ValType] {
        &[ValType::I32]
    }
    fn into_outcome(self) -> Outcome {
        Outcome::Bytes {
            bytes: self,
            fallible: false,
        }
    }
    fn into_success(self) -> Outcome {
        Outcome::Bytes {
            bytes: self,
            fallible: true,
        }
    }
}

impl HostResult for String {
    fn results() -> &'static [ValType] {
        Vec::<u8>::results()
    }
    fn into_outcome(self) -> Outcome {
        self.into_bytes().into_outcome()
    }
    fn into_success(self) -> Outcome {
        self.into_bytes().into_success()
    }
}

impl<R: HostResult, E: Display> HostResult for Result<R, E> {
    const FALLIBLE: bool = true;
    fn results() -> &'static [ValType] {
        match R::results() {
            // A fallible function with no result returns 1 on success, 0 on failure.
            [] => &[ValType::I32],
            results => results,
        }
    }
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(value) => value.into_success(),
            Err(error) => Outcome::Failed {
                zero: match Self::results() {
                    [ValType::I64] => ValRaw::i64(0),
                    _ => ValRaw::i32(0),
                },
                message: error.to_string(),
            },
        }
    }
}

/// Writes `outcome` into the calling guest and returns the wasm result.
pub(super) async fn deliver<D: Drive<T>, T: GuestmemView>(
    caller: &mut Caller<'_, T>,
    exports: &CallerExports,
    function: &str,
    outcome: Outcome,
) -> wasmtime::Result<Option<ValRaw>> {
    match outcome {
        Outcome::Nothing => Ok(None),
        Outcome::Value(value) => Ok(Some(value)),
        Outcome::Failed { zero, message } => {
            caller.data_mut().guestmem().set_pending(message);
            Ok(Some(zero))
        }
        Outcome::Bytes { bytes, fallible } => match write_block::<D, T>(caller, exports, &bytes)
            .await?
        {
            Some(ptr) => Ok(Some(ValRaw::u32(ptr))),
            None => {
                let message = format!("the guest's alloc({}) returned 0", bytes.len() + PREFIX_LEN);
                if !fallible {
                    return Err(HostTrap::new(function, message).into());
                }
                caller.data_mut().guestmem().set_pending(message);
                Ok(Some(ValRaw::i32(0)))
            }
        },
    }
}

/// Allocates a result block for `bytes` with the guest's `alloc` and fills it in the guest's
/// memory; `None` when `alloc` returns 0.
///
/// # Errors
///
/// A [`HostTrap`] when the result is too long for a u32 length, the guest's `alloc` traps, or it
/// returns a block outside memory.
pub(super) async fn write_block<D: Drive<T>, T>(
    caller: &mut Caller<'_, T>,
    exports: &CallerExports,
    bytes: &[u8],
) -> wasmtime::Result<Option<u32>> {
    let function = "guestmem.alloc";
    let too_long = || HostTrap::new(function, format!("a result of {} bytes", bytes.len()));
    let len = u32::try_from(bytes.len()).map_err(|_| too_long())?;
    let total = len.checked_add(PREFIX_LEN as u32).ok_or_else(too_long)?;
    // Memory may grow in this call: the view is taken after it (a `Memory` is a handle, not a
    // view, so it stays valid).
    let ptr = D::alloc_in(&exports.alloc, caller, total).await?;
    if ptr == 0 {
        return Ok(None);
    }
    let data = exports.memory.data_mut(&mut *caller);
    let block = usize::try_from(ptr)
        .ok()
        .and_then(|start| data.get_mut(start..start.checked_add(total as usize)?))
        .ok_or_else(|| {
            HostTrap::new(
                function,
                format!("alloc({total}) returned {ptr:#x}, outside linear memory"),
            )
        })?;
    let (prefix, payload) = block.split_at_mut(PREFIX_LEN);
    prefix.copy_from_slice(&len.to_le_bytes());
    payload.copy_from_slice(bytes);
    Ok(Some(ptr))
}
