//! The wasmtime engine every guest is compiled with.

use wasmtime::{Config, Engine};

use crate::HostError;
use crate::valgrind::running_on_valgrind;

/// Linear-memory reservation under Valgrind: memcheck tracks every mapping, so the default 4 GiB
/// reservation with its guard region would cost it dearly. Memories that outgrow this move.
const VALGRIND_MEMORY_RESERVATION: u64 = 16 << 20;

/// The target code is compiled for under Valgrind. Naming it turns off the detection of the host's
/// CPU features, which Valgrind reports differently from the CPU: code compiled ahead of time
/// outside Valgrind ([`crate::precompiled`]) then loads inside it.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
const VALGRIND_TARGET: Option<&str> = Some("x86_64-unknown-linux-gnu");
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
const VALGRIND_TARGET: Option<&str> = None;

/// Creates the engine the harness uses: [`valgrind_engine`] under Valgrind, the default
/// configuration otherwise.
///
/// Compilation is serial either way (the `parallel-compilation` feature is off).
///
/// # Errors
///
/// [`HostError::Wasmtime`] if wasmtime rejects the configuration.
pub fn new_engine() -> Result<Engine, HostError> {
    if running_on_valgrind() {
        valgrind_engine()
    } else {
        Ok(Engine::new(&Config::new())?)
    }
}

/// The engine for runs under Valgrind: traps are raised by explicit checks instead of signal
/// handlers, memories reserve little address space, and code uses baseline CPU features, so
/// that memcheck follows every access. Also used outside Valgrind to compile guests ahead of time
/// for it.
///
/// # Errors
///
/// [`HostError::Wasmtime`] if wasmtime rejects the configuration.
pub fn valgrind_engine() -> Result<Engine, HostError> {
    let mut config = Config::new();
    config
        .signals_based_traps(false)
        .memory_reservation(VALGRIND_MEMORY_RESERVATION)
        .memory_guard_size(0)
        .memory_reservation_for_growth(0);
    if let Some(target) = VALGRIND_TARGET {
        config.target(target)?;
    }
    Ok(Engine::new(&config)?)
}
