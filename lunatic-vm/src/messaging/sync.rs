//! The synchronization primitives the mailbox uses. The loom model of the mailbox
//! (`loom-models`) compiles `mailbox.rs` itself against loom's versions of these, so the
//! model checks the code that runs, not a copy.

pub(crate) use parking_lot::{Mutex, MutexGuard};
pub(crate) use std::sync::atomic::{AtomicBool, Ordering};
