//! `echo(input) -> input` as an Extism plugin: the same work as guestmem's `examples/echo`.
//!
//! `cargo build --release --target wasm32-unknown-unknown --manifest-path bench/extism/Cargo.toml`

use extism_pdk::{FnResult, plugin_fn};

/// Returns its input.
#[plugin_fn]
pub fn echo(input: Vec<u8>) -> FnResult<Vec<u8>> {
    Ok(input)
}
