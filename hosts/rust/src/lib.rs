#![doc = include_str!("../README.md")]

mod error;
mod exports;
mod func;
mod guest;
mod imports;
mod inputs;
pub mod interface;
pub mod result_block;
#[cfg(any(feature = "json", feature = "postcard"))]
mod typed;

pub use error::{Error, ResultProblem};
pub use func::{GuestFunc, MAX_INPUTS};
pub use guest::{DEFAULT_RESULT_CAP, Guest};
pub use imports::{Bytes, HostArg, HostFunctions, HostResult, IntoHostFunc, Str};
pub use interface::{Argument, Function, Interface, Kind};
#[cfg(feature = "json")]
pub use typed::to_json;
#[cfg(feature = "postcard")]
pub use typed::to_postcard;

/// The version of guestmem's ABI this host speaks: a guest's `abi_version()` must return it.
pub const ABI_VERSION: u32 = 1;
