//! Builds every benchmark guest, one cargo invocation per guest and feature set (features unify
//! across the packages of one build), and copies each module to `target/bench/guests` under a
//! name that says how it was built: `EXAMPLE-ALLOCATOR.wasm`, `manual-EXAMPLE.wasm`,
//! `bench_workload-ALLOCATOR.wasm`, `echo_component.wasm`; the round trip's three guests again
//! with `opt-level = 3`, as `NAME-o3.wasm`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::BenchError;
use crate::guests::{ALLOCATORS, EXAMPLES, WASM_TARGET, target_dir, workspace_root};

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

/// The Component Model echo.
pub const COMPONENT_FILE: &str = "echo_component.wasm";

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

/// The `--config` argument that turns the `guest` profile into [`Build::Speed`].
const SPEED_CONFIG: &str = "profile.guest.opt-level=3";

/// Builds every guest into `out`.
///
/// # Errors
///
/// [`BenchError::Build`] if cargo fails, [`BenchError::Io`] if a module cannot be copied.
pub fn build_all(out: &Path) -> Result<(), BenchError> {
    let built = target_dir().join(WASM_TARGET).join("guest");
    for allocator in ALLOCATORS {
        for example in EXAMPLES {
            cargo(
                WASM_TARGET,
                &[
                    "-p",
                    example,
                    "--no-default-features",
                    "--features",
                    allocator,
                ],
            )?;
            copy(
                &built.join(format!("{example}.wasm")),
                &out.join(example_file(example, allocator)),
            )?;
        }
        cargo(
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
    for example in EXAMPLES {
        let mut args = vec!["-p", "manual"];
        if example != crate::guests::MINIMAL {
            args.extend(["--features", example]);
        }
        cargo(WASM_TARGET, &args)?;
        copy(&built.join("manual.wasm"), &out.join(manual_file(example)))?;
    }
    // The round trip's guests once more, tuned for speed.
    cargo(
        WASM_TARGET,
        &[
            "--config",
            SPEED_CONFIG,
            "-p",
            "echo",
            "--no-default-features",
            "--features",
            "talc",
        ],
    )?;
    copy(
        &built.join("echo.wasm"),
        &out.join(Build::Speed.file(&example_file("echo", "talc"))),
    )?;
    cargo(
        WASM_TARGET,
        &[
            "--config",
            SPEED_CONFIG,
            "-p",
            "manual",
            "--features",
            "echo",
        ],
    )?;
    copy(
        &built.join("manual.wasm"),
        &out.join(Build::Speed.file(&manual_file("echo"))),
    )?;
    let component_built = target_dir().join(COMPONENT_TARGET).join("guest");
    cargo(
        COMPONENT_TARGET,
        &["--config", SPEED_CONFIG, "-p", "echo_component"],
    )?;
    copy(
        &component_built.join(COMPONENT_FILE),
        &out.join(Build::Speed.file(COMPONENT_FILE)),
    )?;
    cargo(COMPONENT_TARGET, &["-p", "echo_component"])?;
    copy(
        &component_built.join(COMPONENT_FILE),
        &out.join(COMPONENT_FILE),
    )?;
    Ok(())
}

/// `cargo build --quiet --profile guest --target TARGET ARGS`, in the workspace.
fn cargo(target: &str, args: &[&str]) -> Result<(), BenchError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["build", "--quiet", "--profile", "guest", "--target", target])
        .args(args);
    let shown = format!(
        "cargo build --profile guest --target {target} {}",
        args.join(" ")
    );
    eprintln!("harness bench: {shown}");
    let status = command.status().map_err(|error| BenchError::Build {
        command: shown.clone(),
        problem: error.to_string(),
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(BenchError::Build {
            command: shown,
            problem: format!("{status}"),
        })
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), BenchError> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|source| BenchError::Io {
            path: PathBuf::from(from),
            source,
        })
}
