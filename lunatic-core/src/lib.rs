//! The guest side of lunatic: processes, mailboxes, messages, request/reply and links, for
//! programs compiled to `wasm32-wasip1` and run by the `lunatic` VM.
//!
//! Every process is its own WebAssembly instance with its own memory; processes share
//! nothing and talk only through messages (any `serde` type, encoded with bincode). Every
//! message carries its type ([`MessageType`]): one read as another type is a
//! [`ReceiveError::WrongType`] naming both, and a request of the wrong type is refused at
//! once.
//!
//! | item | what it is |
//! |---|---|
//! | [`Process`] | a typed handle: `send`, `tag_send`, `link`, `kill`, `request` |
//! | [`process`] | `spawn`, `spawn_with`, `spawn_link*`, `this`, `sleep` |
//! | [`Mailbox`], [`LinkMailbox`] | receiving, with timeouts and selective receive by [`Tag`] |
//! | [`Request`] | a message that carries its sender, for request/reply |
//! | [`registry`] | VM-wide names for processes, with typed lookup |
//! | [`pg`] | process groups (Erlang's `pg`): join, leave, members, send to all; per environment |
//! | [`Environment`], [`Config`], [`ThisModule`], [`Module`] | limits on memory, compute and host functions; loading other wasm modules |
//! | [`Message`], [`Signal`] | what a process that traps link deaths receives |
//! | [`net`] | TCP, UDP and DNS; sockets move between processes inside messages |
//! | [`LunaticError`], [`ReceiveError`] | what can go wrong |

mod codec;
pub mod distributed;
mod environment;
mod error;
mod host;
mod mailbox;
mod message_type;
pub mod net;
pub mod pg;
pub mod process;
pub mod registry;
mod request;
mod resource;
mod tag;
#[doc(hidden)]
pub mod testing;
mod transfer;

pub use codec::{Sendable, TypedBytes};
pub use environment::{Config, Environment, Module, Param, ThisModule};
pub use error::{LunaticError, ReceiveError};
pub use lunatic_abi::{
    EndReason, Limit, LogLevel, Role, RoleChild, RoleStrategy, SupervisorEvent, SupervisorReport,
    SupervisorRole, TrapKind,
};
pub use mailbox::{Down, EndNotice, LinkMailbox, Mailbox, Message, Signal};
pub use message_type::{MessageType, WrongType, MAX_WIRE_NAME};
pub use process::{ExitReason, IntoLinkMailbox, Process, ProcessId, SpawnLinked};
pub use registry::lookup_version as lookup;
pub use request::{PendingReply, ReplyTo, Request};
pub use tag::Tag;
