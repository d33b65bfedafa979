//! The lunatic runtime: runs WebAssembly programs as many small, isolated processes.
//!
//! Every process is its own wasm instance (its own linear memory) on wasmtime, executed on
//! an async fiber in a tokio task, so a process blocked in `receive` or `sleep` costs no
//! thread, and a process in `loop {}` is preempted at every epoch tick.
//!
//! The source follows the data flow, one room per stage:
//!
//! | module | job |
//! |---|---|
//! | [`cli`], [`config`] | the `lunatic` command and the settings that decide density and speed |
//! | `program` | loading a program: compiling (`engine`), the on-disk `cache`, pre-initialization (`preinit`), linking for an environment |
//! | [`runtime`] | the hub: the engines, the main program, spawning and ending processes |
//! | `process` | a process: its handle, the table of live ones, links, monitors, end reasons, and its own state (`state`) |
//! | `messaging` | what moves between processes: the mailbox (receive side), the outbox (send side), the registry of names |
//! | `scheduler` | the worker threads that run processes' tasks |
//! | `resources` | sockets a process holds by id and moves in messages; the waiting I/O on them (`net`) |
//! | `sandbox` | environments (limits of memory, fuel, host functions, directories), the memory limiter, WASI |
//! | `host` | the host ABI: every host function, registered from its one declaration through one gate |
//! | `shutdown` | running main until it ends, or stopping its supervision trees gracefully on SIGTERM/SIGINT |
//! | `testing` | the test runner for programs with `#[lunatic::test]` |
//! | `observer` | the web page, JSON API and metrics of `lunatic --observe` (reads, never drives, the rest) |
//!
//! Only what the `lunatic` binary and the end-to-end tests use is public: [`cli::main`],
//! [`Runtime`], [`RuntimeConfig`] and [`WasiConfig`].

pub mod allocator;
pub mod cli;
pub mod config;
mod distributed;
mod host;
mod messaging;
mod observer;
mod process;
mod program;
mod resources;
pub mod runtime;
mod sandbox;
mod scheduler;
mod shutdown;
mod testing;

pub use config::RuntimeConfig;

/// The wasmtime engine unmetered processes run on, built from `config` exactly as the VM
/// builds it (pooling allocator, copy-on-write memory images, epoch interruption, fiber
/// stacks). For programs that measure what wasmtime itself costs on these settings, the
/// floor under every process (`benches/wasm_floor.rs`).
///
/// # Errors
/// wasmtime rejects the settings, or the pool cannot be reserved.
#[doc(hidden)]
pub fn wasm_engine(config: &RuntimeConfig) -> wasmtime::Result<wasmtime::Engine> {
    program::engine::build_engine(config, false, false)
}
pub use runtime::Runtime;
pub use sandbox::wasi::WasiConfig;
