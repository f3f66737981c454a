//! What a run does: its [`Options`], every benchmark in turn ([`run`]), or one contender's
//! calls for a profiler ([`profile`]).

use std::path::PathBuf;

use harness::guests::target_dir;

use crate::{
    BenchError, build, imports, leak, measure, report, results, roundtrip, size, workload,
};

/// What the benchmarks were asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Build the guests first (otherwise use those in `out/guests`).
    pub build: bool,
    /// Fewer rounds and smaller batches: a smoke test, not a measurement.
    pub quick: bool,
    /// Where the guests, the report and the chart go (`target/bench`).
    pub out: PathBuf,
    /// Another build of guestmem's `echo`, run as one more round-trip contender.
    pub candidate: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            build: true,
            quick: false,
            out: target_dir().join("bench"),
            candidate: None,
        }
    }
}

impl Options {
    /// The directory holding the benchmark guests.
    #[must_use]
    pub fn guests(&self) -> PathBuf {
        self.out.join("guests")
    }
}

/// Runs `calls` calls of `len` bytes through one contender, untimed, for
/// `valgrind --tool=callgrind`: the host-function benchmark's (`pull...`) or the round trip's.
///
/// # Errors
///
/// An unknown contender, or whatever the calls meet.
pub fn profile(
    options: &Options,
    contender: &str,
    len: usize,
    calls: u64,
) -> Result<(), BenchError> {
    let engine = harness::engine::new_engine()?;
    if contender.starts_with("pull") {
        imports::profile(&engine, &options.guests(), contender, len, calls)
    } else {
        roundtrip::profile(&engine, &options.guests(), contender, len, calls)
    }
}

/// Runs every benchmark and writes the report; returns the report's markdown.
///
/// # Errors
///
/// The first [`BenchError`] any step meets.
pub fn run(options: &Options) -> Result<String, BenchError> {
    let guests = options.guests();
    std::fs::create_dir_all(&guests).map_err(|source| BenchError::Io {
        path: guests.clone(),
        source,
    })?;
    if options.build {
        build::build_all(&guests)?;
    }
    let engine = harness::engine::new_engine()?;
    let plan = measure::Plan::new(options.quick);
    eprintln!("guestmem-bench: sizes");
    let sizes = size::measure(&guests)?;
    eprintln!("guestmem-bench: allocator speed inside the guest");
    let workload = workload::measure(&engine, &guests, &plan)?;
    eprintln!("guestmem-bench: round trips from the host");
    let roundtrip = roundtrip::measure(
        &engine,
        &guests,
        &plan,
        build::Build::Guest,
        options.candidate.as_deref(),
    )?;
    let roundtrip_speed = roundtrip::measure(&engine, &guests, &plan, build::Build::Speed, None)?;
    eprintln!("guestmem-bench: wee_alloc issue 106's leak pattern");
    let leaks = leak::measure(&engine, &guests)?;
    eprintln!("guestmem-bench: host functions");
    let imports = imports::measure(&engine, &guests, &plan, build::Build::Guest)?;
    let imports_speed = imports::measure(&engine, &guests, &plan, build::Build::Speed)?;
    let results = results::Results {
        sizes,
        workload,
        roundtrip,
        roundtrip_speed,
        leaks,
        imports,
        imports_speed,
        quick: options.quick,
    };
    report::write(&options.out, &results)
}
