//! The ABI exports of an instance, looked up once, by the names of guestmem's `docs/ABI.md`.
//!
//! Where a target reserves a name (`free` and `realloc` beside wasi-libc on wasm32-wasip1), the
//! guest exports it as `guestmem_NAME`; so for every name the host takes `guestmem_NAME` when the
//! module has it and `NAME` otherwise, and one host serves every target without configuration.

use wasmtime::{AsContextMut, Instance, TypedFunc, WasmParams, WasmResults};

use crate::Error;

/// The ABI exports, typed.
#[derive(Clone)]
pub(crate) struct AbiExports {
    pub(crate) alloc: TypedFunc<u32, u32>,
    pub(crate) dealloc: TypedFunc<(u32, u32), ()>,
    pub(crate) free: TypedFunc<u32, ()>,
    pub(crate) realloc: TypedFunc<(u32, u32), u32>,
    pub(crate) last_error: TypedFunc<(), u32>,
    pub(crate) abi_version: TypedFunc<(), u32>,
    pub(crate) live_blocks: Option<TypedFunc<(), u32>>,
    pub(crate) heap_bytes: Option<TypedFunc<(), u32>>,
}

impl AbiExports {
    /// Looks every ABI export up; `live_blocks` and `heap_bytes` are optional (`stats` feature).
    pub(crate) fn new(instance: &Instance, mut store: impl AsContextMut) -> Result<Self, Error> {
        let mut store = store.as_context_mut();
        Ok(Self {
            alloc: required(instance, &mut store, "alloc")?,
            dealloc: required(instance, &mut store, "dealloc")?,
            free: required(instance, &mut store, "free")?,
            realloc: required(instance, &mut store, "realloc")?,
            last_error: required(instance, &mut store, "last_error")?,
            abi_version: required(instance, &mut store, "abi_version")?,
            live_blocks: optional(instance, &mut store, "live_blocks")?,
            heap_bytes: optional(instance, &mut store, "heap_bytes")?,
        })
    }
}

fn required<Params, Results>(
    instance: &Instance,
    store: impl AsContextMut,
    name: &str,
) -> Result<TypedFunc<Params, Results>, Error>
where
    Params: WasmParams,
    Results: WasmResults,
{
    optional(instance, store, name)?.ok_or_else(|| Error::Export {
        name: name.to_owned(),
        message: "missing".to_owned(),
    })
}

fn optional<Params, Results>(
    instance: &Instance,
    mut store: impl AsContextMut,
    name: &str,
) -> Result<Option<TypedFunc<Params, Results>>, Error>
where
    Params: WasmParams,
    Results: WasmResults,
{
    let Some((name, func)) = guestmem_abi::names::candidates(name)
        .into_iter()
        .find_map(|candidate| Some((instance.get_func(&mut store, &candidate)?, candidate)))
        .map(|(func, candidate)| (candidate.into_owned(), func))
    else {
        return Ok(None);
    };
    func.typed(&store).map(Some).map_err(|error| Error::Export {
        name,
        message: format!("{error:#}"),
    })
}
