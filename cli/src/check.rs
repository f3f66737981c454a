//! `guestmem check FILE.wasm`: whether a module meets the contract of guestmem's `docs/ABI.md`.
//! Its exports and their wasm types, what `abi_version()` returns, and its interface section
//! against what it really exports and imports; every reason it fails is reported, not the first.

use std::process::ExitCode;

use guestmem_abi::names::{PREFIX, candidates};
use guestmem_host::interface::wasm_type;
use guestmem_host::{ABI_VERSION, Error, Function, Interface};
use wasmtime::{Engine, ExternType, FuncType, Linker, Module, Store, ValType};

/// The ABI's function exports ("Exports" in docs/ABI.md): name, `i32` parameters, `i32`
/// results, and whether every guest has it (`live_blocks` and `heap_bytes` come with guestmem's
/// `stats` feature).
const ABI_FUNCTIONS: [(&str, usize, usize, bool); 8] = [
    ("alloc", 1, 1, true),
    ("dealloc", 2, 0, true),
    ("free", 1, 0, true),
    ("realloc", 2, 1, true),
    ("last_error", 0, 1, true),
    ("abi_version", 0, 1, true),
    ("live_blocks", 0, 1, false),
    ("heap_bytes", 0, 1, false),
];

/// Checks the module `wasm` read from `file`: status 0 and one line on stdout if it meets the
/// contract, status 1 and every reason on stderr if not.
pub fn main(file: &str, wasm: &[u8]) -> ExitCode {
    match check(wasm) {
        Ok(described) => {
            println!("{file}: meets the guestmem contract ({described} exports described)");
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("{file}: does not meet the guestmem contract:");
            for problem in problems {
                eprintln!("  {problem}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The number of exports the module's interface section describes, or every way the module
/// breaks the contract.
fn check(wasm: &[u8]) -> Result<usize, Vec<Error>> {
    let engine = Engine::default();
    let module = Module::from_binary(&engine, wasm).map_err(|error| vec![error.into()])?;
    let mut problems = Vec::new();
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        problems.push(export_problem("memory", "missing, or not a memory"));
    }
    let mut abi_version = None;
    for (name, params, results, required) in ABI_FUNCTIONS {
        let expected = FuncType::new(
            &engine,
            vec![ValType::I32; params],
            vec![ValType::I32; results],
        );
        match abi_export(&module, name) {
            None if required => problems.push(export_problem(
                name,
                format!("missing (neither `{PREFIX}{name}` nor `{name}` is exported)"),
            )),
            None => {}
            Some((exported, ExternType::Func(ty))) if !same_type(&ty, &expected) => {
                problems.push(export_problem(
                    &exported,
                    format!("has the wasm type `{ty}`; the ABI's is `{expected}`"),
                ));
            }
            Some((exported, ExternType::Func(_))) if name == "abi_version" => {
                abi_version = Some(exported);
            }
            Some((_, ExternType::Func(_))) => {}
            Some((exported, _)) => problems.push(export_problem(&exported, "not a function")),
        }
    }
    let described = match Interface::read(wasm) {
        Ok(Some(interface)) => {
            check_interface(&module, &interface, &mut problems);
            interface.exports.len()
        }
        Ok(None) => 0,
        Err(error) => {
            problems.push(error.into());
            0
        }
    };
    if let Some(export) = abi_version {
        match version_of(&engine, &module, &export) {
            Ok(ABI_VERSION) => {}
            Ok(found) => problems.push(Error::AbiVersion {
                found,
                expected: ABI_VERSION,
            }),
            Err(error) => problems.push(error),
        }
    }
    if problems.is_empty() {
        Ok(described)
    } else {
        Err(problems)
    }
}

/// The ABI export `name` under the name a host looks it up by ("Export names per target" in
/// docs/ABI.md), and its type.
fn abi_export(module: &Module, name: &str) -> Option<(String, ExternType)> {
    candidates(name)
        .into_iter()
        .find_map(|exported| Some((exported.to_string(), module.get_export(&exported)?)))
}

fn export_problem(name: &str, message: impl Into<String>) -> Error {
    Error::Export {
        name: name.to_owned(),
        message: message.into(),
    }
}

fn same_type(found: &FuncType, expected: &FuncType) -> bool {
    let same = |found: &[ValType], expected: &[ValType]| {
        found.len() == expected.len() && found.iter().zip(expected).all(|(a, b)| ValType::eq(a, b))
    };
    same(
        &found.params().collect::<Vec<_>>(),
        &expected.params().collect::<Vec<_>>(),
    ) && same(
        &found.results().collect::<Vec<_>>(),
        &expected.results().collect::<Vec<_>>(),
    )
}

/// Every function the section describes against the module's exports and imports.
fn check_interface(module: &Module, interface: &Interface, problems: &mut Vec<Error>) {
    let engine = module.engine();
    let mismatch = |function: &Function, found: Option<ExternType>, what: &str| {
        let (params, results) = wasm_type(function);
        let expected = FuncType::new(engine, params, results);
        let message = match found {
            None => format!("`{function}` is described but not {what}"),
            Some(ExternType::Func(ty)) if same_type(&ty, &expected) => return None,
            Some(ExternType::Func(ty)) => format!(
                "`{function}` does not match the wasm type `{ty}` it is {what} with; its kinds \
                 make `{expected}`"
            ),
            Some(_) => format!("`{function}` is described but {what} as something else"),
        };
        Some(Error::Interface(message))
    };
    for function in &interface.exports {
        let found = module.get_export(&function.name);
        problems.extend(mismatch(function, found, "exported"));
    }
    for function in &interface.imports {
        let found = module
            .imports()
            .find(|import| {
                Some(import.module()) == function.module.as_deref()
                    && import.name() == function.name
            })
            .map(|import| import.ty());
        problems.extend(mismatch(function, found, "imported"));
    }
}

/// What the module's `abi_version()` (exported as `export`) returns, in an instance whose every
/// import traps, after `_initialize` if the module has one (a WASI reactor).
fn version_of(engine: &Engine, module: &Module, export: &str) -> Result<u32, Error> {
    let mut linker = Linker::new(engine);
    linker.define_unknown_imports_as_traps(module)?;
    let mut store = Store::new(engine, ());
    let instance = linker
        .instantiate(&mut store, module)
        .map_err(|error| error.context("cannot instantiate the module"))?;
    if module.get_export("_initialize").is_some() {
        instance
            .get_typed_func::<(), ()>(&mut store, "_initialize")
            .and_then(|initialize| initialize.call(&mut store, ()))
            .map_err(|error| export_problem("_initialize", format!("{error:#}")))?;
    }
    instance
        .get_typed_func::<(), u32>(&mut store, export)
        .and_then(|abi_version| abi_version.call(&mut store, ()))
        .map_err(|error| export_problem(export, format!("{error:#}")))
}

#[cfg(test)]
mod tests {
    use guestmem_abi::names::{REQUIRED, STATS};

    #[test]
    fn the_abi_functions_are_the_contracts_exports() {
        let required: Vec<&str> = super::ABI_FUNCTIONS
            .iter()
            .filter(|function| function.3)
            .map(|function| function.0)
            .collect();
        let optional: Vec<&str> = super::ABI_FUNCTIONS
            .iter()
            .filter(|function| !function.3)
            .map(|function| function.0)
            .collect();
        assert_eq!(
            ["memory"]
                .iter()
                .chain(&required)
                .copied()
                .collect::<Vec<_>>(),
            REQUIRED
        );
        assert_eq!(optional, STATS);
    }
}
