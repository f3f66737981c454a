//! The `guestmem` binary as a user runs it: `describe` over every case of
//! `testdata/sections.json`, and `check` on the guests `bash .ci/guests.sh` builds and on
//! hand-made modules that each break one rule of the contract.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Runs the built `guestmem` binary with `args`.
fn guestmem(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guestmem"))
        .args(args)
        .output()
        .expect("the guestmem binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn leb128(mut value: usize, out: &mut Vec<u8>) {
    loop {
        let low = u8::try_from(value & 0x7F).expect("seven bits");
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// `wasm` with a `guestmem.interface` custom section holding `section` appended.
fn with_section(mut wasm: Vec<u8>, section: &[u8]) -> Vec<u8> {
    let name = b"guestmem.interface";
    let mut contents = Vec::new();
    leb128(name.len(), &mut contents);
    contents.extend_from_slice(name);
    contents.extend_from_slice(section);
    wasm.push(0);
    leb128(contents.len(), &mut wasm);
    wasm.extend_from_slice(&contents);
    wasm
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex"))
        .collect()
}

/// Writes `wasm` to a file of its own for the binary to read.
fn write_module(name: &str, wasm: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guestmem-cli");
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join(format!("{}.wasm", name.replace(' ', "_")));
    std::fs::write(&path, wasm).expect("the module is written");
    path
}

fn str_of(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// The cases of testdata/sections.json.
fn section_cases() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/sections.json");
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("testdata/sections.json"))
            .expect("JSON");
    let cases = cases["cases"].as_array().expect("a list of cases").clone();
    assert!(!cases.is_empty());
    cases
}

#[test]
fn describe_prints_every_case_of_testdata() {
    for case in section_cases() {
        let name = case["name"].as_str().expect("a name");
        let section = hex(case["section"].as_str().expect("a section"));
        let module = write_module(
            &format!("describe {name}"),
            &with_section(b"\0asm\x01\0\0\0".to_vec(), &section),
        );
        let output = guestmem(&["describe", str_of(&module)]);
        if let Some(expected) = case["describe"].as_str() {
            assert_eq!(
                output.status.code(),
                Some(0),
                "{name}: {}",
                text(&output.stderr)
            );
            assert_eq!(text(&output.stdout), expected, "{name}");
            let declaration = case["typescript"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: a `typescript` beside its `describe`"));
            let output = guestmem(&["describe", str_of(&module), "--typescript"]);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{name}: {}",
                text(&output.stderr)
            );
            assert_eq!(text(&output.stdout), declaration, "{name}: --typescript");
        } else {
            let error = case["error"].as_str().expect("`describe` or `error`");
            assert_eq!(output.status.code(), Some(1), "{name}");
            assert!(
                text(&output.stderr).contains(error),
                "{name}: `{error}` is not in {:?}",
                text(&output.stderr)
            );
        }
    }
}

#[test]
fn wit_is_valid_for_every_case_of_testdata() {
    let mut parsed = 0;
    for case in section_cases() {
        let name = case["name"].as_str().expect("a name");
        let section = hex(case["section"].as_str().expect("a section"));
        let module = write_module(
            &format!("wit {name}"),
            &with_section(b"\0asm\x01\0\0\0".to_vec(), &section),
        );
        let output = guestmem(&["wit", str_of(&module)]);
        if case["describe"].is_null() {
            assert_eq!(output.status.code(), Some(1), "{name}: a malformed section");
            continue;
        }
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {}",
            text(&output.stderr)
        );
        let wit = text(&output.stdout);
        let mut resolve = wit_parser::Resolve::default();
        if let Err(error) = resolve.push_str(format!("{name}.wit"), &wit) {
            panic!("{name}: not valid WIT ({error:#}):\n{wit}");
        }
        parsed += 1;
    }
    assert!(parsed >= 3, "{parsed} cases parsed");
}

#[test]
fn wit_of_greet_and_a_module_without_a_section() {
    let greet = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests/greet.wasm");
    let output = guestmem(&["wit", str_of(&greet)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "// Written by `guestmem wit` from the module's guestmem.interface section.\n\
         package guestmem:greet;\n\
         \n\
         world greet {\n\
         \x20 import env: interface {\n\
         \x20   /// A failure's message reaches the guest through `guestmem.last_error`.\n\
         \x20   salutation: func() -> result<string, string>;\n\
         \x20   log: func(line: string);\n\
         \x20 }\n\
         \x20 /// A failure carries the guest's `last_error` message.\n\
         \x20 export greet: func(name: string) -> result<string, string>;\n\
         }\n"
    );
    let module = write_module("wit without a section", b"\0asm\x01\0\0\0");
    let output = guestmem(&["wit", str_of(&module)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("no guestmem.interface section"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn check_passes_every_guest_built() {
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests");
    for name in [
        "upper",
        "greet",
        "shapes",
        "in_place",
        "echo-dlmalloc",
        "wasi_env-wasip1",
    ] {
        let path = guests.join(format!("{name}.wasm"));
        if !path.exists() {
            println!(
                "skipped {name}: {} is not built (bash .ci/guests.sh)",
                path.display()
            );
            continue;
        }
        let output = guestmem(&["check", str_of(&path)]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {}",
            text(&output.stderr)
        );
        let stdout = text(&output.stdout);
        let meets = format!("{}: meets the guestmem contract (", path.display());
        assert!(
            stdout.starts_with(&meets) && stdout.ends_with(" exports described)\n"),
            "{name}: {stdout}"
        );
    }
}

/// A module that meets the contract: `abi_version` returns what `_initialize` sets, and the
/// section describes `upper` and the import `env.log`, which traps if called.
const GUEST: &str = r#"(module
  (import "env" "log" (func (param i32 i32)))
  (memory (export "memory") 1)
  (global $version (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $version (i32.const 1)))
  (func (export "alloc") (param i32) (result i32) (i32.const 8))
  (func (export "dealloc") (param i32 i32))
  (func (export "free") (param i32))
  (func (export "realloc") (param i32 i32) (result i32) (i32.const 8))
  (func (export "last_error") (result i32) (i32.const 0))
  (func (export "abi_version") (result i32) (global.get $version))
  (func (export "upper") (param i32 i32) (result i32) (i32.const 0)))"#;

/// `export upper(text: string) -> string`.
const UPPER: &str = "010000057570706572010474657874020200";
/// `import env.log(line: string) -> none`.
const LOG: &str = "010103656e76036c6f6701046c696e65020000";

/// `GUEST` with `section` as its interface section.
fn guest(section: &str) -> Vec<u8> {
    with_section(wat::parse_str(GUEST).expect("valid text"), &hex(section))
}

/// `GUEST` with `from` replaced by `to`, and `section` as its interface section.
fn variant(from: &str, to: &str, section: &str) -> Vec<u8> {
    assert!(GUEST.contains(from), "`{from}` is not in the module");
    let wasm = wat::parse_str(GUEST.replace(from, to)).expect("valid text");
    with_section(wasm, &hex(section))
}

#[test]
fn check_passes_a_module_that_meets_the_contract() {
    let section = format!("{UPPER}{LOG}");
    for (name, wasm) in [
        ("meets", guest(&section)),
        (
            "prefixed free",
            variant(
                r#"(export "free")"#,
                r#"(export "guestmem_free")"#,
                &section,
            ),
        ),
        ("no section", wat::parse_str(GUEST).expect("valid text")),
    ] {
        let module = write_module(&format!("check {name}"), &wasm);
        let output = guestmem(&["check", str_of(&module)]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {}",
            text(&output.stderr)
        );
        let described = if name == "no section" { 0 } else { 1 };
        assert_eq!(
            text(&output.stdout),
            format!(
                "{}: meets the guestmem contract ({described} exports described)\n",
                module.display()
            ),
            "{name}"
        );
    }
}

/// Each module breaks one rule of the contract and is otherwise `GUEST`, which passes: so each
/// fails only through the check of that rule, and the one reason printed must be its own.
#[test]
fn check_fails_a_module_for_each_rule_it_breaks() {
    let section = format!("{UPPER}{LOG}");
    // `export lower(text: string) -> string`.
    let lower = format!("01000005{}010474657874020200{LOG}", "6c6f776572");
    let cases = [
        (
            "missing free",
            variant(r#"(func (export "free") (param i32))"#, "", &section),
            "export `free`: missing",
        ),
        (
            "abi_version 2",
            variant("(i32.const 1)", "(i32.const 2)", &section),
            "the guest speaks ABI version 2; this host speaks version 1",
        ),
        (
            "described export missing",
            guest(&lower),
            "`export lower(text: string) -> string` is described but not exported",
        ),
        (
            "described export of another type",
            variant(
                r#"(export "upper") (param i32 i32)"#,
                r#"(export "upper") (param i32)"#,
                &section,
            ),
            "`export upper(text: string) -> string` does not match the wasm type",
        ),
        (
            "described import of another type",
            variant("(func (param i32 i32)))", "(func (param i32)))", &section),
            "`import env.log(line: string) -> none` does not match the wasm type",
        ),
        (
            "described import missing",
            variant(
                r#"(import "env" "log" (func (param i32 i32)))"#,
                "",
                &section,
            ),
            "`import env.log(line: string) -> none` is described but not imported",
        ),
        (
            "an ABI export of another type",
            variant(
                r#"(export "alloc") (param i32)"#,
                r#"(export "alloc") (param i64)"#,
                &section,
            ),
            "export `alloc`: has the wasm type",
        ),
        (
            "memory not exported",
            variant(r#"(memory (export "memory") 1)"#, "(memory 1)", &section),
            "export `memory`: missing",
        ),
        (
            "malformed section",
            guest(&section[..section.len() - 2]),
            "interface section: an entry is cut short",
        ),
    ];
    for (name, wasm, reason) in cases {
        let module = write_module(&format!("check {name}"), &wasm);
        let output = guestmem(&["check", str_of(&module)]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.first().copied(),
            Some(format!("{}: does not meet the guestmem contract:", module.display()).as_str()),
            "{name}"
        );
        assert_eq!(lines.len(), 2, "{name}: one reason only: {stderr}");
        assert!(
            lines[1].contains(reason),
            "{name}: `{reason}` is not in {stderr:?}"
        );
    }
}

#[test]
fn usage_and_unreadable_files() {
    for args in [&[][..], &["--help"]] {
        let output = guestmem(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(
            text(&output.stdout).starts_with("usage: guestmem"),
            "{args:?}"
        );
    }
    for args in [
        &["check"][..],
        &["describe", "a.wasm", "--json"],
        &["frobnicate"],
    ] {
        let output = guestmem(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr).contains("usage: guestmem"), "{args:?}");
    }
    let not_wasm = write_module("not wasm", b"not a module");
    let output = guestmem(&["check", str_of(&not_wasm)]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a readable file that is not a module"
    );
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no such module.wasm");
    for command in ["check", "describe"] {
        let output = guestmem(&[command, str_of(&missing)]);
        assert_eq!(output.status.code(), Some(2), "{command}");
        assert!(
            text(&output.stderr).contains("no such module.wasm"),
            "{command}"
        );
    }
}
