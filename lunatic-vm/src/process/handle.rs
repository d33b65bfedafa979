//! The shared part of a process: what other processes and the runtime may touch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::registry::NameKey;

use super::{EndNotice, EndReason, LinkSet, Mailbox, Message, MessageKind, MonitorSet, ProcessId};

/// A live process as others see it. The wasm instance itself is owned by the process's
/// task; this handle is what the [`super::ProcessTable`] and linked processes hold.
#[derive(Debug)]
pub struct ProcessHandle {
    id: ProcessId,
    parent: Option<ProcessId>,
    started: Instant,
    mailbox: Mailbox,
    links: Mutex<LinkSet>,
    monitors: Mutex<MonitorSet>,
    /// Names registered for this process (freed when it ends).
    names: Mutex<Vec<NameKey>>,
    /// `true`: link deaths arrive as signal messages; `false`: they kill this process.
    traps_link_deaths: AtomicBool,
}

impl ProcessHandle {
    /// A new process that has not started yet; it dies with its links by default.
    #[must_use]
    pub fn new(id: ProcessId, parent: Option<ProcessId>) -> Self {
        Self {
            id,
            parent,
            started: Instant::now(),
            mailbox: Mailbox::default(),
            links: Mutex::default(),
            monitors: Mutex::default(),
            names: Mutex::default(),
            traps_link_deaths: AtomicBool::new(false),
        }
    }

    /// The process id.
    #[must_use]
    pub fn id(&self) -> ProcessId {
        self.id
    }

    /// The process that spawned this one (`None` for the main process).
    #[must_use]
    pub fn parent(&self) -> Option<ProcessId> {
        self.parent
    }

    /// When the process was created.
    #[must_use]
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The mailbox.
    #[must_use]
    pub fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    /// The link set, locked.
    pub fn links(&self) -> MutexGuard<'_, LinkSet> {
        // Every critical section on the set is one call; a poisoned lock holds a whole set.
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The processes monitoring this one, locked.
    pub fn monitors(&self) -> MutexGuard<'_, MonitorSet> {
        self.monitors.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers a name registered for this process.
    pub fn add_name(&self, name: NameKey) {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name);
    }

    /// The names registered for this process, as `name` or `name@version` (for a
    /// versioned registration).
    pub fn names(&self) -> Vec<String> {
        let unversioned = semver::Version::new(0, 0, 0);
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|key| {
                if key.version == unversioned {
                    key.name.clone()
                } else {
                    format!("{}@{}", key.name, key.version)
                }
            })
            .collect()
    }

    /// The names registered for this process, forgetting them.
    pub fn take_names(&self) -> Vec<NameKey> {
        std::mem::take(&mut *self.names.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Chooses whether link deaths arrive as signals (`true`) or kill this process. (The
    /// owner then looks for a signal already queued: see `ProcessState`.)
    pub fn set_traps_link_deaths(&self, traps: bool) {
        self.traps_link_deaths.store(traps, Ordering::Release);
    }

    /// Tells this process that linked process `process` died abnormally.
    pub fn notify_link_death(&self, process: ProcessId, tag: i64, reason: &EndNotice) {
        if self.traps_link_deaths.load(Ordering::Acquire) {
            self.mailbox.push(Message {
                tag,
                kind: MessageKind::LinkDied {
                    process,
                    reason: reason.clone(),
                },
            });
        } else {
            self.mailbox.kill(match reason.reason() {
                EndReason::NoProcess { .. } => reason.reason().clone(),
                other => EndReason::linked_died(process, other),
            });
        }
    }
}
