//! talc, the default: fast, small, and grows linear memory as it needs.

pub(super) type Backend = talc::wasm::WasmDynamicTalc;

pub(super) const fn new() -> Backend {
    talc::wasm::new_wasm_dynamic_allocator()
}
