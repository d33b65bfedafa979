//! Runtime settings that decide density and speed, with their defaults.
//!
//! | setting | default | why |
//! |---|---|---|
//! | `max_processes` | 100,000 | size of the instance pool; every slot reserves address space, not memory |
//! | `memory_reservation` | 256 MiB | the most linear memory one process may grow to; small slots let many processes fit in the address space |
//! | `stack_size` | 256 KiB | the host fiber stack of a process (wasm frames and host calls run on it) |
//! | `worker_threads` | number of cores | tokio worker threads that run processes |
//! | `preemption_interval` | 1 ms | how often a running process yields so a `loop {}` cannot starve the others |

use std::time::Duration;

/// Settings of one runtime; see the module docs for the defaults.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// How many processes may be alive at once (the pooling allocator's slot count).
    pub max_processes: u32,
    /// Bytes of address space reserved per process; the ceiling of its linear memory.
    pub memory_reservation: u64,
    /// Bytes of host stack per process fiber.
    pub stack_size: usize,
    /// Tokio worker threads.
    pub worker_threads: usize,
    /// Time slice after which a running process yields to the scheduler.
    pub preemption_interval: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            max_processes: 100_000,
            memory_reservation: 256 << 20,
            stack_size: 256 << 10,
            worker_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            preemption_interval: Duration::from_millis(1),
        }
    }
}
