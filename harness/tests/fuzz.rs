//! The fuzz targets' inputs as ordinary tests: every file of `fuzz/corpus/TARGET` and
//! `fuzz/regressions/TARGET` goes through the check the target runs, the same code (fuzz/src,
//! included here), so an input that once found a bug keeps it fixed, and the corpus keeps its
//! coverage under `cargo test`, on stable, without libFuzzer.

#[path = "../../fuzz/src/abi_sequence.rs"]
mod abi_sequence;
#[path = "../../fuzz/src/export_input.rs"]
mod export_input;
#[path = "../../fuzz/src/host_reader.rs"]
mod host_reader;
#[path = "../../fuzz/src/hostile_guest.rs"]
mod hostile_guest;
#[path = "../../tests/model/mod.rs"]
mod model;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[global_allocator]
static WATCH: host_reader::Watch = host_reader::Watch;

/// `host_reader`'s hostile guest, compiled here (the fuzz build loads what its build.rs compiled).
fn hostile_module(engine: &wasmtime::Engine) -> wasmtime::Module {
    wasmtime::Module::new(engine, hostile_guest::GUEST).expect("the hostile guest compiles")
}

/// Runs `check` on every input kept for `target`; fails naming each input that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut inputs: Vec<PathBuf> = ["corpus", "regressions"]
        .iter()
        .filter_map(|dir| std::fs::read_dir(fuzz.join(dir).join(target)).ok())
        .flatten()
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs kept for {target}");
    let failed: Vec<String> = inputs
        .iter()
        .filter_map(|path| {
            let bytes = std::fs::read(path).expect("read an input");
            let outcome = catch_unwind(AssertUnwindSafe(|| check(&bytes)));
            let message = model::panic_text(&*outcome.err()?);
            Some(format!("{}: {message}", path.display()))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} inputs failed:\n{}",
        failed.len(),
        inputs.len(),
        failed.join("\n")
    );
}

#[test]
fn abi_sequence() {
    replay("abi_sequence", abi_sequence::check);
}

#[test]
fn export_input() {
    replay("export_input", export_input::check);
}

#[test]
fn host_reader() {
    replay("host_reader", host_reader::check);
}
