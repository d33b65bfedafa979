//! Every live process of a runtime, by id.

use std::sync::Arc;

use dashmap::DashMap;

use super::{ProcessHandle, ProcessId};
use crate::sandbox::unguessable::Unguessable;

/// The live processes of one runtime. Sharded, so sends from many threads rarely contend.
#[derive(Debug)]
pub(crate) struct ProcessTable {
    processes: DashMap<ProcessId, Arc<ProcessHandle>, rustc_hash::FxBuildHasher>,
    ids: Unguessable,
}

impl Default for ProcessTable {
    fn default() -> Self {
        Self {
            processes: DashMap::with_hasher(rustc_hash::FxBuildHasher),
            ids: Unguessable::new(u64::MAX),
        }
    }
}

impl ProcessTable {
    /// A fresh id: never 0, never reused, and unguessable (see [`Unguessable`]).
    pub(crate) fn next_id(&self) -> ProcessId {
        self.ids.next()
    }

    /// Adds a process.
    pub(crate) fn insert(&self, handle: Arc<ProcessHandle>) {
        self.processes.insert(handle.id(), handle);
    }

    /// The live process with this id.
    #[must_use]
    pub(crate) fn get(&self, id: ProcessId) -> Option<Arc<ProcessHandle>> {
        self.processes
            .get(&id)
            .map(|entry| Arc::clone(entry.value()))
    }

    /// Removes a process; `None` if it was not there.
    pub(crate) fn remove(&self, id: ProcessId) -> Option<Arc<ProcessHandle>> {
        self.processes.remove(&id).map(|(_, handle)| handle)
    }

    /// Every live process (a snapshot, for the observer).
    pub(crate) fn all(&self) -> Vec<Arc<ProcessHandle>> {
        self.processes
            .iter()
            .map(|entry| Arc::clone(entry.value()))
            .collect()
    }

    /// How many processes are alive.
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.processes.len()
    }
}
