//! Errors of the process API.

use crate::message_type::WrongType;

/// An error returned from a host call, such as a failed spawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LunaticError {
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
