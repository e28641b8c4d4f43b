//! The per-store resource limiter: memory summed over all of an instance's memories, table sizes,
//! and counts of instances, tables and memories.

use wasmtime::ResourceLimiter;

use crate::Limits;

/// Which limit a store hit, recorded so the host can name it even when the guest turns the failed
/// growth into some other trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exceeded {
    pub(crate) resource: &'static str,
    pub(crate) requested: u64,
    pub(crate) limit: u64,
}

/// The error a denied growth raises inside wasmtime; the host maps it to
/// [`HostError::OutOfMemory`](crate::HostError::OutOfMemory).
#[derive(Debug)]
pub(crate) struct LimitError(pub(crate) Exceeded);

impl std::fmt::Display for LimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} limit exceeded: asked for {}, limit {}", self.0.resource, self.0.requested, self.0.limit)
    }
}

impl std::error::Error for LimitError {}

/// Sums linear-memory growth across every memory of the store. Wasmtime calls `memory_growing` per
/// memory, and a component can hold several core modules with a memory each, so a per-memory cap
/// alone would multiply the limit.
pub(crate) struct Limiter {
    memory_limit: u64,
    table_elements: u64,
    instances: usize,
    tables: usize,
    memories: usize,
    /// Bytes of linear memory currently held by all memories of the store.
    memory_total: u64,
    pub(crate) exceeded: Option<Exceeded>,
}

impl Limiter {
    pub(crate) fn new(limits: &Limits) -> Limiter {
        Limiter {
            memory_limit: limits.memory_bytes,
            table_elements: limits.table_elements,
            instances: limits.instances,
            tables: limits.tables,
            memories: limits.memories,
            memory_total: 0,
            exceeded: None,
        }
    }

    fn deny(&mut self, resource: &'static str, requested: u64, limit: u64) -> wasmtime::Result<bool> {
        let exceeded = Exceeded { resource, requested, limit };
        self.exceeded = Some(exceeded);
        Err(wasmtime::Error::new(LimitError(exceeded)))
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let growth = (desired as u64).saturating_sub(current as u64);
        let total = self.memory_total.saturating_add(growth);
        if total > self.memory_limit {
            return self.deny("memory", total, self.memory_limit);
        }
        self.memory_total = total;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // The growth was counted in `memory_growing` but did not happen (the memory's own maximum,
        // or the OS). `memory.grow` returns -1 to the guest; the count stays, which only makes the
        // limit stricter, and deterministically so.
        Ok(())
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.table_elements {
            return self.deny("table", desired as u64, self.table_elements);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn limiter(memory_mib: u64) -> Limiter {
        Limiter::new(&Limits { memory_bytes: memory_mib << 20, ..Limits::default() })
    }

    #[test]
    fn growth_is_summed_across_memories() {
        let mut l = limiter(100);
        // Two memories, each staying under the cap on its own.
        assert!(l.memory_growing(0, 60 * MIB, None).unwrap());
        let err = l.memory_growing(0, 60 * MIB, None).unwrap_err();
        assert!(err.to_string().contains("memory limit exceeded"), "{err}");
        assert_eq!(l.exceeded, Some(Exceeded { resource: "memory", requested: 120 << 20, limit: 100 << 20 }));
    }

    #[test]
    fn growth_counts_only_the_increase() {
        let mut l = limiter(100);
        assert!(l.memory_growing(0, 50 * MIB, None).unwrap());
        assert!(l.memory_growing(50 * MIB, 100 * MIB, None).unwrap());
        assert!(l.memory_growing(100 * MIB, 101 * MIB, None).is_err());
    }

    #[test]
    fn tables_are_capped_per_table() {
        let mut l = Limiter::new(&Limits { table_elements: 10, ..Limits::default() });
        assert!(l.table_growing(0, 10, None).unwrap());
        assert!(l.table_growing(10, 11, None).is_err());
        assert_eq!(l.exceeded.unwrap().resource, "table");
    }
}
