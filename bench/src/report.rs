//! The report of a run: its [`Results`] written as `report.md` ([`crate::markdown`]) and
//! `chart.svg` ([`crate::chart`]), both in `target/bench`.

use std::path::Path;

use crate::results::Results;
use crate::{BenchError, chart, markdown};

/// Writes `report.md` and `chart.svg` into `out`; returns the markdown.
///
/// # Errors
///
/// [`BenchError::Io`] if a file cannot be written.
pub fn write(out: &Path, results: &Results) -> Result<String, BenchError> {
    let markdown = markdown::render(results);
    for (name, text) in [
        ("report.md", &markdown),
        ("chart.svg", &chart::render(results)),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|source| BenchError::Io { path, source })?;
    }
    Ok(markdown)
}
