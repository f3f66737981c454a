//! The engine configuration a pool is meant for: instance slots reserved up front, memory images
//! mapped copy-on-write, and epoch interruption for deadlines.

use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig};

/// A [`Config`] for an engine serving a [`Pool`](super::Pool) of up to `max_instances`
/// instances (across all pools on the engine), each with at most `max_memory` bytes of linear
/// memory.
///
/// - **Pooling allocator** ([`InstanceAllocationStrategy::Pooling`]): the memories, tables and
///   instance records of `max_instances` instances are reserved once, so that making an instance
///   takes no `mmap` and dropping one no `munmap`; a dropped instance's memory is handed back
///   with `madvise`, not cleared by hand. Each slot reserves address space (4 GiB and guard
///   pages on 64-bit hosts, which is what lets wasmtime skip bounds checks), not memory.
/// - **Copy-on-write memory images** ([`Config::memory_init_cow`], on by default, named here so
///   that it stays on): a fresh instance maps the module's data segments instead of copying
///   them, so instantiation costs microseconds whatever the size of the data.
/// - **Epoch interruption** ([`Config::epoch_interruption`]): compiled code checks an epoch
///   counter at function entries and loop headers, which is what
///   [`PoolBuilder::deadline`](super::PoolBuilder::deadline) and an
///   [`EpochTicker`](super::EpochTicker) need; it costs a few percent of guest speed.
///
/// Every other setting is wasmtime's default. For deterministic limits, add
/// `config.consume_fuel(true)` and give the pool a budget with
/// [`PoolBuilder::fuel`](super::PoolBuilder::fuel). Modules compiled with this configuration
/// (and cached with [`ModuleCache`](super::ModuleCache)) need an engine configured the same way.
///
/// ```
/// let config = guestmem_host::pool::recommended_config(16, 64 << 20);
/// let engine = wasmtime::Engine::new(&config)?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
#[must_use]
pub fn recommended_config(max_instances: u32, max_memory: usize) -> Config {
    let mut pooling = PoolingAllocationConfig::new();
    pooling
        .total_core_instances(max_instances)
        .total_memories(max_instances)
        .total_tables(max_instances)
        // A guestmem guest is one module with one memory.
        .max_memories_per_module(1)
        .max_memory_size(max_memory);
    let mut config = Config::new();
    config
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling))
        .memory_init_cow(true)
        .epoch_interruption(true);
    config
}
