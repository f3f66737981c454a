//! `guestmem-bench`: runs every benchmark and prints the report (see the library's docs and
//! `docs/BENCHMARKS.md`).

use std::path::PathBuf;
use std::process::ExitCode;

use guestmem_bench::Options;

const USAGE: &str = "\
usage: guestmem-bench [--no-build] [--quick] [--out DIR] [--candidate ECHO.wasm]
       guestmem-bench profile CONTENDER BYTES CALLS [--out DIR]

  --no-build   use the guests already built in DIR/guests
  --quick      3 short rounds instead of 21: a smoke test, not a measurement
  --out DIR    where the guests, report.md and chart.svg go (default target/bench)
  --candidate ECHO.wasm
               another build of guestmem's echo example, run as one more round-trip
               contender: a fix measured side by side with the current build

  profile      CALLS round trips of BYTES through CONTENDER (guestmem, generic, manual, owned,
               borrowed, component or component-copy, async or async-poll: call_bytes_async on
               tokio or a poll loop; guestmem-NAME for DIR/guests/echo-NAME.wasm), or CALLS
               calls of a guest whose host function answers BYTES (pull, pull-vec,
               pull-component or pull-async), untimed, for `valgrind --tool=callgrind`; uses
               the guests already built";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
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
                None => return usage_error("--candidate needs a module"),
            },
            "--out" => match args.next() {
                Some(dir) => options.out = PathBuf::from(dir),
                None => return usage_error("--out needs a directory"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage_error(&format!("unknown argument `{other}`")),
        }
    }
    if !profile.is_empty() {
        return run_profile(&options, &profile[1..]);
    }
    match guestmem_bench::run(&options) {
        Ok(markdown) => {
            print!("{markdown}");
            eprintln!(
                "guestmem-bench: wrote {} and {}",
                options.out.join("report.md").display(),
                options.out.join("chart.svg").display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("guestmem-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(problem: &str) -> ExitCode {
    eprintln!("guestmem-bench: {problem}\n\n{USAGE}");
    ExitCode::from(2)
}

fn run_profile(options: &Options, args: &[String]) -> ExitCode {
    let [contender, len, calls] = args else {
        return usage_error("profile needs CONTENDER BYTES CALLS");
    };
    let (Ok(len), Ok(calls)) = (len.parse(), calls.parse()) else {
        return usage_error("BYTES and CALLS are numbers");
    };
    match guestmem_bench::profile(options, contender, len, calls) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("guestmem-bench: {error}");
            ExitCode::FAILURE
        }
    }
}
