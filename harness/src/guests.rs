//! The guest modules under test: where they live and how they are built.
//!
//! How each module is built is one table, `testdata/guests.tsv` (package, target, cargo arguments,
//! and which are built together), which .ci/guests.sh and the JavaScript checks read too. Every
//! module is copied into one directory (by default `target/guests`) as `MODULE.wasm`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasmtime::Engine;

use crate::HostError;
use crate::guest::GuestModule;

/// The wasm target guests are built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

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

/// Guests as people write them: with `std`, and for wasm32-wasip1 (no_std and std), checked
/// like the examples.
pub const VARIANTS: [&str; 7] = [
    "word_count",
    "array_sum-wasip1",
    "replace-wasip1",
    "echo-wasip1",
    "upper-wasip1",
    "word_count-wasip1",
    "wasi_env-wasip1",
];

/// The std build of the `faults` test guest.
pub const FAULTS_STD: &str = "faults-std";

/// The table of `testdata/guests.tsv`.
const TABLE: &str = include_str!("../../testdata/guests.tsv");

/// One row of `testdata/guests.tsv`: how one module is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipe {
    /// The module's name: it is kept as `MODULE.wasm`.
    pub module: &'static str,
    /// The package built.
    pub package: &'static str,
    /// The target.
    pub target: &'static str,
    /// Extra cargo arguments, separated by spaces (empty: none).
    pub args: &'static str,
    /// The rows built in one cargo invocation share a group; `None`: built alone.
    pub group: Option<&'static str>,
}

/// Every row of `testdata/guests.tsv`, in its order.
///
/// # Panics
///
/// If a row does not have five columns: a unit test reads the table.
#[must_use]
pub fn recipes() -> Vec<Recipe> {
    TABLE
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let columns: Vec<&'static str> = line.split('\t').collect();
            let &[module, package, target, args, group] = columns.as_slice() else {
                panic!("testdata/guests.tsv: not five columns: {line:?}");
            };
            let none = |column: &'static str| (column != "-").then_some(column);
            Recipe {
                module,
                package,
                target,
                args: none(args).unwrap_or(""),
                group: none(group),
            }
        })
        .collect()
}

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

    /// Every module this directory should hold: one per row of `testdata/guests.tsv`.
    #[must_use]
    pub fn expected_files(&self) -> Vec<PathBuf> {
        recipes()
            .iter()
            .map(|recipe| self.example_path(recipe.module))
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

/// Builds every module of `testdata/guests.tsv` with cargo, in the table's order, and copies each
/// into `out`.
///
/// # Errors
///
/// [`BuildError::MissingTarget`] (naming the `rustup` command that fixes it) if a wasm target is
/// not installed, or the first cargo invocation or copy that fails.
pub fn build_all(out: &GuestDir) -> Result<(), BuildError> {
    check_wasm_target()?;
    std::fs::create_dir_all(out.dir()).map_err(|source| BuildError::Copy {
        from: PathBuf::new(),
        to: out.dir().to_owned(),
        source,
    })?;
    let recipes = recipes();
    let mut built_groups = Vec::new();
    for recipe in &recipes {
        let batch: Vec<&Recipe> = match recipe.group {
            Some(group) if built_groups.contains(&group) => continue,
            Some(group) => {
                built_groups.push(group);
                recipes
                    .iter()
                    .filter(|other| other.group == Some(group))
                    .collect()
            }
            None => vec![recipe],
        };
        let packages = batch.iter().flat_map(|recipe| ["-p", recipe.package]);
        let args = recipe.args.split_whitespace();
        cargo_build_with("guest", recipe.target, packages.chain(args))?;
        for recipe in batch {
            let built = target_dir().join(recipe.target).join("guest");
            copy(
                &built.join(format!("{}.wasm", recipe.package)),
                &out.example_path(recipe.module),
            )?;
        }
    }
    Ok(())
}

fn check_wasm_target() -> Result<(), BuildError> {
    let mut targets: Vec<&str> = recipes().iter().map(|recipe| recipe.target).collect();
    targets.dedup();
    targets.into_iter().try_for_each(check_target)
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

/// Copies a built module into the guest directory through a temporary file and a rename, so that
/// a process reading the directory meanwhile (CI's Valgrind run, beside later steps that build
/// the guests again) sees the old file or the new one, never a half-written one.
fn copy(from: &Path, to: &Path) -> Result<(), BuildError> {
    let partial = to.with_extension("wasm.partial");
    std::fs::copy(from, &partial)
        .and_then(|_| std::fs::rename(&partial, to))
        .map_err(|source| BuildError::Copy {
            from: from.to_owned(),
            to: to.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::{
        ALLOCATORS, BuildError, EXAMPLES, FAULTS, FAULTS_STD, GuestDir, OWN_ALLOCATOR, VARIANTS,
        WASM_TARGET, check_wasm_target, recipes,
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
    fn the_table_builds_every_guest_the_checks_load() {
        let guests = GuestDir::new("/guests");
        let expected = guests.expected_files();
        let names = EXAMPLES
            .iter()
            .chain(&VARIANTS)
            .chain(&[FAULTS, FAULTS_STD, OWN_ALLOCATOR])
            .map(|name| (*name).to_owned())
            .chain(
                ALLOCATORS
                    .iter()
                    .map(|allocator| format!("echo-{allocator}")),
            );
        for name in names {
            assert!(
                expected.contains(&guests.example_path(&name)),
                "testdata/guests.tsv has no row for {name}"
            );
        }
        assert!(guests.echo_path("talc").ends_with("echo-talc.wasm"));
    }

    #[test]
    fn rows_of_a_group_share_target_and_arguments() {
        let recipes = recipes();
        for recipe in &recipes {
            for other in recipes
                .iter()
                .filter(|other| recipe.group.is_some() && other.group == recipe.group)
            {
                assert_eq!(
                    (recipe.target, recipe.args),
                    (other.target, other.args),
                    "{recipe:?}"
                );
            }
        }
        assert!(recipes.iter().any(|recipe| recipe.group.is_some()));
    }
}
