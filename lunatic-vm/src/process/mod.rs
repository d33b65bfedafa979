//! Processes: identity, why they die, and the shared handle other processes reach them by.
//!
//! | type | job |
//! |---|---|
//! | [`ProcessHandle`] | the part of a process other processes may touch: mailbox, links |
//! | [`ProcessTable`] | every live process by id |
//! | [`Mailbox`] | where senders queue messages and signals; a pending death |
//! | [`Inbox`] | the owner's side: messages it moved out of the shared queue, selective receive |
//! | [`LinkSet`] | the processes one process is linked to |
//! | [`MonitorSet`] | the processes watching one process |
//! | [`EndReason`], [`EndNotice`] | why a process ended, and that reason as notices share it |

mod death;
mod handle;
mod links;
mod mailbox;
mod monitors;
mod table;

pub(crate) use death::Terminated;
pub use death::{EndNotice, EndReason};
pub use handle::ProcessHandle;
pub use links::LinkSet;
pub use mailbox::{Inbox, Mailbox, Message, MessageBytes, MessageData, MessageKind};
pub use monitors::MonitorSet;
pub use table::ProcessTable;

/// A map keyed by ids the VM makes (process ids, tags): sequential numbers no guest picks,
/// so a multiply-and-rotate hash spreads them well; `std`'s SipHash, made for keys an
/// attacker chooses, is not needed and cost much more on every request (see
/// docs/performance.md).
pub type IdMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;

/// The id of a process, unique within one runtime (ids are never reused).
///
/// Ids are local to a node; when processes span nodes, the guest pairs this with a node id.
pub type ProcessId = u64;
