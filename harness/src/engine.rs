//! The wasmtime engine every guest is compiled with.

use wasmtime::{Config, Engine};

use crate::error::HostError;
use crate::valgrind::running_on_valgrind;

/// Linear-memory reservation under Valgrind: memcheck tracks every mapping, so the default 4 GiB
/// reservation with its guard region would cost it dearly. Memories that outgrow this move.
const VALGRIND_MEMORY_RESERVATION: u64 = 16 << 20;

/// Creates the engine the harness uses.
///
/// Compilation is serial (the `parallel-compilation` feature is off). Under Valgrind, traps are
/// raised by explicit checks instead of signal handlers and memories reserve little address space,
/// so that memcheck follows every access.
///
/// # Errors
///
/// [`HostError::Wasmtime`] if wasmtime rejects the configuration.
pub fn new_engine() -> Result<Engine, HostError> {
    let mut config = Config::new();
    if running_on_valgrind() {
        config
            .signals_based_traps(false)
            .memory_reservation(VALGRIND_MEMORY_RESERVATION)
            .memory_guard_size(0)
            .memory_reservation_for_growth(0);
    }
    Ok(Engine::new(&config)?)
}
