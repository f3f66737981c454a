#![doc = include_str!("../README.md")]
#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod abi;
mod block;
mod error;
mod export;
mod guest;
mod heap;
mod memory;
mod panic;
mod result;
pub mod stats;

pub use guest::{Input, InputError, Output};
pub use result::ResultBlock;

/// The version of the ABI this crate implements, returned by [`abi::abi_version`].
pub const ABI_VERSION: u32 = 1;
