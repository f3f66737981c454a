#![doc = include_str!("../README.md")]
#![no_std]

extern crate alloc;

pub mod interface;
pub mod kind;
pub mod names;
pub mod result_block;

pub use interface::{Argument, Function, Interface, InterfaceError};
pub use kind::{Kind, ValueType};
pub use result_block::ResultProblem;

/// The version of guestmem's ABI: a guest's `abi_version()` returns it, and a host refuses a
/// guest that returns another.
pub const ABI_VERSION: u32 = 1;
