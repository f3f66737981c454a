//! The report of a run: everything measured ([`Results`]), written as `report.md`
//! ([`super::markdown`]) and `chart.svg` ([`super::chart`]), both in `target/bench`.

use std::path::Path;

use super::BenchError;
use super::imports::HostCalls;
use super::leak::LeakRow;
use super::roundtrip::RoundTrips;
use super::size::Sizes;
use super::workload::Workload;
use super::{chart, markdown};

/// The command that makes the report.
pub const COMMAND: &str = "cargo run --release -p harness -- bench";

/// Everything measured.
#[derive(Debug, Clone)]
pub struct Results {
    /// Module sizes.
    pub sizes: Sizes,
    /// Allocator speed inside the guest.
    pub workload: Workload,
    /// Round trips from the host, guests built with the `guest` profile.
    pub roundtrip: RoundTrips,
    /// The same round trips, guests built with `opt-level = 3`.
    pub roundtrip_speed: RoundTrips,
    /// wee_alloc issue 106's leak pattern.
    pub leaks: Vec<LeakRow>,
    /// A guest calling a host function, guests built with the `guest` profile.
    pub imports: HostCalls,
    /// The same calls, guests built with `opt-level = 3`.
    pub imports_speed: HostCalls,
    /// Whether `--quick` shortened the run.
    pub quick: bool,
}

/// Writes `report.md` and `chart.svg` into `out`; returns the markdown.
///
/// # Errors
///
/// [`BenchError::Io`] if a file cannot be written.
pub fn write(out: &Path, results: &Results) -> Result<String, BenchError> {
    let markdown = markdown::render(results);
    for (name, text) in [
        ("report.md", &markdown),
        ("chart.svg", &chart::render(results)),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|source| BenchError::Io { path, source })?;
    }
    Ok(markdown)
}
