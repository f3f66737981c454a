//! Every case of the shared test data in `testdata/` (its README says what each file holds),
//! against this crate: the same cases the Python and JavaScript hosts' tests read.

use std::path::Path;

use guestmem_abi::{Interface, ResultProblem, result_block};
use serde_json::Value;

fn cases(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
    let data: Value = serde_json::from_str(&text).expect("valid JSON");
    data["cases"].as_array().expect("a list of cases").clone()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex"))
        .collect()
}

fn u32_of(case: &Value, field: &str) -> u32 {
    let number = case[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field}: a number"));
    u32::try_from(number).expect("a u32")
}

#[test]
fn every_section_case_parses_to_its_describe_text_or_fails_with_its_words() {
    for case in cases("sections.json") {
        let name = case["name"].as_str().expect("a name");
        let parsed = Interface::parse(&hex(case["section"].as_str().expect("hex")));
        match (case["describe"].as_str(), case["error"].as_str(), parsed) {
            (Some(text), None, Ok(interface)) => {
                assert_eq!(interface.to_string(), text, "case {name:?}");
            }
            (None, Some(words), Err(error)) => {
                assert!(
                    error.to_string().contains(words),
                    "case {name:?}: {error} does not say {words:?}"
                );
            }
            (_, _, outcome) => panic!("case {name:?}: {outcome:?}"),
        }
    }
}

#[test]
fn every_result_block_case_reads_its_payload_or_its_problem() {
    for case in cases("result_blocks.json") {
        let name = case["name"].as_str().expect("a name");
        let size = usize::try_from(u32_of(&case, "memory_size")).expect("usize");
        let mut memory: Vec<u8> = (0..size).map(|at| (at % 251) as u8).collect();
        if let Some(at) = case["prefix_at"].as_u64() {
            let at = usize::try_from(at).expect("usize");
            memory[at..at + 4].copy_from_slice(&u32_of(&case, "prefix").to_le_bytes());
        }
        let outcome = result_block::payload(&memory, u32_of(&case, "ptr"), u32_of(&case, "cap"));
        match (case["payload"].as_str(), case["problem"].as_str()) {
            (Some(payload), None) => assert_eq!(outcome, Ok(&hex(payload)[..]), "case {name:?}"),
            (None, Some(problem)) => {
                let found = match outcome {
                    Err(ResultProblem::Misaligned { .. }) => "misaligned",
                    Err(ResultProblem::PrefixOutOfBounds { .. }) => "prefix_out_of_bounds",
                    Err(ResultProblem::PayloadOutOfBounds { .. }) => "payload_out_of_bounds",
                    Err(ResultProblem::TooLong { .. }) => "too_long",
                    other => panic!("case {name:?}: {other:?}"),
                };
                assert_eq!(found, problem, "case {name:?}");
            }
            _ => panic!("case {name:?}: neither a payload nor a problem"),
        }
    }
}

#[test]
fn the_constants_are_those_of_conformance_json() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/conformance.json");
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON");
    assert_eq!(
        data["abi_version"].as_u64(),
        Some(u64::from(guestmem_abi::ABI_VERSION))
    );
    assert_eq!(
        data["block_align"].as_u64(),
        Some(u64::from(result_block::BLOCK_ALIGN))
    );
}
