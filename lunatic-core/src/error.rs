//! Errors of the process API.

/// An error returned from a host call, such as a failed spawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LunaticError {
    /// The host refused the call; the text says why.
    #[error("{0}")]
    Host(String),
}

/// Why a receive returned no message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiveError {
    /// A monitored process ended (for a request: the server died before replying).
    #[error("process {} ended: {}", .0.id(), .0.reason())]
    ProcessDown(crate::mailbox::Down),
    /// A message arrived but is not a valid value of the mailbox's type.
    #[error("message could not be deserialized: {0}")]
    DeserializationFailed(String),
    /// No matching message arrived in time.
    #[error("receive timed out")]
    Timeout,
}
