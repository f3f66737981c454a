//! The guest modules under test: where they live and how they are built.
//!
//! Guests are the workspace's example crates built for `wasm32-unknown-unknown` with the `guest`
//! profile. Cargo unifies features across the packages of one build, so the examples that enable
//! `stats` are built together, `minimal` on its own, and `echo` once per allocator back end; after
//! each build the modules are copied into one directory (by default `target/guests`) under names
//! that say how they were built.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasmtime::Engine;

use crate::HostError;
use crate::guest::GuestModule;

/// The wasm target guests are built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The examples built with the `stats` feature, in one cargo invocation.
pub const STATS_EXAMPLES: [&str; 4] = ["array_sum", "upper", "replace", "echo"];

/// The example built without `stats`: it has no `live_blocks` or `heap_bytes` export.
pub const MINIMAL: &str = "minimal";

/// Every example guest.
pub const EXAMPLES: [&str; 5] = ["array_sum", "upper", "replace", "echo", MINIMAL];

/// The test guest that panics and fails an allocation in its own code (harness/guests/faults),
/// built with the `stats` examples: its guestmem features are theirs.
pub const FAULTS: &str = "faults";

/// The test guest with none of guestmem's back ends, on its own `#[global_allocator]`
/// (harness/guests/own_allocator), built on its own so that no back end unifies into it.
pub const OWN_ALLOCATOR: &str = "own_allocator";

/// The wasm target of WASI guests.
pub const WASI_TARGET: &str = "wasm32-wasip1";

/// A guest built on its own for `target`: the module `NAME.wasm` it is kept as, its package, and
/// extra cargo arguments.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// The module's name in the guest directory (without `.wasm`).
    pub name: &'static str,
    /// The package built.
    pub package: &'static str,
    /// The target it is built for.
    pub target: &'static str,
    /// Extra cargo arguments (features).
    pub args: &'static [&'static str],
}

/// Guests as people write them: with `std`, and for wasm32-wasip1 (no_std and std), each built
/// on its own, since `std` must not unify into the no_std guests.
pub const VARIANTS: [Variant; 6] = [
    Variant {
        name: "word_count",
        package: "word_count",
        target: WASM_TARGET,
        args: &[],
    },
    Variant {
        name: "faults-std",
        package: FAULTS,
        target: WASM_TARGET,
        args: &["--features", "guestmem/std"],
    },
    Variant {
        name: "echo-wasip1",
        package: "echo",
        target: WASI_TARGET,
        args: &[],
    },
    Variant {
        name: "upper-wasip1",
        package: "upper",
        target: WASI_TARGET,
        args: &[],
    },
    Variant {
        name: "word_count-wasip1",
        package: "word_count",
        target: WASI_TARGET,
        args: &[],
    },
    Variant {
        name: "wasi_env-wasip1",
        package: "wasi_env",
        target: WASI_TARGET,
        args: &[],
    },
];

/// The allocator back ends, as cargo features of the example crates.
pub const ALLOCATORS: [&str; 4] = ["talc", "wee_alloc", "lol_alloc", "dlmalloc"];

/// A directory holding built guest modules.
#[derive(Debug, Clone)]
pub struct GuestDir {
    dir: PathBuf,
}

impl GuestDir {
    /// Guests in `dir`.
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `target/guests` in the workspace (or in `CARGO_TARGET_DIR`).
    #[must_use]
    pub fn default_location() -> Self {
        Self::new(target_dir().join("guests"))
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The module file of example `name`.
    #[must_use]
    pub fn example_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.wasm"))
    }

    /// The module file of `echo` built with allocator back end `allocator`.
    #[must_use]
    pub fn echo_path(&self, allocator: &str) -> PathBuf {
        self.dir.join(format!("echo-{allocator}.wasm"))
    }

    /// Compiles example `name`.
    ///
    /// # Errors
    ///
    /// See [`GuestModule::from_file`].
    pub fn example(&self, engine: &Engine, name: &str) -> Result<GuestModule, HostError> {
        GuestModule::from_file(engine, &self.example_path(name))
    }

    /// Compiles `echo` built with `allocator`.
    ///
    /// # Errors
    ///
    /// See [`GuestModule::from_file`].
    pub fn echo(&self, engine: &Engine, allocator: &str) -> Result<GuestModule, HostError> {
        GuestModule::from_file(engine, &self.echo_path(allocator))
    }

    /// Every module this directory should hold, for a quick completeness check.
    #[must_use]
    pub fn expected_files(&self) -> Vec<PathBuf> {
        EXAMPLES
            .iter()
            .chain([&FAULTS, &OWN_ALLOCATOR])
            .map(|name| self.example_path(name))
            .chain(ALLOCATORS.iter().map(|allocator| self.echo_path(allocator)))
            .chain(
                VARIANTS
                    .iter()
                    .map(|variant| self.example_path(variant.name)),
            )
            .collect()
    }
}

/// Why the guests could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Rust standard library for the wasm target is not installed.
    #[error(
        "the {target} target is not installed (no core library in {libdir}); \
         install it with `rustup target add {target}`"
    )]
    MissingTarget {
        /// The target.
        target: String,
        /// Where rustc looked for it.
        libdir: String,
    },
    /// A command could not be started.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A command failed.
    #[error("`{command}` failed ({status})")]
    Failed {
        /// The command.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// A built module could not be copied.
    #[error("cannot copy {} to {}: {source}", from.display(), to.display())]
    Copy {
        /// The module cargo wrote.
        from: PathBuf,
        /// Where it should go.
        to: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The workspace root (the harness crate's parent directory).
#[must_use]
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_owned()
}

/// The workspace's target directory.
#[must_use]
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// Builds every guest with cargo and copies the modules into `out`.
///
/// # Errors
///
/// [`BuildError::MissingTarget`] (naming the `rustup` command that fixes it) if the wasm target is
/// not installed, or the first cargo invocation or copy that fails.
pub fn build_all(out: &GuestDir) -> Result<(), BuildError> {
    check_wasm_target()?;
    std::fs::create_dir_all(out.dir()).map_err(|source| BuildError::Copy {
        from: PathBuf::new(),
        to: out.dir().to_owned(),
        source,
    })?;
    let built = target_dir().join(WASM_TARGET).join("guest");

    cargo_build(
        STATS_EXAMPLES
            .iter()
            .chain([&FAULTS])
            .flat_map(|name| ["-p", name]),
    )?;
    for name in STATS_EXAMPLES.iter().chain([&FAULTS]) {
        copy(&built.join(format!("{name}.wasm")), &out.example_path(name))?;
    }
    for name in [MINIMAL, OWN_ALLOCATOR] {
        cargo_build(["-p", name])?;
        copy(&built.join(format!("{name}.wasm")), &out.example_path(name))?;
    }
    for allocator in ALLOCATORS {
        cargo_build([
            "-p",
            "echo",
            "--no-default-features",
            "--features",
            allocator,
        ])?;
        copy(&built.join("echo.wasm"), &out.echo_path(allocator))?;
    }
    for variant in VARIANTS {
        cargo_build_with(
            "guest",
            variant.target,
            ["-p", variant.package].iter().chain(variant.args),
        )?;
        let built = target_dir().join(variant.target).join("guest");
        copy(
            &built.join(format!("{}.wasm", variant.package)),
            &out.example_path(variant.name),
        )?;
    }
    Ok(())
}

fn check_wasm_target() -> Result<(), BuildError> {
    check_target(WASM_TARGET)?;
    check_target(WASI_TARGET)
}

fn check_target(target: &str) -> Result<(), BuildError> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut command = Command::new(&rustc);
    // From the workspace, so that rustup picks the toolchain of `rust-toolchain.toml`.
    command
        .current_dir(workspace_root())
        .args(["--print", "target-libdir", "--target", target]);
    let output = command.output().map_err(|source| BuildError::Spawn {
        command: format!("{command:?}"),
        source,
    })?;
    let libdir = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let has_core = std::fs::read_dir(&libdir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|entry| entry.file_name().to_string_lossy().starts_with("libcore-"))
    });
    if output.status.success() && has_core {
        Ok(())
    } else {
        Err(BuildError::MissingTarget {
            target: target.to_owned(),
            libdir,
        })
    }
}

/// `cargo build --quiet --profile guest --target wasm32-unknown-unknown ARGS`, in the workspace.
fn cargo_build<I, S>(args: I) -> Result<(), BuildError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    cargo_build_with("guest", WASM_TARGET, args)
}

/// `cargo build --quiet --profile PROFILE --target TARGET ARGS`, in the workspace: how every guest
/// is built, by the checks and by the benchmarks.
///
/// # Errors
///
/// [`BuildError::Spawn`] if cargo cannot be started, [`BuildError::Failed`] if it fails.
pub fn cargo_build_with<I, S>(profile: &str, target: &str, args: I) -> Result<(), BuildError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["build", "--quiet", "--profile", profile, "--target", target])
        .args(args);
    let shown = format!("{command:?}");
    eprintln!("harness: building guests: {shown}");
    let status = command.status().map_err(|source| BuildError::Spawn {
        command: shown.clone(),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::Failed {
            command: shown,
            status,
        })
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), BuildError> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|source| BuildError::Copy {
            from: from.to_owned(),
            to: to.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::{
        ALLOCATORS, BuildError, EXAMPLES, FAULTS, GuestDir, OWN_ALLOCATOR, VARIANTS, WASM_TARGET,
        check_wasm_target,
    };

    #[test]
    fn a_missing_target_names_the_command_that_installs_it() {
        let message = BuildError::MissingTarget {
            target: WASM_TARGET.to_owned(),
            libdir: "/nowhere".to_owned(),
        }
        .to_string();
        assert!(
            message.contains(&format!("rustup target add {WASM_TARGET}")),
            "{message}"
        );
    }

    #[test]
    fn the_wasm_target_is_found_where_it_is_installed() {
        // The toolchain file installs it; CI adds it before running the harness.
        assert!(check_wasm_target().is_ok());
    }

    #[test]
    fn echo_builds_are_named_after_their_allocator() {
        let guests = GuestDir::new("/guests");
        assert!(guests.echo_path("talc").ends_with("echo-talc.wasm"));
        // Five examples, the faults and own-allocator guests, echo once per allocator, and the
        // std and wasip1 builds.
        let expected = guests.expected_files();
        assert_eq!(
            expected.len(),
            EXAMPLES.len() + 2 + ALLOCATORS.len() + VARIANTS.len()
        );
        assert!(expected.contains(&guests.example_path(FAULTS)));
        assert!(expected.contains(&guests.example_path(OWN_ALLOCATOR)));
    }
}
