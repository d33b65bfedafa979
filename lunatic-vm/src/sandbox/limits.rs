//! The memory limit of one process, and its share of its environment's.

use wasmtime::ResourceLimiter;

use crate::process::state::MemoryView;
use crate::process::ProcessHandle;
use crate::sandbox::budget::Held;

/// Most table elements a process may have (tables hold function references). A Rust
/// program's function table has hundreds of entries, a large one a few thousand. Each
/// pool slot reserves this many (160 KB), few enough that several slots share a page-table
/// page (see docs/performance.md).
pub(crate) const MAX_TABLE_ELEMENTS: usize = 20_000;

/// Refuses memory growth past the environment's limit and remembers that it did, so the
/// process's death is reported as "out of memory" whatever trap the guest ends with.
///
/// The limit holds for all of a process's linear memories together (a module may declare
/// many), and so does [`MAX_TABLE_ELEMENTS`] for all its tables: wasmtime asks before it
/// creates each one (from 0) and before each growth. Growth also counts against the
/// environment's memory limit, for all its processes together (`charge`). Seeing every
/// growth, it also keeps where the process's memory is, for host calls (`memory_view`).
#[derive(Debug)]
pub(crate) struct MemoryLimit {
    max_bytes: usize,
    /// The process's memory as its environment counts it (`None` in the root).
    charge: Option<Held>,
    /// Bytes of all the process's memories, as last allowed.
    memory_bytes: usize,
    /// Elements of all the process's tables, as last allowed.
    table_elements: usize,
    pub(crate) exceeded: bool,
    /// Where the process's memory is and how long, as last looked up; forgotten at every
    /// growth asked for, allowed or not (see [`MemoryView`]).
    pub(crate) memory_view: Option<MemoryView>,
    /// The process, whose profile shows its memory (`None` in unit tests).
    shown_in: Option<std::sync::Arc<ProcessHandle>>,
}

impl MemoryLimit {
    pub(crate) fn new(
        max_bytes: u64,
        charge: Option<Held>,
        shown_in: Option<std::sync::Arc<ProcessHandle>>,
    ) -> Self {
        Self {
            shown_in,
            max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            charge,
            memory_bytes: 0,
            table_elements: 0,
            exceeded: false,
            memory_view: None,
        }
    }

    /// Gives back everything it allowed: the instance it was charged for is not used.
    pub(crate) fn refund(&mut self) {
        if let Some(charge) = &mut self.charge {
            charge.shrink(u64::MAX);
        }
        self.memory_bytes = 0;
        self.table_elements = 0;
        self.exceeded = false;
    }
}

/// `total` with one part of it going from `current` to `desired`, if within `max`.
fn grown(total: usize, current: usize, desired: usize, max: usize) -> Option<usize> {
    total
        .checked_sub(current)
        .and_then(|rest| rest.checked_add(desired))
        .filter(|&grown| grown <= max)
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.memory_view = None;
        let total = grown(self.memory_bytes, current, desired, self.max_bytes);
        let charged = match (total, &mut self.charge) {
            (Some(total), Some(charge)) => {
                let more = total.saturating_sub(self.memory_bytes) as u64;
                charge.grow(more).is_ok()
            }
            (total, None) => total.is_some(),
            (None, Some(_)) => false,
        };
        match total {
            Some(total) if charged => {
                self.memory_bytes = total;
                if let Some(process) = &self.shown_in {
                    process.profile().set_memory(total);
                }
                Ok(true)
            }
            _ => {
                self.exceeded = true;
                Ok(false)
            }
        }
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        match grown(self.table_elements, current, desired, MAX_TABLE_ELEMENTS) {
            Some(total) => {
                self.table_elements = total;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_for_all_memories_together() {
        let mut limit = MemoryLimit::new(16 << 20, None, None);
        assert!(limit.memory_growing(0, 8 << 20, None).unwrap());
        assert!(limit.memory_growing(0, 8 << 20, None).unwrap());
        assert!(
            !limit.memory_growing(0, 1 << 16, None).unwrap(),
            "a third memory"
        );
        assert!(limit.exceeded);
        // Growing within what is left works.
        let mut limit = MemoryLimit::new(16 << 20, None, None);
        assert!(limit.memory_growing(0, 1 << 20, None).unwrap());
        assert!(limit.memory_growing(1 << 20, 15 << 20, None).unwrap());
        assert!(limit.memory_growing(15 << 20, 16 << 20, None).unwrap());
        assert!(!limit
            .memory_growing(16 << 20, (16 << 20) + 1, None)
            .unwrap());
        assert!(limit.table_growing(0, MAX_TABLE_ELEMENTS, None).unwrap());
        assert!(
            !limit.table_growing(0, 1, None).unwrap(),
            "a second table over the cap"
        );
    }

    #[test]
    fn a_refund_gives_back_the_memory_and_the_tables_charged() {
        let mut limits = lunatic_abi::Limits::default();
        limits.set(lunatic_abi::Limit::Memory, 1 << 20);
        let budget = crate::sandbox::budget::Budget::new(limits, None, None);
        let charge = budget.hold(lunatic_abi::Limit::Memory, 0).unwrap();
        let mut limit = MemoryLimit::new(16 << 20, Some(charge), None);
        assert!(limit.memory_growing(0, 1 << 20, None).unwrap());
        assert!(limit.table_growing(0, MAX_TABLE_ELEMENTS, None).unwrap());
        assert_eq!(budget.used(lunatic_abi::Limit::Memory), 1 << 20);
        limit.refund();
        assert_eq!(budget.used(lunatic_abi::Limit::Memory), 0);
        // All of it can be charged again, as for a fresh instance.
        assert!(limit.memory_growing(0, 1 << 20, None).unwrap());
        assert!(limit.table_growing(0, MAX_TABLE_ELEMENTS, None).unwrap());
        drop(limit);
        assert_eq!(budget.used(lunatic_abi::Limit::Memory), 0);
    }
}
