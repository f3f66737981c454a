//! No code: this crate's dependencies give the harness's build the features of
//! `cargo test --workspace` (see its Cargo.toml).
