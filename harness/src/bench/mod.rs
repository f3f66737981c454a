//! `harness bench`: what guestmem costs and how it compares, measured side by side in
//! one run and reported as ratios, since the machines it runs on are shared and noisy.
//!
//! ```text
//! cargo run --release -p harness -- bench            # build the guests, run everything
//! cargo run --release -p harness -- bench --no-build # reuse target/bench/guests
//! cargo run --release -p harness -- bench --quick    # fewer rounds: a smoke test
//! ```
//!
//! Five benchmarks, one module each: module sizes ([`size`]), allocator speed inside the guest
//! ([`workload`]), the host's round trip against the Component Model and the articles'
//! convention ([`roundtrip`]), the leak pattern of wee_alloc issue 106 ([`leak`]), and a guest
//! calling a host function against the Component Model's import ([`imports`]). The
//! report ([`report`]) is `target/bench/report.md` ([`markdown`]: the goals of [`goals`], the
//! machine of [`machine`], every table) and `target/bench/chart.svg` ([`chart`]). What is measured
//! and what the figures have shown is in `docs/BENCHMARKS.md`.

pub mod build;
pub mod chart;
pub mod format;
pub mod goals;
pub mod imports;
pub mod leak;
pub mod machine;
pub mod markdown;
pub mod measure;
pub mod report;
pub mod roundtrip;
pub mod size;
pub mod workload;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::HostError;
use crate::guests::target_dir;

/// What `harness bench` was asked to do.
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

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A guest could not be built.
    #[error("building `{command}`: {problem}")]
    Build {
        /// The command.
        command: String,
        /// What went wrong.
        problem: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A call through the harness's host library failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// wasmtime failed outside the harness's host library (the hand-written hosts, the components).
    #[error("wasmtime: {0:#}")]
    Wasmtime(#[from] wasmtime::Error),
    /// A guest answered something other than what the benchmark checks for.
    #[error("{0}")]
    Wrong(String),
}

/// The usage of `harness bench`.
pub const USAGE: &str = "\
usage: harness bench [--no-build] [--quick] [--out DIR] [--candidate ECHO.wasm]
       harness bench profile CONTENDER BYTES CALLS [--out DIR]

  --no-build   use the guests already built in DIR/guests
  --quick      3 short rounds instead of 21: a smoke test, not a measurement
  --out DIR    where the guests, report.md and chart.svg go (default target/bench)
  --candidate ECHO.wasm
               another build of guestmem's echo example, run as one more round-trip
               contender: a fix measured side by side with the current build

  profile      CALLS round trips of BYTES through CONTENDER (guestmem, generic, manual, owned,
               borrowed, component or component-copy; guestmem-NAME for DIR/guests/echo-NAME.wasm), or CALLS
               calls of a guest whose host function answers BYTES (pull, pull-vec or
               pull-component), untimed, for `valgrind --tool=callgrind`; uses the guests
               already built";

/// `harness bench ARGS`: parses the arguments, runs every benchmark, prints the report.
#[must_use]
pub fn main(mut args: impl Iterator<Item = String>) -> ExitCode {
    let mut options = Options::default();
    let mut profile = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "profile" if profile.is_empty() => profile.push(arg),
            _ if !profile.is_empty() && profile.len() < 4 => profile.push(arg),
            "--no-build" => options.build = false,
            "--quick" => options.quick = true,
            "--candidate" => match args.next() {
                Some(path) => options.candidate = Some(PathBuf::from(path)),
                None => {
                    eprintln!("harness bench: --candidate needs a module\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--out" => match args.next() {
                Some(dir) => options.out = PathBuf::from(dir),
                None => {
                    eprintln!("harness bench: --out needs a directory\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("harness bench: unknown argument `{other}`\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if !profile.is_empty() {
        return run_profile(&options, &profile[1..]);
    }
    match run(&options) {
        Ok(markdown) => {
            print!("{markdown}");
            eprintln!(
                "harness bench: wrote {} and {}",
                options.out.join("report.md").display(),
                options.out.join("chart.svg").display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("harness bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_profile(options: &Options, args: &[String]) -> ExitCode {
    let [contender, len, calls] = args else {
        eprintln!("harness bench: profile needs CONTENDER BYTES CALLS\n\n{USAGE}");
        return ExitCode::from(2);
    };
    let (Ok(len), Ok(calls)) = (len.parse(), calls.parse()) else {
        eprintln!("harness bench: BYTES and CALLS are numbers\n\n{USAGE}");
        return ExitCode::from(2);
    };
    let outcome = crate::engine::new_engine()
        .map_err(BenchError::from)
        .and_then(|engine| {
            if contender.starts_with("pull") {
                imports::profile(&engine, &options.guests(), contender, len, calls)
            } else {
                roundtrip::profile(&engine, &options.guests(), contender, len, calls)
            }
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("harness bench: {error}");
            ExitCode::FAILURE
        }
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
    let engine = crate::engine::new_engine()?;
    let plan = measure::Plan::new(options.quick);
    eprintln!("harness bench: sizes");
    let sizes = size::measure(&guests)?;
    eprintln!("harness bench: allocator speed inside the guest");
    let workload = workload::measure(&engine, &guests, &plan)?;
    eprintln!("harness bench: round trips from the host");
    let roundtrip = roundtrip::measure(
        &engine,
        &guests,
        &plan,
        build::Build::Guest,
        options.candidate.as_deref(),
    )?;
    let roundtrip_speed = roundtrip::measure(&engine, &guests, &plan, build::Build::Speed, None)?;
    eprintln!("harness bench: wee_alloc issue 106's leak pattern");
    let leaks = leak::measure(&engine, &guests)?;
    eprintln!("harness bench: host functions");
    let imports = imports::measure(&engine, &guests, &plan, build::Build::Guest)?;
    let imports_speed = imports::measure(&engine, &guests, &plan, build::Build::Speed)?;
    let results = report::Results {
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
