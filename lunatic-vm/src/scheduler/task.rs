//! A task: one process's future, and the state that makes every wake-up queue it once.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

use super::worker;
use super::Shared;

/// A task's future.
pub(super) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where a task is in its life. Only the worker that took it from a queue polls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum State {
    /// Waiting to be woken; not in any queue.
    Idle = 0,
    /// In a queue (or a next slot), to be polled.
    Scheduled = 1,
    /// Being polled.
    Running = 2,
    /// Being polled, and woken meanwhile: queued again once the poll returns.
    Notified = 3,
    /// Finished; wake-ups are ignored.
    Done = 4,
}

/// Why a task is being queued, which decides where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    /// Woken by another task (a message, say): it runs next on the waker's worker.
    Woken,
    /// Just spawned: placed as a woken task is.
    Spawned,
    /// Woken while it ran (a yield at the end of its time slice): it goes to the back.
    Yielded,
}

pub(super) struct Task {
    state: AtomicU8,
    future: Mutex<Option<BoxFuture>>,
    pub(super) shared: Arc<Shared>,
}

impl Task {
    /// A task ready to be scheduled for the first time.
    pub(super) fn new(shared: Arc<Shared>, future: BoxFuture) -> Arc<Self> {
        Arc::new(Self {
            state: AtomicU8::new(State::Scheduled as u8),
            future: Mutex::new(Some(future)),
            shared,
        })
    }

    fn transition(&self, from: State, to: State) -> Result<(), u8> {
        self.state
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .map(drop)
    }

    /// Polls the future once (the caller took the task from a queue). A task woken while
    /// it ran is queued again, at the back.
    pub(super) fn run(self: Arc<Self>) {
        self.state.store(State::Running as u8, Ordering::Release);
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
        if finished {
            self.state.store(State::Done as u8, Ordering::Release);
        } else if self.transition(State::Running, State::Idle).is_err() {
            // Woken during the poll: the only other state it can be in is `Notified`.
            self.state.store(State::Scheduled as u8, Ordering::Release);
            schedule(self, Reason::Yielded);
        }
    }

    /// Marks the task woken; `true` if it must be scheduled (it was idle), `false` if it
    /// is running (it will run again) or already scheduled or done.
    fn mark_woken(&self) -> bool {
        let mut current = self.state.load(Ordering::Acquire);
        loop {
            let next = match current {
                c if c == State::Idle as u8 => State::Scheduled,
                c if c == State::Running as u8 => State::Notified,
                _ => return false,
            };
            match self.state.compare_exchange_weak(
                current,
                next as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return next == State::Scheduled,
                Err(actual) => current = actual,
            }
        }
    }
}

impl Wake for Task {
    /// Schedules the task with the reference the waker held: a message's wake-up costs no
    /// reference-count traffic.
    fn wake(self: Arc<Self>) {
        if self.mark_woken() {
            schedule(self, Reason::Woken);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.mark_woken() {
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
