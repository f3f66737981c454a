//! `guestmem describe FILE.wasm [--typescript]`: what a module's `guestmem.interface` section
//! says it exports and imports, as text or as a TypeScript declaration file for the JavaScript
//! host's `guest.exports`.

use std::fmt::Write as _;
use std::process::ExitCode;

use guestmem_host::{Error, Function, Interface, Kind};

/// Prints the description of the module `wasm` read from `file`: status 1 if its section is
/// malformed.
pub fn main(file: &str, wasm: &[u8], typescript: bool) -> ExitCode {
    match describe(wasm, typescript) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("guestmem describe: {file}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The description of the module `wasm`.
///
/// # Errors
///
/// [`Error::Interface`] if its interface section is malformed.
fn describe(wasm: &[u8], typescript: bool) -> Result<String, Error> {
    let Some(interface) = Interface::read(wasm)? else {
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
fn text_of(interface: &Interface) -> String {
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
fn typescript_of(interface: &Interface) -> String {
    let mut out = String::from(
        "// Written by `guestmem describe --typescript` from the module's guestmem.interface section.\n\n",
    );
    out.push_str("export interface Exports {\n");
    for function in &interface.exports {
        declare(&mut out, function);
    }
    out.push_str("}\n");
    let modules = interface.import_modules();
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

#[cfg(test)]
mod tests {
    use guestmem_host::Interface;

    #[test]
    fn an_import_module_is_declared_once_when_its_imports_are_apart() {
        // env.a, host.b, env.c: each `() -> none`.
        let entry = |module: &[u8], name: u8| {
            let mut bytes = vec![1, 1, u8::try_from(module.len()).expect("short")];
            bytes.extend_from_slice(module);
            bytes.extend_from_slice(&[1, name, 0, 0, 0]);
            bytes
        };
        let section = [
            entry(b"env", b'a'),
            entry(b"host", b'b'),
            entry(b"env", b'c'),
        ]
        .concat();
        let interface = Interface::parse(&section).expect("well formed");
        let declaration = super::typescript_of(&interface);
        assert_eq!(declaration.matches("  env: {").count(), 1, "{declaration}");
        assert!(
            declaration.contains("  env: {\n    a(): void;\n    c(): void;\n  };\n"),
            "{declaration}"
        );
    }
}
