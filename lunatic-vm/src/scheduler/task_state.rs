//! A task's wake-up state machine: the one atomic that makes every wake-up queue a task
//! once. `task.rs` drives it; the `loom-models` crate compiles this very file against
//! loom's atomics (through `super::sync`) and checks it under every interleaving.
//!
//! | from | to | by |
//! |---|---|---|
//! | `Idle` | `Scheduled` | a waker (`mark_woken` returns `true`: it queues the task) |
//! | `Scheduled` | `Running` | the worker that took the task from a queue (`start_run`) |
//! | `Running` | `Notified` | a waker (`mark_woken` returns `false`) |
//! | `Running` | `Idle` | the worker, the poll pending (`finish_run` returns [`AfterRun::Idle`]) |
//! | `Notified` | `Scheduled` | the worker, the poll pending (`finish_run` returns [`AfterRun::Requeue`]: it queues the task) |
//! | `Running`, `Notified` | `Done` | the worker, the poll ready |
//!
//! # Invariants
//!
//! 1. **A task is in at most one queue.** Whoever moves the task into `Scheduled` queues
//!    it, and nobody else: a waker from `Idle`, or the polling worker from `Notified`. The
//!    task leaves `Scheduled` only when the worker that took it from the queue calls
//!    `start_run`, so it is not queued again before it is taken. During the poll, the two
//!    ways out of `Running`, the worker's `Running -> Idle` and a waker's
//!    `Running -> Notified`, are compare-exchanges on the one atomic: exactly one wins, so
//!    either a waker queues the task (from `Idle`) or the worker does (from `Notified`),
//!    never both. Wakers of an `Idle` task race on one compare-exchange, and one wins.
//! 2. **Only the worker that took the task polls it.** The task is in one queue (1), so
//!    one worker takes it, and nobody queues it again until that worker's poll is over.
//! 3. **A wake-up during a poll is never lost.** A waker that finds `Running` moves it to
//!    `Notified`; the worker's `Running -> Idle` then fails and the worker queues the task
//!    again once the poll returns. Had the worker's exchange come first, the waker finds
//!    `Idle` and queues the task itself. A waker that reads `Scheduled` returns without a
//!    read-modify-write: the poll still to come covers it. That read is never a stale
//!    `Scheduled` from before the current poll: a wake-up that the poll could miss comes
//!    after the poll registered its waker (the resource's own lock or atomics order the
//!    two), so after `start_run`'s store: the read sees `Running` or a later state.
//! 4. **Wake-ups after `Done` are ignored.** Nothing leaves `Done`, and `mark_woken`
//!    returns `false` there. A wake-up during the last poll turns `Running` into
//!    `Notified`, which the store of `Done` overwrites.
//!
//! The orderings: a waker's exchange is `AcqRel` and the worker's failing one reads with
//! `Acquire`, so what the waker wrote before waking (a message) is seen by the worker that
//! queues the task again, and so by its next poll; a task queued by a waker is handed over
//! by the queue, which orders the two as well.

use super::sync::atomic::{AtomicU8, Ordering};

/// Where a task is in its life. Only the worker that took it from a queue polls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum State {
    /// Waiting to be woken; not in any queue.
    Idle = 0,
    /// In a queue (or a next slot, or a spawn stack), to be polled.
    Scheduled = 1,
    /// Being polled.
    Running = 2,
    /// Being polled, and woken meanwhile: queued again once the poll returns.
    Notified = 3,
    /// Finished; wake-ups are ignored.
    Done = 4,
}

/// What the worker does with a task after polling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AfterRun {
    /// The task finished: drop it.
    Done,
    /// The task waits to be woken; whoever wakes it queues it.
    Idle,
    /// The task was woken while it ran: the worker queues it again (it is `Scheduled`).
    Requeue,
}

/// A task's state: see the module's doc for the transitions and their invariants.
pub(super) struct TaskState(AtomicU8);

impl TaskState {
    /// The state of a task ready to be queued for the first time.
    pub(super) fn new_scheduled() -> Self {
        Self(AtomicU8::new(State::Scheduled as u8))
    }

    /// `Scheduled -> Running`: called by the worker that took the task from a queue, before
    /// it polls it. No one else changes a `Scheduled` task, so a store suffices.
    pub(super) fn start_run(&self) {
        self.0.store(State::Running as u8, Ordering::Release);
    }

    /// Called by the polling worker once the poll returned (`finished`: the task is done).
    /// [`AfterRun::Requeue`] means the worker must queue the task again.
    pub(super) fn finish_run(&self, finished: bool) -> AfterRun {
        if finished {
            self.0.store(State::Done as u8, Ordering::Release);
            AfterRun::Done
        } else if self
            .0
            .compare_exchange(
                State::Running as u8,
                State::Idle as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
        {
            AfterRun::Idle
        } else {
            // Woken during the poll: the only other state it can be in is `Notified`.
            self.0.store(State::Scheduled as u8, Ordering::Release);
            AfterRun::Requeue
        }
    }

    /// Whether a worker polls the task now (for the observer; a snapshot that may be stale
    /// at once).
    #[cfg_attr(loom_model, allow(dead_code))]
    pub(super) fn is_running(&self) -> bool {
        let state = self.0.load(Ordering::Relaxed);
        state == State::Running as u8 || state == State::Notified as u8
    }

    /// Marks the task woken; `true` if the caller must schedule it (it was idle), `false`
    /// if it is running (it will run again) or already scheduled or done.
    pub(super) fn mark_woken(&self) -> bool {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let next = match current {
                c if c == State::Idle as u8 => State::Scheduled,
                c if c == State::Running as u8 => State::Notified,
                _ => return false,
            };
            match self.0.compare_exchange_weak(
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
