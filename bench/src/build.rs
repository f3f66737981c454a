//! Builds every benchmark guest, one cargo invocation per guest and feature set (features unify
//! across the packages of one build), and copies each module to `target/bench/guests` under a
//! name that says how it was built: `EXAMPLE-ALLOCATOR.wasm`, `manual-EXAMPLE.wasm`,
//! `bench_workload-ALLOCATOR.wasm`, `echo_component.wasm`, `in_place.wasm`, `pull.wasm`, `pull_component.wasm`;
//! the round trip's and the host-function benchmark's guests again with `opt-level = 3`, as
//! `NAME-o3.wasm`.

use std::path::{Path, PathBuf};

use crate::BenchError;
use harness::guests::{ALLOCATORS, EXAMPLES, WASM_TARGET, cargo_build_with, recipes, target_dir};

/// The target the Component Model guest is built for.
pub const COMPONENT_TARGET: &str = "wasm32-wasip2";

/// The articles' version of each example: `manual` built with the example's feature (`minimal`
/// is `manual` with none).
#[must_use]
pub fn manual_file(example: &str) -> String {
    format!("manual-{example}.wasm")
}

/// An example built with one allocator back end.
#[must_use]
pub fn example_file(example: &str, allocator: &str) -> String {
    format!("{example}-{allocator}.wasm")
}

/// The workload guest built with one allocator back end.
#[must_use]
pub fn workload_file(allocator: &str) -> String {
    format!("bench_workload-{allocator}.wasm")
}

/// The `in_place` example (talc, guestmem's `stats`, as `echo-talc`): owned arguments.
pub const IN_PLACE_FILE: &str = "in_place.wasm";

/// The Component Model echo.
pub const COMPONENT_FILE: &str = "echo_component.wasm";

/// The guest that calls a host function (`bench/guests/pull`).
pub const PULL_FILE: &str = "pull.wasm";

/// The Component Model guest that calls an imported function (`bench/guests/pull_component`).
pub const PULL_COMPONENT_FILE: &str = "pull_component.wasm";

/// How the round-trip guests are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The `guest` profile as it is: `opt-level = "z"`, tuned for size.
    Guest,
    /// The `guest` profile with `opt-level = 3`, tuned for speed.
    Speed,
}

impl Build {
    /// The module file of `file` (`NAME.wasm`) in this build.
    #[must_use]
    pub fn file(self, file: &str) -> String {
        match self {
            Self::Guest => file.to_owned(),
            Self::Speed => file.replace(".wasm", "-o3.wasm"),
        }
    }

    /// How the report names it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Guest => "guest profile (opt-level \"z\")",
            Self::Speed => "guest profile with opt-level 3",
        }
    }
}

impl Build {
    /// The cargo profile this build uses: a copy of `guest` under a name no other build in the
    /// workspace uses, so that nothing can replace a module between its build and its copy
    /// (cargo locks the target directory only while it builds), and so that the two builds
    /// keep their own artifacts.
    fn profile(self) -> &'static str {
        match self {
            Self::Guest => "guest-bench",
            Self::Speed => "guest-bench-o3",
        }
    }

    /// The `--config` arguments that define [`Build::profile`].
    fn config(self) -> &'static [&'static str] {
        match self {
            Self::Guest => &["--config", "profile.guest-bench.inherits=\"guest\""],
            Self::Speed => &[
                "--config",
                "profile.guest-bench-o3.inherits=\"guest\"",
                "--config",
                "profile.guest-bench-o3.opt-level=3",
            ],
        }
    }

    /// Where cargo writes this build's modules for `target`.
    fn dir(self, target: &str) -> PathBuf {
        target_dir().join(target).join(self.profile())
    }
}

/// Builds every guest into `out`.
///
/// # Errors
///
/// [`BenchError::Build`] if cargo fails, [`BenchError::Io`] if a module cannot be copied.
pub fn build_all(out: &Path) -> Result<(), BenchError> {
    let built = Build::Guest.dir(WASM_TARGET);
    for allocator in ALLOCATORS {
        // Each example with this back end, as testdata/guests.tsv builds it.
        for example in EXAMPLES {
            let module = example_file(example, allocator);
            let recipe = recipes()
                .into_iter()
                .find(|recipe| format!("{}.wasm", recipe.module) == module)
                .ok_or_else(|| BenchError::Build {
                    command: module.clone(),
                    problem: "no row in testdata/guests.tsv".to_owned(),
                })?;
            let mut args = vec!["-p", recipe.package];
            args.extend(recipe.args.split_whitespace());
            cargo(Build::Guest, recipe.target, &args)?;
            copy(
                &Build::Guest
                    .dir(recipe.target)
                    .join(format!("{}.wasm", recipe.package)),
                &out.join(module),
            )?;
        }
        cargo(
            Build::Guest,
            WASM_TARGET,
            &[
                "-p",
                "bench_workload",
                "--no-default-features",
                "--features",
                allocator,
            ],
        )?;
        copy(
            &built.join("bench_workload.wasm"),
            &out.join(workload_file(allocator)),
        )?;
    }
    for build in [Build::Guest, Build::Speed] {
        let built = build.dir(WASM_TARGET);
        for example in EXAMPLES {
            if build == Build::Speed && example != "echo" {
                continue;
            }
            let mut args = vec!["-p", "manual"];
            if example != harness::guests::MINIMAL {
                args.extend(["--features", example]);
            }
            cargo(build, WASM_TARGET, &args)?;
            copy(
                &built.join("manual.wasm"),
                &out.join(build.file(&manual_file(example))),
            )?;
        }
        // Owned arguments: the `in_place` example with talc, built alone (as `echo-talc`).
        cargo(
            build,
            WASM_TARGET,
            &[
                "-p",
                "in_place",
                "--no-default-features",
                "--features",
                "talc",
            ],
        )?;
        copy(
            &built.join(IN_PLACE_FILE),
            &out.join(build.file(IN_PLACE_FILE)),
        )?;
        cargo(build, COMPONENT_TARGET, &["-p", "echo_component"])?;
        copy(
            &build.dir(COMPONENT_TARGET).join(COMPONENT_FILE),
            &out.join(build.file(COMPONENT_FILE)),
        )?;
        // The host-function benchmark's two guests, each built alone (guestmem's default
        // features for `pull`).
        cargo(build, WASM_TARGET, &["-p", "pull"])?;
        copy(&built.join(PULL_FILE), &out.join(build.file(PULL_FILE)))?;
        cargo(build, COMPONENT_TARGET, &["-p", "pull_component"])?;
        copy(
            &build.dir(COMPONENT_TARGET).join(PULL_COMPONENT_FILE),
            &out.join(build.file(PULL_COMPONENT_FILE)),
        )?;
    }
    // The round trip's guestmem echo tuned for speed (the others were built above).
    cargo(
        Build::Speed,
        WASM_TARGET,
        &["-p", "echo", "--no-default-features", "--features", "talc"],
    )?;
    copy(
        &Build::Speed.dir(WASM_TARGET).join("echo.wasm"),
        &out.join(Build::Speed.file(&example_file("echo", "talc"))),
    )?;
    Ok(())
}

/// Builds with the benchmark's private copy of the guest profile (see [`Build`]).
fn cargo(build: Build, target: &str, args: &[&str]) -> Result<(), BenchError> {
    let args = build.config().iter().chain(args);
    cargo_build_with(build.profile(), target, args).map_err(|error| BenchError::Build {
        command: format!("{} {target}", build.profile()),
        problem: error.to_string(),
    })
}

fn copy(from: &Path, to: &Path) -> Result<(), BenchError> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|source| BenchError::Io {
            path: PathBuf::from(from),
            source,
        })
}
