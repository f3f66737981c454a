//! Guest modules compiled ahead of time for the Valgrind run.
//!
//! Under Valgrind, Cranelift takes about ten seconds per guest, most of the Valgrind run. A run
//! outside Valgrind therefore compiles every guest with [`valgrind_engine`]'s configuration and
//! stores the result next to the guests, named after a hash of the module's bytes; the run under
//! Valgrind loads it instead of compiling, and compiles as usual when there is none.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::{Engine, Module};

use crate::engine::valgrind_engine;
use crate::error::HostError;
use crate::guests::GuestDir;

/// Where the compiled form of the module in `wasm` (whose bytes are `bytes`) is kept.
fn artifact_path(wasm: &Path, bytes: &[u8]) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    let stem = wasm.file_stem().unwrap_or_default().to_string_lossy();
    let dir = wasm.parent().unwrap_or(Path::new("."));
    dir.join("valgrind")
        .join(format!("{stem}-{:016x}.cwasm", hasher.finish()))
}

fn read(path: &Path) -> Result<Vec<u8>, HostError> {
    std::fs::read(path).map_err(|source| HostError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Compiles every guest in `guests` for Valgrind runs, skipping those already compiled. Returns
/// how many it compiled.
///
/// # Errors
///
/// [`HostError::Io`] if a guest cannot be read or an artifact written, [`HostError::Wasmtime`] if
/// one does not compile.
pub fn prepare(guests: &GuestDir) -> Result<usize, HostError> {
    let engine = valgrind_engine()?;
    let mut compiled = 0;
    for wasm in guests.expected_files() {
        let bytes = read(&wasm)?;
        let artifact = artifact_path(&wasm, &bytes);
        if artifact.exists() {
            continue;
        }
        let code = engine.precompile_module(&bytes)?;
        let write = |path: &Path| -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
            std::fs::write(path, &code)
        };
        write(&artifact).map_err(|source| HostError::Io {
            path: artifact.clone(),
            source,
        })?;
        compiled += 1;
    }
    Ok(compiled)
}

/// The module in `wasm`, loaded from its compiled form if [`prepare`] made one that `engine`
/// accepts; `None` otherwise.
#[must_use]
pub fn load(engine: &Engine, wasm: &Path) -> Option<Module> {
    let bytes = std::fs::read(wasm).ok()?;
    let code = std::fs::read(artifact_path(wasm, &bytes)).ok()?;
    // SAFETY: the artifact was written by `prepare` from these very bytes (its name carries their
    // hash), with `Engine::precompile_module`; wasmtime rejects it unless it was made by this
    // wasmtime version with a configuration compatible with `engine`. Like the rest of the target
    // directory, files there are trusted not to be forged.
    unsafe { Module::deserialize(engine, &code) }.ok()
}
