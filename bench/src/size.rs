//! The size of every example module per allocator back end, next to the same
//! guest written the articles' way (std and Rust's default allocator), all with the `guest`
//! profile. Sizes are read from the modules [`crate::build`] left in `target/bench/guests`.

use std::path::Path;

use crate::BenchError;
use crate::build::{COMPONENT_FILE, example_file, manual_file};
use harness::guests::{ALLOCATORS, EXAMPLES};

/// Module sizes in bytes.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Per example (in [`EXAMPLES`] order): one size per allocator (in [`ALLOCATORS`] order), and
    /// the std version's.
    pub rows: Vec<SizeRow>,
    /// The Component Model echo (wasm32-wasip2, std, wit-bindgen).
    pub component_echo: u64,
}

/// One example's sizes.
#[derive(Debug, Clone)]
pub struct SizeRow {
    /// The example.
    pub example: &'static str,
    /// Bytes with each allocator, in [`ALLOCATORS`] order.
    pub per_allocator: Vec<u64>,
    /// Bytes of the same guest written with std and Rust's default allocator.
    pub std: u64,
}

/// Reads the sizes of the built modules in `guests`.
///
/// # Errors
///
/// [`BenchError::Io`] if a module is missing.
pub fn measure(guests: &Path) -> Result<Sizes, BenchError> {
    let size_of = |file: String| {
        let path = guests.join(file);
        std::fs::metadata(&path)
            .map(|metadata| metadata.len())
            .map_err(|source| BenchError::Io { path, source })
    };
    let mut rows = Vec::new();
    for example in EXAMPLES {
        let per_allocator = ALLOCATORS
            .iter()
            .map(|allocator| size_of(example_file(example, allocator)))
            .collect::<Result<_, _>>()?;
        rows.push(SizeRow {
            example,
            per_allocator,
            std: size_of(manual_file(example))?,
        });
    }
    Ok(Sizes {
        rows,
        component_echo: size_of(COMPONENT_FILE.to_owned())?,
    })
}
