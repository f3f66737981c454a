//! guestmem's benchmarks: what guestmem costs and how it compares, measured side by side in one
//! run and reported as ratios, since the machines it runs on are shared and noisy.
//!
//! ```text
//! cargo run --release -p guestmem-bench               # build the guests, run everything
//! cargo run --release -p guestmem-bench -- --no-build # reuse target/bench/guests
//! cargo run --release -p guestmem-bench -- --quick    # fewer rounds: a smoke test
//! ```
//!
//! Five benchmarks, one module each: module sizes ([`size`]), allocator speed inside the guest
//! ([`workload`]), the host's round trip against the Component Model and the articles'
//! convention ([`roundtrip`]), the leak pattern of wee_alloc issue 106 ([`leak`]), and a guest
//! calling a host function against the Component Model's import ([`imports`]); the last two with
//! async contenders too (`guestmem-host`'s `_async` calls and async host functions, driven by an
//! [`executor`]). Their
//! [`results`] are written by [`report`] as `target/bench/report.md` ([`markdown`]: the goals of
//! [`goals`], the machine of [`machine`], every table) and `target/bench/chart.svg` ([`chart`]).
//! What is measured and what the figures have shown is in `docs/BENCHMARKS.md`.

pub mod build;
pub mod chart;
mod error;
pub mod executor;
pub mod format;
pub mod goals;
pub mod imports;
pub mod leak;
pub mod machine;
pub mod markdown;
pub mod measure;
pub mod report;
pub mod results;
pub mod roundtrip;
mod run;
pub mod size;
pub mod workload;

pub use error::BenchError;
pub use run::{Options, profile, run};
