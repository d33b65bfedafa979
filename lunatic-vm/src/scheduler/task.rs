//! A task: one process's future, and the state that makes every wake-up queue it once.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

use super::task_state::{AfterRun, TaskState};
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
    future: Mutex<Option<BoxFuture>>,
    pub(super) shared: Arc<Shared>,
}

impl Task {
    /// A task ready to be scheduled for the first time.
    pub(super) fn new(shared: Arc<Shared>, future: BoxFuture) -> Arc<Self> {
        Arc::new(Self {
            state: TaskState::new_scheduled(),
            turns: std::sync::atomic::AtomicU64::new(0),
            future: Mutex::new(Some(future)),
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
        let waker = Waker::from(Arc::clone(&self));
        let mut cx = Context::from_waker(&waker);
        let finished = {
            let mut future = self.future.lock().unwrap_or_else(|e| e.into_inner());
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
        match self.state.finish_run(finished) {
            AfterRun::Done | AfterRun::Idle => {}
            // Woken during the poll.
            AfterRun::Requeue => schedule(self, Reason::Yielded),
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
    /// Schedules the task with the reference the waker held: a message's wake-up costs no
    /// reference-count traffic.
    fn wake(self: Arc<Self>) {
        if self.state.mark_woken() {
            schedule(self, Reason::Woken);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.state.mark_woken() {
            schedule(Arc::clone(self), Reason::Woken);
        }
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
