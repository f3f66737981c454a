//! A module's description of itself: the `guestmem.interface` custom section that guestmem's
//! `export!` and `import!` write ("Interface section" in guestmem's `docs/ABI.md`). The reader
//! is `guestmem-abi`'s; this module adds what wasmtime needs.

pub use guestmem_abi::interface::{Argument, Function, Interface, InterfaceError, SECTION};
pub use guestmem_abi::kind::{Kind, ValueType};

use crate::Error;

impl From<InterfaceError> for Error {
    fn from(error: InterfaceError) -> Self {
        Self::Interface(error.to_string())
    }
}

/// The wasmtime parameter and result types that `function`'s kinds make
/// ([`Function::wasm_signature`]).
#[must_use]
pub fn wasm_type(function: &Function) -> (Vec<wasmtime::ValType>, Vec<wasmtime::ValType>) {
    let (params, result) = function.wasm_signature();
    (
        params.into_iter().map(val_type).collect(),
        result.into_iter().map(val_type).collect(),
    )
}

fn val_type(value: ValueType) -> wasmtime::ValType {
    match value {
        ValueType::I32 => wasmtime::ValType::I32,
        ValueType::I64 => wasmtime::ValType::I64,
        ValueType::F32 => wasmtime::ValType::F32,
        ValueType::F64 => wasmtime::ValType::F64,
    }
}
