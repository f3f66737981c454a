//! Typed values: Rust values in and out as JSON (`json` feature) or postcard (`postcard`
//! feature), for [`export!`](crate::export) and [`import!`](crate::import) alike.
//!
//! As an argument, bytes that do not decode make the export return its failure value with a
//! `last_error` message naming the argument and the decoder's reason; as a result, a value that
//! does not encode is an error. Neither traps.

#![cfg_attr(
    not(any(feature = "json", feature = "postcard")),
    allow(unused_imports, reason = "the formats that use them are features")
)]

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ptr;

use crate::error;
use crate::guest::{Input, InputError, Output};

/// A value passed as JSON text (`json` feature): `serde_json` without std.
#[cfg(feature = "json")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

/// A value passed in postcard's compact binary form (`postcard` feature): smaller and faster to
/// decode than JSON in a no_std guest.
#[cfg(feature = "postcard")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Postcard<T>(pub T);

/// A typed-value format: how a value becomes bytes and back.
#[cfg(any(feature = "json", feature = "postcard"))]
trait Format<T> {
    /// The format's name in messages.
    const NAME: &'static str;
    /// Encodes `value`.
    fn encode(value: &T) -> Result<Vec<u8>, String>;
    /// Decodes `bytes`.
    fn decode(bytes: &[u8]) -> Result<T, String>;
}

#[cfg(feature = "json")]
impl<T: serde::Serialize + serde::de::DeserializeOwned> Format<T> for Json<T> {
    const NAME: &'static str = "JSON";
    fn encode(value: &T) -> Result<Vec<u8>, String> {
        serde_json::to_vec(value).map_err(|error| error.to_string())
    }
    fn decode(bytes: &[u8]) -> Result<T, String> {
        serde_json::from_slice(bytes).map_err(|error| error.to_string())
    }
}

#[cfg(feature = "postcard")]
impl<T: serde::Serialize + serde::de::DeserializeOwned> Format<T> for Postcard<T> {
    const NAME: &'static str = "postcard";
    fn encode(value: &T) -> Result<Vec<u8>, String> {
        postcard::to_allocvec(value).map_err(|error| error.to_string())
    }
    fn decode(bytes: &[u8]) -> Result<T, String> {
        postcard::from_bytes(bytes).map_err(|error| error.to_string())
    }
}

/// A typed value: the wrapper around `T` and its [`Format`].
#[doc(hidden)]
pub trait Typed: Sized {
    /// The value inside.
    type Value;
    /// The format's name in messages.
    const FORMAT: &'static str;
    /// Wraps a value.
    fn wrap(value: Self::Value) -> Self;
    /// Encodes the value inside.
    fn encode(&self) -> Result<Vec<u8>, String>;
    /// Decodes a value.
    fn decode(bytes: &[u8]) -> Result<Self, String>;
}

macro_rules! typed {
    ($feature:literal, $wrapper:ident) => {
        #[cfg(feature = $feature)]
        impl<T: serde::Serialize + serde::de::DeserializeOwned> Typed for $wrapper<T> {
            type Value = T;
            const FORMAT: &'static str = <Self as Format<T>>::NAME;
            fn wrap(value: T) -> Self {
                Self(value)
            }
            fn encode(&self) -> Result<Vec<u8>, String> {
                <Self as Format<T>>::encode(&self.0)
            }
            fn decode(bytes: &[u8]) -> Result<Self, String> {
                <Self as Format<T>>::decode(bytes).map(Self)
            }
        }

        #[cfg(feature = $feature)]
        impl<'a, T: serde::Serialize + serde::de::DeserializeOwned> Input<'a> for $wrapper<T> {
            unsafe fn from_abi(ptr: *const u8, len: usize) -> Result<Self, InputError> {
                // SAFETY: the caller's promise, passed on.
                let bytes: &[u8] = unsafe { Input::from_abi(ptr, len) }?;
                <Self as Typed>::decode(bytes).map_err(|message| InputError::Decode {
                    format: <Self as Typed>::FORMAT,
                    message,
                })
            }
        }

        #[cfg(feature = $feature)]
        impl<T: serde::Serialize + serde::de::DeserializeOwned> Output for $wrapper<T> {
            type Abi = *mut u8;
            fn into_abi(self) -> *mut u8 {
                match self.encode() {
                    Ok(bytes) => bytes.into_abi(),
                    Err(text) => {
                        error::record(|message| {
                            message
                                .push("the result does not encode as ")
                                .push(<Self as Typed>::FORMAT)
                                .push(": ")
                                .push(&text);
                        });
                        ptr::null_mut()
                    }
                }
            }
            fn failure() -> *mut u8 {
                ptr::null_mut()
            }
        }
    };
}

typed!("json", Json);
typed!("postcard", Postcard);

/// Encodes a typed argument of an [`import!`](crate::import) function, or traps naming it: the
/// host function's signature leaves no other way to say it.
#[doc(hidden)]
pub fn encode_argument<T: Typed>(value: &T, argument: &str, function: &str) -> Vec<u8> {
    value.encode().unwrap_or_else(|text| {
        error::record_and_trap(|message| {
            message
                .push("argument `")
                .push(argument)
                .push("` of host function `")
                .push(function)
                .push("` does not encode as ")
                .push(T::FORMAT)
                .push(": ")
                .push(&text);
        })
    })
}
