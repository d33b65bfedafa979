//! The set of processes one process is linked to.

use super::{IdMap, ProcessId};

/// Links of one process: the linked process and the tag its signals carry.
///
/// Once the owner dies the set is closed; a link to a closed set is refused, so a link can
/// never be added to a process whose death notifications were already sent.
#[derive(Debug, Default)]
pub(crate) struct LinkSet {
    links: IdMap<ProcessId, i64>,
    closed: bool,
}

impl LinkSet {
    /// Adds a link; returns `false` (and adds nothing) when the owner is already dead.
    pub(crate) fn insert(&mut self, process: ProcessId, tag: i64) -> bool {
        if self.closed {
            return false;
        }
        self.links.insert(process, tag);
        true
    }

    /// Removes a link and returns its tag, if it was there.
    pub(crate) fn remove(&mut self, process: ProcessId) -> Option<i64> {
        self.links.remove(&process)
    }

    /// Closes the set for good and returns every link it held.
    pub(crate) fn close(&mut self) -> IdMap<ProcessId, i64> {
        self.closed = true;
        std::mem::take(&mut self.links)
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
        assert!(set.insert(1, 7));
        assert_eq!(set.close().get(&1), Some(&7));
        assert!(!set.insert(2, 8));
        assert!(set.is_empty());
    }
}
