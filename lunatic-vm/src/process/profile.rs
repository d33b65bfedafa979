//! What the observer shows of a process beyond its mailbox and links: where it came from,
//! what it is, and what it is doing.
//!
//! Invariant (cost): nothing here is written per message or per turn (what is, `Taken` in
//! the handle and the task's poll count, sits in lines written then anyway). Only
//! the process's own task writes here, with relaxed stores: once per blocking call other
//! than a receive that waits (`blocked`), on memory growth (`memory`). The actor layer's
//! description (`role`) takes a lock, once per change of what the process is. The
//! observer reads all of it when asked, and only then.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use lunatic_abi::Role;

use crate::sandbox::budget::Held;
use crate::sandbox::environment::Environment;

use super::{ProcessHandle, ProcessId};

/// A process's origin and activity.
#[derive(Debug)]
pub(crate) struct Profile {
    /// The process that spawned it; `None` for a top-level process (main, a test).
    pub(crate) parent: Option<ProcessId>,
    /// The top-level process it descends from (itself, for one): a test's processes are
    /// those of its group, and end with it.
    pub(crate) group: ProcessId,
    /// Its environment.
    pub(crate) environment: Arc<Environment>,
    /// Its module's name.
    pub(crate) module: Arc<str>,
    pub(crate) started: Instant,
    /// Whether it waits in a blocking call other than a receive (a sleep, a socket): set by
    /// the gate's `Killable` when such a call has to wait, cleared when it is done.
    blocked: AtomicBool,
    /// Bytes of its linear memories.
    memory: AtomicU64,
    /// What the actor layer said it is, and what that costs its environment.
    role: Mutex<Option<(Arc<Role>, Option<Held>)>>,
}

/// What a process is doing, as far as the observer can tell. A process woken from a wait
/// shows that wait until a worker takes it up (a moment, unless the workers are busy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// A worker runs it.
    Running,
    /// It waits for a worker.
    Runnable,
    /// It waits in a receive.
    Waiting,
    /// It waits in another blocking call: a sleep, a socket.
    Sleeping,
}

impl Profile {
    /// The profile, starting now, of process `id`, spawned by `parent` (`None`: a
    /// top-level process).
    pub(crate) fn new(
        id: ProcessId,
        parent: Option<&ProcessHandle>,
        environment: Arc<Environment>,
        module: Arc<str>,
    ) -> Self {
        Self {
            parent: parent.map(ProcessHandle::id),
            group: parent.map_or(id, |parent| parent.profile().group),
            environment,
            module,
            started: Instant::now(),
            blocked: AtomicBool::new(false),
            memory: AtomicU64::new(0),
            role: Mutex::new(None),
        }
    }

    /// The process starts or stops waiting in a blocking call other than a receive.
    #[inline]
    pub(crate) fn set_blocked(&self, blocked: bool) {
        self.blocked.store(blocked, Ordering::Relaxed);
    }

    /// Its memories now take `bytes`.
    pub(crate) fn set_memory(&self, bytes: usize) {
        self.memory.store(bytes as u64, Ordering::Relaxed);
    }

    /// Replaces what the process is; `charge` is what it costs the process's environment,
    /// given back when it is replaced or the process ends.
    pub(crate) fn set_role(&self, role: Role, charge: Option<Held>) {
        *self.role.lock().unwrap_or_else(PoisonError::into_inner) = Some((Arc::new(role), charge));
    }

    /// What the process is, if it said.
    pub(crate) fn role(&self) -> Option<Arc<Role>> {
        self.role
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|(role, _)| Arc::clone(role))
    }

    pub(crate) fn memory(&self) -> u64 {
        self.memory.load(Ordering::Relaxed)
    }

    /// What it does now; `on_worker`: whether a worker runs it; `waiting`: whether it
    /// waits in a receive.
    pub(crate) fn status(&self, on_worker: bool, waiting: bool) -> Status {
        if on_worker {
            Status::Running
        } else if waiting {
            Status::Waiting
        } else if self.blocked.load(Ordering::Relaxed) {
            Status::Sleeping
        } else {
            Status::Runnable
        }
    }
}

impl Default for Profile {
    fn default() -> Self {
        let root = crate::sandbox::environment::EnvConfig {
            max_memory: 0,
            max_fuel: None,
            namespaces: Vec::new(),
            preopens: Vec::new(),
            limits: lunatic_abi::Limits::UNLIMITED,
        };
        Self::new(0, None, Arc::new(Environment::root(root)), Arc::from(""))
    }
}
