//! `harness`: builds the guest modules, runs every check against them and against the
//! natively linked guest code, prints a table, and exits non-zero if any row failed.
//!
//! ```text
//! cargo run -p harness                      # build guests, run all checks
//! cargo run -p harness -- --no-build        # use the guests already in target/guests
//! cargo run -p harness -- --guests DIR      # use the guests in DIR
//! valgrind --leak-check=full --error-exitcode=1 ./target/debug/harness [--plant-leak]
//! ```

use std::process::ExitCode;

use harness::checks::{self, Context, hostile, native};
use harness::guests::{self, BuildError, GuestDir};
use harness::{precompiled, report};

// Natively, guestmem serves its blocks from the program's allocator; counting it makes
// `heap_bytes` meaningful for the native check.
#[global_allocator]
static HEAP: guestmem::stats::Counting<std::alloc::System> =
    guestmem::stats::Counting::new(std::alloc::System);

const USAGE: &str = "\
usage: harness [run] [--no-build] [--guests DIR] [--only CHECK] [--skip CHECK]... [--plant-leak]
       harness guests [--guests DIR]

  run            build the guests and run every check (the default)
  guests         build every guest of testdata/guests.tsv and print each module's size
  --no-build     use the guests already built in target/guests
  --guests DIR   use the guests in DIR (implies --no-build)
  --only CHECK   run one check: conformance, examples, faults, imports, interface, owned,
                 leaks, growth, above-2gib, hostile, allocators or native
  --skip CHECK   run every check but this one (repeatable): Valgrind's run splits in two this way
  --plant-leak   after the checks, leak one block through the natively linked echo guest,
                 so that `valgrind --leak-check=full --error-exitcode=1` must fail";

/// What the command line asked for.
struct Options {
    /// `harness guests`: build, print the sizes, run no check.
    only_build: bool,
    /// `--only CHECK`: run that check alone.
    only: Option<String>,
    /// `--skip CHECK`: checks left out.
    skip: Vec<String>,
    build: bool,
    guests: GuestDir,
    plant_leak: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        only_build: false,
        only: None,
        skip: Vec::new(),
        build: true,
        guests: GuestDir::default_location(),
        plant_leak: false,
    };
    let mut first = true;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "run" if first => {}
            "guests" if first => options.only_build = true,
            "--no-build" => options.build = false,
            "--guests" => {
                let dir = args.next().ok_or("--guests needs a directory")?;
                options.guests = GuestDir::new(dir);
                options.build = false;
            }
            "--plant-leak" => options.plant_leak = true,
            "--only" => {
                let check = args.next().ok_or("--only needs a check's name")?;
                if !checks::names().contains(&check.as_str()) {
                    return Err(format!("no check named `{check}`"));
                }
                options.only = Some(check);
            }
            "--skip" => {
                let check = args.next().ok_or("--skip needs a check's name")?;
                if !checks::names().contains(&check.as_str()) {
                    return Err(format!("no check named `{check}`"));
                }
                options.skip.push(check);
            }
            "-h" | "--help" | "help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
        first = false;
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(problem) => {
            if problem.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("harness: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    run(&options)
}

fn run(options: &Options) -> ExitCode {
    if (options.build || options.only_build)
        && let Err(error) = guests::build_all(&options.guests)
    {
        eprintln!("harness: cannot build the guests: {error}");
        if matches!(error, BuildError::MissingTarget { .. }) {
            eprintln!("harness: then run this command again");
        }
        return ExitCode::from(2);
    }
    if options.only_build {
        for file in options.guests.expected_files() {
            let size = std::fs::metadata(&file).map_or(0, |metadata| metadata.len());
            println!("{size:>8} {}", file.display());
        }
        return ExitCode::SUCCESS;
    }
    let context = match Context::new(options.guests.clone()) {
        Ok(context) => context,
        Err(error) => {
            eprintln!("harness: {error}");
            return ExitCode::from(2);
        }
    };
    if context.scale.valgrind {
        println!("harness: running under Valgrind: iteration counts and sizes are scaled down");
    } else {
        // Cranelift is slow under Valgrind: leave compiled guests for a Valgrind run to load.
        let inline = [(hostile::NAME, hostile::HOSTILE_WAT.as_bytes())];
        match precompiled::prepare(&options.guests, &inline) {
            Ok(0) => {}
            Ok(count) => eprintln!("harness: compiled {count} guests ahead of time for Valgrind"),
            Err(error) => eprintln!("harness: cannot compile the guests for Valgrind: {error}"),
        }
    }
    println!("harness: guests from {}", options.guests.dir().display());
    let started = std::time::Instant::now();
    let rows = checks::run_only(&context, options.only.as_deref(), &options.skip, |row| {
        let verdict = if row.passed() { "pass" } else { "FAIL" };
        let seconds = started.elapsed().as_secs();
        eprintln!(
            "harness: {verdict} {} [{}] ({seconds} s)",
            row.check, row.subject
        );
    });
    print!("{}", report::table(&rows));
    if options.plant_leak {
        let len = native::plant_leak();
        println!(
            "harness: --plant-leak: leaked one result block ({len}-byte payload) through the native echo guest"
        );
    }
    if rows.iter().all(harness::Row::passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
