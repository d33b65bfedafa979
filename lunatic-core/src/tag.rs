//! Tags: numbers that let a process wait for one particular message.

use serde::{Deserialize, Serialize};

/// A tag on a message. [`Tag::new`] returns 63 unguessable bits: no other call returns the
/// same (but with probability 2^-63), so waiting for it cannot pick up another message.
///
/// The VM's tags (from [`Tag::new`], links, monitors and the replies of [`crate::Request`])
/// are positive and unguessable: another process cannot forge a reply to a request of
/// this one, even when it may send to it. A tag from [`Tag::from_id`] should be positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(transparent)] // `host::receive` passes a `&[Tag]` to the host as `i64`s
pub struct Tag(i64);

impl Tag {
    /// A fresh tag that no other process can guess.
    #[must_use]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(crate::host::new_tag())
    }

    /// The tag of plain `send`s.
    #[must_use]
    #[inline]
    pub const fn none() -> Self {
        Self(0)
    }

    /// A tag from its number (for tags agreed on out of band).
    #[must_use]
    #[inline]
    pub const fn from_id(id: i64) -> Self {
        Self(id)
    }

    /// The tag's number.
    #[must_use]
    #[inline]
    pub const fn id(self) -> i64 {
        self.0
    }
}
