//! The processes watching one process (Erlang's monitors), and those it watches.

use super::{IdMap, ProcessId};
use crate::sandbox::budget::Held;

/// One monitor: who watches, and its charge on the watcher's environment (given back
/// when the monitor goes).
#[derive(Debug)]
pub(crate) struct Monitor {
    pub(crate) watcher: ProcessId,
    /// Passed on to the down notice, so the watcher's environment pays until it is
    /// received.
    pub(crate) charge: Option<Held>,
}

/// Monitors of one process: each tag and the process that holds it. Unlike links they are
/// one-way, fire on every end (normal too) and never kill the watcher.
///
/// Once the owner dies the set is closed, so a monitor is never added after the down
/// notices were sent.
///
/// The set also lists the charged monitors the owner holds of others (`watching`: those of
/// a sandboxed owner), so that when the owner dies first they are removed from the
/// processes it watched (as in Erlang), and what they cost its environment is given back.
#[derive(Debug, Default)]
pub(crate) struct MonitorSet {
    watchers: IdMap<i64, Monitor>,
    watching: IdMap<i64, ProcessId>,
    closed: bool,
}

impl MonitorSet {
    /// Adds a monitor; gives it back (and adds nothing) when the owner is already dead.
    pub(crate) fn insert(&mut self, tag: i64, monitor: Monitor) -> Result<(), Monitor> {
        if self.closed {
            return Err(monitor);
        }
        self.watchers.insert(tag, monitor);
        Ok(())
    }

    /// Removes monitor `tag` if `watcher` holds it; `true` if it did, so the owner's end
    /// will never notify it (the set is closed, under the same lock, before any notice).
    pub(crate) fn remove(&mut self, tag: i64, watcher: ProcessId) -> bool {
        if self.watchers.get(&tag).map(|monitor| monitor.watcher) == Some(watcher) {
            self.watchers.remove(&tag);
            return true;
        }
        false
    }

    /// Notes that the owner holds monitor `tag` of `target`.
    pub(crate) fn watch(&mut self, tag: i64, target: ProcessId) {
        self.watching.insert(tag, target);
    }

    /// Forgets that the owner holds monitor `tag` of `target` (it fired, or was removed);
    /// a monitor of another process is left listed.
    pub(crate) fn unwatch(&mut self, tag: i64, target: ProcessId) {
        if self.watching.get(&tag) == Some(&target) {
            self.watching.remove(&tag);
        }
    }

    /// The monitors the owner holds of others, forgetting them (the owner ends).
    pub(crate) fn take_watching(&mut self) -> IdMap<i64, ProcessId> {
        std::mem::take(&mut self.watching)
    }

    /// Closes the set for good and returns every monitor it held.
    pub(crate) fn close(&mut self) -> IdMap<i64, Monitor> {
        self.closed = true;
        std::mem::take(&mut self.watchers)
    }

    /// The processes watching the owner (for the observer).
    pub(crate) fn watchers(&self) -> Vec<ProcessId> {
        self.watchers
            .values()
            .map(|monitor| monitor.watcher)
            .collect()
    }

    /// How many monitors the set holds.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.watchers.len()
    }

    /// Whether the set holds no monitor.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.watchers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_holder_removes_and_closed_refuses() {
        let watcher = |watcher| Monitor {
            watcher,
            charge: None,
        };
        let mut set = MonitorSet::default();
        assert!(set.insert(5, watcher(1)).is_ok());
        assert!(!set.remove(5, 2), "not the holder");
        assert_eq!(set.len(), 1);
        assert!(set.remove(5, 1), "no notice will come");
        assert!(set.is_empty());
        assert!(set.insert(6, watcher(1)).is_ok());
        assert_eq!(set.close().get(&6).map(|m| m.watcher), Some(1));
        assert!(set.insert(7, watcher(1)).is_err());
        assert!(!set.remove(6, 1), "closed: the notice is on its way");
    }
}
