//! The wasm32 panic handler: records the panic's reason for `last_error`, then traps.
//!
//! It records the message and location, which brings `core::fmt` into the module; with the
//! `compact` feature it records a fixed message and keeps the module small. Without the
//! `panic_handler` feature the guest brings its own `#[panic_handler]`. An allocation that fails
//! inside guest code ends here too, as the panic "memory allocation of N bytes failed".
//!
//! A guest that links `std` (the `std` feature) has std's panic handler, which aborts: there a
//! panic hook records the same message first, installed on the first call into an export or
//! `alloc`, since a library has no start-up code of its own.

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
        Some(at) if in_std(at.file()) => crate::error::record_formatted(format_args!(
            "guest panicked inside the Rust standard library at {at}: {}",
            info.message()
        )),
        Some(at) => crate::error::record_formatted(format_args!(
            "guest panicked at {at}: {}",
            info.message()
        )),
        None => crate::error::record_formatted(format_args!("guest panicked: {}", info.message())),
    }
    crate::error::trap()
}

/// Runs at the start of every export and of `alloc`: with `std` on wasm32, installs the panic
/// hook on the first call. A load and a branch afterwards; nothing without `std`.
#[cfg_attr(not(feature = "compact"), inline(always))]
pub fn enter() {
    #[cfg(all(target_arch = "wasm32", feature = "std"))]
    hook::install();
}

/// The panic hook of `std` guests. Natively it is never installed by guestmem (a native trap is a
/// panic that carries its own reason), only by the tests, through `__install_panic_hook`.
#[cfg(feature = "std")]
pub(crate) mod hook {
    use core::sync::atomic::{AtomicBool, Ordering};

    static INSTALLED: AtomicBool = AtomicBool::new(false);

    /// Installs the hook once; a guest's own `set_hook` after that replaces it.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub fn install() {
        if !INSTALLED.load(Ordering::Relaxed) {
            install_once();
        }
    }

    /// The hook that was in place, run after the reason is recorded: std's default prints the
    /// panic to stderr, which a WASI host shows. Kept in a static, so that the hook captures
    /// nothing and installing it allocates nothing (`heap_bytes` stays what it was). Not on
    /// wasm32-unknown-unknown, where stderr goes nowhere (it cost 700 bytes of module there).
    #[cfg(any(not(target_arch = "wasm32"), target_os = "wasi"))]
    static PREVIOUS: std::sync::OnceLock<Hook> = std::sync::OnceLock::new();

    /// What `std::panic::take_hook` returns.
    #[cfg(any(not(target_arch = "wasm32"), target_os = "wasi"))]
    type Hook = std::boxed::Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync>;

    #[cold]
    #[inline(never)]
    fn install_once() {
        if INSTALLED.swap(true, Ordering::Relaxed) {
            return;
        }
        #[cfg(any(not(target_arch = "wasm32"), target_os = "wasi"))]
        let _ = PREVIOUS.set(std::panic::take_hook());
        std::panic::set_hook(std::boxed::Box::new(|info| {
            record(info);
            #[cfg(any(not(target_arch = "wasm32"), target_os = "wasi"))]
            if let Some(previous) = PREVIOUS.get() {
                previous(info);
            }
        }));
    }

    /// Records the panic's reason; std's panic runtime then aborts, which traps.
    fn record(info: &std::panic::PanicHookInfo<'_>) {
        if cfg!(feature = "compact") {
            crate::error::fail("guest panicked (no message: guestmem's `compact` feature)");
        }
        let message = info.payload_as_str().unwrap_or("Box<dyn Any>");
        match info.location() {
            // A panic raised in std's own code (a capacity overflow in `Vec`, say) has std's
            // source as its location, which is not the guest's: say where it is.
            Some(at) if super::in_std(at.file()) => crate::error::record_formatted(format_args!(
                "guest panicked inside the Rust standard library at {at}: {message}"
            )),
            Some(at) => {
                crate::error::record_formatted(format_args!("guest panicked at {at}: {message}"))
            }
            None => crate::error::record_formatted(format_args!("guest panicked: {message}")),
        }
    }
}

/// Whether `file` is a source file of the standard library (core, alloc, std): a panic raised in
/// std's own code (an allocation failure, a `Vec` capacity overflow) has std's source as its
/// location, which is not the guest's, and the record says so. rustc names those files
/// `/rustc/HASH/library/...`, a local rust-src `.../lib/rustlib/src/rust/library/...`. A plain
/// byte search: `str::contains` would bring its searcher into every module.
#[cfg(any(
    all(
        target_arch = "wasm32",
        feature = "panic_handler",
        not(feature = "std")
    ),
    feature = "std"
))]
fn in_std(file: &str) -> bool {
    ["library/core/", "library/alloc/", "library/std/"]
        .iter()
        .any(|dir| {
            file.as_bytes()
                .windows(dir.len())
                .any(|window| window == dir.as_bytes())
        })
}
