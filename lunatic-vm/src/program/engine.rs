//! Builds the wasmtime [`Engine`] every process of a runtime shares, and drives its epoch.
//!
//! Spawning is cheap because instances come from the pooling allocator with copy-on-write
//! memory images: an instance is a few page-table entries, not a fresh mmap and copy.

use std::time::Duration;

use wasmtime::error::Context as _;
use wasmtime::{
    Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy,
    WasmBacktraceDetails,
};

use crate::config::RuntimeConfig;

/// Bytes of one wasm page.
const WASM_PAGE: u64 = 64 << 10;

/// Bytes of a dead process's table reset in place (a Rust program's function table is a
/// few thousand entries at most).
const TABLE_KEEP_RESIDENT: usize = 64 << 10;

/// Frames a logged wasm backtrace shows at most (wasmtime's default).
const BACKTRACE_FRAMES: std::num::NonZeroUsize = std::num::NonZeroUsize::new(20).unwrap();

/// Creates the engine for `config`.
///
/// # Errors
/// Fails when wasmtime rejects the settings (for example a stack size too small for the
/// wasm stack limit, or a pool that cannot be reserved).
/// With `metered`, the engine counts fuel, and allocates instances on demand rather than
/// from a pool: only processes of fuel-limited environments run on it, and a second pool
/// would cost as many memory maps as the first.
pub(crate) fn build_engine(
    config: &RuntimeConfig,
    backtrace_details: bool,
    metered: bool,
) -> wasmtime::Result<Engine> {
    let max_memory = config.max_memory.max(WASM_PAGE);
    // The pool's slots reserve all a memory can address when they fit (no bounds checks in
    // compiled code). The metered engine's memories are made on demand, beside the pool's,
    // so each reserves only what it may grow to.
    let reservation = if metered {
        max_memory
    } else {
        crate::config::slot_reservation(config.max_processes, max_memory)
    };
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(config.max_processes)
        .total_memories(config.max_processes)
        .total_tables(config.max_processes)
        .total_stacks(config.max_processes)
        .max_memory_size(usize::try_from(max_memory).unwrap_or(usize::MAX))
        .table_elements(crate::sandbox::limits::MAX_TABLE_ELEMENTS)
        // Keep freed slots warm so a spawn after a death reuses page tables.
        .max_unused_warm_slots(1_000);
    // A dead process's slot is reset by rewriting the pages it touched, found with
    // PAGEMAP_SCAN, instead of `madvise`: no page faults on reuse, and no TLB-shootdown
    // interrupts to every core at each death. Without the ioctl, a `memset` of
    // `keep_resident` bytes would cost more than `madvise`, so memory is returned instead.
    if config.keep_resident > 0 && PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(config.keep_resident)
            .table_keep_resident(config.keep_resident.min(TABLE_KEEP_RESIDENT));
    }

    let mut wasm = wasmtime::Config::new();
    let strategy = if metered {
        InstanceAllocationStrategy::OnDemand
    } else {
        InstanceAllocationStrategy::Pooling(pool)
    };
    wasm.allocation_strategy(strategy)
        .consume_fuel(metered)
        .memory_reservation(reservation)
        .memory_reservation_for_growth(0)
        .memory_guard_size(crate::config::MEMORY_GUARD)
        .memory_may_move(false)
        .memory_init_cow(true)
        .epoch_interruption(true)
        .async_stack_size(config.stack_size)
        .max_wasm_stack(config.stack_size / 2)
        .profiler(if config.perf_map {
            ProfilingStrategy::PerfMap
        } else {
            ProfilingStrategy::None
        })
        // A backtrace is only ever logged at `debug`; capturing one walks the stack at
        // every trap, and every kill ends a process with a trap.
        .wasm_backtrace_max_frames(backtrace_details.then_some(BACKTRACE_FRAMES))
        .wasm_backtrace_details(if backtrace_details {
            WasmBacktraceDetails::Enable
        } else {
            WasmBacktraceDetails::Disable
        });
    Engine::new(&wasm).with_context(|| {
        format!(
            "cannot create the wasm engine for {} processes of {} MiB each \
             (try a smaller --max-processes or --max-memory)",
            config.max_processes,
            max_memory >> 20
        )
    })
}

/// Advances the engine's epoch every `interval` on a thread of its own, so that a running
/// process reaches its deadline and yields. The thread lives as long as the engine.
///
/// # Errors
/// The thread cannot be started.
pub(crate) fn start_epoch_ticker(engine: &Engine, interval: Duration) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("lunatic-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                // Counted first: a process that sees the new epoch sees the tick too.
                crate::scheduler::tick();
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(interval);
            }
        })
        .map(drop)
}
