//! The scheduler that runs processes: a few worker threads, each with its own run queue,
//! stealing from each other when idle, in the manner of Erlang's schedulers.
//!
//! Each worker has a tokio current-thread runtime of its own for I/O and timers: a socket
//! or a sleep registers with the reactor of the worker its process runs on, an idle worker
//! sleeps in that reactor (so a ready socket wakes the very thread that will run its
//! process), and a busy one turns it every [`DRIVER_INTERVAL`]. A worker that runs out of
//! work keeps polling its queues and reactor for [`IDLE_POLL`] before it sleeps.
//!
//! Processes are not tokio tasks, though. tokio's multi-threaded scheduler suits many short
//! tasks and costs message passing dearly: a task woken by a running one goes to the
//! waker's LIFO slot, but after three such hand-offs tokio moves it to the run queue and
//! wakes an idle worker to steal it, so a request/reply pair woke the other core every few
//! messages and moved between cores. Here, as in Erlang, an idle worker is woken only when
//! a run queue holds work its owner cannot start next:
//!
//! | event | where the process goes | idle worker woken |
//! |---|---|---|
//! | woken by a process running on a worker | that worker's next slot (the slot's previous occupant goes to the back of the queue) | when the queue then holds 2 or more |
//! | spawned from another thread (the main process's start, the CLI) | the shared queue | one, if any sleeps |
//! | spawned by a process | the top of that worker's spawn stack: the newest spawn starts first, so a tree of spawns grows depth first and few of its processes live at once (an ended process's instance is then at hand for the next spawn); other workers steal the oldest, the largest subtree still to come | when the stack then holds 2 or more |
//! | used up its time slice, or woke itself | the back of its worker's queue | when the queue then holds 2 or more |
//! | woken by its worker's reactor (a ready socket, a due timer) | that worker's next slot | when the queue then holds 2 or more |
//! | woken from another thread (the main thread, tokio's blocking pool) | the shared queue | one, if any sleeps |
//! | in a next slot while the process that woke it goes on sending batches ([`share_next_with_idle_worker`]) | the shared queue, if a worker is idle | one, if any sleeps |
//! | taken from a queue that stays non-empty | | one, if any sleeps |
//!
//! Fairness: a worker runs at most [`MAX_NEXT_CHAIN`] processes in a row from its next slot
//! and spawn stack; then it takes the front of its queue (or, with the queue empty, the
//! newest spawn) and the next slot's occupant goes to the back of the queue, so a pair
//! exchanging messages starves neither. Every [`OLDEST_SPAWN_WAIT`] the oldest spawn moves
//! to the back of the queue, so processes that keep spawning cannot keep older spawns,
//! their own or others', from ever starting (a spawn with n others under it waits about
//! n + 1 times that at most, unless an idle worker steals it first). And a worker looks at
//! the shared queue every [`SHARED_QUEUE_INTERVAL`] turns.
//!
//! A time slice starts when a worker starts polling a task, as a process's reductions do
//! in Erlang: the preemption clock's ticks ([`tick`]) are counted, and a process that
//! reaches its epoch deadline yields only if a tick came since its poll began
//! ([`slice_used`]). A deadline set before the process waited (in a receive, say) would
//! otherwise send it to the back of the queue as soon as it was woken.

mod sync;
mod task;
mod task_state;
mod worker;

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_deque::{Injector, Stealer};
use tokio::sync::Notify;

use task::Task;

use crate::program::table_pages::GuestCodeGate;

/// Turns a worker may take from its next slot and its spawn stack before it serves its
/// queue's front.
const MAX_NEXT_CHAIN: u32 = 16;
/// How often a worker moves the oldest spawn of its stack to the back of its queue. Each
/// move starts a subtree of a tree of spawns early, and so keeps more of its processes
/// alive at once; the oldest spawn of a stack that never empties starts within this,
/// the one above it within twice this, and so on (docs/performance.md, "Spawns depth
/// first", has the trade measured).
const OLDEST_SPAWN_WAIT: std::time::Duration = std::time::Duration::from_millis(20);
/// Every how many turns a worker takes work from the shared queue first.
const SHARED_QUEUE_INTERVAL: u32 = 61;
/// How long an idle worker keeps looking for work (and polling its reactor) before it
/// sleeps.
const IDLE_POLL: std::time::Duration = std::time::Duration::from_micros(50);
/// How often a busy worker looks at its reactor for ready sockets and due timers.
const DRIVER_INTERVAL: std::time::Duration = std::time::Duration::from_micros(500);

/// Ticks of the preemption clock, from every engine's ticker (each runtime has one per
/// engine): a tick of another engine's clock only makes a process yield earlier, within
/// a slice, never later.
static TICKS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// [`TICKS`] when this thread's worker began polling its current task.
    static TURN_STARTED: Cell<u64> = const { Cell::new(0) };
}

/// Counts one tick of the preemption clock (called by the thread that advances the
/// engines' epochs).
pub(crate) fn tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Whether the task being polled on this thread has run through a tick of the preemption
/// clock since its poll began: whether a process that reached its deadline has used up a
/// time slice, rather than reached a deadline set in an earlier turn.
pub(crate) fn slice_used() -> bool {
    TICKS.load(Ordering::Relaxed) != TURN_STARTED.get()
}

/// Starts the time slice of the task about to be polled on this thread.
fn start_slice() {
    TURN_STARTED.set(TICKS.load(Ordering::Relaxed));
}

/// What the observer may ask of a spawned task, without keeping it alive: whether a worker
/// runs it now, and how often one did. Reading it costs the task nothing; the task counts
/// its turns in the cache line its state already puts in play at every poll.
#[derive(Debug, Clone)]
pub(crate) struct TaskProbe(std::sync::Weak<Task>);

impl TaskProbe {
    /// How many times a worker polled the task (0 once it is gone).
    pub(crate) fn turns(&self) -> u64 {
        self.0.upgrade().map_or(0, |task| task.turns())
    }

    /// Whether a worker polls the task now.
    pub(crate) fn is_running(&self) -> bool {
        self.0.upgrade().is_some_and(|task| task.is_running())
    }
}

/// The worker threads of one runtime. Dropping it stops them; processes left in their
/// queues are dropped with them. An idle task holds a reference to itself (see
/// `task.rs`), and a process that waited for a message is held by its mailbox, which it
/// holds: processes still waiting when the scheduler stops are not dropped (a process
/// that ended dropped its future, and with it what it held).
#[derive(Debug)]
pub(crate) struct Scheduler {
    shared: Arc<Shared>,
}

/// What the workers and every task share.
struct Shared {
    /// Work scheduled from outside the workers.
    injector: Injector<Arc<Task>>,
    /// Steals from each worker's queue, by worker index.
    stealers: Vec<Stealer<Arc<Task>>>,
    /// Steals the oldest task of each worker's spawn stack, by worker index.
    spawn_stealers: Vec<Stealer<Arc<Task>>>,
    /// Wakes each worker from its sleep in its reactor, by index.
    wakeups: Vec<Notify>,
    /// Indexes of the workers asleep (or about to sleep).
    sleepers: Mutex<Vec<usize>>,
    /// `sleepers.len()`, readable without the lock.
    sleeping: AtomicUsize,
    /// Workers looking for work before they sleep.
    polling: AtomicUsize,
    shutdown: AtomicBool,
    /// Held by each worker while it is awake: a reclaim of table pages waits for them to
    /// let it in between two turns (`program::table_pages`).
    guest_code: Arc<GuestCodeGate>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.stealers.len())
            .field("sleeping", &self.sleeping.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// Starts `workers` threads (at least one), each with its own tokio reactor.
    ///
    /// # Errors
    /// A thread or a reactor cannot be started.
    pub(crate) fn start(workers: usize, guest_code: Arc<GuestCodeGate>) -> std::io::Result<Self> {
        let workers = workers.max(1);
        guest_code.start_workers(workers);
        let queues: Vec<_> = (0..workers)
            .map(|_| crossbeam_deque::Worker::new_fifo())
            .collect();
        let spawn_stacks: Vec<_> = (0..workers)
            .map(|_| crossbeam_deque::Worker::new_lifo())
            .collect();
        let shared = Arc::new(Shared {
            injector: Injector::new(),
            stealers: queues
                .iter()
                .map(crossbeam_deque::Worker::stealer)
                .collect(),
            spawn_stealers: spawn_stacks
                .iter()
                .map(crossbeam_deque::Worker::stealer)
                .collect(),
            wakeups: (0..workers).map(|_| Notify::new()).collect(),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            sleeping: AtomicUsize::new(0),
            polling: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            guest_code,
        });
        // Made first, so that the workers already started stop if a later one fails.
        let scheduler = Self { shared };
        for (index, (queue, spawned)) in queues.into_iter().zip(spawn_stacks).enumerate() {
            let reactor = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let worker = worker::Worker::new(
                Arc::clone(&scheduler.shared),
                index,
                queue,
                spawned,
                reactor,
            );
            std::thread::Builder::new()
                .name(format!("lunatic-worker-{index}"))
                .spawn(move || worker.run())?;
        }
        Ok(scheduler)
    }

    /// Runs `future` as a new task: on top of the calling worker's spawn stack when called
    /// from one of this scheduler's workers, otherwise on the shared queue.
    pub(crate) fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) -> TaskProbe {
        let task = Task::new(Arc::clone(&self.shared), Box::pin(future));
        let probe = TaskProbe(Arc::downgrade(&task));
        task::schedule(task, task::Reason::Spawned);
        probe
    }
}

/// Hands the process waiting in the calling worker's next slot to an idle worker, if one
/// is idle: called by a process that goes on sending after it woke its receiver (a stream
/// of batches), so the receiver runs beside it instead of after it. A process that stops
/// to wait after waking another (request/reply) never calls this, and the pair stays on
/// one worker.
pub(crate) fn share_next_with_idle_worker() {
    worker::share_next_with_idle_worker();
}

/// The index of the worker thread this runs on, if it is one (of any scheduler): for
/// state kept per worker, such as a program's kept instances.
pub(crate) fn current_worker() -> Option<usize> {
    worker::current_index()
}

/// Gives the worker up once: the task wakes itself and returns `Pending`, which puts it at
/// the back of its worker's queue (what a process does at the end of its time slice).
pub(crate) async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await;
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        for wakeup in &self.shared.wakeups {
            wakeup.notify_one();
        }
    }
}

impl Shared {
    /// Queues `task` from outside the workers and wakes one that sleeps.
    fn schedule_remote(&self, task: Arc<Task>) {
        self.injector.push(task);
        self.wake_one();
    }

    /// Wakes one sleeping worker, if any.
    fn wake_one(&self) {
        // Pairs with the fence in `Worker::park`: either this sees the sleeper, or the
        // sleeper sees the work queued before this call.
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::Relaxed) == 0 {
            return;
        }
        let woken = {
            let mut sleepers = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
            let woken = sleepers.pop();
            self.sleeping.store(sleepers.len(), Ordering::Relaxed);
            woken
        };
        if let Some(index) = woken {
            self.wakeups[index].notify_one();
        }
    }

    /// Whether a worker has no work (it polls for some, or sleeps).
    fn has_idle_worker(&self) -> bool {
        self.polling.load(Ordering::Relaxed) + self.sleeping.load(Ordering::Relaxed) > 0
    }

    /// Whether any queue holds work (checked by a worker about to sleep).
    fn has_work(&self) -> bool {
        !self.injector.is_empty()
            || self.stealers.iter().any(|s| !s.is_empty())
            || self.spawn_stealers.iter().any(|s| !s.is_empty())
    }

    fn is_shut_down(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::atomic::AtomicU64;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    fn scheduler(workers: usize) -> Scheduler {
        Scheduler::start(workers, Arc::default()).unwrap()
    }

    #[test]
    fn every_task_spawned_from_outside_runs() {
        let scheduler = scheduler(2);
        let (done, finished) = mpsc::channel();
        for n in 0..10_000u64 {
            let done = done.clone();
            scheduler.spawn(async move { done.send(n).unwrap() });
        }
        let sum: u64 = (0..10_000)
            .map(|_| finished.recv_timeout(Duration::from_secs(10)).unwrap())
            .sum();
        assert_eq!(sum, (0..10_000).sum::<u64>());
    }

    #[test]
    fn tasks_exchanging_messages_wake_each_other() {
        for workers in [1, 2] {
            let scheduler = scheduler(workers);
            let (to_echo, mut echo_inbox) = tokio::sync::mpsc::unbounded_channel::<u64>();
            let (to_main, mut main_inbox) = tokio::sync::mpsc::unbounded_channel::<u64>();
            let (done, finished) = mpsc::channel();
            scheduler.spawn(async move {
                while let Some(n) = echo_inbox.recv().await {
                    to_main.send(n).unwrap();
                }
            });
            scheduler.spawn(async move {
                let mut sum = 0;
                for n in 0..20_000 {
                    to_echo.send(n).unwrap();
                    sum += main_inbox.recv().await.unwrap();
                }
                done.send(sum).unwrap();
            });
            let sum = finished.recv_timeout(Duration::from_secs(20)).unwrap();
            assert_eq!(sum, (0..20_000).sum::<u64>(), "{workers} workers");
        }
    }

    #[test]
    fn a_task_that_always_yields_does_not_starve_the_others() {
        let scheduler = scheduler(1);
        let stop = Arc::new(AtomicBool::new(false));
        let spins = Arc::new(AtomicU64::new(0));
        for _ in 0..2 {
            let (stop, spins) = (Arc::clone(&stop), Arc::clone(&spins));
            scheduler.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    spins.fetch_add(1, Ordering::Relaxed);
                    yield_now().await;
                }
            });
        }
        let (done, finished) = mpsc::channel();
        scheduler.spawn(async move { done.send(()).unwrap() });
        let outcome = finished.recv_timeout(Duration::from_secs(10));
        stop.store(true, Ordering::Relaxed);
        assert!(outcome.is_ok(), "the third task never ran");
        assert!(spins.load(Ordering::Relaxed) > 0);
    }

    #[test]
    fn busy_tasks_spread_over_idle_workers() {
        let scheduler = scheduler(2);
        let scheduler = Arc::new(scheduler);
        let (threads, seen) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        // A task spawns two that compute (yielding now and then, as preemption makes
        // them); the idle worker must be woken to take one.
        let spawner = Arc::clone(&scheduler);
        let spawner_stop = Arc::clone(&stop);
        scheduler.spawn(async move {
            for _ in 0..2 {
                let (threads, stop) = (threads.clone(), Arc::clone(&spawner_stop));
                spawner.spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let _ = threads.send(std::thread::current().id());
                        std::thread::sleep(Duration::from_micros(200));
                        yield_now().await;
                    }
                });
            }
        });
        let mut distinct = HashSet::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while distinct.len() < 2 && std::time::Instant::now() < deadline {
            distinct.insert(seen.recv_timeout(Duration::from_secs(10)).unwrap());
        }
        stop.store(true, Ordering::Relaxed);
        assert_eq!(distinct.len(), 2, "both workers should run the busy tasks");
    }

    #[test]
    fn a_woken_task_moves_to_an_idle_worker_when_its_waker_goes_on() {
        let scheduler = scheduler(2);
        let (wake, woken) = tokio::sync::oneshot::channel::<()>();
        let (ran, ran_on) = mpsc::channel();
        let (done, finished) = mpsc::channel();
        scheduler.spawn(async move {
            woken.await.unwrap();
            ran.send(std::thread::current().id()).unwrap();
        });
        // Let the other worker go idle and the woken task wait.
        std::thread::sleep(Duration::from_millis(5));
        scheduler.spawn(async move {
            // Wakes the task into this worker's next slot, then keeps running: the task
            // runs only if it moves to the idle worker.
            wake.send(()).unwrap();
            share_next_with_idle_worker();
            let other = ran_on.recv_timeout(Duration::from_secs(5));
            done.send(other.map(|id| id != std::thread::current().id()))
                .unwrap();
        });
        assert_eq!(
            finished.recv_timeout(Duration::from_secs(10)).unwrap(),
            Ok(true),
            "the woken task ran on the idle worker while its waker ran"
        );
    }

    #[test]
    fn a_wake_from_another_thread_reaches_a_sleeping_worker() {
        let scheduler = scheduler(2);
        for round in 0..100 {
            let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
            let (done, finished) = mpsc::channel();
            scheduler.spawn(async move { done.send(rx.await.unwrap()).unwrap() });
            // Let the workers go to sleep first.
            std::thread::sleep(Duration::from_micros(500));
            tx.send(round).unwrap();
            assert_eq!(
                finished.recv_timeout(Duration::from_secs(10)).unwrap(),
                round
            );
        }
    }

    /// A node of a tree of tasks: spawns `fanout` children (when `depth` > 0), waits for
    /// them, then tells its parent. `alive` counts the tasks spawned and not yet ended,
    /// `most` the most at once.
    fn tree_node(
        scheduler: Arc<Scheduler>,
        depth: u32,
        parent: tokio::sync::mpsc::UnboundedSender<()>,
        counts: Arc<(AtomicUsize, AtomicUsize)>,
    ) -> task::BoxFuture {
        let alive = counts.0.fetch_add(1, Ordering::Relaxed) + 1;
        counts.1.fetch_max(alive, Ordering::Relaxed);
        Box::pin(async move {
            if depth > 0 {
                let (to_me, mut children) = tokio::sync::mpsc::unbounded_channel();
                for _ in 0..10 {
                    let child = tree_node(
                        Arc::clone(&scheduler),
                        depth - 1,
                        to_me.clone(),
                        Arc::clone(&counts),
                    );
                    scheduler.spawn(child);
                }
                for _ in 0..10 {
                    children.recv().await.unwrap();
                }
            }
            counts.0.fetch_sub(1, Ordering::Relaxed);
            parent.send(()).unwrap();
        })
    }

    #[test]
    fn a_tree_of_spawns_grows_depth_first() {
        for workers in [1, 2] {
            let scheduler = Arc::new(scheduler(workers));
            let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
            let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
            // 11,111 tasks: placed breadth first, thousands would wait at once.
            scheduler.spawn(tree_node(
                Arc::clone(&scheduler),
                4,
                done,
                Arc::clone(&counts),
            ));
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while finished.try_recv().is_err() {
                assert!(std::time::Instant::now() < deadline, "the tree never ended");
                std::thread::sleep(Duration::from_millis(1));
            }
            let most = counts.1.load(Ordering::Relaxed);
            // A path from the root, with its nodes' unstarted siblings, per worker; and
            // a subtree or two started early by the oldest spawn's move to the queue.
            assert!(
                most <= 300,
                "{most} tasks alive at once on {workers} workers"
            );
        }
    }

    #[test]
    fn a_pair_exchanging_messages_does_not_starve_a_spawned_task() {
        let scheduler = Arc::new(scheduler(1));
        let exchanges = Arc::new(AtomicU64::new(0));
        let (ran, seen) = mpsc::channel();
        let (spawner, counted) = (Arc::clone(&scheduler), Arc::clone(&exchanges));
        scheduler.spawn(async move {
            // Spawned first, so under the pair on the spawn stack.
            spawner.spawn(async move { ran.send(counted.load(Ordering::Relaxed)).unwrap() });
            let (to_pong, mut pong_inbox) = tokio::sync::mpsc::unbounded_channel::<()>();
            let (to_ping, mut ping_inbox) = tokio::sync::mpsc::unbounded_channel::<()>();
            spawner.spawn(async move {
                while pong_inbox.recv().await.is_some() {
                    if to_ping.send(()).is_err() {
                        return;
                    }
                }
            });
            let counted = Arc::clone(&exchanges);
            spawner.spawn(async move {
                loop {
                    counted.fetch_add(1, Ordering::Relaxed);
                    if to_pong.send(()).is_err() || ping_inbox.recv().await.is_none() {
                        return;
                    }
                }
            });
        });
        let exchanges_before = seen.recv_timeout(Duration::from_secs(10)).unwrap();
        // It runs at the end of the pair's first chain of turns in the next slot.
        assert!(
            exchanges_before <= u64::from(MAX_NEXT_CHAIN),
            "the spawned task waited for {exchanges_before} exchanges"
        );
    }

    #[test]
    fn spawns_buried_under_a_task_that_keeps_spawning_all_start() {
        fn chain(scheduler: Arc<Scheduler>, stop: Arc<AtomicBool>) -> task::BoxFuture {
            Box::pin(async move {
                if !stop.load(Ordering::Relaxed) {
                    let next = chain(Arc::clone(&scheduler), stop);
                    scheduler.spawn(next);
                }
            })
        }
        const BURIED: usize = 50;
        let scheduler = Arc::new(scheduler(1));
        let stop = Arc::new(AtomicBool::new(false));
        let (ran, seen) = mpsc::channel();
        let (spawner, chain_stop) = (Arc::clone(&scheduler), Arc::clone(&stop));
        scheduler.spawn(async move {
            for _ in 0..BURIED {
                let ran = ran.clone();
                spawner.spawn(async move { ran.send(()).unwrap() });
            }
            // Each spawns the next and ends: the spawn stack is never empty, and its top
            // is always newer than the buried ones.
            spawner.spawn(chain(Arc::clone(&spawner), chain_stop));
        });
        // One moves to the queue every `OLDEST_SPAWN_WAIT` (20 ms): the last starts after
        // about 1 s (after 5 s at one every 100 ms; never without the moves).
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        let started = (0..BURIED)
            .take_while(|_| {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                seen.recv_timeout(left).is_ok()
            })
            .count();
        stop.store(true, Ordering::Relaxed);
        assert_eq!(
            started, BURIED,
            "spawns buried under a spawning task never started"
        );
    }

    #[test]
    fn a_slice_starts_when_a_poll_begins() {
        // Another test's runtime may tick meanwhile: one quiet try is enough.
        let quiet = (0..1000).any(|_| {
            start_slice();
            !slice_used()
        });
        assert!(quiet, "a slice is used up as soon as it starts");
        start_slice();
        tick();
        assert!(
            slice_used(),
            "a tick since the poll began does not end the slice"
        );
    }

    #[test]
    fn dropping_the_scheduler_stops_the_workers_and_drops_queued_tasks() {
        let scheduler = scheduler(1);
        let held = Arc::new(());
        let in_task = Arc::clone(&held);
        scheduler.spawn(async move {
            let _held = in_task;
            loop {
                yield_now().await;
            }
        });
        while Arc::strong_count(&held) == 1 {
            std::thread::yield_now();
        }
        drop(scheduler);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while Arc::strong_count(&held) > 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "the task was never dropped"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
