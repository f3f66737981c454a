//! `guestmem wit FILE.wasm`: the WIT world of a module, from its `guestmem.interface` section:
//! what a Component Model host would see of the module once lifted into a component.
//!
//! Kinds map to WIT types as a lifted component passes them: bytes and postcard are `list<u8>`,
//! string and JSON are `string` (JSON as its text), integers and floats are themselves; a
//! fallible function returns `result<T, string>` carrying `last_error`'s message. Imports become
//! an inline interface per import module.

use std::fmt::Write as _;
use std::process::ExitCode;

use guestmem_host::{Error, Function, Interface, Kind};

/// Prints the WIT of the module `wasm` read from `file`: status 1 if it has no section or a
/// malformed one.
pub fn main(file: &str, wasm: &[u8]) -> ExitCode {
    match wit(file, wasm) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("guestmem wit: {file}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn wit(file: &str, wasm: &[u8]) -> Result<String, String> {
    let interface = Interface::read(wasm)
        .map_err(|error| Error::from(error).to_string())?
        .ok_or(
            "no guestmem.interface section: a module built without guestmem's export! macro does \
             not say what its functions take",
        )?;
    let stem = std::path::Path::new(file)
        .file_stem()
        .map_or_else(|| "module".into(), |stem| stem.to_string_lossy());
    world_of(&stem, &interface)
}

/// The WIT package and world named after `name` for `interface`.
///
/// # Errors
///
/// Two functions whose WIT names are the same, or an import module named as an export.
pub fn world_of(name: &str, interface: &Interface) -> Result<String, String> {
    let world = kebab(name);
    let mut out = String::from(
        "// Written by `guestmem wit` from the module's guestmem.interface section.\n",
    );
    let _ = writeln!(
        out,
        "package guestmem:{world};\n\nworld {} {{",
        escaped(&world)
    );
    let mut names: Vec<String> = Vec::new();
    let mut claim = |name: String, what: &str| {
        if names.contains(&name) {
            return Err(format!("two {what}s are named {name} in WIT"));
        }
        names.push(name);
        Ok(())
    };
    for module in &interface.import_modules() {
        claim(kebab(module), "world item")?;
        let _ = writeln!(out, "  import {}: interface {{", escaped(&kebab(module)));
        let mut in_module = Vec::new();
        for function in interface
            .imports
            .iter()
            .filter(|f| f.module.as_deref() == Some(*module))
        {
            let name = kebab(&function.name);
            if in_module.contains(&name) {
                return Err(format!("two imports of {module} are named {name} in WIT"));
            }
            in_module.push(name);
            function_of(&mut out, "    ", function, "", Side::Import);
        }
        out.push_str("  }\n");
    }
    for function in &interface.exports {
        claim(kebab(&function.name), "world item")?;
        function_of(&mut out, "  ", function, "export ", Side::Export);
    }
    out.push_str("}\n");
    Ok(out)
}

/// Which way a function is called: where its failure's message goes.
#[derive(Clone, Copy)]
enum Side {
    Import,
    Export,
}

/// One function, with doc comments for what its WIT types do not say.
fn function_of(out: &mut String, indent: &str, function: &Function, prefix: &str, side: Side) {
    let mut notes = Vec::new();
    for arg in &function.args {
        match arg.kind {
            Kind::Json => notes.push(format!("`{}` is JSON text.", kebab(&arg.name))),
            Kind::Postcard => notes.push(format!(
                "`{}` is a value in postcard's binary form.",
                kebab(&arg.name)
            )),
            _ => {}
        }
        if arg.owned {
            notes.push(format!(
                "`{}` is taken by the guest (guestmem's `Owned`).",
                kebab(&arg.name)
            ));
        }
    }
    match function.result {
        Kind::Json => notes.push("The result is JSON text.".to_owned()),
        Kind::Postcard => notes.push("The result is a value in postcard's binary form.".to_owned()),
        _ => {}
    }
    if function.fallible {
        notes.push(match side {
            Side::Export => "A failure carries the guest's `last_error` message.".to_owned(),
            Side::Import => {
                "A failure's message reaches the guest through `guestmem.last_error`.".to_owned()
            }
        });
    }
    for note in notes {
        let _ = writeln!(out, "{indent}/// {note}");
    }
    let args: Vec<String> = function
        .args
        .iter()
        .map(|arg| format!("{}: {}", escaped(&kebab(&arg.name)), type_of(arg.kind)))
        .collect();
    let result = match (function.result, function.fallible) {
        (Kind::None, false) => String::new(),
        (Kind::None, true) => " -> result<_, string>".to_owned(),
        (kind, false) => format!(" -> {}", type_of(kind)),
        (kind, true) => format!(" -> result<{}, string>", type_of(kind)),
    };
    let _ = writeln!(
        out,
        "{indent}{prefix}{}: func({}){result};",
        escaped(&kebab(&function.name)),
        args.join(", ")
    );
}

/// The WIT type of a value of `kind`.
fn type_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Bytes | Kind::Postcard => "list<u8>",
        Kind::String | Kind::Json => "string",
        Kind::U8 => "u8",
        Kind::U16 => "u16",
        Kind::U32 => "u32",
        Kind::U64 => "u64",
        Kind::I8 => "s8",
        Kind::I16 => "s16",
        Kind::I32 => "s32",
        Kind::I64 => "s64",
        Kind::F32 => "f32",
        Kind::F64 => "f64",
        Kind::None => "_",
    }
}

/// `name` as a WIT identifier: lower-case words joined by `-`, each starting with a letter
/// (`measure_compact` is `measure-compact`, `fooBar` is `foo-bar`, `x_1` is `x1`).
fn kebab(name: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            word.push(c.to_ascii_lowercase());
        } else {
            previous_lower = false;
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut out = String::new();
    for word in words {
        // A word that starts with a digit cannot stand alone: it joins the one before.
        if !out.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit()) {
            out.push('-');
        }
        out.push_str(&word);
    }
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert(0, 'x');
    }
    out
}

/// WIT's keywords, which need a `%` in front to be names.
const KEYWORDS: &[&str] = &[
    "as",
    "async",
    "bool",
    "borrow",
    "char",
    "constructor",
    "enum",
    "export",
    "f32",
    "f64",
    "flags",
    "from",
    "func",
    "future",
    "import",
    "include",
    "interface",
    "list",
    "own",
    "package",
    "record",
    "resource",
    "result",
    "s16",
    "s32",
    "s64",
    "s8",
    "static",
    "stream",
    "string",
    "tuple",
    "type",
    "u16",
    "u32",
    "u64",
    "u8",
    "use",
    "variant",
    "with",
    "world",
    "error-context",
    "option",
];

fn escaped(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("%{name}")
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::kebab;

    #[test]
    fn names_become_wit_identifiers() {
        assert_eq!(kebab("measure_compact"), "measure-compact");
        assert_eq!(kebab("fooBar"), "foo-bar");
        assert_eq!(kebab("x_1"), "x1");
        assert_eq!(kebab("upper-talc"), "upper-talc");
        assert_eq!(kebab("_private"), "private");
        assert_eq!(kebab("2d"), "x2d");
        assert_eq!(kebab("HTTP"), "http");
    }
}
