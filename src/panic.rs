//! The wasm32 panic handler: records the panic's reason for `last_error`, then traps.
//!
//! It records the message and location, which brings `core::fmt` into the module; with the
//! `compact` feature it records a fixed message and keeps the module small. Without the
//! `panic_handler` feature the guest brings its own `#[panic_handler]`. An allocation that fails inside guest code ends here
//! too, as the panic "memory allocation of N bytes failed".

#[cfg(all(target_arch = "wasm32", feature = "panic_handler"))]
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
