//! Why a benchmark could not run.

use std::path::PathBuf;

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A guest could not be built.
    #[error("building `{command}`: {problem}")]
    Build {
        /// The command.
        command: String,
        /// What went wrong.
        problem: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A call through `guestmem-host` failed.
    #[error(transparent)]
    Host(#[from] guestmem_host::Error),
    /// wasmtime failed outside `guestmem-host` (the hand-written hosts, the components).
    #[error("wasmtime: {0:#}")]
    Wasmtime(#[from] wasmtime::Error),
    /// tokio's runtime, which drives the async contenders, could not be built.
    #[error("tokio's runtime: {0}")]
    Runtime(std::io::Error),
    /// A guest answered something other than what the benchmark checks for.
    #[error("{0}")]
    Wrong(String),
}
