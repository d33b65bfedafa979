//! What confines a process: its environment (limits of memory and fuel, the host functions
//! and directories it may use), the limiter that enforces its memory limit, and what WASI
//! shows it.

pub(crate) mod environment;
pub(crate) mod limits;
pub(crate) mod wasi;
