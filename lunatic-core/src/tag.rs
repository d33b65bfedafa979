//! Tags: numbers that let a process wait for one particular message.

use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

/// A tag on a message. [`Tag::new`] returns a tag no other call in the same VM returns, so
/// waiting for it cannot pick up another message.
///
/// The VM's tags (from [`Tag::new`], links and monitors) are positive; negative numbers are
/// the tags [`crate::Request`] gives its replies, made by the process itself (no host call),
/// unique among its own requests. A tag from [`Tag::from_id`] should be positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(transparent)] // `host::receive` passes a `&[Tag]` to the host as `i64`s
pub struct Tag(i64);

impl Tag {
    /// A fresh, VM-wide unique tag.
    #[must_use]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(crate::host::new_tag())
    }

    /// A tag for the reply to one request of this process: negative, so it is none of the
    /// VM's tags, and never the same twice in this process (a process is one instance, so
    /// the counter is its own).
    pub(crate) fn for_reply() -> Self {
        static LAST: AtomicI64 = AtomicI64::new(0);
        Self(LAST.fetch_sub(1, Ordering::Relaxed) - 1)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_tags_are_negative_and_never_repeat() {
        let tags: Vec<Tag> = (0..100).map(|_| Tag::for_reply()).collect();
        assert!(
            tags.iter().all(|tag| tag.id() < 0),
            "the VM's tags are positive"
        );
        let mut distinct = tags.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), tags.len());
    }
}
