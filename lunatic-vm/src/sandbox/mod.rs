//! What confines a process: its environment (limits of memory and fuel, the host functions
//! and directories it may use), the limiter that enforces its memory limit, and what WASI
//! shows it, and the unguessable numbers that make process ids and tags capabilities.

pub(crate) mod budget;
pub(crate) mod environment;
pub(crate) mod limits;
pub(crate) mod unguessable;
pub(crate) mod wasi;
