//! `harness describe FILE.wasm [--typescript]`: what a module's `guestmem.interface` section says
//! it exports and imports, as text or as a TypeScript declaration file for the JavaScript host's
//! `guest.exports`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use guestmem_host::{Function, Interface, Kind};

/// Runs `harness describe` with the arguments after `describe`.
#[must_use]
pub fn main(mut args: impl Iterator<Item = String>) -> ExitCode {
    let (Some(file), typescript) = (args.next(), args.next().as_deref() == Some("--typescript"))
    else {
        eprintln!("usage: harness describe FILE.wasm [--typescript]");
        return ExitCode::from(2);
    };
    match describe(Path::new(&file), typescript) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("harness describe: {file}: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// The description of the module in `path`.
///
/// # Errors
///
/// The file cannot be read, or its interface section is malformed.
pub fn describe(path: &Path, typescript: bool) -> Result<String, String> {
    let wasm = std::fs::read(path).map_err(|error| error.to_string())?;
    let interface = Interface::read(&wasm).map_err(|error| error.to_string())?;
    let Some(interface) = interface else {
        return Ok(if typescript {
            "// This module has no guestmem.interface section.\nexport {};\n".to_owned()
        } else {
            "no guestmem.interface section (a guest built without guestmem's macros)\n".to_owned()
        });
    };
    Ok(if typescript {
        typescript_of(&interface)
    } else {
        text_of(&interface)
    })
}

/// One line per function.
#[must_use]
pub fn text_of(interface: &Interface) -> String {
    interface
        .exports
        .iter()
        .chain(&interface.imports)
        .map(|function| format!("{function}\n"))
        .collect()
}

/// The TypeScript type of an argument of `kind`, as the JavaScript host takes it.
fn argument_type(kind: Kind) -> &'static str {
    match kind {
        Kind::String => "string",
        Kind::Bytes | Kind::Postcard => "Uint8Array",
        Kind::Json => "unknown",
        Kind::U64 | Kind::I64 => "bigint",
        Kind::None => "never",
        _ => "number",
    }
}

/// The TypeScript type of a result of `kind`, as the JavaScript host returns it.
fn result_type(kind: Kind) -> &'static str {
    match kind {
        Kind::None => "void",
        other => argument_type(other),
    }
}

/// A declaration of `guest.exports` for the JavaScript host, and of the host functions the
/// module imports.
#[must_use]
pub fn typescript_of(interface: &Interface) -> String {
    let mut out = String::from(
        "// Written by `harness describe --typescript` from the module's guestmem.interface section.\n\n",
    );
    out.push_str("export interface Exports {\n");
    for function in &interface.exports {
        declare(&mut out, function);
    }
    out.push_str("}\n");
    let mut modules: Vec<&str> = interface
        .imports
        .iter()
        .filter_map(|function| function.module.as_deref())
        .collect();
    modules.dedup();
    if !modules.is_empty() {
        out.push_str("\nexport interface Imports {\n");
        for module in modules {
            let _ = writeln!(out, "  {module}: {{");
            for function in &interface.imports {
                if function.module.as_deref() == Some(module) {
                    out.push_str("  ");
                    declare(&mut out, function);
                }
            }
            out.push_str("  };\n");
        }
        out.push_str("}\n");
    }
    out
}

fn declare(out: &mut String, function: &Function) {
    let args: Vec<String> = function
        .args
        .iter()
        .map(|arg| format!("{}: {}", arg.name, argument_type(arg.kind)))
        .collect();
    let fallible = if function.fallible {
        " /* throws on failure */"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "  {}({}): {};{fallible}",
        function.name,
        args.join(", "),
        result_type(function.result)
    );
}
