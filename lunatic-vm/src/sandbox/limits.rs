//! The memory limit of one process.

use wasmtime::ResourceLimiter;

/// Most table elements a process may have (tables hold function references). A Rust
/// program's function table has hundreds of entries, a large one a few thousand. Each
/// pool slot reserves this many (160 KB), few enough that several slots share a page-table
/// page (see docs/performance.md).
pub(crate) const MAX_TABLE_ELEMENTS: usize = 20_000;

/// Refuses memory growth past the environment's limit and remembers that it did, so the
/// process's death is reported as "out of memory" whatever trap the guest ends with.
#[derive(Debug)]
pub(crate) struct MemoryLimit {
    max_bytes: usize,
    pub(crate) exceeded: bool,
}

impl MemoryLimit {
    pub(crate) fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            exceeded: false,
        }
    }
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
