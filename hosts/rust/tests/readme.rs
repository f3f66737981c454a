//! The repository README shows `examples/upper.rs` as the complete Rust host: it must be that
//! file, line for line, so the README cannot drift from the program CI runs.

#[test]
fn the_readme_shows_the_upper_example_as_it_is() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let example = include_str!("../examples/upper.rs");
    let code: String = example
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(code.contains("Plugin::from_file"), "{code}");
    assert!(
        readme.contains(&format!("```rust,ignore\n{code}```")),
        "README.md's Rust host differs from hosts/rust/examples/upper.rs:\n{code}"
    );
}
