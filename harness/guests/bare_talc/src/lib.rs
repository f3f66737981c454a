//! The smallest talc module worth comparing with `minimal`: the same allocator and profile, only
//! `alloc(len)` and `dealloc(ptr, len)` exported, no header, no checks, no `last_error`. What
//! `minimal.wasm` measures beyond this module is what guestmem's ABI costs.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p bare_talc`
//!
//! Not for use: `dealloc` trusts its caller entirely. Natively this crate is empty.
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
mod module {
    use core::alloc::{GlobalAlloc, Layout};

    #[global_allocator]
    static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

    #[panic_handler]
    fn on_panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }

    /// The layout of a `len`-byte allocation: never zero-sized, 8-byte aligned as guestmem's.
    fn layout(len: usize) -> Option<Layout> {
        Layout::from_size_align(len.max(1), 8).ok()
    }

    /// Allocates `len` bytes, or returns null.
    #[unsafe(no_mangle)]
    pub extern "C" fn alloc(len: usize) -> *mut u8 {
        match layout(len) {
            // SAFETY: the layout's size is non-zero.
            Some(layout) => unsafe { TALC.alloc(layout) },
            None => core::ptr::null_mut(),
        }
    }

    /// Frees what `alloc(len)` returned.
    ///
    /// # Safety
    ///
    /// `ptr` came from `alloc(len)` with this `len` and is freed once.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
        if let Some(layout) = layout(len) {
            // SAFETY: the caller's promise: allocated by `alloc` with this layout.
            unsafe { TALC.dealloc(ptr, layout) }
        }
    }
}
