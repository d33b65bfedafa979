//! Runtime settings that decide density and speed, with their defaults.
//!
//! | setting | default | why |
//! |---|---|---|
//! | `max_processes` | what `vm.max_map_count` allows, at most 100,000 | size of the instance pool; every slot reserves address space, not memory |
//! | `max_memory` | 256 MiB, less for pools over 256,000 slots | the most linear memory one process may grow to; the pool must fit in half of the 128 TiB address space, so a huge pool gets smaller slots |
//! | `stack_size` | 256 KiB | the host fiber stack of a process (wasm frames and host calls run on it) |
//! | `worker_threads` | number of cores | threads that run processes, each with its own reactor for their sockets and timers |
//! | `preemption_interval` | 1 ms | how often a running process yields so a `loop {}` cannot starve the others |
//! | `max_sockets` | the open-file limit, less 256 | sockets and files all processes may hold at once; past it binds, accepts and connects fail with an error (opening a file with `EMFILE`) instead of the host running out of file descriptors (the CLI first raises the soft open-file limit to the hard one) |
//! | `cache_max_bytes` | 1 GiB | the compiled-module cache on disk is trimmed to this (least recently used first), so a guest that compiles module after module cannot fill the disk |
//! | `table_reclaim_period` | 30 s | how often the table pool's pages are given back to the kernel (also when 8,192 more processes are alive than after the last time, at most every 2 s): a parked process then holds no table page, and one that runs again re-initializes the elements it uses (`program::table_pages`); `None` never |
//! | `perf_map` | off | lists compiled guest functions in `/tmp/perf-<pid>.map` for `perf` (`--perf-map`) |
//! | `keep_resident` | 1 MiB | how much of a dead process's memory is reset in place (only the pages it touched, found with Linux's `PAGEMAP_SCAN`) instead of being returned to the kernel: the next spawn into the slot takes no page faults and no `madvise`, whose TLB shootdowns cost every core; also the most of an instance's memory that may be resident for it to be recycled (`program::recycle`); 0 returns it all and recycles nothing |

use std::time::Duration;

/// Settings of one runtime; see the module docs for the defaults.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// How many processes may be alive at once (the pooling allocator's slot count).
    pub max_processes: u32,
    /// Bytes of linear memory one process may grow to. Its pool slot reserves at least as
    /// much address space (see [`slot_reservation`]).
    pub max_memory: u64,
    /// Bytes of host stack per process fiber.
    pub stack_size: usize,
    /// Threads that run processes.
    pub worker_threads: usize,
    /// Time slice after which a running process yields to the scheduler.
    pub preemption_interval: Duration,
    /// Where compiled modules are kept between runs (`None`: compile every time).
    pub cache_dir: Option<std::path::PathBuf>,
    /// Most bytes of compiled modules the cache keeps; the least recently used go first.
    pub cache_max_bytes: u64,
    /// Bytes of a dead process's linear memory reset in place for the next process of the
    /// slot, rather than returned to the kernel (used only where Linux's `PAGEMAP_SCAN`
    /// finds the touched pages; elsewhere memory is always returned).
    pub keep_resident: usize,
    /// Sockets, and files opened through WASI, all processes together may hold open.
    pub max_sockets: usize,
    /// Whether compiled guest code is listed in `/tmp/perf-<pid>.map`, so that `perf`
    /// names guest functions in its profiles.
    pub perf_map: bool,
    /// How often the pages of the processes' tables are given back to the kernel (see
    /// `program::table_pages`); `None`: never.
    pub table_reclaim_period: Option<Duration>,
}

/// Memory maps every pool slot costs whether used or not (a fiber stack and its guard page).
const MAPS_PER_SLOT: u64 = 2;
/// Memory maps a live process adds (its memory image, heap and table), measured: about 3.6.
const MAPS_PER_PROCESS: u64 = 4;
/// Memory maps kept for everything else in the VM (code, threads, libraries).
const MAPS_RESERVED: u64 = 4096;
/// The default pool size where the map limit is not the constraint.
const DEFAULT_MAX_PROCESSES: u32 = 100_000;

/// File descriptors kept for the VM itself (modules, cache, standard streams, epoll).
const FILES_RESERVED: u64 = 256;

/// The process's soft limit on open files.
#[must_use]
pub fn open_file_limit() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX)
}

/// Raises the soft limit on open files to the hard one (a server's usual first step: the
/// default soft limit, often 1024, is far below what thousands of connections need).
/// Returns the limit now in force.
pub fn raise_open_file_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        let _ = setrlimit(Resource::Nofile, raised);
    }
    open_file_limit()
}

/// The socket budget that leaves 256 of `file_limit` (`FILES_RESERVED`) to the VM.
#[must_use]
pub fn sockets_for_file_limit(file_limit: u64) -> usize {
    let sockets = file_limit.saturating_sub(FILES_RESERVED).max(64);
    usize::try_from(sockets).unwrap_or(usize::MAX)
}

/// Address space all pool slots together may reserve: half of x86-64's 128 TiB user space.
const POOL_ADDRESS_SPACE: u64 = 64 << 40;
/// The most linear memory of a process when the pool is small enough for it.
const DEFAULT_MAX_MEMORY: u64 = 256 << 20;
/// All a 32-bit memory can address.
const FULL_RESERVATION: u64 = 1 << 32;
/// Inaccessible address space after each slot's memory (one wasm page): an access at an
/// offset up to this far past the reservation faults instead of reaching the next slot.
pub(crate) const MEMORY_GUARD: u64 = 64 << 10;

/// The default [`RuntimeConfig::max_memory`] for a pool of `max_processes`: 256 MiB, or the
/// largest power of two that lets the whole pool fit in 64 TiB of address space
/// (`POOL_ADDRESS_SPACE`).
#[must_use]
pub fn max_memory_for(max_processes: u32) -> u64 {
    let fit = POOL_ADDRESS_SPACE / u64::from(max_processes.max(1));
    let fit = if fit.is_power_of_two() {
        fit
    } else {
        fit.next_power_of_two() / 2
    };
    DEFAULT_MAX_MEMORY.min(fit).max(1 << 20)
}

/// The address space each slot of a pool of `max_processes` reserves for a memory that may
/// grow to `max_memory`. While the whole pool fits in `POOL_ADDRESS_SPACE` (up to 16,383
/// slots), all 4 GiB a 32-bit memory can address: compiled code then checks no access
/// against the memory's bounds, because an access past the memory's end lands on the
/// slot's inaccessible reserve and faults (the pool still stops the memory from growing
/// past `max_memory`). Otherwise `max_memory` itself, and the code checks every access.
#[must_use]
pub fn slot_reservation(max_processes: u32, max_memory: u64) -> u64 {
    let full_pool = u64::from(max_processes).saturating_mul(FULL_RESERVATION + MEMORY_GUARD);
    if full_pool <= POOL_ADDRESS_SPACE {
        max_memory.max(FULL_RESERVATION)
    } else {
        max_memory
    }
}

/// The kernel's limit on memory maps per process (`vm.max_map_count`), where known.
#[must_use]
pub fn vm_max_map_count() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// How many processes fit in `max_map_count` memory maps.
#[must_use]
pub fn processes_for_map_count(max_map_count: u64) -> u32 {
    let fit = max_map_count.saturating_sub(MAPS_RESERVED) / (MAPS_PER_SLOT + MAPS_PER_PROCESS);
    u32::try_from(fit)
        .unwrap_or(u32::MAX)
        .clamp(256, DEFAULT_MAX_PROCESSES)
}

/// The `vm.max_map_count` that `processes` live processes need.
#[must_use]
pub fn map_count_for_processes(processes: u32) -> u64 {
    MAPS_RESERVED + u64::from(processes) * (MAPS_PER_SLOT + MAPS_PER_PROCESS)
}

impl Default for RuntimeConfig {
    /// The defaults of the module docs; the pool is sized to this machine's map limit.
    fn default() -> Self {
        Self {
            max_processes: vm_max_map_count()
                .map_or(DEFAULT_MAX_PROCESSES, processes_for_map_count),
            max_memory: DEFAULT_MAX_MEMORY,
            stack_size: 256 << 10,
            worker_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            preemption_interval: Duration::from_millis(1),
            cache_dir: crate::program::cache::ModuleCache::default_dir(),
            cache_max_bytes: crate::program::cache::DEFAULT_MAX_BYTES,
            keep_resident: 1 << 20,
            max_sockets: sockets_for_file_limit(open_file_limit()),
            perf_map: false,
            table_reclaim_period: Some(Duration::from_secs(30)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_pools_get_smaller_slots() {
        assert_eq!(max_memory_for(100_000), 256 << 20);
        assert_eq!(max_memory_for(500_000), 128 << 20);
        assert_eq!(max_memory_for(1_000_000), 64 << 20);
        assert!(u64::from(2_000_000u32) * max_memory_for(2_000_000) <= POOL_ADDRESS_SPACE);
    }

    #[test]
    fn pools_that_fit_reserve_all_a_memory_can_address() {
        // The default pool under Linux's default map limit.
        let default_pool = processes_for_map_count(65_530);
        assert_eq!(slot_reservation(default_pool, 256 << 20), FULL_RESERVATION);
        assert_eq!(slot_reservation(16_383, 256 << 20), FULL_RESERVATION);
        assert_eq!(slot_reservation(16_384, 256 << 20), 256 << 20);
        assert_eq!(slot_reservation(100_000, 256 << 20), 256 << 20);
        for processes in [1, 10_000, 16_383, 16_384, 100_000, 2_000_000] {
            let slot = slot_reservation(processes, max_memory_for(processes)) + MEMORY_GUARD;
            assert!(
                u64::from(processes) * slot <= POOL_ADDRESS_SPACE,
                "{processes}"
            );
        }
    }

    #[test]
    fn pool_fits_the_map_limit() {
        // Linux's default limit holds the 10,000 processes the showcase needs.
        let fit = processes_for_map_count(65_530);
        assert!(fit > 10_001, "{fit}");
        assert!(map_count_for_processes(fit) <= 65_530);
        assert_eq!(processes_for_map_count(u64::MAX), DEFAULT_MAX_PROCESSES);
    }
}
