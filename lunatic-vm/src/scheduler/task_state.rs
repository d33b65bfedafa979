//! A task's wake-up state machine: the one atomic that makes every wake-up queue a task
//! once, and who holds the task's reference meanwhile. `task.rs` drives it; the
//! `loom-models` crate compiles this very file against loom's atomics and `Arc` (through
//! `super::sync`) and checks it under every interleaving.
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
//! 5. **An idle task holds one reference to itself, and one waker takes it back.** Every
//!    task in a queue is held there by one reference, and the worker that polls it holds
//!    that one. When its poll leaves it `Idle`, the worker does not give the reference back
//!    but leaves it to the task ([`end_poll`] forgets it); the one waker whose
//!    `mark_woken` moves the task out of `Idle` (one wins: invariant 1) takes that
//!    reference back ([`wake`]) and queues the task with it. So a wake-up needs no
//!    reference of the waker's own: a mailbox keeps its owner's waker for good and wakes
//!    it by reference, and a message's wake-up changes no reference count at all. A task
//!    never woken again keeps itself alive, as one waiting for a message its waker holds
//!    does. Once `finish_run`'s exchange made the task `Idle`, another thread may run it to
//!    its end and drop it while the worker still holds its pointer; the worker touches
//!    nothing after the exchange (the pattern of `std`'s own `Arc::drop`). The models check
//!    the counts (no reference leaks, none is released twice); that nothing is touched
//!    after the exchange is argued here, not modelled (loom does not track freed memory).
//!
//! The orderings: a waker's exchange is `AcqRel` and the worker's failing one reads with
//! `Acquire`, so what the waker wrote before waking (a message) is seen by the worker that
//! queues the task again, and so by its next poll; a task queued by a waker is handed over
//! by the queue, which orders the two as well.

// The unsafe item argued in invariant 5: a waker taking back the idle task's reference.
#![allow(unsafe_code)]

use super::sync::atomic::{AtomicU8, Ordering};
use super::sync::Arc;

/// What a task's reference points to: something with a [`TaskState`] (the VM's `Task`, or
/// a model's).
pub(super) trait HasState {
    fn state(&self) -> &TaskState;
}

/// Ends the poll of `task`, whose reference the polling worker took from a queue:
/// `finished` says the task is done. Returns the reference when the worker must queue the
/// task again (it was woken during the poll); otherwise the reference is dropped (done) or
/// left to the idle task (invariant 5).
pub(super) fn end_poll<T: HasState>(task: Arc<T>, finished: bool) -> Option<Arc<T>> {
    match task.state().finish_run(finished) {
        AfterRun::Done => None,
        AfterRun::Idle => {
            // A waker may have taken the reference back already: `task` is not touched
            // again.
            std::mem::forget(task);
            None
        }
        AfterRun::Requeue => Some(task),
    }
}

/// Wakes `task` through a borrowed reference (a waker's). Returns the reference to queue
/// it with when this wake-up moved it out of `Idle`: the one the idle task held.
pub(super) fn wake<T: HasState>(task: &Arc<T>) -> Option<Arc<T>> {
    if !task.state().mark_woken() {
        return None;
    }
    // SAFETY: invariant 5: this wake-up moved the task out of `Idle`, so the reference the
    // idle task held (forgotten by `end_poll`) is this waker's to take back, and no one
    // else's.
    Some(unsafe { Arc::from_raw(Arc::as_ptr(task)) })
}

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
