//! Errors of the process API.

use lunatic_abi::Limit;

use crate::message_type::WrongType;

/// An error returned from a host call, such as a failed spawn. The failures a program can
/// act on are variants of their own; the rest are the host's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LunaticError {
    /// The VM runs as many processes as it may (`--max-processes`): a program that spawns in
    /// bursts waits and tries again, as processes end.
    #[error(
        "no room for another process ({alive} alive): start lunatic with a larger --max-processes"
    )]
    NoRoom {
        /// The processes alive when the spawn was refused.
        alive: u64,
    },
    /// The caller's environment, or one it is inside, is at its limit of `limit`
    /// ([`Config`](crate::Config)).
    #[error("over the environment's limit of {limit}")]
    OverLimit {
        /// The limit reached.
        limit: Limit,
    },
    /// The node to spawn on is not connected ([`crate::distributed`]).
    #[error("node {node} is not connected")]
    NoConnection {
        /// The node's id.
        node: u64,
    },
    /// The host refused the call; the text says why.
    #[error("{0}")]
    Host(String),
}

/// Why a receive returned no message.
///
/// Two words: the larger reasons are boxed, so that `Result<M, ReceiveError>`, which every
/// receive returns through the guest's stack, stays small (the payloads were copied on
/// every receive, even a successful one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiveError {
    /// A monitored process ended (for a request: the server died before replying).
    #[error("process {} ended: {}", .0.id(), .0.reason())]
    ProcessDown(Box<crate::mailbox::Down>),
    /// A message arrived that was sent as the mailbox's type, but its bytes are not a
    /// valid value of it (a sender of another build, or not this library).
    #[error("message could not be deserialized: {0}")]
    DeserializationFailed(String),
    /// A message of another type arrived (the error names both). It was dropped; if it
    /// was a request, its sender was told at once ([`ReceiveError::Rejected`]).
    #[error("{0}")]
    WrongType(Box<WrongType>),
    /// A request this process sent could not be read by its receiver: it takes another
    /// type (the error names both).
    #[error("the request was refused: {0}")]
    Rejected(Box<WrongType>),
    /// No matching message arrived in time.
    #[error("receive timed out")]
    Timeout,
}
