//! Compiled modules kept on disk, so that a server's restart skips Cranelift: one file per
//! engine configuration and module, its SHA-256 beside it.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use crate::{Error, Plugin};

/// A directory of compiled modules (`Module::serialize`), named by a hash of the engine's
/// compilation settings (`Engine::precompile_compatibility_hash`, which changes with the
/// wasmtime version and the `Config`) and a hash of the module's bytes.
///
/// A file that is missing, whose SHA-256 does not match the one written beside it (truncated,
/// corrupted, half-written), or that wasmtime refuses to load is a miss: the module is compiled
/// and the file written again. Only a failure to compile, or to write the directory, is an error.
///
/// The directory must be as trusted as the program itself: loading a compiled module runs its
/// code, and anyone who can write there can write a matching checksum too.
#[derive(Clone, Debug)]
pub struct ModuleCache {
    dir: PathBuf,
}

/// What [`ModuleCache::load`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheOutcome {
    /// Loaded from the cache.
    Hit,
    /// Not there: compiled and written.
    Miss,
    /// There but unusable (checksum mismatch, refused by wasmtime): compiled and rewritten.
    Replaced,
}

/// Tells apart the temporary files of writers in one process; the process id does the rest.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

impl ModuleCache {
    /// A cache in `dir`, created when the first module is written.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file the module `wasm` compiled by `engine` is kept in (its checksum is beside it,
    /// with `.sha256` added).
    #[must_use]
    pub fn path(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        let mut engine_hash = Sha256Hasher(Sha256::new());
        engine
            .precompile_compatibility_hash()
            .hash(&mut engine_hash);
        let engine_hash = hex(&engine_hash.0.finalize()[..8]);
        let module_hash = hex(&Sha256::digest(wasm));
        self.dir.join(format!("{engine_hash}-{module_hash}.cwasm"))
    }

    /// The module `wasm` compiled for `engine`: from the cache, or compiled and written to it.
    ///
    /// # Errors
    ///
    /// [`Error::Wasmtime`] if `wasm` does not compile, or the directory or the file cannot be
    /// written.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> Result<(Module, CacheOutcome), Error> {
        let path = self.path(engine, wasm);
        let outcome = match read_verified(&path) {
            Some(Verified(bytes)) => {
                // SAFETY: `Module::deserialize` runs the machine code in `bytes` and trusts its
                // metadata, so the bytes must be what `Module::serialize` produced. They are: the
                // SHA-256 of exactly these bytes (read into memory once, so the file changing
                // afterwards cannot matter) matches the checksum written beside them when this
                // cache serialized them, which rules out truncation, corruption and a
                // half-written file. Output of another wasmtime version or configuration is
                // refused by wasmtime's own header checks (and has another engine hash in its
                // name). What a checksum cannot rule out is a writer forging both files: the
                // type's documentation makes the directory as trusted as the program.
                match unsafe { Module::deserialize(engine, &bytes) } {
                    Ok(module) => return Ok((module, CacheOutcome::Hit)),
                    Err(_) => CacheOutcome::Replaced,
                }
            }
            None if path.exists() => CacheOutcome::Replaced,
            None => CacheOutcome::Miss,
        };
        let module = Module::new(engine, wasm)?;
        let serialized = module.serialize()?;
        self.write(&path, &serialized).map_err(|error| {
            Error::Wasmtime(
                wasmtime::Error::new(error).context(format!("writing {}", path.display())),
            )
        })?;
        Ok((module, outcome))
    }

    /// [`ModuleCache::load`], made a [`Plugin`] (its interface section read from `wasm`).
    ///
    /// # Errors
    ///
    /// What [`ModuleCache::load`] and [`Plugin::from_module`] return.
    pub fn plugin(&self, engine: &Engine, wasm: &[u8]) -> Result<Plugin, Error> {
        let (module, _) = self.load(engine, wasm)?;
        Plugin::from_module(module, wasm)
    }

    /// Writes the module, then its checksum, each through a temporary file renamed into place,
    /// so that a reader never sees half a file under the final name.
    fn write(&self, path: &Path, serialized: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let checksum = hex(&Sha256::digest(serialized));
        self.replace(path, serialized)?;
        self.replace(&checksum_path(path), checksum.as_bytes())
    }

    fn replace(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let temp = self.dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
        ));
        let written = std::fs::File::create(&temp).and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        });
        let renamed = written.and_then(|()| std::fs::rename(&temp, path));
        if renamed.is_err() {
            // The temporary file is all that is left to clean up; the error says what failed.
            let _removed = std::fs::remove_file(&temp);
        }
        renamed
    }
}

/// Bytes whose SHA-256 matched the checksum file.
struct Verified(Vec<u8>);

/// The cached file's bytes, if they and their checksum can be read and agree.
fn read_verified(path: &Path) -> Option<Verified> {
    let bytes = std::fs::read(path).ok()?;
    let checksum = std::fs::read_to_string(checksum_path(path)).ok()?;
    (checksum.trim() == hex(&Sha256::digest(&bytes))).then_some(Verified(bytes))
}

fn checksum_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, byte| {
        // Writing to a String cannot fail.
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// Feeds what `Hash` writes into a SHA-256, for a hash that is the same in every process (std's
/// hashers are seeded per process, or not guaranteed stable across Rust versions).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes([
            digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_two_lowercase_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn the_checksum_sits_beside_the_module() {
        assert_eq!(
            checksum_path(Path::new("/cache/a-b.cwasm")),
            Path::new("/cache/a-b.cwasm.sha256")
        );
    }
}
