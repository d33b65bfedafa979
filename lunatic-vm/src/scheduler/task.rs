//! A task: one process's future, and the state that makes every wake-up queue it once.
//!
//! # Invariants
//!
//! 1. **The future is touched by one thread at a time, without a lock.** Only the worker
//!    that took the task from a queue polls it (invariant 2 of `task_state.rs`, checked
//!    with loom), and `run` is the only place that reaches the future while the task is
//!    shared; its drop comes with the last reference. So `Task` is `Sync` although its
//!    future is in an `UnsafeCell`: a lock there cost two atomic read-modify-writes a
//!    poll, on every message that wakes a process.
//! 2. **A poll's waker borrows the worker's reference.** `run` owns a reference to the
//!    task until the poll returns, so the waker it lends the future needs none of its
//!    own; a clone of it (a mailbox keeping it, say) takes its own reference as any
//!    waker's does. Two reference-count changes a poll fewer.
//! 3. **An idle task holds one reference to itself**, which the waker that moves it out of
//!    `Idle` takes back to queue it: invariant 5 of `task_state.rs`, where the reference is
//!    forgotten and taken back (`end_poll`, `wake`); loom checks that no reference leaks
//!    or is released twice.

// The unsafe items argued above: the future's cell and the borrowed waker.
#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use super::task_state::{self, HasState, TaskState};
use super::worker;
use super::Shared;

/// A task's future.
pub(super) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Why a task is being queued, which decides where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    /// Woken by another task (a message, say): it runs next on the waker's worker.
    Woken,
    /// Just spawned by a task: it goes on top of the spawner's worker's spawn stack.
    Spawned,
    /// Woken while it ran (a yield at the end of its time slice): it goes to the back.
    Yielded,
}

pub(super) struct Task {
    state: TaskState,
    /// How many times a worker polled it (for the observer), written by the polling
    /// worker only, in the line `state` makes it write anyway.
    turns: std::sync::atomic::AtomicU64,
    /// Polled only by the worker that took the task from a queue: see invariant 1.
    future: UnsafeCell<Option<BoxFuture>>,
    pub(super) shared: Arc<Shared>,
}

// SAFETY: the one field that is not `Sync`, `future`, is reached by one thread at a time
// (invariant 1 above).
unsafe impl Sync for Task {}

impl Task {
    /// A task ready to be scheduled for the first time.
    pub(super) fn new(shared: Arc<Shared>, future: BoxFuture) -> Arc<Self> {
        Arc::new(Self {
            state: TaskState::new_scheduled(),
            turns: std::sync::atomic::AtomicU64::new(0),
            future: UnsafeCell::new(Some(future)),
            shared,
        })
    }

    /// Polls the future once (the caller took the task from a queue). A task woken while
    /// it ran is queued again, at the back.
    pub(super) fn run(self: Arc<Self>) {
        self.state.start_run();
        super::start_slice();
        // Only the polling worker writes it: no read-modify-write.
        let turns = self.turns.load(std::sync::atomic::Ordering::Relaxed);
        self.turns
            .store(turns + 1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: invariant 2 above: this waker's reference is `self`'s, which outlives
        // the poll, and `ManuallyDrop` never gives it back.
        let waker = ManuallyDrop::new(Waker::from(unsafe { Arc::from_raw(Arc::as_ptr(&self)) }));
        let mut cx = Context::from_waker(&waker);
        let finished = {
            // SAFETY: invariant 1 above: no other thread reaches the future meanwhile.
            let future = unsafe { &mut *self.future.get() };
            let finished = match future.as_mut() {
                // A panic here is a bug of the VM's own; the process is dropped and the
                // worker goes on with the others.
                Some(f) => std::panic::catch_unwind(AssertUnwindSafe(|| f.as_mut().poll(&mut cx)))
                    .map_or_else(
                        |_| {
                            tracing::error!("a process's task panicked; it is dropped");
                            true
                        },
                        |poll| poll.is_ready(),
                    ),
                None => true,
            };
            if finished {
                *future = None;
            }
            finished
        };
        // Woken during the poll: queued again, at the back.
        if let Some(task) = task_state::end_poll(self, finished) {
            schedule(task, Reason::Yielded);
        }
    }
}

impl Task {
    /// How many times it was polled.
    pub(super) fn turns(&self) -> u64 {
        self.turns.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a worker polls it now.
    pub(super) fn is_running(&self) -> bool {
        self.state.is_running()
    }
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    /// Schedules the task with the reference it held while idle (invariant 3).
    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(held) = task_state::wake(self) {
            schedule(held, Reason::Woken);
        }
    }
}

impl HasState for Task {
    fn state(&self) -> &TaskState {
        &self.state
    }
}

/// Queues `task` (in state `Scheduled`): on the current worker when it is one of the
/// task's scheduler's, otherwise on the shared queue.
pub(super) fn schedule(task: Arc<Task>, reason: Reason) {
    if let Err(task) = worker::schedule_local(task, reason) {
        let shared = Arc::clone(&task.shared);
        shared.schedule_remote(task);
    }
}
