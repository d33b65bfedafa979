//! Scenarios of the actor layer, chosen by the first argument; each prints what it saw.
use std::time::Duration;

use lunatic::actors::timer;
use lunatic::actors::{
    Actor, ActorRef, BoxError, CallError, ChildError, ChildSpec, Context, ExitReason, Info,
    Restart, StartChildError, StartError, Strategy, Supervisor, SupervisorConfig, SupervisorRef,
};
use lunatic::{process, Mailbox, Message, Process, ProcessId, ReplyTo};
use serde::{Deserialize, Serialize};

#[lunatic::main]
fn main(mailbox: Mailbox<()>) {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        "calls" => calls(),
        "deferred" => deferred(),
        "typed-children" => typed_children(),
        "init" => init_failures(),
        "terminate" => terminate(mailbox),
        "info" => info(),
        "generic" => generic(),
        "registry" => registry(),
        "timers" => timers(),
        "one-for-one" => strategy(Strategy::OneForOne),
        "one-for-all" => strategy(Strategy::OneForAll),
        "rest-for-one" => strategy(Strategy::RestForOne),
        "restart-types" => restart_types(),
        "intensity" => intensity(mailbox),
        "escalation" => escalation(),
        "shutdown" => shutdown(),
        "dynamic" => dynamic(),
        "many-restarts" => many_restarts(),
        other => panic!("unknown scenario {other:?}"),
    }
}

// ---- a counter, and a worker that logs its life ----

struct Counter {
    count: u64,
}

impl Actor for Counter {
    type Args = u64;

    fn init(start: u64, _: &mut Context<Self>) -> Result<Self, BoxError> {
        match start {
            666 => Err("unlucky start".into()),
            667 => panic!("init panics"),
            _ => Ok(Counter { count: start }),
        }
    }

    fn handle_info(&mut self, info: Info, ctx: &mut Context<Self>) {
        match info {
            Info::Message(raw) => println!("info: {:?}", raw.decode::<String>()),
            Info::LinkDied(signal) => {
                println!("info: link died: {}", signal.reason());
                ctx.stop(ExitReason::Error("my link died".into()));
            }
            other => println!("info: {other:?}"),
        }
    }

    fn terminate(&mut self, reason: &ExitReason) {
        println!("counter terminates: {reason} (count {})", self.count);
    }
}

#[lunatic::actor]
impl Counter {
    fn increment(&mut self) {
        self.count += 1;
    }

    fn add(&mut self, n: u64) -> u64 {
        self.count += n;
        self.count
    }

    fn get(&self) -> u64 {
        self.count
    }

    fn slow_get(&self, ms: u64) -> u64 {
        process::sleep_ms(ms);
        self.count
    }

    fn explode(&mut self) -> u64 {
        panic!("exploded while serving a call")
    }

    #[call]
    fn finish(&mut self, ctx: &mut Context<Self>) {
        ctx.stop(ExitReason::Normal);
    }

    fn link_to(&mut self, other: ProcessId) {
        let _tag = Process::<()>::from_process_id(other).link();
    }

    /// Calls itself: an error at once, not a wait for a reply only it could give.
    fn call_self(&mut self, ctx: &mut Context<Self>) -> String {
        let started = std::time::Instant::now();
        let outcome = ctx.this().get();
        format!(
            "{outcome:?} within 1 s: {}",
            started.elapsed() < Duration::from_secs(1)
        )
    }
}

struct Worker {
    id: String,
    stop_delay_ms: u64,
}

#[derive(Clone, Serialize, Deserialize)]
struct WorkerArgs {
    id: String,
    stop_delay_ms: u64,
}

impl Actor for Worker {
    type Args = WorkerArgs;

    fn init(args: WorkerArgs, _: &mut Context<Self>) -> Result<Self, BoxError> {
        println!("start {}", args.id);
        Ok(Worker {
            id: args.id,
            stop_delay_ms: args.stop_delay_ms,
        })
    }

    fn terminate(&mut self, reason: &ExitReason) {
        process::sleep_ms(self.stop_delay_ms);
        println!("stop {} ({reason})", self.id);
    }
}

#[lunatic::actor]
impl Worker {
    fn crash(&mut self) {
        panic!("{} crashes", self.id);
    }

    fn quit(&mut self, ctx: &mut Context<Self>) {
        ctx.stop(ExitReason::Normal);
    }

    fn name(&self) -> String {
        self.id.clone()
    }
}

fn worker(id: &str) -> ChildSpec {
    ChildSpec::actor::<Worker>(
        id,
        WorkerArgs {
            id: id.into(),
            stop_delay_ms: 0,
        },
    )
}

// ---- calls, casts, init, terminate, info ----

fn calls() {
    let counter = ActorRef::<Counter>::start(0).unwrap();
    counter.increment();
    println!("get: {:?}", counter.get());
    println!("add: {:?}", counter.add(41));
    println!("raw call: {:?}", counter.call(CounterMessage::Add, (1,)));
    println!("call self: {:?}", counter.call_self());
    // An ActorRef is data: sent to another process, it still reaches the same actor.
    let remote = process::spawn_with(
        counter.clone(),
        |counter: ActorRef<Counter>, _: Mailbox<()>| {
            counter.increment();
            println!("from another process: {:?}", counter.get());
        },
    )
    .unwrap();
    while remote.is_alive() {
        process::sleep_ms(1);
    }
    println!(
        "timeout: {:?}",
        counter.slow_get_timeout(500, Duration::from_millis(20))
    );
    println!("explode: {:?}", counter.explode());
    println!("alive after explode: {}", counter.is_alive());
    println!("call to dead: {:?}", counter.get());
    counter.increment();
    println!("cast to dead: fine");
    let killed = ActorRef::<Counter>::start(0).unwrap();
    killed.kill();
    println!("call to killed: {:?}", killed.get());
}

fn init_failures() {
    println!("init error: {:?}", ActorRef::<Counter>::start(666).err());
    println!(
        "init panic: {}",
        matches!(ActorRef::<Counter>::start(667), Err(StartError::Died(_)))
    );
    println!(
        "failing child: {}",
        SupervisorRef::start_supervisor(FailingChild)
            .map_or_else(|e| e.to_string(), |_| "started".into())
    );
}

/// A supervisor whose child's `init` fails.
#[derive(Clone, Serialize, Deserialize)]
struct FailingChild;

impl Supervisor for FailingChild {
    type ChildArgs = ();

    fn init(&self) -> SupervisorConfig {
        SupervisorConfig::new(Strategy::OneForOne)
            .child(ChildSpec::actor::<Counter>("unlucky", 666))
    }
}

fn terminate(mailbox: Mailbox<()>) {
    let stopped = ActorRef::<Counter>::start(1).unwrap();
    let tag = stopped.monitor();
    stopped.stop();
    let _ = stopped.process().wait_down(tag, None);
    let finished = ActorRef::<Counter>::start(2).unwrap();
    println!("finish: {:?}", finished.finish());
    // A linked process dies: the actor hears of it, stops with an error, and its own linked
    // parent (this process, trapping) hears that.
    let links = mailbox.catch_link_panics();
    let linked = ActorRef::<Counter>::start_link(3).unwrap();
    let doomed = process::spawn(|m: Mailbox<()>| {
        let _ = m.receive();
        panic!("doomed");
    })
    .unwrap();
    linked.link_to(doomed.process_id());
    let _ = linked.get();
    doomed.send(());
    match links.receive() {
        Message::Signal(signal) => println!("parent got: {}", signal.reason()),
        other => println!("unexpected: {other:?}"),
    }
}

fn info() {
    let counter = ActorRef::<Counter>::start(0).unwrap();
    counter.info(&"hello".to_string());
    let _ = counter.get();
    println!("info done");
}

// ---- a generic actor ----

struct Stack<T> {
    items: Vec<T>,
}

impl<T: lunatic::Sendable> Actor for Stack<T> {
    type Args = Vec<T>;

    fn init(items: Vec<T>, _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Stack { items })
    }
}

#[lunatic::actor]
impl<T: lunatic::Sendable + Clone> Stack<T> {
    fn push(&mut self, item: T) {
        self.items.push(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.items.pop()
    }

    fn peek_all(&self) -> Vec<T> {
        self.items.clone()
    }
}

fn generic() {
    let words = ActorRef::<Stack<String>>::start(vec!["a".into()]).unwrap();
    words.push("b".into());
    println!("strings: {:?} then {:?}", words.pop(), words.peek_all());
    let numbers = ActorRef::<Stack<u8>>::start(vec![]).unwrap();
    numbers.push(7);
    println!("numbers: {:?}", numbers.pop());
}

// ---- registry and timers ----

fn registry() {
    let counter = ActorRef::<Counter>::start(5).unwrap();
    println!("register: {:?}", counter.register("counter"));
    let other = ActorRef::<Counter>::start(6).unwrap();
    println!(
        "duplicate: {:?}",
        other.register("counter").map_err(|e| e.to_string())
    );
    let found = ActorRef::<Counter>::lookup("counter").unwrap().unwrap();
    println!("lookup: {:?}", found.get());
    println!(
        "wrong type: {:?}",
        ActorRef::<Worker>::lookup("counter").map_err(|e| e.to_string())
    );
    println!(
        "missing: {:?}",
        ActorRef::<Counter>::lookup("nobody").unwrap().is_none()
    );
    let tag = counter.monitor();
    counter.kill();
    let _ = counter.process().wait_down(tag, None);
    println!(
        "released on death: {:?}",
        ActorRef::<Counter>::lookup("counter").unwrap().is_none()
    );
    println!("register again: {:?}", other.register("counter"));
}

fn timers() {
    // A collector prints what reaches it for 300 ms.
    let collector = process::spawn(|inbox: Mailbox<u32>| {
        while let Ok(n) = inbox.receive_timeout(Duration::from_millis(300)) {
            println!("collector got {n}");
        }
    })
    .unwrap();
    let _fired = timer::send_after(collector, 1, Duration::from_millis(30)).unwrap();
    let cancelled = timer::send_after(collector, 2, Duration::from_millis(60)).unwrap();
    println!("cancel before firing: {}", cancelled.cancel());
    println!("cancelled timer active: {}", cancelled.is_active());
    process::sleep_ms(50);
    println!("cancel after firing: {}", _fired.cancel());
    let counter = ActorRef::<Counter>::start(0).unwrap();
    let ticking = timer::cast_interval(
        &counter,
        CounterMessage::Increment(()),
        Duration::from_millis(10),
    )
    .unwrap();
    let later = ActorRef::<Counter>::start(0).unwrap();
    let _later = timer::cast_after(
        &later,
        CounterMessage::Increment(()),
        Duration::from_millis(20),
    )
    .unwrap();
    process::sleep_ms(150);
    ticking.cancel();
    process::sleep_ms(20);
    let after_cancel = counter.get().unwrap();
    process::sleep_ms(60);
    println!("interval ticked: {}", after_cancel > 5);
    println!("cast_after arrived: {:?}", later.get());
    println!(
        "stopped after cancel: {}",
        counter.get().unwrap() == after_cancel
    );
    while collector.is_alive() {
        process::sleep_ms(5);
    }
}

// ---- supervision ----

#[derive(Clone, Serialize, Deserialize)]
struct Tree {
    strategy: Strategy,
    restart: Restart,
    max_restarts: usize,
    children: Vec<(String, u64)>,
}

impl Tree {
    fn new(strategy: Strategy, children: &[&str]) -> Self {
        Tree {
            strategy,
            restart: Restart::Permanent,
            max_restarts: 10,
            children: children.iter().map(|c| (c.to_string(), 0)).collect(),
        }
    }
}

impl Supervisor for Tree {
    type ChildArgs = String;

    fn init(&self) -> SupervisorConfig {
        let mut config = SupervisorConfig::new(self.strategy)
            .intensity(self.max_restarts, Duration::from_secs(10));
        for (id, stop_delay_ms) in &self.children {
            config = config.child(
                ChildSpec::actor::<Worker>(
                    id.clone(),
                    WorkerArgs {
                        id: id.clone(),
                        stop_delay_ms: *stop_delay_ms,
                    },
                )
                .restart(self.restart)
                .shutdown(Duration::from_millis(200)),
            );
        }
        config
    }

    fn dynamic_child(&self, id: String) -> Option<ChildSpec> {
        Some(worker(&id).restart(Restart::Temporary))
    }
}

fn child_ids(supervisor: &SupervisorRef<Tree>) -> Vec<String> {
    supervisor
        .which_children()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

fn child_ref(supervisor: &SupervisorRef<Tree>, id: &str) -> Option<ActorRef<Worker>> {
    supervisor.child::<Worker>(id).ok()
}

/// Waits until child `id` runs in a process other than `old`.
fn restarted(supervisor: &SupervisorRef<Tree>, id: &str, old: ProcessId) -> ActorRef<Worker> {
    for _ in 0..5_000 {
        if let Some(child) = child_ref(supervisor, id) {
            if child.process_id() != old {
                return child;
            }
        }
        process::sleep_ms(1);
    }
    panic!("{id} was not restarted");
}

fn strategy(strategy: Strategy) {
    let supervisor =
        SupervisorRef::start_supervisor(Tree::new(strategy, &["a", "b", "c"])).unwrap();
    let before: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| child_ref(&supervisor, id).unwrap().process_id())
        .collect();
    println!("-- crash b");
    child_ref(&supervisor, "b").unwrap().crash();
    restarted(&supervisor, "b", before[1]);
    process::sleep_ms(50);
    let after: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| child_ref(&supervisor, id).unwrap().process_id())
        .collect();
    let changed: Vec<_> = ["a", "b", "c"]
        .iter()
        .zip(before.iter().zip(&after))
        .filter(|(_, (b, a))| b != a)
        .map(|(id, _)| *id)
        .collect();
    println!("-- restarted: {changed:?}");
}

/// Whether child `w` of a fresh supervisor with restart type `restart` comes back after
/// `end` (a normal exit or a crash).
fn comes_back(restart: Restart, end: fn(&ActorRef<Worker>)) -> bool {
    let mut tree = Tree::new(Strategy::OneForOne, &["w"]);
    tree.restart = restart;
    let supervisor = SupervisorRef::start_supervisor(tree).unwrap();
    let first = child_ref(&supervisor, "w").unwrap();
    end(&first);
    process::sleep_ms(100);
    let back = child_ref(&supervisor, "w").is_some_and(|c| c.process_id() != first.process_id());
    supervisor.stop();
    back
}

fn restart_types() {
    for restart in [Restart::Permanent, Restart::Transient, Restart::Temporary] {
        let after_normal = comes_back(restart, |w| w.quit());
        let after_crash = comes_back(restart, |w| w.crash());
        println!("{restart:?}: back after normal exit: {after_normal}, after crash: {after_crash}");
    }
}

fn intensity(mailbox: Mailbox<()>) {
    let links = mailbox.catch_link_panics();
    let mut tree = Tree::new(Strategy::OneForOne, &["a", "b"]);
    tree.max_restarts = 2;
    let supervisor = SupervisorRef::start_supervisor(tree).unwrap();
    for round in 0..3 {
        let b = child_ref(&supervisor, "b").unwrap();
        println!("-- crash {round}");
        b.crash();
        if round < 2 {
            restarted(&supervisor, "b", b.process_id());
        }
    }
    match links.receive_timeout(Duration::from_secs(10)) {
        Message::Signal(signal) => println!("supervisor failed: {}", signal.reason()),
        other => println!("unexpected: {other:?}"),
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Top;

impl Supervisor for Top {
    type ChildArgs = ();

    fn init(&self) -> SupervisorConfig {
        let mut middle = Tree::new(Strategy::OneForOne, &["leaf"]);
        middle.max_restarts = 1;
        SupervisorConfig::new(Strategy::OneForOne)
            .intensity(5, Duration::from_secs(10))
            .child(worker("sibling"))
            .child(ChildSpec::supervisor("middle", middle))
    }
}

fn escalation() {
    let top = SupervisorRef::start_supervisor(Top).unwrap();
    for round in 0..2 {
        let middle = top
            .which_children()
            .unwrap()
            .into_iter()
            .find(|c| c.id == "middle")
            .unwrap()
            .process
            .unwrap();
        let middle: SupervisorRef<Tree> = ActorRef::from_process(Process::from_process_id(middle));
        let leaf = child_ref(&middle, "leaf").unwrap();
        println!("-- crash leaf {round}");
        leaf.crash();
        process::sleep_ms(200);
    }
    println!("top restarts: {:?}", top.restarts());
    println!(
        "sibling untouched: {}",
        top.which_children().unwrap().len() == 2
    );
}

fn shutdown() {
    let mut tree = Tree::new(Strategy::OneForOne, &["a", "b", "c"]);
    // b takes longer to stop than its 200 ms shutdown time: it is killed.
    tree.children[1].1 = 2_000;
    let supervisor = SupervisorRef::start_supervisor(tree).unwrap();
    let tag = supervisor.monitor();
    println!("-- stop supervisor");
    supervisor.stop();
    let down = supervisor
        .process()
        .wait_down(tag, Some(Duration::from_secs(10)));
    println!(
        "-- supervisor ended: {:?}",
        down.map(|d| d.reason().to_owned())
    );
}

fn dynamic() {
    let supervisor =
        SupervisorRef::start_supervisor(Tree::new(Strategy::OneForOne, &["static"])).unwrap();
    let started = supervisor.start_child("extra".into());
    println!("start_child: {}", started.is_ok());
    // Typed: the refusal is a variant naming the id, not text.
    match supervisor.start_child("extra".into()) {
        Err(error @ StartChildError::AlreadyExists { .. }) => {
            println!("duplicate: AlreadyExists: {error}");
        }
        other => println!("duplicate: unexpected {other:?}"),
    }
    println!("children: {:?}", child_ids(&supervisor));
    println!(
        "extra answers: {:?}",
        child_ref(&supervisor, "extra").unwrap().name()
    );
    println!("terminate_child: {:?}", supervisor.terminate_child("extra"));
    println!("children: {:?}", child_ids(&supervisor));
}

#[derive(Clone, Serialize, Deserialize)]
struct Churn;

impl Supervisor for Churn {
    type ChildArgs = ();

    fn init(&self) -> SupervisorConfig {
        SupervisorConfig::new(Strategy::OneForOne)
            .intensity(1_000_000, Duration::from_secs(1))
            .child(ChildSpec::actor::<Counter>("counter", 0))
    }
}

fn many_restarts() {
    let supervisor = SupervisorRef::start_supervisor(Churn).unwrap();
    let current = |s: &SupervisorRef<Churn>| -> ActorRef<Counter> {
        loop {
            match s.child::<Counter>("counter") {
                Ok(counter) => return counter,
                // Between its death and its restart.
                Err(ChildError::NotRunning(_)) => {}
                Err(other) => panic!("{other}"),
            }
        }
    };
    for _ in 0..10_000 {
        let counter = current(&supervisor);
        // A call that panics: the caller gets ActorDown, the supervisor restarts the child.
        assert!(matches!(counter.explode(), Err(CallError::ActorDown(_))));
        while current(&supervisor).process_id() == counter.process_id() {}
    }
    println!("restarts: {:?}", supervisor.restarts());
    println!("still serving: {:?}", current(&supervisor).add(1));
}

// ---- calls answered later ----

/// Answers `later` calls only when told to (OTP's `noreply`, then `gen_server:reply`), and
/// says who called.
struct Desk {
    waiting: Vec<(u64, ReplyTo<u64>)>,
}

impl Actor for Desk {
    type Args = ();

    fn init((): (), _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Desk {
            waiting: Vec::new(),
        })
    }
}

#[lunatic::actor]
impl Desk {
    fn later(&mut self, n: u64, reply: ReplyTo<u64>) {
        self.waiting.push((n, reply));
    }

    fn release(&mut self) {
        for (n, reply) in self.waiting.drain(..) {
            reply.send(n + 1);
        }
    }

    fn who(&mut self, reply: ReplyTo<ProcessId>, _: &mut Context<Self>) {
        let caller = reply.caller();
        reply.send(caller);
    }
}

fn deferred() {
    let desk = ActorRef::<Desk>::start(()).unwrap();
    println!(
        "who: the caller is main: {}",
        desk.who() == Ok(process::this_id())
    );
    let waiter = process::spawn_with(desk.clone(), |desk: ActorRef<Desk>, _: Mailbox<()>| {
        println!("later: {:?}", desk.later(41));
    })
    .unwrap();
    process::sleep_ms(100);
    println!("still waiting before the release: {}", waiter.is_alive());
    let monitor = waiter.monitor();
    desk.release();
    let _ = waiter.wait_down(monitor, Some(Duration::from_secs(5)));
}

/// A child's handle from its supervisor is typed, and checked: asked for as another type,
/// it is an error naming both.
fn typed_children() {
    let supervisor = SupervisorRef::start_supervisor(Churn).unwrap();
    let counter = supervisor.child::<Counter>("counter").unwrap();
    println!("as a counter: {:?}", counter.add(2));
    match supervisor.child::<Worker>("counter") {
        Ok(_) => println!("as a worker: handed out (wrong)"),
        Err(error) => println!("as a worker: {error}"),
    }
    println!(
        "missing: {:?}",
        supervisor.child::<Counter>("nope").map(|c| c.process_id())
    );
}
