//! Empty: it makes cargo build this crate's build-dependencies (see Cargo.toml).

fn main() {}
