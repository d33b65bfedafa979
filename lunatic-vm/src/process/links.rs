//! The set of processes one process is linked to.

use super::{IdMap, ProcessId};
use crate::sandbox::budget::Held;

/// One side of a link: the tag its signals carry, and, on the side of the process that
/// asked for it, its charge on that process's environment's handle limit.
#[derive(Debug)]
pub(crate) struct LinkEnd {
    pub(crate) tag: i64,
    pub(crate) charge: Option<Held>,
}

/// Links of one process: the linked process and the tag its signals carry.
///
/// Once the owner dies the set is closed; a link to a closed set is refused, so a link can
/// never be added to a process whose death notifications were already sent.
#[derive(Debug, Default)]
pub(crate) struct LinkSet {
    links: IdMap<ProcessId, LinkEnd>,
    closed: bool,
}

impl LinkSet {
    /// Adds a link with `tag` (and its `charge`, given back when the link goes); returns
    /// `false` (and adds nothing) when the owner is already dead.
    pub(crate) fn insert(&mut self, process: ProcessId, tag: i64, charge: Option<Held>) -> bool {
        if self.closed {
            return false;
        }
        self.links.insert(process, LinkEnd { tag, charge });
        true
    }

    /// Removes a link and returns it, if it was there.
    pub(crate) fn remove(&mut self, process: ProcessId) -> Option<LinkEnd> {
        self.links.remove(&process)
    }

    /// Closes the set for good and returns every link it held.
    pub(crate) fn close(&mut self) -> IdMap<ProcessId, LinkEnd> {
        self.closed = true;
        std::mem::take(&mut self.links)
    }

    /// The linked processes (for the observer).
    pub(crate) fn processes(&self) -> Vec<ProcessId> {
        self.links.keys().copied().collect()
    }

    /// Whether the set holds no link.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_set_refuses_links() {
        let mut set = LinkSet::default();
        assert!(set.insert(1, 7, None));
        assert_eq!(set.close().get(&1).map(|end| end.tag), Some(7));
        assert!(!set.insert(2, 8, None));
        assert!(set.is_empty());
    }
}
