//! What moves between processes: the mailbox a process receives from (and a pending death),
//! the outbox its sends pass through, and the registry of names to reach processes by.

pub(crate) mod mailbox;
pub(crate) mod outbox;
pub(crate) mod registry;
mod sync;
pub(crate) mod type_names;

pub(crate) use mailbox::{
    Inbox, Mailbox, Message, MessageBytes, MessageData, MessageExtra, MessageKind,
};
