//! guestmem's state in the user's store, the way wasmtime-wasi keeps WASI's (`WasiCtx` behind
//! `WasiView`): the message a failed host function leaves for the guest's `guestmem.last_error`,
//! and the calling instance's `memory` and typed `alloc`, looked up by name once, on the first
//! host-function call, instead of on every call. Kept in the store, it follows the store from
//! thread to thread, and no other instance can see it.

use wasmtime::{Caller, Extern, Memory, TypedFunc};

use super::HostTrap;

/// guestmem's per-store state for host functions. Put one in the store's data and hand it out
/// through [`GuestmemView`]; `GuestmemCtx` is itself a `GuestmemView`, for stores with no other
/// data.
///
/// A store serves one guestmem instance ([`crate::Guest`] owns its store): the exports found on
/// the first host-function call are that instance's.
#[derive(Default)]
pub struct GuestmemCtx {
    pending: Option<String>,
    exports: Option<CallerExports>,
}

impl std::fmt::Debug for GuestmemCtx {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        out.debug_struct("GuestmemCtx")
            .field("pending", &self.pending)
            .field("resolved", &self.exports.is_some())
            .finish()
    }
}

/// Store data that holds a [`GuestmemCtx`]: what host functions registered with
/// [`HostFunctions`](crate::HostFunctions) need of the store.
///
/// ```
/// use guestmem_host::{GuestmemCtx, GuestmemView};
///
/// /// One tenant's store: its name, for its host functions, and guestmem's state.
/// struct Tenant {
///     name: String,
///     guestmem: GuestmemCtx,
/// }
///
/// impl GuestmemView for Tenant {
///     fn guestmem(&mut self) -> &mut GuestmemCtx {
///         &mut self.guestmem
///     }
/// }
/// ```
pub trait GuestmemView {
    /// guestmem's state in this store.
    fn guestmem(&mut self) -> &mut GuestmemCtx;
}

impl GuestmemView for GuestmemCtx {
    fn guestmem(&mut self) -> &mut GuestmemCtx {
        self
    }
}

/// The calling instance's exports that host functions use.
#[derive(Clone)]
pub(super) struct CallerExports {
    pub(super) memory: Memory,
    pub(super) alloc: TypedFunc<u32, u32>,
}

impl GuestmemCtx {
    /// Keeps `message` for the guest's next `guestmem.last_error`.
    pub(super) fn set_pending(&mut self, message: String) {
        self.pending = Some(message);
    }

    /// Forgets the message: a host function is being called, and its own outcome replaces it.
    pub(super) fn clear_pending(&mut self) {
        self.pending = None;
    }

    /// The message, taken.
    pub(super) fn take_pending(&mut self) -> Option<String> {
        self.pending.take()
    }
}

/// The calling instance's `memory` and `alloc`: from the store's state, or looked up and kept
/// there on the first call.
pub(super) fn caller_exports<T: GuestmemView>(
    caller: &mut Caller<'_, T>,
    function: &str,
) -> wasmtime::Result<CallerExports> {
    if let Some(exports) = &caller.data_mut().guestmem().exports {
        return Ok(exports.clone());
    }
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Err(HostTrap::new(function, "the calling module exports no memory").into());
    };
    let alloc = guestmem_abi::names::candidates("alloc")
        .iter()
        .find_map(|name| caller.get_export(name)?.into_func())
        .ok_or_else(|| HostTrap::new(function, "the calling module exports no `alloc`"))?
        .typed::<u32, u32>(&*caller)
        .map_err(|error| HostTrap::new(function, format!("its `alloc`: {error:#}")))?;
    let exports = CallerExports { memory, alloc };
    caller.data_mut().guestmem().exports = Some(exports.clone());
    Ok(exports)
}
