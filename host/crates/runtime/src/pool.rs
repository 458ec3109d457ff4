//! Where instances' memories come from: wasmtime's pooling allocator.
//!
//! Every partition gets a fresh instance, so without a pool each one maps
//! fresh linear memory and page-faults its way through it (a quarter of a
//! plugin's time in the first benchmark round). With a pool, an instance
//! takes a slot a previous instance of the same plugin left warm: the pages
//! it kept resident are zeroed with `memset` instead of being unmapped and
//! faulted in again.

use wasmtime::{InstanceAllocationStrategy, PoolingAllocationConfig};

/// How many instances may be alive at once, and how much of each one's
/// memory stays resident between partitions.
#[derive(Debug, Clone, Copy)]
pub struct PoolSizing {
    /// Partitions computed at the same time (`--jobs`). Zero: no pool, each
    /// instance maps its memory afresh (what the pool is measured against).
    pub concurrent: usize,
    /// Bytes of each warm slot's linear memory kept resident (zeroed with
    /// `memset`) when its instance ends; the rest is given back.
    pub keep_resident: usize,
}

impl PoolSizing {
    /// What a slot keeps resident unless told otherwise: enough for the
    /// working set of a day's batches, little enough that `--jobs` warm
    /// slots cost a bounded amount of memory.
    pub const KEEP_RESIDENT: usize = 64 << 20;

    /// One partition per available core, as `host run` computes by default.
    pub fn default_for_machine() -> Self {
        PoolSizing {
            concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
            keep_resident: Self::KEEP_RESIDENT,
        }
    }
}

/// Instances alive at once per partition computed: the transform, a check
/// plugin, `describe` of a plugin loading meanwhile, and room for tests and
/// tools that share one runtime across threads.
const INSTANCES_PER_JOB: u32 = 8;

/// Linear memories, tables and core instances a component may hold: a Rust
/// plugin has one of each; an interpreter built as a component links many
/// modules (a componentize-py plugin instantiates 38 core modules).
const CORE_INSTANCES_PER_COMPONENT: u32 = 128;
const MEMORIES_PER_COMPONENT: u32 = 8;
const TABLES_PER_COMPONENT: u32 = 64;

/// An interpreter's function table is large (CPython's has tens of
/// thousands of entries).
const TABLE_ELEMENTS: usize = 200_000;

/// The allocation strategy for `sizing`.
pub(crate) fn strategy(sizing: PoolSizing) -> InstanceAllocationStrategy {
    if sizing.concurrent == 0 {
        return InstanceAllocationStrategy::OnDemand;
    }
    let instances = INSTANCES_PER_JOB
        .saturating_mul(u32::try_from(sizing.concurrent).unwrap_or(u32::MAX))
        .max(16);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(instances * MEMORIES_PER_COMPONENT)
        .total_tables(instances * TABLES_PER_COMPONENT)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_memories_per_module(1)
        .max_tables_per_module(TABLES_PER_COMPONENT)
        .table_elements(TABLE_ELEMENTS)
        // A 32-bit memory never grows past 4 GiB; the store's limiter holds
        // each partition to its own, smaller limit.
        .max_memory_size(4 << 30)
        // One warm slot per job: the next partition of the same plugin
        // reuses it.
        .max_unused_warm_slots(u32::try_from(sizing.concurrent).unwrap_or(u32::MAX))
        .linear_memory_keep_resident(sizing.keep_resident)
        .table_keep_resident(1 << 20);
    InstanceAllocationStrategy::Pooling(pool)
}
