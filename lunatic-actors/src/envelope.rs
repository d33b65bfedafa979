//! What travels to an actor's process.

use lunatic_core::TypedBytes;
use serde::{Deserialize, Serialize};

/// The wire type of every actor's mailbox. It travels as the actor's message type, so
/// a message meant for another actor (or not for an actor at all) is never served: a call
/// is refused at once, anything else is logged and dropped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Envelope<M> {
    /// One of the actor's messages (a call carries its `Request`).
    Message(M),
    /// A raw info message, for `Actor::handle_info`.
    Info(TypedBytes),
}

/// Asks an actor of any type to stop: it runs `terminate(Shutdown)`, then ends normally.
/// A message of its own type, so a supervisor can stop children of every type with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop;
