//! Report rows and the table the harness prints.

use std::fmt::{self, Write as _};

/// The outcome of one check against one subject (a guest, an allocator, the native build).
#[derive(Debug, Clone)]
pub struct Row {
    /// The check, e.g. `conformance`.
    pub check: &'static str,
    /// What it ran against, e.g. `echo` or `talc`.
    pub subject: String,
    /// Measured figures, e.g. `live_blocks 0 -> 0`.
    pub figures: Vec<String>,
    /// Every expectation that did not hold; the row passed if this is empty.
    pub failures: Vec<String>,
}

impl Row {
    /// Returns `true` if every expectation held.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() { "pass" } else { "FAIL" };
        write!(
            f,
            "{} [{}] {}: {}",
            self.check,
            self.subject,
            verdict,
            self.figures.join("; ")
        )?;
        for failure in &self.failures {
            write!(f, "\n  - {failure}")?;
        }
        Ok(())
    }
}

/// Collects figures and failed expectations while a check runs.
#[derive(Debug, Default)]
pub struct Findings {
    figures: Vec<String>,
    failures: Vec<String>,
    expectations: usize,
}

impl Findings {
    /// No findings yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a measured figure.
    pub fn figure(&mut self, figure: impl Into<String>) {
        self.figures.push(figure.into());
    }

    /// Records a failure.
    pub fn fail(&mut self, failure: impl Into<String>) {
        self.failures.push(failure.into());
    }

    /// Records a failure described by `failure` unless `holds`. Returns `holds`.
    pub fn expect(&mut self, holds: bool, failure: impl FnOnce() -> String) -> bool {
        self.expectations += 1;
        if !holds {
            self.failures.push(failure());
        }
        holds
    }

    /// Returns `true` if nothing has failed yet.
    #[must_use]
    pub fn passed_so_far(&self) -> bool {
        self.failures.is_empty()
    }

    /// How many expectations were checked so far.
    #[must_use]
    pub fn expectations(&self) -> usize {
        self.expectations
    }

    /// Records the error that stopped a check early, if any.
    pub fn finish<E: fmt::Display>(&mut self, outcome: Result<(), E>) {
        if let Err(error) = outcome {
            self.failures
                .push(format!("stopped by an unexpected error: {error}"));
        }
    }

    /// The row for `check` against `subject`.
    #[must_use]
    pub fn into_row(self, check: &'static str, subject: impl Into<String>) -> Row {
        Row {
            check,
            subject: subject.into(),
            figures: self.figures,
            failures: self.failures,
        }
    }
}

/// Formats rows as an aligned table, followed by the failures in full.
#[must_use]
pub fn table(rows: &[Row]) -> String {
    let check_width = rows
        .iter()
        .map(|row| row.check.len())
        .max()
        .unwrap_or(0)
        .max(5);
    let subject_width = rows
        .iter()
        .map(|row| row.subject.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:check_width$}  {:subject_width$}  result  figures",
        "check", "subject"
    );
    for row in rows {
        let verdict = if row.passed() { "pass" } else { "FAIL" };
        let _ = writeln!(
            out,
            "{:check_width$}  {:subject_width$}  {verdict:6}  {}",
            row.check,
            row.subject,
            row.figures.join("; ")
        );
    }
    let failed: Vec<&Row> = rows.iter().filter(|row| !row.passed()).collect();
    let _ = writeln!(
        out,
        "\n{} of {} rows passed",
        rows.len() - failed.len(),
        rows.len()
    );
    for row in failed {
        let _ = writeln!(out, "\n{} [{}] failed:", row.check, row.subject);
        for failure in &row.failures {
            let _ = writeln!(out, "  - {failure}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Findings, table};

    #[test]
    fn a_row_fails_when_an_expectation_fails() {
        let mut findings = Findings::new();
        findings.figure("one");
        assert!(findings.expect(true, || "unused".to_owned()));
        assert!(!findings.expect(1 + 1 == 3, || "arithmetic".to_owned()));
        let row = findings.into_row("demo", "subject");
        assert!(!row.passed());
        let printed = table(&[row]);
        assert!(printed.contains("FAIL"), "{printed}");
        assert!(printed.contains("arithmetic"), "{printed}");
        assert!(printed.contains("0 of 1 rows passed"), "{printed}");
    }

    #[test]
    fn an_error_fails_the_row() {
        let mut findings = Findings::new();
        findings.finish(Err("boom"));
        assert!(!findings.into_row("demo", "subject").passed());
    }
}
