//! The shared part of a process: what other processes and the runtime may touch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::messaging::registry::NameKey;

use super::{EncodedReason, EndReason, LinkSet, MonitorSet, ProcessId, Profile};
use crate::messaging::mailbox::Taken;
use crate::messaging::{Mailbox, Message, MessageKind};
use crate::sandbox::budget::Held;
use crate::scheduler::TaskProbe;

/// A live process as others see it. The wasm instance itself is owned by the process's
/// task; this handle is what the [`super::ProcessTable`] and linked processes hold.
///
/// The mailbox starts a cache line of its own: the reference count of the `Arc` this
/// handle lives in changes at each waiting host call of the owner (the gate holds a
/// reference while the call waits), and must not share a line with the lock and flags
/// senders take at every message. What the owner counts for the observer at every
/// message (`taken`) fills the rest of that first line, which its host calls write anyway
/// (a test checks that it fits).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct ProcessHandle {
    id: ProcessId,
    taken: Taken,
    mailbox: CacheLine<Mailbox>,
    links: Mutex<LinkSet>,
    monitors: Mutex<MonitorSet>,
    /// Names registered for this process (freed when it ends).
    names: Mutex<Vec<NameKey>>,
    /// `true`: link deaths arrive as signal messages; `false`: they kill this process.
    traps_link_deaths: AtomicBool,
    /// What the observer shows of it.
    profile: Profile,
    /// Its task, for the observer: whether a worker runs it, and how often one did. Set
    /// right after the task is spawned.
    task: std::sync::OnceLock<TaskProbe>,
}

/// A value aligned to a cache line.
#[derive(Debug, Default)]
#[repr(align(64))]
struct CacheLine<T>(T);

impl ProcessHandle {
    /// A new process that has not started yet; it dies with its links by default.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn new(id: ProcessId) -> Self {
        Self::with_profile(id, Profile::default())
    }

    /// A new process with `profile` that has not started yet; it dies with its links by
    /// default.
    #[must_use]
    pub(crate) fn with_profile(id: ProcessId, profile: Profile) -> Self {
        Self {
            id,
            mailbox: CacheLine::default(),
            links: Mutex::default(),
            monitors: Mutex::default(),
            names: Mutex::default(),
            traps_link_deaths: AtomicBool::new(false),
            taken: Taken::new(),
            profile,
            task: std::sync::OnceLock::new(),
        }
    }

    /// What the owner took out of its mailbox (for the observer).
    #[must_use]
    pub(crate) fn taken(&self) -> &Taken {
        &self.taken
    }

    /// Records its task (once, right after the spawn).
    pub(crate) fn set_task(&self, task: TaskProbe) {
        let _ = self.task.set(task);
    }

    /// Whether a worker runs it now.
    #[must_use]
    pub(crate) fn is_on_worker(&self) -> bool {
        self.task.get().is_some_and(TaskProbe::is_running)
    }

    /// How many times a worker ran it.
    #[must_use]
    pub(crate) fn turns(&self) -> u64 {
        self.task.get().map_or(0, TaskProbe::turns)
    }

    /// What the observer shows of it.
    #[must_use]
    pub(crate) fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The process id.
    #[must_use]
    pub(crate) fn id(&self) -> ProcessId {
        self.id
    }

    /// The mailbox.
    #[must_use]
    pub(crate) fn mailbox(&self) -> &Mailbox {
        &self.mailbox.0
    }

    /// The link set, locked.
    pub(crate) fn links(&self) -> MutexGuard<'_, LinkSet> {
        // Every critical section on the set is one call; a poisoned lock holds a whole set.
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The processes monitoring this one, locked.
    pub(crate) fn monitors(&self) -> MutexGuard<'_, MonitorSet> {
        self.monitors.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers a name registered for this process.
    pub(crate) fn add_name(&self, name: NameKey) {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name);
    }

    /// Forgets a name registered for this process (it was unregistered).
    pub(crate) fn remove_name(&self, name: &NameKey) {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|held| held != name);
    }

    /// The first `max` of the names registered for this process, as `name` or
    /// `name@version` (for a versioned registration), and how many there are (a process
    /// may hold thousands: a log line or the observer lists a few).
    pub(crate) fn first_names(&self, max: usize) -> (Vec<String>, usize) {
        let unversioned = semver::Version::new(0, 0, 0);
        let names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        let listed = names
            .iter()
            .take(max)
            .map(|key| {
                if key.version == unversioned {
                    key.name.clone()
                } else {
                    format!("{}@{}", key.name, key.version)
                }
            })
            .collect();
        (listed, names.len())
    }

    /// The names registered for this process, forgetting them.
    pub(crate) fn take_names(&self) -> Vec<NameKey> {
        std::mem::take(&mut *self.names.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Whether link deaths arrive as signals (`true`) or kill this process.
    pub(crate) fn traps_link_deaths(&self) -> bool {
        self.traps_link_deaths.load(Ordering::Acquire)
    }

    /// Chooses whether link deaths arrive as signals (`true`) or kill this process. (The
    /// owner then looks for a signal already queued: see `ProcessState`.)
    pub(crate) fn set_traps_link_deaths(&self, traps: bool) {
        self.traps_link_deaths.store(traps, Ordering::Release);
    }

    /// Tells this process that linked process `process` died abnormally.
    /// A signal this process caused itself (a link to a process not alive) carries its
    /// `charge`.
    pub(crate) fn notify_link_death(
        &self,
        node: u64,
        process: ProcessId,
        tag: i64,
        reason: &EncodedReason,
        charge: Option<Held>,
    ) {
        let signal = Message {
            tag,
            kind: MessageKind::LinkDied {
                node,
                process,
                reason: reason.clone(),
            },
            charge: charge.map(Box::new),
        };
        // Decided under the mailbox's lock: see `Mailbox::signal_link_death`.
        self.mailbox.0.signal_link_death(
            signal,
            || self.traps_link_deaths.load(Ordering::Acquire),
            || match reason.reason() {
                EndReason::NoProcess { .. } | EndReason::NoConnection { .. } => {
                    reason.reason().clone()
                }
                other => EndReason::linked_died(process, other),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_owner_s_counters_share_the_line_of_the_reference_counts() {
        // An `Arc`'s two counts, then the id and the counters, all before the mailbox's
        // line: the mailbox starts at the second line.
        let before_mailbox = 2 * std::mem::size_of::<usize>()
            + std::mem::size_of::<super::ProcessId>()
            + std::mem::size_of::<super::Taken>();
        assert!(before_mailbox <= 64, "{before_mailbox} bytes");
    }
}
