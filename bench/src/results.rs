//! Everything a run measured ([`Results`]): what the report's renderers (`markdown`, `chart`,
//! `goals`) read, so that they depend on it and not on the module that writes them.

use crate::imports::HostCalls;
use crate::leak::LeakRow;
use crate::roundtrip::RoundTrips;
use crate::size::Sizes;
use crate::workload::Workload;

/// The command that makes the report.
pub const COMMAND: &str = "cargo run --release -p guestmem-bench";

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
