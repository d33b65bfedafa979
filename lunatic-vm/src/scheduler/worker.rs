//! One worker thread: its run queue, its spawn stack, its next slot, and the loop that runs
//! them.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_deque::Steal;

use super::task::{Reason, Task};
use super::{
    Shared, DRIVER_INTERVAL, IDLE_POLL, MAX_NEXT_CHAIN, OLDEST_SPAWN_WAIT, SHARED_QUEUE_INTERVAL,
};
use crate::program::table_pages::Running;

/// A worker thread's state, reachable from the tasks it polls (a wake-up during a poll
/// queues the woken task here).
pub(super) struct Worker {
    shared: Arc<Shared>,
    index: usize,
    queue: crossbeam_deque::Worker<Arc<Task>>,
    /// Tasks spawned here and not yet run, the newest on top (other workers steal the
    /// oldest).
    spawned: crossbeam_deque::Worker<Arc<Task>>,
    /// The task to run next: the last one a task running here woke.
    next: Cell<Option<Arc<Task>>>,
    /// Tasks run from the next slot or the spawn stack since one was taken from the queue.
    chain: Cell<u32>,
    /// Turns taken, for looking at the shared queue now and then.
    ticks: Cell<u32>,
    /// This worker's I/O and timers; it sleeps in it.
    reactor: tokio::runtime::Runtime,
    /// When the reactor was last turned.
    last_turn: Cell<Instant>,
    /// When the oldest spawn last moved to the queue.
    last_spawn_moved: Cell<Instant>,
    /// Whether the worker sleeps in its reactor (a task the reactor wakes must end it).
    asleep: Cell<bool>,
}

thread_local! {
    /// The worker running on this thread, if it is one.
    static CURRENT: RefCell<Option<Rc<Worker>>> = const { RefCell::new(None) };
    /// Its index, read without borrowing it.
    static CURRENT_INDEX: Cell<Option<usize>> = const { Cell::new(None) };
}

/// See [`super::current_worker`].
pub(super) fn current_index() -> Option<usize> {
    CURRENT_INDEX.try_with(Cell::get).ok().flatten()
}

/// Queues `task` on the current thread's worker, if the thread is a worker of the task's
/// scheduler; gives the task back otherwise.
pub(super) fn schedule_local(task: Arc<Task>, reason: Reason) -> Result<(), Arc<Task>> {
    let worker = CURRENT
        .try_with(|current| {
            current
                .borrow()
                .as_ref()
                .filter(|worker| Arc::ptr_eq(&worker.shared, &task.shared))
                .cloned()
        })
        .ok()
        .flatten();
    match worker {
        Some(worker) => {
            worker.schedule(task, reason);
            Ok(())
        }
        None => Err(task),
    }
}

/// See [`super::share_next_with_idle_worker`].
pub(super) fn share_next_with_idle_worker() {
    let _ = CURRENT.try_with(|current| {
        if let Some(worker) = current.borrow().as_ref() {
            if worker.shared.has_idle_worker() {
                if let Some(task) = worker.next.take() {
                    worker.shared.schedule_remote(task);
                }
            }
        }
    });
}

impl Worker {
    pub(super) fn new(
        shared: Arc<Shared>,
        index: usize,
        queue: crossbeam_deque::Worker<Arc<Task>>,
        spawned: crossbeam_deque::Worker<Arc<Task>>,
        reactor: tokio::runtime::Runtime,
    ) -> Self {
        Self {
            shared,
            index,
            queue,
            spawned,
            next: Cell::new(None),
            chain: Cell::new(0),
            ticks: Cell::new(0),
            reactor,
            last_turn: Cell::new(Instant::now()),
            last_spawn_moved: Cell::new(Instant::now()),
            asleep: Cell::new(false),
        }
    }

    /// Runs tasks until the scheduler shuts down.
    pub(super) fn run(self) {
        let worker = Rc::new(self);
        CURRENT.with(|current| *current.borrow_mut() = Some(Rc::clone(&worker)));
        CURRENT_INDEX.set(Some(worker.index));
        worker.run_until_shutdown();
        // The worker (and its reactor) goes now, not in a thread-local destructor.
        CURRENT.with(|current| current.borrow_mut().take());
        CURRENT_INDEX.set(None);
    }

    fn run_until_shutdown(&self) {
        // Sockets and sleeps of the processes run here register with this reactor.
        let _entered = self.reactor.enter();
        // Guest code runs only in `task.run()`; the share is set aside while this sleeps.
        let shared = Arc::clone(&self.shared);
        let mut running = shared.guest_code.worker_share(self.index);
        while !self.shared.is_shut_down() {
            match self.next_task() {
                Some(task) => {
                    task.run();
                    running.let_reclaim_in();
                    self.turn_reactor_if_due();
                }
                None => {
                    if !self.poll_briefly(&mut running) {
                        running.set_aside(|| self.park());
                    }
                }
            }
        }
        // Drop what is left queued here and in the shared queue, so the futures'
        // resources go now (a task in the shared queue would otherwise keep it alive).
        drop(self.next.take());
        while self.queue.pop().is_some() {}
        while self.spawned.pop().is_some() {}
        while !matches!(self.shared.injector.steal(), Steal::Empty) {}
    }

    fn schedule(&self, task: Arc<Task>, reason: Reason) {
        match reason {
            Reason::Woken => {
                if let Some(previous) = self.next.replace(Some(task)) {
                    self.push(previous);
                }
            }
            Reason::Spawned => {
                self.spawned.push(task);
                if self.spawned.len() >= 2 {
                    self.shared.wake_one();
                }
            }
            Reason::Yielded => self.push(task),
        }
        if self.asleep.get() {
            // Woken by this worker's own reactor, while it sleeps in it.
            self.shared.wakeups[self.index].notify_one();
        }
    }

    /// Turns the reactor without waiting, when it has not been for [`DRIVER_INTERVAL`],
    /// so sockets and timers of this worker's processes are served while it is busy; and
    /// every [`OLDEST_SPAWN_WAIT`] moves the oldest spawn to the queue.
    fn turn_reactor_if_due(&self) {
        if !self.ticks.get().is_multiple_of(16) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last_turn.get()) < DRIVER_INTERVAL {
            return;
        }
        self.last_turn.set(now);
        // A yield makes the current-thread runtime poll its driver with no timeout.
        self.reactor.block_on(tokio::task::yield_now());
        if now.duration_since(self.last_spawn_moved.get()) >= OLDEST_SPAWN_WAIT {
            self.last_spawn_moved.set(now);
            self.move_oldest_spawn_to_queue();
        }
    }

    /// Moves the oldest spawn to the back of the queue, where it waits its turn in order:
    /// a stack that never empties (processes that keep spawning) would otherwise never
    /// start its oldest.
    fn move_oldest_spawn_to_queue(&self) {
        if let Some(task) = self.steal_from(|_| self.shared.spawn_stealers[self.index].steal()) {
            self.push(task);
        }
    }

    /// Puts `task` at the back of the queue; wakes an idle worker when there is more
    /// here than this one will start next.
    fn push(&self, task: Arc<Task>) {
        self.queue.push(task);
        if self.queue.len() >= 2 {
            self.shared.wake_one();
        }
    }

    fn next_task(&self) -> Option<Arc<Task>> {
        let ticks = self.ticks.get().wrapping_add(1);
        self.ticks.set(ticks);
        if ticks.is_multiple_of(SHARED_QUEUE_INTERVAL) {
            if let Some(task) =
                self.steal_from(|dest| self.shared.injector.steal_batch_and_pop(dest))
            {
                return Some(task);
            }
        }
        if self.chain.get() < MAX_NEXT_CHAIN {
            if let Some(task) = self.next.take().or_else(|| self.spawned.pop()) {
                self.chain.set(self.chain.get() + 1);
                return Some(task);
            }
        }
        // A turn for the others: the queue's front, else the newest spawn; a task waiting
        // in the next slot goes to the back of the queue.
        self.chain.set(0);
        let task = self.queue.pop().or_else(|| self.spawned.pop());
        let task = match (task, self.next.take()) {
            (Some(task), Some(waiting)) => {
                self.queue.push(waiting);
                Some(task)
            }
            (task, waiting) => task.or(waiting),
        };
        if let Some(task) = task {
            if !self.queue.is_empty() || !self.spawned.is_empty() {
                self.shared.wake_one();
            }
            return Some(task);
        }
        self.steal()
    }

    /// Takes work from the shared queue, else from another worker's queue, else the oldest
    /// task of another worker's spawn stack (the root of the largest tree of spawns still
    /// to come, so the two workers then grow separate trees, each depth first).
    fn steal(&self) -> Option<Arc<Task>> {
        if let Some(task) = self.steal_from(|dest| self.shared.injector.steal_batch_and_pop(dest)) {
            return Some(task);
        }
        let count = self.shared.stealers.len();
        let others = || (1..count).map(|offset| (self.index + offset) % count);
        others()
            .find_map(|other| {
                self.steal_from(|dest| self.shared.stealers[other].steal_batch_and_pop(dest))
            })
            .or_else(|| {
                others().find_map(|other| {
                    self.steal_from(|_| self.shared.spawn_stealers[other].steal())
                })
            })
    }

    /// Retries `steal` while it is contended.
    fn steal_from(
        &self,
        steal: impl Fn(&crossbeam_deque::Worker<Arc<Task>>) -> Steal<Arc<Task>>,
    ) -> Option<Arc<Task>> {
        loop {
            match steal(&self.queue) {
                Steal::Success(task) => {
                    if !self.queue.is_empty() {
                        self.shared.wake_one();
                    }
                    return Some(task);
                }
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        }
    }

    /// Looks for work for up to [`IDLE_POLL`] before sleeping, turning the reactor
    /// without waiting: a request that comes back soon (a client's next one, a reply
    /// from the network) then finds this thread awake, not a halted core to wake up.
    /// Says whether work showed up.
    fn poll_briefly(&self, running: &mut Running<'_>) -> bool {
        let start = Instant::now();
        self.shared.polling.fetch_add(1, Ordering::Relaxed);
        let found = loop {
            running.let_reclaim_in();
            self.reactor.block_on(tokio::task::yield_now());
            if self.has_local_work() || self.shared.has_work() {
                break true;
            }
            if start.elapsed() >= IDLE_POLL || self.shared.is_shut_down() {
                self.last_turn.set(Instant::now());
                break false;
            }
            std::hint::spin_loop();
        };
        self.shared.polling.fetch_sub(1, Ordering::Relaxed);
        found
    }

    fn has_local_work(&self) -> bool {
        let next = self.next.take();
        let found = next.is_some() || !self.queue.is_empty() || !self.spawned.is_empty();
        self.next.set(next);
        found
    }

    /// Sleeps until woken, unless work shows up while this worker says it sleeps.
    fn park(&self) {
        {
            let mut sleepers = self
                .shared
                .sleepers
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            sleepers.push(self.index);
            self.shared
                .sleeping
                .store(sleepers.len(), Ordering::Relaxed);
        }
        // Pairs with the fence in `Shared::wake_one`.
        fence(Ordering::SeqCst);
        if !self.shared.has_work() && !self.shared.is_shut_down() {
            self.asleep.set(true);
            self.reactor
                .block_on(self.shared.wakeups[self.index].notified());
            self.asleep.set(false);
            self.last_turn.set(Instant::now());
        }
        let mut sleepers = self
            .shared
            .sleepers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        sleepers.retain(|&index| index != self.index);
        self.shared
            .sleeping
            .store(sleepers.len(), Ordering::Relaxed);
    }
}
