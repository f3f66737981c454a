//! The shared cases of `testdata/` that the harness's checks use, as the Python and JavaScript
//! hosts' tests use them (testdata/README.md).

use std::sync::LazyLock;

use serde::Deserialize;

/// `testdata/conformance.json`.
#[derive(Debug, Deserialize)]
pub struct Conformance {
    /// The ABI version every guest's `abi_version()` returns.
    pub abi_version: u32,
    /// The alignment of every block `alloc` returns.
    pub block_align: u32,
    /// Lengths allocated side by side to look for misaligned or overlapping blocks.
    pub lengths: Vec<u32>,
    /// Lengths no 32-bit address space can hold once a block header is added.
    pub impossible_lengths: Vec<u32>,
}

/// One case of `testdata/sections.json`.
#[derive(Debug, Deserialize)]
pub struct SectionCase {
    /// The case's name: for a real guest's section, the guest's name.
    pub name: String,
    /// What `describe` prints for it, when it is valid.
    pub describe: Option<String>,
}

#[derive(Deserialize)]
struct Sections {
    cases: Vec<SectionCase>,
}

/// The conformance data.
pub static CONFORMANCE: LazyLock<Conformance> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../testdata/conformance.json"))
        .expect("testdata/conformance.json is valid")
});

/// The section cases.
pub static SECTIONS: LazyLock<Vec<SectionCase>> = LazyLock::new(|| {
    serde_json::from_str::<Sections>(include_str!("../../testdata/sections.json"))
        .expect("testdata/sections.json is valid")
        .cases
});

/// What `describe` prints for the section of the guest `name`, when testdata has it.
#[must_use]
pub fn describe_text(name: &str) -> Option<&'static str> {
    SECTIONS
        .iter()
        .find(|case| case.name == name)
        .and_then(|case| case.describe.as_deref())
}
