//! Processes: identity, why they die, and the shared handle other processes reach them by.
//!
//! | type | job |
//! |---|---|
//! | [`ProcessHandle`] | the part of a process other processes may touch: mailbox, links |
//! | [`ProcessTable`] | every live process by id |
//! | `state` | what a process's host calls work on: its instance's state in the `Store` |
//! | [`LinkSet`] | the processes one process is linked to |
//! | [`MonitorSet`] | the processes watching one process |
//! | [`EndReason`], [`EncodedReason`] | why a process ended, and that reason as notices share it |
//! | [`Profile`] | where a process came from and what it does, for the observer |

mod death;
mod handle;
mod links;
mod monitors;
mod profile;
pub(crate) mod state;
mod table;

pub(crate) use death::Terminated;
pub(crate) use death::{EncodedReason, EndReason};
pub(crate) use handle::ProcessHandle;
pub(crate) use links::LinkSet;
pub(crate) use monitors::{Monitor, MonitorSet};
pub(crate) use profile::{Profile, Status};
pub(crate) use table::ProcessTable;

/// A map keyed by ids the VM makes (process ids, tags): numbers no guest picks (and
/// spread already: see `sandbox::unguessable`), so a multiply-and-rotate hash serves; `std`'s SipHash, made for keys an
/// attacker chooses, is not needed and cost much more on every request (see
/// docs/performance.md).
pub(crate) type IdMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;

/// The id of a process, unique within one runtime (ids are never reused) and unguessable.
///
/// Ids are local to a node; when processes span nodes, the guest pairs this with a node id.
pub(crate) type ProcessId = u64;
