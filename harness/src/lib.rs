//! Native host for guestmem guests.
//!
//! A wasmtime host that follows `docs/ABI.md` ([`Guest`]), the checks written once for both the
//! `harness` binary and `cargo test -p harness` ([`checks`]), and the native drive of guestmem and
//! the example guests that Valgrind watches ([`checks::native`]).

pub mod checks;
pub mod driven;
pub mod engine;
pub mod examples;
pub mod guest;
pub mod guests;
pub mod precompiled;
pub mod report;
pub mod testdata;
pub mod valgrind;

pub use guest::{Guest, GuestModule, GuestOptions};
pub use guestmem_host::{Error as HostError, ResultProblem};
pub use guests::GuestDir;
pub use report::Row;
