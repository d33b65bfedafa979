//! The host ABI: every function a guest may import, one import module per file.
//!
//! | import module | file | what it does |
//! |---|---|---|
//! | `lunatic::environment` | `environment` | environments with limits, and modules added to them |
//! | `lunatic::error` | [`error`] | read and drop errors other calls returned by id |
//! | `lunatic::message` | [`message`] | build, send and receive messages; tags |
//! | `lunatic::networking` | `networking` | TCP, UDP and DNS; sockets are resources |
//! | `lunatic::process` | [`process`] | spawn, link, monitor, kill, sleep, identity |
//! | `lunatic::registry` | `registry` | VM-wide names for processes |
//! | `lunatic::resource` | `resource` | drop and clone resource handles; move them through messages |
//! | `wasi_snapshot_preview1` | `wasmtime-wasi` | standard streams, args, env, clocks, random, exit |
//!
//! Conventions: pointers and lengths are `u32` offsets into the caller's exported `memory`;
//! process ids are `u64`; tags are `i64`. A guest that passes memory ranges outside its
//! memory, or calls a function out of order, traps with a message naming the function:
//! only the calling process dies, the host never panics.

mod environment;
pub(crate) mod error;
mod memory;
pub(crate) mod message;
mod networking;
pub(crate) mod process;
mod registry;
mod resource;

use wasmtime::{Engine, Linker};

use crate::state::ProcessState;

/// A linker holding every host function and WASI preview 1.
///
/// # Errors
/// Only if two definitions clash, which is a bug in this crate.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<ProcessState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, ProcessState::wasi)?;
    environment::register(&mut linker)?;
    error::register(&mut linker)?;
    message::register(&mut linker)?;
    process::register(&mut linker)?;
    registry::register(&mut linker)?;
    resource::register(&mut linker)?;
    networking::register(&mut linker)?;
    Ok(linker)
}
