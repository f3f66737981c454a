#![doc = include_str!("../README.md")]

mod call;
mod drive;
mod error;
mod exports;
mod func;
mod guest;
mod imports;
mod inputs;
pub mod interface;
mod plugin;
pub mod pool;
#[cfg(any(feature = "json", feature = "postcard"))]
mod typed;

pub use error::Error;
pub use func::{GuestFunc, MAX_INPUTS};
pub use guest::{DEFAULT_RESULT_CAP, Guest};
pub use guestmem_abi::{ABI_VERSION, ResultProblem, result_block};
#[cfg(feature = "async")]
pub use imports::IntoAsyncHostFunc;
pub use imports::{
    Bytes, GuestmemCtx, GuestmemView, HostArg, HostFunctions, HostResult, IntoHostFunc, StoreData,
    Str,
};
pub use interface::{Argument, Function, Interface, InterfaceError, Kind};
pub use plugin::Plugin;
#[cfg(feature = "json")]
pub use typed::to_json;
#[cfg(feature = "postcard")]
pub use typed::to_postcard;
