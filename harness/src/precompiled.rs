//! Guest modules compiled ahead of time for the Valgrind run.
//!
//! Under Valgrind, Cranelift takes about ten seconds per guest, most of the Valgrind run. A run
//! outside Valgrind therefore compiles every guest with [`valgrind_engine`]'s configuration and
//! stores the result in the guest directory, named after the module and a hash of its bytes; the
//! run under Valgrind loads it instead of compiling, and compiles as usual when there is none.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::{Engine, Module};

use crate::HostError;
use crate::engine::valgrind_engine;
use crate::guests::GuestDir;

/// Where the compiled form of module `name`, whose source is `source`, is kept.
fn artifact_path(guests: &GuestDir, name: &str, source: &[u8]) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    source.hash(&mut hasher);
    guests
        .dir()
        .join("valgrind")
        .join(format!("{name}-{:016x}.cwasm", hasher.finish()))
}

/// The name a module file is known by: its stem.
fn file_name(path: &Path) -> String {
    path.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

fn read(path: &Path) -> Result<Vec<u8>, HostError> {
    std::fs::read(path).map_err(|source| crate::guest::io_error(path, source))
}

/// Compiles every guest in `guests`, and the modules in `inline` (name and source), for Valgrind
/// runs, skipping those already compiled. Returns how many it compiled.
///
/// # Errors
///
/// [`HostError::Wasmtime`] if a guest cannot be read, an artifact written, or one compiled.
pub fn prepare(guests: &GuestDir, inline: &[(&str, &[u8])]) -> Result<usize, HostError> {
    let engine = valgrind_engine()?;
    let mut sources = Vec::new();
    for wasm in guests.expected_files() {
        sources.push((file_name(&wasm), read(&wasm)?));
    }
    sources.extend(
        inline
            .iter()
            .map(|&(name, source)| (name.to_owned(), source.to_vec())),
    );
    let mut compiled = 0;
    for (name, source) in sources {
        let artifact = artifact_path(guests, &name, &source);
        if artifact.exists() {
            continue;
        }
        let code = engine.precompile_module(&source)?;
        let write = |path: &Path| -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
            std::fs::write(path, &code)
        };
        write(&artifact).map_err(|source| crate::guest::io_error(&artifact, source))?;
        compiled += 1;
    }
    Ok(compiled)
}

/// The module in file `wasm`, loaded from its compiled form if [`prepare`] made one that
/// `engine` accepts; `None` otherwise.
#[must_use]
pub fn load_file(engine: &Engine, guests: &GuestDir, wasm: &Path) -> Option<Module> {
    let source = std::fs::read(wasm).ok()?;
    load(engine, guests, &file_name(wasm), &source)
}

/// Module `name` with source `source`, loaded from its compiled form if [`prepare`] made one that
/// `engine` accepts; `None` otherwise.
#[must_use]
pub fn load(engine: &Engine, guests: &GuestDir, name: &str, source: &[u8]) -> Option<Module> {
    let code = std::fs::read(artifact_path(guests, name, source)).ok()?;
    // SAFETY: the artifact was written by `prepare` from this very source (its name carries a hash
    // of it), with `Engine::precompile_module`; wasmtime rejects it unless it was made by this
    // wasmtime version with a configuration compatible with `engine`. Like the rest of the target
    // directory, files there are trusted not to be forged.
    unsafe { Module::deserialize(engine, code) }.ok()
}
