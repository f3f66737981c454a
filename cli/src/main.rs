//! `guestmem`: what a guest module says of itself, and whether it meets guestmem's ABI
//! (`docs/ABI.md`).
//!
//! ```text
//! cargo install --path cli
//! guestmem describe FILE.wasm [--typescript]
//! guestmem check FILE.wasm
//! guestmem wit FILE.wasm
//! ```

mod check;
mod describe;
mod wit;

use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "\
usage: guestmem describe FILE.wasm [--typescript]
       guestmem check FILE.wasm
       guestmem wit FILE.wasm

  describe       print what a module's guestmem.interface section says it exports and
                 imports, or (--typescript) a TypeScript declaration of it
  check          whether a module meets the guestmem contract (docs/ABI.md): the ABI's
                 exports with their wasm types, abi_version(), and its interface section
                 against its exports and imports
  wit            print the WIT world of a module, from its interface section: what a
                 Component Model host sees of it once lifted into a component

exit status: 0 done (check: the module meets the contract), 1 the module's section is
malformed, (check) it does not meet the contract or (wit) it has no section, 2 a usage error
or an unreadable file";

/// A subcommand and its arguments.
enum Command {
    Help,
    Describe { file: String, typescript: bool },
    Check { file: String },
    Wit { file: String },
}

fn parse(args: &[String]) -> Result<Command, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] | ["-h" | "--help" | "help", ..] => Ok(Command::Help),
        ["describe", file] => Ok(Command::Describe {
            file: (*file).to_owned(),
            typescript: false,
        }),
        ["describe", file, "--typescript"] | ["describe", "--typescript", file] => {
            Ok(Command::Describe {
                file: (*file).to_owned(),
                typescript: true,
            })
        }
        ["check", file] => Ok(Command::Check {
            file: (*file).to_owned(),
        }),
        ["wit", file] => Ok(Command::Wit {
            file: (*file).to_owned(),
        }),
        ["describe" | "check" | "wit", ..] => Err(format!("wrong arguments to `{}`", args[0])),
        [other, ..] => Err(format!("unknown command `{other}`")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(command) => command,
        Err(problem) => {
            eprintln!("guestmem: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (file, outcome) = match command {
        Command::Help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::Describe { file, typescript } => {
            let outcome = read(&file).map(|wasm| describe::main(&file, &wasm, typescript));
            (file, outcome)
        }
        Command::Check { file } => {
            let outcome = read(&file).map(|wasm| check::main(&file, &wasm));
            (file, outcome)
        }
        Command::Wit { file } => {
            let outcome = read(&file).map(|wasm| wit::main(&file, &wasm));
            (file, outcome)
        }
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("guestmem: {file}: {error}");
        ExitCode::from(2)
    })
}

fn read(file: &str) -> Result<Vec<u8>, std::io::Error> {
    std::fs::read(Path::new(file))
}
