//! The lunatic runtime: runs WebAssembly programs as many small, isolated processes.
//!
//! Every process is its own wasm instance (its own linear memory) on wasmtime, executed on
//! an async fiber in a tokio task, so a process blocked in `receive` or `sleep` costs no
//! thread, and a process in `loop {}` is preempted at every epoch tick.
//!
//! | module | job |
//! |---|---|
//! | [`cache`] | compiled modules kept on disk between runs |
//! | [`config`] | the settings that decide density and speed |
//! | [`runtime`] | the engines, the main program, the life of each process |
//! | [`environment`] | limits of memory, fuel, host functions and directories |
//! | [`process`] | ids, mailboxes, links, monitors, death reasons, the process table |
//! | [`registry`] | VM-wide names for processes |
//! | [`resource`] | sockets a process holds by id, and moves to others in messages |
//! | [`net`] | sockets and the waiting I/O on them (tokio) |
//! | `host` | the host ABI guests import (documented function by function) |
//! | [`wasi`] | what WASI shows a process: arguments, environment, output routing, directories |
//! | [`testing`] | the test runner for programs with `#[lunatic::test]` |
//! | [`cli`] | the `lunatic` command |

pub mod cache;
pub mod cli;
pub mod config;
mod engine;
pub mod environment;
mod host;
mod limits;
pub mod net;
mod outbox;
pub(crate) mod preinit;
pub mod process;
pub mod program;
pub mod registry;
pub mod resource;
pub mod runtime;
mod scheduler;
pub mod state;
pub mod testing;
pub mod wasi;

pub use config::RuntimeConfig;
pub use runtime::Runtime;
