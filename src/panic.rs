//! The wasm32 panic handler: records the panic's reason for `last_error`, then traps.
//!
//! It records the message and location, which brings `core::fmt` into the module; with the
//! `compact` feature it records a fixed message and keeps the module small. Without the
//! `panic_handler` feature the guest brings its own `#[panic_handler]`. An allocation that fails
//! inside guest code ends here too, as the panic "memory allocation of N bytes failed".
//!
//! A guest that links `std` (the `std` feature) has std's panic handler, which aborts: there a
//! panic hook records the same message first, installed on the first call into an export, since a
//! library has no start-up code of its own.

#[cfg(all(
    target_arch = "wasm32",
    feature = "panic_handler",
    not(feature = "std")
))]
#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if cfg!(feature = "compact") {
        crate::error::fail("guest panicked (no message: guestmem's `compact` feature)");
    }
    match info.location() {
        Some(at) => crate::error::record_formatted(format_args!(
            "guest panicked at {at}: {}",
            info.message()
        )),
        None => crate::error::record_formatted(format_args!("guest panicked: {}", info.message())),
    }
    crate::error::trap()
}

/// Runs at the start of every export: with `std`, installs the panic hook on the first call.
#[cfg_attr(not(feature = "compact"), inline(always))]
pub fn enter() {
    #[cfg(all(target_arch = "wasm32", feature = "std"))]
    hook::install();
}

#[cfg(all(target_arch = "wasm32", feature = "std"))]
mod hook {
    use core::sync::atomic::{AtomicBool, Ordering};

    static INSTALLED: AtomicBool = AtomicBool::new(false);

    /// Installs the hook once; a guest's own `set_hook` after that replaces it.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(super) fn install() {
        if !INSTALLED.swap(true, Ordering::Relaxed) {
            std::panic::set_hook(std::boxed::Box::new(record));
        }
    }

    /// Records the panic's reason; std's panic runtime then aborts, which traps.
    fn record(info: &std::panic::PanicHookInfo<'_>) {
        if cfg!(feature = "compact") {
            crate::error::fail("guest panicked (no message: guestmem's `compact` feature)");
        }
        let message = info.payload_as_str().unwrap_or("Box<dyn Any>");
        match info.location() {
            Some(at) => {
                crate::error::record_formatted(format_args!("guest panicked at {at}: {message}"))
            }
            None => crate::error::record_formatted(format_args!("guest panicked: {message}")),
        }
    }
}
