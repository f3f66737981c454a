//! The checks behind guestmem's fuzz targets, one module each. A check takes libFuzzer's bytes
//! and panics on what it finds; the target in `fuzz_targets/` calls it, and so does
//! `harness/tests/fuzz.rs`, which replays the committed corpus and regressions under `cargo test`.
//! The modules are written to be included with `#[path]` there too: they reach the model as
//! `crate::model`.

#[path = "../../tests/model/mod.rs"]
mod model;

pub mod abi_sequence;
pub mod export_input;
#[cfg(feature = "host")]
pub mod host_reader;
#[cfg(feature = "host")]
pub mod hostile_guest;

/// The hostile guest's module, as build.rs compiled it for `engine`'s configuration.
#[cfg(feature = "host")]
fn hostile_module(engine: &wasmtime::Engine) -> wasmtime::Module {
    let compiled = include_bytes!(concat!(env!("OUT_DIR"), "/hostile_guest.cwasm"));
    // SAFETY: the bytes are what `Engine::precompile_module` made in this crate's build script,
    // with this wasmtime and this configuration (`hostile_guest::config`): a trusted artifact.
    unsafe { wasmtime::Module::deserialize(engine, compiled) }
        .expect("load the hostile guest build.rs compiled")
}
