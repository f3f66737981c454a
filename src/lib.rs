#![doc = include_str!("../README.md")]
#![no_std]

// Hot-path helpers carry `#[cfg_attr(not(feature = "compact"), inline(always))]`: the guest
// profile optimises for size (opt-level "z"), which would leave them as calls on every ABI call
// (docs/BENCHMARKS.md has the cost); `compact` builds keep the calls, and their size.

extern crate alloc;
// Natively std is always there: the native host of `import!` (`native`) uses it.
#[cfg(any(test, feature = "std", not(target_arch = "wasm32")))]
extern crate std;

pub mod abi;
mod block;
mod error;
mod export;
mod guest;
mod heap;
mod import;
pub mod interface;
mod memory;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
mod owned;
mod panic;
mod result;
pub mod stats;
mod typed;

// A no_std guest on WASI still needs the C library's `memcmp`, `memcpy` and friends: the wasi
// targets' compiler-builtins leave them to it, and without it they become `env` imports that no
// host provides. Only the members used are linked; std links it anyway.
#[cfg(all(target_arch = "wasm32", target_os = "wasi", not(feature = "std")))]
#[link(name = "c")]
unsafe extern "C" {}

#[doc(hidden)]
pub use export::__input;
#[doc(hidden)]
pub use export::dispatch as __dispatch;
pub use guest::{Input, InputError, Output};
pub use import::FromHost;
#[doc(hidden)]
pub use import::{HostFunction, ImportInt as __ImportInt, import_bytes as __import_bytes};
pub use owned::Owned;
#[doc(hidden)]
pub use panic::enter as __enter;
/// Natively, for the tests: guestmem installs its panic hook on wasm32 only.
#[cfg(feature = "std")]
#[doc(hidden)]
pub use panic::hook::install as __install_panic_hook;
pub use result::ResultBlock;
#[cfg(feature = "json")]
pub use typed::Json;
#[cfg(feature = "postcard")]
pub use typed::Postcard;
#[doc(hidden)]
pub use typed::Typed;
#[doc(hidden)]
pub use typed::encode_argument as __encode_argument;

/// The version of the ABI this crate implements, returned by [`abi::abi_version`].
pub use guestmem_abi::ABI_VERSION;
