//! [loom](https://docs.rs/loom) models of the VM's lock-free code, run on the production
//! source itself rather than on a copy.
//!
//! The scheduler's task state machine (`lunatic-vm/src/scheduler/task_state.rs`) decides,
//! with one atomic and no lock, who queues a task after a wake-up: the waker, or the worker
//! that polls it. A mistake there queues a task twice (two workers poll one future) or not
//! at all (a process that never runs again), and only under rare interleavings, which
//! tests on real threads hardly ever hit. loom runs each model below under every
//! interleaving and every outcome the memory model allows for its atomics.
//!
//! The same file hands a task's reference around without a reference count of the
//! waker's own: an idle task keeps the reference its worker held, and the one waker that
//! moves it out of `Idle` takes it back. A mistake there frees a task twice or never;
//! loom's `Arc` counts every reference, and its models fail on a leak or a second release.
//!
//! The mailbox (`lunatic-vm/src/messaging/mailbox.rs`) lets a sender push while the owner
//! takes: the owner answers "nothing queued" from a lock-free flag, leaves its waker for
//! the next push, and a kill must reach a process whatever it waits on. A lost wake-up
//! there is a process that sleeps forever with a message in its mailbox.
//!
//! The mailbox's lock (`lunatic-vm/src/messaging/sync.rs`) is a spin lock whose release is
//! a plain store: its model checks that it has one holder at a time and hands each
//! holder's writes to the next (it fails with either ordering weakened to `Relaxed`).
//!
//! The files are included here with `#[path]`; the state machine and the mailbox name
//! their primitives through `super::sync`, which is the VM's (std's atomics, the spin
//! lock) in the VM and loom's here, and the spin lock's file switches to loom's atomic
//! under `cfg(loom_model)`. This crate
//! does not depend on the VM, so the models build in seconds. The models are tests:
//! `cargo test -p loom-models`.

/// The primitives the included files use (`super::sync` in each): loom's, so that loom
/// sees every access.
#[cfg(test)]
#[allow(dead_code)]
mod sync {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic;
    pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
    pub(crate) use loom::sync::{Arc, MutexGuard};

    /// loom's mutex with parking_lot's `lock` (the VM's mutex is never poisoned).
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().expect("a model thread panicked")
        }
    }
}

#[cfg(test)]
#[path = "../../lunatic-vm/src/scheduler/task_state.rs"]
mod task_state;

#[cfg(test)]
#[allow(dead_code)]
#[path = "../../lunatic-vm/src/messaging/mailbox.rs"]
mod mailbox;

#[cfg(test)]
#[allow(dead_code)]
#[path = "../../lunatic-vm/src/process/death.rs"]
mod death;

/// The mailbox's spin lock itself, on loom's atomic (the mailbox models above use loom's
/// own mutex in its place, so that loom sees each lock).
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../lunatic-vm/src/messaging/sync.rs"]
mod spin_lock;

/// What `mailbox.rs` takes from the VM's `process` module: the end reasons, as they are.
#[cfg(test)]
mod process {
    pub(crate) use super::death::{EncodedReason, EndReason};

    /// A process id.
    pub(crate) type ProcessId = u64;
}

/// What `mailbox.rs` takes from the VM's `resources` module.
#[cfg(test)]
mod resources {
    /// The sockets a message carries. They play no part in how a mailbox synchronizes, so
    /// the model's messages carry none. (Not a unit struct: `mailbox.rs` makes an empty
    /// one with `default()`, which clippy refuses for unit structs.)
    #[derive(Debug, Default, PartialEq, Eq)]
    pub(crate) struct MessageResources(());

    impl MessageResources {
        /// None.
        pub(crate) fn len(&self) -> usize {
            0
        }
    }
}

/// What `mailbox.rs` takes from the VM's `sandbox` module.
#[cfg(test)]
mod sandbox {
    pub(crate) mod budget {
        /// A message's charge on its sender's environment. Counting plays no part in how a
        /// mailbox synchronizes, so the model's messages carry none.
        #[derive(Debug, PartialEq, Eq)]
        pub(crate) struct Held;
    }
}

#[cfg(test)]
mod tests {
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use loom::sync::{Arc, Mutex};
    use loom::thread;

    use super::task_state::{AfterRun, TaskState};

    /// A task that was polled once and waits to be woken.
    fn idle_task() -> TaskState {
        let task = TaskState::new_scheduled();
        task.start_run();
        assert_eq!(task.finish_run(false), AfterRun::Idle);
        task
    }

    /// Wakes `task` as `Task::wake` does, counting a push in `queued` when the waker must
    /// queue it.
    fn wake(task: &TaskState, queued: &AtomicUsize) {
        if task.mark_woken() {
            queued.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Polls `task` (taken from its queue) once, the poll staying pending, as `Task::run`
    /// does: `poll` stands for the future's poll. Counts a push in `queued` when the worker
    /// must queue the task again.
    fn run_pending<T>(task: &TaskState, queued: &AtomicUsize, poll: impl FnOnce() -> T) -> T {
        task.start_run();
        let polled = poll();
        if task.finish_run(false) == AfterRun::Requeue {
            queued.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }

    /// After every thread is done: a task queued once is `Scheduled` (a wake-up changes
    /// nothing), one not queued is `Idle` (the next wake-up queues it).
    fn assert_queued_once_or_idle(task: &TaskState, queued: usize) {
        assert!(queued <= 1, "the task was queued {queued} times");
        assert_eq!(
            task.mark_woken(),
            queued == 0,
            "queued {queued} times, yet a wake-up finds it in the wrong state"
        );
    }

    /// A message sent while the worker polls the task: the sender puts it in the mailbox
    /// (under its lock, as the VM's mailboxes do) and wakes the task. Either the poll saw
    /// the message, or the task is queued again; never twice.
    #[test]
    fn a_wake_during_a_poll_queues_the_task_exactly_once() {
        loom::model(|| {
            let task = Arc::new(TaskState::new_scheduled());
            let mailbox = Arc::new(Mutex::new(false));
            let queued = Arc::new(AtomicUsize::new(0));
            let sender = {
                let (task, mailbox, queued) =
                    (Arc::clone(&task), Arc::clone(&mailbox), Arc::clone(&queued));
                thread::spawn(move || {
                    *mailbox.lock().unwrap() = true;
                    wake(&task, &queued);
                })
            };
            let seen = run_pending(&task, &queued, || *mailbox.lock().unwrap());
            sender.join().unwrap();
            let queued = queued.load(Ordering::Relaxed);
            if !seen {
                assert_eq!(
                    queued, 1,
                    "the poll missed the message and the wake-up was lost"
                );
            }
            assert_queued_once_or_idle(&task, queued);
        });
    }

    /// How many preemptions loom tries in the three-thread model: every interleaving with
    /// up to 3 takes under a second, an exhaustive search minutes.
    const PREEMPTIONS: usize = 3;

    /// Two wake-ups during one poll: the task is queued again once. The mailbox here is an
    /// atomic that both sides change with a read-modify-write, not a lock, and loom tries
    /// up to [`PREEMPTIONS`] preemptions: three threads are too many interleavings to check
    /// them all in seconds.
    #[test]
    fn two_wakes_during_a_poll_queue_the_task_exactly_once() {
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(PREEMPTIONS);
        model.check(|| {
            let task = Arc::new(TaskState::new_scheduled());
            let mailbox = Arc::new(AtomicUsize::new(0));
            let queued = Arc::new(AtomicUsize::new(0));
            let senders: Vec<_> = (0..2)
                .map(|_| {
                    let (task, mailbox, queued) =
                        (Arc::clone(&task), Arc::clone(&mailbox), Arc::clone(&queued));
                    thread::spawn(move || {
                        mailbox.fetch_add(1, Ordering::AcqRel);
                        wake(&task, &queued);
                    })
                })
                .collect();
            let seen = run_pending(&task, &queued, || mailbox.fetch_add(0, Ordering::AcqRel));
            for sender in senders {
                sender.join().unwrap();
            }
            let queued = queued.load(Ordering::Relaxed);
            if seen < 2 {
                assert_eq!(
                    queued, 1,
                    "the poll missed a message and the wake-up was lost"
                );
            }
            assert_queued_once_or_idle(&task, queued);
        });
    }

    /// The worker that queues the task again sees what the waker wrote before it woke the
    /// task (the waker's exchange releases, the worker's failed one acquires), with no lock
    /// to order them: the next poll finds the message.
    #[test]
    fn a_requeueing_worker_sees_what_the_waker_wrote() {
        loom::model(|| {
            let task = Arc::new(TaskState::new_scheduled());
            let message = Arc::new(AtomicBool::new(false));
            let waker = {
                let (task, message) = (Arc::clone(&task), Arc::clone(&message));
                thread::spawn(move || {
                    message.store(true, Ordering::Relaxed);
                    task.mark_woken()
                })
            };
            task.start_run();
            if task.finish_run(false) == AfterRun::Requeue {
                assert!(
                    message.load(Ordering::Relaxed),
                    "queued again, yet the next poll would miss the message"
                );
            }
            waker.join().unwrap();
        });
    }

    /// Two wakers of an idle task: exactly one of them queues it.
    #[test]
    fn two_wakers_of_an_idle_task_queue_it_exactly_once() {
        loom::model(|| {
            let task = Arc::new(idle_task());
            let queued = Arc::new(AtomicUsize::new(0));
            let wakers: Vec<_> = (0..2)
                .map(|_| {
                    let (task, queued) = (Arc::clone(&task), Arc::clone(&queued));
                    thread::spawn(move || wake(&task, &queued))
                })
                .collect();
            for waker in wakers {
                waker.join().unwrap();
            }
            let queued = queued.load(Ordering::Relaxed);
            assert_eq!(
                queued, 1,
                "an idle task woken twice was queued {queued} times"
            );
            assert_queued_once_or_idle(&task, queued);
        });
    }

    /// A wake-up during the last poll, or after it, queues nothing, and the task stays
    /// done.
    #[test]
    fn a_wake_during_or_after_the_last_poll_is_ignored() {
        loom::model(|| {
            let task = Arc::new(TaskState::new_scheduled());
            let waker = {
                let task = Arc::clone(&task);
                thread::spawn(move || task.mark_woken())
            };
            task.start_run();
            assert_eq!(task.finish_run(true), AfterRun::Done);
            assert!(
                !waker.join().unwrap(),
                "a wake-up of a finishing task queued it"
            );
            assert!(!task.mark_woken(), "a wake-up after done queued the task");
            assert!(
                !task.mark_woken(),
                "a second wake-up after done queued the task"
            );
        });
    }
}

/// The references of a task (invariant 5 of `task_state.rs`), through `end_poll` and
/// `wake` as `task.rs` calls them. loom's `Arc` fails a model that leaks a reference or
/// releases one twice; each model ends with the task's last poll, after which nothing may
/// hold it.
#[cfg(test)]
mod task_reference_tests {
    use std::collections::VecDeque;

    use loom::sync::{Arc, Mutex};
    use loom::thread;

    use super::task_state::{end_poll, wake, HasState, TaskState};

    /// A task as `task.rs` has it, without a future.
    struct Task(TaskState);

    impl HasState for Task {
        fn state(&self) -> &TaskState {
            &self.0
        }
    }

    /// A run queue: each task in it holds one reference.
    type Queue = Arc<Mutex<VecDeque<Arc<Task>>>>;

    /// Wakes `task` through a waker's reference (a mailbox's), queueing it when told to.
    fn wake_into(task: &Arc<Task>, queue: &Queue) {
        if let Some(held) = wake(task) {
            queue.lock().unwrap().push_back(held);
        }
    }

    /// Polls `task`, taken from a queue, once; the poll stays pending unless `finished`.
    fn poll(task: Arc<Task>, finished: bool, queue: &Queue) {
        task.0.start_run();
        if let Some(again) = end_poll(task, finished) {
            queue.lock().unwrap().push_back(again);
        }
    }

    /// Takes the one task queued (failing if there are more), for its last poll.
    fn take_the_one(queue: &Queue) -> Arc<Task> {
        let mut queue = queue.lock().unwrap();
        assert_eq!(queue.len(), 1, "the task is queued {} times", queue.len());
        queue.pop_front().unwrap()
    }

    /// A wake-up around a poll that leaves the task idle: the worker queues it again with
    /// its own reference, or the waker takes back the one the idle task kept, or (woken
    /// before the poll, which covers the wake-up) the task stays idle and the next wake-up
    /// takes it back. Once, and the last poll frees it.
    #[test]
    fn a_wake_around_a_poll_queues_the_tasks_one_reference() {
        loom::model(|| {
            let queue = Queue::default();
            let task = Arc::new(Task(TaskState::new_scheduled()));
            // The mailbox keeps its owner's waker, with a reference of its own.
            let kept = Arc::clone(&task);
            let next_sender = Arc::clone(&task);
            let sender = {
                let queue = Arc::clone(&queue);
                thread::spawn(move || {
                    wake_into(&kept, &queue);
                    // The mailbox goes, with its waker.
                    drop(kept);
                })
            };
            poll(task, false, &queue);
            sender.join().unwrap();
            if queue.lock().unwrap().is_empty() {
                // Woken before the poll began: the task is idle, and the next wake-up
                // queues it.
                wake_into(&next_sender, &queue);
            }
            drop(next_sender);
            poll(take_the_one(&queue), true, &queue);
            assert!(queue.lock().unwrap().is_empty());
        });
    }

    /// Two wakers of an idle task: one takes its reference back, the other takes nothing.
    #[test]
    fn two_wakers_of_an_idle_task_take_its_reference_once() {
        loom::model(|| {
            let queue = Queue::default();
            let task = Arc::new(Task(TaskState::new_scheduled()));
            let wakers: Vec<_> = (0..2).map(|_| Arc::clone(&task)).collect();
            poll(task, false, &queue);
            let threads: Vec<_> = wakers
                .into_iter()
                .map(|waker| {
                    let queue = Arc::clone(&queue);
                    thread::spawn(move || wake_into(&waker, &queue))
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
            poll(take_the_one(&queue), true, &queue);
        });
    }

    /// A wake-up racing with the last poll takes no reference: the worker's is dropped
    /// with the finished task, and the waker's own goes with the waker.
    #[test]
    fn a_wake_racing_with_the_last_poll_takes_no_reference() {
        loom::model(|| {
            let queue = Queue::default();
            let task = Arc::new(Task(TaskState::new_scheduled()));
            let kept = Arc::clone(&task);
            let waker = {
                let queue = Arc::clone(&queue);
                thread::spawn(move || wake_into(&kept, &queue))
            };
            poll(task, true, &queue);
            waker.join().unwrap();
            assert!(
                queue.lock().unwrap().is_empty(),
                "a finished task was queued"
            );
        });
    }
}

#[cfg(test)]
mod mailbox_tests {
    use std::sync::Arc as StdArc;
    use std::task::{Wake, Waker};

    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::sync::Arc;
    use loom::thread;

    use super::mailbox::{Inbox, Mailbox, Message, MessageBytes, MessageData, MessageKind, Taken};
    use super::process::{EncodedReason, EndReason};

    /// What the models' owners took (the observer's counters, plain atomics: not modelled).
    static TAKEN: Taken = Taken::new();

    fn data(byte: u8) -> Message {
        Message {
            tag: 0,
            kind: MessageKind::Data(MessageData {
                sender: 0,
                message_type: 0,
                reply_tag: 0,
                bytes: MessageBytes::from_slice(&[byte]),
                extra: Default::default(),
            }),
            charge: None,
        }
    }

    /// A waker that counts its wake-ups (on loom's atomic, so loom sees them).
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: StdArc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (StdArc<Counter>, Waker) {
        let counter = StdArc::new(Counter(AtomicUsize::new(0)));
        (
            StdArc::clone(&counter),
            Waker::from(StdArc::clone(&counter)),
        )
    }

    /// The receive of a process that waits: a lock-free look first (`try_receive`, as a
    /// plain receive does), then a take that leaves its waker. A message pushed meanwhile
    /// is either taken or wakes the owner: it never sits unseen in a mailbox whose owner
    /// sleeps.
    #[test]
    fn a_push_racing_with_a_receive_is_taken_or_wakes_the_owner() {
        loom::model(|| {
            let mailbox = Arc::new(Mailbox::default());
            let sender = thread::spawn({
                let mailbox = Arc::clone(&mailbox);
                move || mailbox.push(data(1))
            });
            let (counter, waker) = counting_waker();
            let mut inbox = Inbox::default();
            let taken = match inbox.try_receive(&mailbox, &TAKEN, &[]) {
                Ok(None) => inbox.take(&mailbox, &TAKEN, &[], Some(&waker)),
                other => other,
            };
            sender.join().expect("the sender ran");
            let woken = counter.0.load(Ordering::SeqCst);
            match taken {
                Ok(Some(message)) => {
                    assert_eq!(message, data(1));
                    assert_eq!(woken, 0, "a receive that took its message was woken");
                }
                Ok(None) => assert_eq!(woken, 1, "a waiting owner was not woken"),
                Err(reason) => panic!("no one killed the owner: {reason:?}"),
            }
        });
    }

    /// The lock-free "nothing queued" answer: once a push is done, the owner's next look
    /// sees it (the flag is set under the lock the push takes, and cleared only by the
    /// owner under that lock when the queue is empty).
    #[test]
    fn after_a_push_the_lock_free_look_sees_it() {
        loom::model(|| {
            let mailbox = Arc::new(Mailbox::default());
            let sender = thread::spawn({
                let mailbox = Arc::clone(&mailbox);
                move || mailbox.push(data(1))
            });
            let mut inbox = Inbox::default();
            let first = inbox.try_receive(&mailbox, &TAKEN, &[]).expect("no kill");
            sender.join().expect("the sender ran");
            if first.is_none() {
                assert!(
                    !inbox.is_surely_empty(&mailbox),
                    "a pushed message is hidden"
                );
                assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]), Ok(Some(data(1))));
            }
            assert!(inbox.is_surely_empty(&mailbox));
        });
    }

    /// A kill racing with a host call that starts waiting on something else (a socket): the
    /// call either sees the death or is woken by the kill.
    #[test]
    fn a_kill_racing_with_a_watch_is_seen_or_wakes_the_watcher() {
        loom::model(|| {
            let mailbox = Arc::new(Mailbox::default());
            let killer = thread::spawn({
                let mailbox = Arc::clone(&mailbox);
                move || mailbox.kill(EndReason::Killed)
            });
            let (counter, waker) = counting_waker();
            let seen = mailbox.watch_for_kill(&waker);
            killer.join().expect("the killer ran");
            let woken = counter.0.load(Ordering::SeqCst);
            assert!(seen || woken == 1, "the kill was lost");
            assert!(
                !(seen && woken > 0),
                "a watcher that saw the death was woken too"
            );
            assert!(mailbox.is_death_pending());
        });
    }

    /// A sender pushes two messages to an owner that waited, while the owner looks: the
    /// first push hands its message to the owner's slot, the second queues. The owner gets
    /// both, in order, and never reads the slot while it is written (loom checks the
    /// slot's accesses).
    #[test]
    fn messages_handed_to_a_waiting_owner_arrive_once_and_in_order() {
        loom::model(|| {
            let mailbox = Arc::new(Mailbox::default());
            let (_counter, waker) = counting_waker();
            let mut inbox = Inbox::default();
            assert_eq!(inbox.take(&mailbox, &TAKEN, &[], Some(&waker)), Ok(None));
            let sender = thread::spawn({
                let mailbox = Arc::clone(&mailbox);
                move || {
                    mailbox.push(data(1));
                    mailbox.push(data(2));
                }
            });
            let mut received = Vec::new();
            received.extend(inbox.try_receive(&mailbox, &TAKEN, &[]).expect("no kill"));
            sender.join().expect("the sender ran");
            while let Some(message) = inbox.try_receive(&mailbox, &TAKEN, &[]).expect("no kill") {
                received.push(message);
            }
            assert_eq!(received, vec![data(1), data(2)]);
            assert!(inbox.is_surely_empty(&mailbox));
        });
    }

    /// A sender delivers `batches` (as its outbox does: each moved whole into an empty
    /// queue, or appended behind what is queued) while the owner looks and then waits.
    /// The owner takes every message once and in order, and is woken exactly when it
    /// waited.
    fn batches_arrive_once_in_order(batches: &'static [&'static [u8]]) {
        loom::model(move || {
            let mailbox = Arc::new(Mailbox::default());
            let sender = thread::spawn({
                let mailbox = Arc::clone(&mailbox);
                move || {
                    for batch in batches {
                        mailbox.push_batch(&mut batch.iter().map(|&byte| data(byte)).collect());
                    }
                }
            });
            let (counter, waker) = counting_waker();
            let mut inbox = Inbox::default();
            let mut received = Vec::new();
            received.extend(
                match inbox.try_receive(&mailbox, &TAKEN, &[]) {
                    Ok(None) => inbox.take(&mailbox, &TAKEN, &[], Some(&waker)),
                    other => other,
                }
                .expect("no kill"),
            );
            sender.join().expect("the sender ran");
            let woken = counter.0.load(Ordering::SeqCst);
            let waited = received.is_empty();
            assert_eq!(woken, usize::from(waited), "woken {woken}, waited {waited}");
            while let Some(message) = inbox.try_receive(&mailbox, &TAKEN, &[]).expect("no kill") {
                received.push(message);
            }
            let sent: Vec<Message> = batches.concat().into_iter().map(data).collect();
            assert_eq!(received, sent);
            assert!(inbox.is_surely_empty(&mailbox));
        });
    }

    /// One batch: its first message may be handed to the waiting owner, the rest queued.
    #[test]
    fn a_batch_racing_with_a_receive_arrives_once_in_order() {
        batches_arrive_once_in_order(&[&[1, 2, 3]]);
    }

    /// Two batches: the second's rest is appended behind the first, or, once the owner
    /// moved the first, takes the emptied queue's place.
    #[test]
    fn batches_racing_with_a_receive_arrive_once_in_order() {
        batches_arrive_once_in_order(&[&[1, 2], &[3, 4]]);
    }

    /// A batch and a single push from two senders race for an owner that waited and looks
    /// again: either may be handed over. Every message arrives once, the batch's in order,
    /// and the owner is woken once.
    #[test]
    fn a_batch_and_a_single_push_racing_arrive_once_in_their_senders_order() {
        loom::model(|| {
            let mailbox = Arc::new(Mailbox::default());
            let (counter, waker) = counting_waker();
            let mut inbox = Inbox::default();
            assert_eq!(inbox.take(&mailbox, &TAKEN, &[], Some(&waker)), Ok(None));
            let batch = thread::spawn({
                let mailbox = Arc::clone(&mailbox);
                move || mailbox.push_batch(&mut [data(1), data(2)].into())
            });
            let single = thread::spawn({
                let mailbox = Arc::clone(&mailbox);
                move || mailbox.push(data(3))
            });
            let mut received = Vec::new();
            received.extend(inbox.try_receive(&mailbox, &TAKEN, &[]).expect("no kill"));
            batch.join().expect("the batch's sender ran");
            single.join().expect("the single push's sender ran");
            assert_eq!(counter.0.load(Ordering::SeqCst), 1, "woken once");
            while let Some(message) = inbox.try_receive(&mailbox, &TAKEN, &[]).expect("no kill") {
                received.push(message);
            }
            let at = |byte| received.iter().position(|m| *m == data(byte));
            assert_eq!(received.len(), 3, "{received:?}");
            assert!(
                at(1).is_some() && at(1) < at(2) && at(3).is_some(),
                "{received:?}"
            );
        });
    }

    /// An owner whose receive stopped waiting (a request timed out) abandons the reply's
    /// tag while a batch with a message of that tag arrives: that message is dropped,
    /// whether it came first (handed over or queued) or after; the other arrives once, and
    /// the owner's old wait is woken once.
    #[test]
    fn an_abandoned_tag_racing_a_batch_drops_its_message() {
        let tagged = |tag, byte| Message { tag, ..data(byte) };
        loom::model(move || {
            let mailbox = Arc::new(Mailbox::default());
            let (counter, waker) = counting_waker();
            let mut inbox = Inbox::default();
            assert_eq!(inbox.take(&mailbox, &TAKEN, &[], Some(&waker)), Ok(None));
            let sender = thread::spawn({
                let mailbox = Arc::clone(&mailbox);
                move || mailbox.push_batch(&mut [tagged(7, 1), tagged(8, 2)].into())
            });
            inbox.abandon(&mailbox, &TAKEN, 7);
            sender.join().expect("the sender ran");
            assert_eq!(counter.0.load(Ordering::SeqCst), 1, "woken once");
            assert_eq!(
                inbox.try_receive(&mailbox, &TAKEN, &[]),
                Ok(Some(tagged(8, 2)))
            );
            assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]), Ok(None));
        });
    }

    /// A selective receive waits for tag 7 while a sender pushes a message of tag 3 (handed
    /// to the waiting owner, but not what it waits for: it goes to the inbox) and then one
    /// of tag 7. The owner's selective takes get the tag-7 message once, and a plain
    /// receive after them the tag-3 one: nothing lost, doubled or taken out of turn.
    #[test]
    fn a_handed_message_a_selective_receive_skips_stays_for_the_next() {
        let tagged = |tag, byte| Message { tag, ..data(byte) };
        loom::model(move || {
            let mailbox = Arc::new(Mailbox::default());
            let (_counter, waker) = counting_waker();
            let mut inbox = Inbox::default();
            assert_eq!(inbox.take(&mailbox, &TAKEN, &[7], Some(&waker)), Ok(None));
            let sender = thread::spawn({
                let mailbox = Arc::clone(&mailbox);
                move || {
                    mailbox.push(tagged(3, 1));
                    mailbox.push(tagged(7, 2));
                }
            });
            let mut selected = Vec::new();
            selected.extend(
                inbox
                    .take(&mailbox, &TAKEN, &[7], Some(&waker))
                    .expect("no kill"),
            );
            sender.join().expect("the sender ran");
            if selected.is_empty() {
                selected.extend(inbox.try_receive(&mailbox, &TAKEN, &[7]).expect("no kill"));
            }
            assert_eq!(selected, vec![tagged(7, 2)]);
            assert_eq!(
                inbox.try_receive(&mailbox, &TAKEN, &[]),
                Ok(Some(tagged(3, 1)))
            );
            assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]), Ok(None));
        });
    }

    /// A linked process's death racing with the owner's switch from trapping link deaths
    /// to dying of them: the signal is queued where the owner's look after the switch
    /// finds it (and it dies of it), or the sender sees the switch and kills the owner.
    /// Either way the owner dies; a signal never waits unseen.
    #[test]
    fn a_link_death_racing_with_the_switch_to_dying_kills_the_owner() {
        loom::model(|| {
            let mailbox = Arc::new(Mailbox::default());
            let traps = Arc::new(loom::sync::atomic::AtomicBool::new(true));
            let sender = thread::spawn({
                let (mailbox, traps) = (Arc::clone(&mailbox), Arc::clone(&traps));
                move || {
                    let signal = Message {
                        tag: 0,
                        kind: MessageKind::LinkDied {
                            node: 0,
                            process: 2,
                            reason: EncodedReason::new(EndReason::Killed),
                        },
                        charge: None,
                    };
                    mailbox.signal_link_death(
                        signal,
                        || traps.load(Ordering::Acquire),
                        || EndReason::Killed,
                    );
                }
            });
            // The owner's switch (`ProcessState::set_traps_link_deaths(false)`).
            traps.store(false, Ordering::Release);
            if Inbox::default().has_signal(&mailbox).is_some() {
                mailbox.kill(EndReason::Killed);
            }
            sender.join().expect("the sender ran");
            assert!(
                mailbox.is_death_pending(),
                "a link death waits unseen in the mailbox of a process that dies of them"
            );
        });
    }

    /// A kill racing with a waiting receive ends it: the receive sees the death, or the
    /// kill wakes it and its next take returns the death.
    #[test]
    fn a_kill_racing_with_a_waiting_receive_ends_it() {
        loom::model(|| {
            let mailbox = Arc::new(Mailbox::default());
            let killer = thread::spawn({
                let mailbox = Arc::clone(&mailbox);
                move || mailbox.kill(EndReason::Killed)
            });
            let (counter, waker) = counting_waker();
            let mut inbox = Inbox::default();
            let first = inbox.take(&mailbox, &TAKEN, &[], Some(&waker));
            killer.join().expect("the killer ran");
            match first {
                Err(reason) => assert_eq!(reason, EndReason::Killed),
                Ok(None) => {
                    assert_eq!(counter.0.load(Ordering::SeqCst), 1, "the kill was lost");
                    assert_eq!(
                        inbox.take(&mailbox, &TAKEN, &[], Some(&waker)),
                        Err(EndReason::Killed)
                    );
                }
                Ok(Some(message)) => panic!("no one sent {message:?}"),
            }
        });
    }
}

#[cfg(test)]
// The cell the lock guards is reached through raw pointers, as loom's cells are.
#[allow(unsafe_code)]
mod spin_lock_tests {
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::thread;

    use super::spin_lock::Mutex;

    /// Adds one to the value a lock guards, in a loom cell: loom reports two accesses of
    /// the cell that are not ordered, so two holders at once (invariant 1) or a holder's
    /// write not seen by the next (invariant 2: the acquiring exchange and the releasing
    /// store) fail the model.
    fn add_one(lock: &Mutex<UnsafeCell<usize>>) {
        let held = lock.lock();
        // SAFETY: the guard is the one holder: what this model checks.
        held.with_mut(|value| unsafe { *value += 1 });
    }

    /// Each thread takes the lock twice, so that either may find it held and wait in the
    /// contended path while the other takes it again.
    #[test]
    fn the_spin_lock_has_one_holder_at_a_time_and_hands_its_writes_on() {
        loom::model(|| {
            let lock = Arc::new(Mutex::new_for_test(UnsafeCell::new(0usize)));
            let other = {
                let lock = Arc::clone(&lock);
                thread::spawn(move || {
                    add_one(&lock);
                    add_one(&lock);
                })
            };
            add_one(&lock);
            add_one(&lock);
            other.join().expect("the other holder");
            let held = lock.lock();
            // SAFETY: as in `add_one`.
            assert_eq!(held.with(|value| unsafe { *value }), 4);
        });
    }
}
