//! A program for the nodes of a test cluster (tests/cluster.rs). Modes (the first
//! argument):
//! - `idle`: prints `node NAME ID` and waits (a node others use);
//! - `alone SECS`: waits SECS seconds, then prints how many nodes it is connected to;
//! - `scenario`: on node `a` of a cluster of `a`, `b`, `c`: remote spawn, request/reply,
//!   order, a monitor and a link across nodes, a sandbox's child on `b` held to the
//!   sandbox's memory limit, cluster-wide names, a process group spanning nodes; then it
//!   prints `ready for kill` and reports what it hears when the test kills node `c` with
//!   SIGKILL: the link, the monitor and a pending request fail with `NoConnection`, `c`'s
//!   name goes and is taken here; then it waits for `c` to rejoin and spawns there again;
//! - `claim`: registers a process under the cluster-wide name `leader` before it meets any
//!   node, waits for two others, and says which node holds the name and whether its own
//!   process lives (a name claimed on two nodes apart: one keeps it, the other is killed);
//! - `supervised`: on node `a` of a cluster of `a` and `b`: a supervisor here with a child
//!   on `b`; the child killed is restarted on `b`; after `ready for kill`, when the test
//!   kills `b`, the child is restarted here.
use std::time::{Duration, Instant};

use lunatic::actors::{
    Actor, ActorRef, BoxError, ChildSpec, Context, Strategy, Supervisor, SupervisorConfig,
    SupervisorRef,
};
use lunatic::distributed::{self, lookup_global, register_global};
use lunatic::{
    process, EndReason, Limit, LunaticError, Mailbox, Message, Process, ReceiveError, Request,
};

type Echo = Request<String, String>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("idle") => {
            let me = distributed::node_id();
            println!(
                "node {} {me}",
                distributed::node_name(me).unwrap_or_default()
            );
            loop {
                process::sleep(Duration::from_secs(3600));
            }
        }
        Some("alone") => {
            let secs = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3);
            process::sleep(Duration::from_secs(secs));
            println!("nodes {}", distributed::nodes().len());
        }
        Some("scenario") => lunatic::process::run_main(scenario),
        Some("supervised") => lunatic::process::run_main(supervised),
        Some("claim") => lunatic::process::run_main(claim),
        other => panic!("unknown mode {other:?}"),
    }
}

/// The id of the connected node called `name`, waiting up to 20 s for it.
fn node_named(name: &str) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = distributed::nodes()
            .into_iter()
            .find(|node| distributed::node_name(*node).as_deref() == Some(name));
        if let Some(node) = found {
            return node;
        }
        assert!(Instant::now() < deadline, "node {name} did not connect");
        process::sleep(Duration::from_millis(50));
    }
}

/// Answers echo requests with the text and the node it runs on.
fn echo(_: (), mailbox: Mailbox<Echo>) {
    let me = distributed::node_name(distributed::node_id()).unwrap_or_default();
    while let Ok(request) = mailbox.receive() {
        let text = format!("{} from {me}", request.data());
        request.reply(text);
    }
}

/// Panics with the text it is sent.
fn crasher(_: (), mailbox: Mailbox<String>) {
    let text = mailbox.receive().expect("a text");
    panic!("{text}");
}

/// Receives `count` numbers and tells `to` whether they came in order.
fn collector((count, to): (u64, Process<String>), mailbox: Mailbox<u64>) {
    let mut next = 0;
    let mut ordered = true;
    while next < count {
        let n = mailbox.receive().expect("a number");
        ordered &= n == next;
        next += 1;
    }
    to.send(format!("received {count} in order: {ordered}"));
}

/// Registers itself under `name`, then answers echo requests.
fn registrar(name: String, mailbox: Mailbox<Echo>) {
    let me = process::this(&mailbox);
    register_global(&name, &me).expect("the name is free");
    echo((), mailbox);
}

/// In a sandbox of 32 MiB: spawns a process on node `b` that wants 64 MiB, and tells `to`
/// how it ended.
fn sandboxed_spawner((b, to): (u64, Process<String>), mailbox: Mailbox<()>) {
    let child = Process::spawn_node(b, (), hog).expect("a sandbox may spawn on b");
    let watch = child.monitor();
    child.send(());
    let node = distributed::node_name(child.process_id().node_id()).unwrap_or_default();
    match mailbox.receive() {
        Err(ReceiveError::ProcessDown(down)) if down.tag() == watch => to.send(format!(
            "sandboxed child on {node}: {}",
            EndReason::VARIANT_NAMES[down.reason().variant_index()]
        )),
        other => to.send(format!("sandboxed child: unexpected {other:?}")),
    }
    // Its limit of processes holds on b too, and a spawn past it is refused as such.
    let mut parked = 0;
    let refused = loop {
        match Process::spawn_node(b, (), park) {
            Ok(_) if parked < 10 => parked += 1,
            Ok(_) => break "none".to_owned(),
            Err(
                error @ LunaticError::OverLimit {
                    limit: Limit::Processes,
                },
            ) => break format!("OverLimit: {error}"),
            Err(other) => break format!("unexpected {other:?}"),
        }
    };
    to.send(format!("sandbox spawns on b: {parked}, then {refused}"));
    // Each cluster-wide name costs the sandbox a handle (at most 16 here).
    let me = process::this(&mailbox);
    let refused = (0..100).find_map(|n| register_global(&format!("sandbox-{n}"), &me).err());
    to.send(format!("sandbox names: {refused:?}"));
}

/// Registers itself under `name`, gives it up when told, then waits.
fn fleeting(name: String, mailbox: Mailbox<()>) {
    register_global(&name, &process::this(&mailbox)).expect("the name is free");
    mailbox.receive().unwrap();
    assert!(distributed::unregister_global(&name));
    loop {
        process::sleep(Duration::from_secs(3600));
    }
}

/// Waits for cluster-wide `name` (of `()`s) to be held (`true`) or free (`false`).
fn wait_unit_name(name: &str, present: bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while lookup_global::<()>(name).unwrap().is_some() != present {
        assert!(Instant::now() < deadline, "{name} did not become {present}");
        process::sleep(Duration::from_millis(20));
    }
}

/// Wants 64 MiB, once told.
/// Waits for a message that never comes.
fn park(_: (), mailbox: Mailbox<()>) {
    let _ = mailbox.receive();
}

fn hog(_: (), mailbox: Mailbox<()>) {
    mailbox.receive().unwrap();
    let memory = vec![1u8; 64 << 20];
    std::hint::black_box(memory);
}

/// Takes requests and never answers them.
fn silent(_: (), mailbox: Mailbox<Echo>) {
    let mut held = Vec::new();
    while let Ok(request) = mailbox.receive() {
        held.push(request);
    }
}

/// Joins group `echoes`, then answers echo requests.
fn pg_member(_: (), mailbox: Mailbox<Echo>) {
    lunatic::pg::join("echoes", &process::this(&mailbox)).unwrap();
    echo((), mailbox);
}

/// Sleeps until killed.
fn sleeper(_: (), _: Mailbox<()>) {
    loop {
        process::sleep(Duration::from_secs(3600));
    }
}

/// Waits for cluster-wide `name` to be registered (`true`) or gone (`false`).
fn wait_name(name: &str, present: bool) -> Option<Process<Echo>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = lookup_global::<Echo>(name).expect("the name's type is Echo");
        if found.is_some() == present {
            return found;
        }
        assert!(Instant::now() < deadline, "{name} did not become {present}");
        process::sleep(Duration::from_millis(20));
    }
}

fn scenario(mailbox: Mailbox<String>) {
    let me = distributed::node_id();
    let b = node_named("b");
    let c = node_named("c");
    println!(
        "connected to b and c; this node is {}",
        distributed::node_name(me).unwrap()
    );

    // Remote spawn and request/reply.
    let server = Process::spawn_node(b, (), echo).expect("spawn on b");
    assert_eq!(server.process_id().node_id(), b);
    println!("request: {}", server.request("hello".to_owned()).unwrap());
    assert!(server.is_alive());

    // Order between one sender and one receiver.
    let this = process::this(&mailbox);
    let counter = Process::spawn_node(c, (10_000u64, this), collector).expect("spawn on c");
    for n in 0..10_000u64 {
        counter.send(n);
    }
    println!("{}", mailbox.receive().unwrap());

    // A monitor across nodes.
    let doomed = Process::spawn_node(c, (), crasher).expect("spawn on c");
    let watch = doomed.monitor();
    doomed.send("boom on c".to_owned());
    match mailbox.receive() {
        Err(ReceiveError::ProcessDown(down)) if down.tag() == watch => {
            assert_eq!(down.process_id(), doomed.process_id());
            match down.reason() {
                EndReason::Panicked { message, .. } => println!("down: panicked: {message}"),
                other => println!("down: unexpected {other:?}"),
            }
        }
        other => println!("down: unexpected {other:?}"),
    }

    // A sandboxed spawner's child on b runs with the sandbox's limits there.
    let mut config = lunatic::Config::new(32 << 20, None);
    config
        .allow_namespace("lunatic::distributed")
        .max_handles(16)
        .max_processes(4);
    let mut sandbox = lunatic::Environment::new(config).unwrap();
    let module = sandbox.add_this_module().unwrap();
    module.spawn_with((b, this), sandboxed_spawner).unwrap();
    for _ in 0..3 {
        println!("{}", mailbox.receive().unwrap());
    }

    // A link across nodes.
    let (doomed, _tag, links) =
        Process::spawn_link_node(b, mailbox, (), crasher).expect("spawn linked on b");
    doomed.send("boom on b".to_owned());
    match links.receive() {
        Message::Signal(signal) => {
            assert_eq!(signal.process_id().node_id(), b);
            println!(
                "signal: {}",
                EndReason::VARIANT_NAMES[signal.reason().variant_index()]
            );
        }
        Message::Normal(other) => println!("signal: unexpected {other:?}"),
    }

    // A link removed across nodes: the crash is heard only through the monitor.
    let doomed = Process::spawn_node(b, (), crasher).expect("spawn on b");
    let _ = doomed.link();
    doomed.unlink();
    let watch = doomed.monitor();
    doomed.send("boom after unlink".to_owned());
    match links.receive() {
        Message::Normal(Err(ReceiveError::ProcessDown(down))) if down.tag() == watch => {
            println!("unlinked: only the down notice");
        }
        other => println!("unlinked: unexpected {other:?}"),
    }

    // A cluster-wide name given up on b is gone here too.
    let tmp = Process::spawn_node(b, "tmp-b".to_owned(), fleeting).expect("spawn on b");
    wait_unit_name("tmp-b", true);
    tmp.send(());
    wait_unit_name("tmp-b", false);
    println!("tmp-b given up");

    // Cluster-wide names: one registered on b is found here, typed.
    let _svc = Process::spawn_node(b, "svc-b".to_owned(), registrar).expect("spawn on b");
    let found = wait_name("svc-b", true).unwrap();
    println!("svc-b: {}", found.request("hi".to_owned()).unwrap());
    match lookup_global::<u64>("svc-b") {
        Err(error) => println!("svc-b as u64: {error}"),
        Ok(_) => println!("svc-b as u64: found"),
    }

    // Process groups span nodes.
    let local = process::spawn_with((), echo).unwrap();
    lunatic::pg::join("echoes", &local).unwrap();
    let _member = Process::spawn_node(b, (), pg_member).expect("spawn on b");
    let deadline = Instant::now() + Duration::from_secs(20);
    let members = loop {
        let members = lunatic::pg::members::<Echo>("echoes").unwrap();
        if members.len() == 2 {
            break members;
        }
        assert!(
            Instant::now() < deadline,
            "the group has {} members",
            members.len()
        );
        process::sleep(Duration::from_millis(20));
    };
    let mut replies: Vec<String> = members
        .iter()
        .map(|member| member.request("pg".to_owned()).unwrap())
        .collect();
    replies.sort();
    println!("pg: {}", replies.join(", "));

    // Node c's end: a link and a monitor of processes there, and its name.
    let _svc = Process::spawn_node(c, "svc-c".to_owned(), registrar).expect("spawn on c");
    wait_name("svc-c", true);
    let held = Process::spawn_node(c, (), sleeper).expect("spawn on c");
    let (linked, _tag, links) =
        Process::spawn_link_node(c, links, (), sleeper).expect("spawn linked on c");
    let watch = held.monitor();
    assert!(linked.is_alive());
    // A request to a server on c that never answers, pending when c goes.
    let silent = Process::spawn_node(c, (), silent).expect("spawn on c");
    process::spawn_with(
        (silent, this),
        |(silent, main): (Process<Echo>, Process<String>), _: Mailbox<()>| {
            let text = match silent.request("anyone?".to_owned()) {
                Err(ReceiveError::ProcessDown(down)) => reason_text(down.reason()),
                other => format!("unexpected {other:?}"),
            };
            main.send(format!("request to c: {text}"));
        },
    )
    .unwrap();
    while !silent.is_alive() {
        process::sleep(Duration::from_millis(10));
    }
    process::sleep(Duration::from_millis(200));
    println!("ready for kill");
    let mut heard = 0;
    while heard < 3 {
        match links.receive_timeout(Duration::from_secs(30)) {
            Message::Signal(signal) => {
                println!("link to c: {}", reason_text(signal.reason()));
                heard += 1;
            }
            Message::Normal(Err(ReceiveError::ProcessDown(down))) if down.tag() == watch => {
                println!("monitor of c: {}", reason_text(down.reason()));
                heard += 1;
            }
            Message::Normal(Ok(text)) => {
                println!("{text}");
                heard += 1;
            }
            Message::Normal(other) => panic!("unexpected {other:?}"),
        }
    }
    wait_name("svc-c", false);
    println!("svc-c gone");
    match Process::spawn_node(c, (), echo) {
        Err(LunaticError::NoConnection { node }) if node == c => {
            println!("spawn on lost c: NoConnection");
        }
        other => panic!("spawn on lost c: {other:?}"),
    }
    let local = process::spawn_with((), echo).unwrap();
    register_global("svc-c", &local).expect("the name is free now");
    let moved = wait_name("svc-c", true).unwrap();
    assert_eq!(moved.process_id().node_id(), me);
    println!(
        "svc-c moved: {}",
        moved.request("again".to_owned()).unwrap()
    );
    assert!(!held.is_alive());

    // Node c comes back.
    let deadline = Instant::now() + Duration::from_secs(60);
    let c = loop {
        let found = distributed::nodes()
            .into_iter()
            .find(|node| distributed::node_name(*node).as_deref() == Some("c"));
        if let Some(node) = found {
            break node;
        }
        assert!(Instant::now() < deadline, "c did not rejoin");
        process::sleep(Duration::from_millis(50));
    };
    println!("c rejoined");
    let server = Process::spawn_node(c, (), echo).expect("spawn on c again");
    println!("request: {}", server.request("back".to_owned()).unwrap());
    println!("done");
}

fn reason_text(reason: &EndReason) -> String {
    match reason {
        EndReason::NoConnection { node } => format!("NoConnection from {}", node_text(*node)),
        other => format!("unexpected {other:?}"),
    }
}

fn node_text(node: u64) -> &'static str {
    if lunatic::distributed::nodes().contains(&node) {
        "a connected node"
    } else {
        "a lost node"
    }
}

/// An actor that says where it runs.
struct Locator;

impl Actor for Locator {
    type Args = ();

    fn init((): (), _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Locator)
    }
}

#[lunatic::actor]
impl Locator {
    fn node(&mut self) -> String {
        distributed::node_name(distributed::node_id()).unwrap_or_default()
    }
}

/// A supervisor of one `Locator` on node `b` (its id).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Spanning(u64);

impl Supervisor for Spanning {
    type ChildArgs = ();

    fn init(&self) -> SupervisorConfig {
        SupervisorConfig::new(Strategy::OneForOne)
            .intensity(5, Duration::from_secs(10))
            .child(ChildSpec::actor_on::<Locator>("locator", self.0, ()))
    }
}

/// Where the supervisor's child runs, once it is not `old`.
fn child_node(supervisor: &SupervisorRef<Spanning>, old: Option<lunatic::ProcessId>) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(child) = supervisor.child::<Locator>("locator") {
            if Some(child.process_id()) != old {
                if let Ok(node) = child.node() {
                    return node;
                }
            }
        }
        assert!(Instant::now() < deadline, "the child was not restarted");
        process::sleep(Duration::from_millis(20));
    }
}

/// Looks up the actor registered cluster-wide as `locator-a` and tells `main` where it
/// answers from.
fn global_actor_user(main: Process<String>, _: Mailbox<()>) {
    let found = ActorRef::<Locator>::lookup_global("locator-a")
        .expect("typed as a Locator")
        .expect("registered");
    main.send(format!(
        "global actor answers from {}",
        found.node().unwrap()
    ));
}

fn supervised(mailbox: Mailbox<String>) {
    let b = node_named("b");
    // An actor registered cluster-wide, called from the other node.
    let locator = ActorRef::<Locator>::start(()).unwrap();
    locator.register_global("locator-a").unwrap();
    Process::spawn_node(b, process::this(&mailbox), global_actor_user).unwrap();
    println!("{}", mailbox.receive().unwrap());
    let supervisor = SupervisorRef::start_supervisor(Spanning(b)).unwrap();
    println!("child on {}", child_node(&supervisor, None));
    let first = supervisor.child::<Locator>("locator").unwrap();
    first.process().kill();
    println!(
        "killed, restarted on {}",
        child_node(&supervisor, Some(first.process_id()))
    );
    let second = supervisor.child::<Locator>("locator").unwrap();
    println!("ready for kill");
    println!(
        "node lost, restarted on {}",
        child_node(&supervisor, Some(second.process_id()))
    );
}

fn claim(mailbox: Mailbox<String>) {
    let holder = process::spawn_with((), echo).unwrap();
    let watch = holder.monitor();
    match register_global("leader", &holder) {
        Ok(()) => println!("registered"),
        Err(error) => println!("not registered: {error}"),
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while distributed::nodes().len() < 2 {
        assert!(Instant::now() < deadline, "the others did not connect");
        process::sleep(Duration::from_millis(20));
    }
    process::sleep(Duration::from_secs(1));
    let leader = lookup_global::<Echo>("leader")
        .unwrap()
        .expect("someone holds it");
    let node = distributed::node_name(leader.process_id().node_id()).unwrap_or_default();
    println!(
        "leader on {node}: {}",
        leader.request("who".to_owned()).unwrap()
    );
    if holder.is_alive() {
        println!("mine lives");
    } else {
        match mailbox.receive() {
            Err(ReceiveError::ProcessDown(down)) if down.tag() == watch => match down.reason() {
                reason @ EndReason::NameTaken { .. } => println!("mine ended: {reason}"),
                other => println!("mine ended: unexpected {other:?}"),
            },
            other => println!("mine ended: unexpected {other:?}"),
        }
    }
    // The other node looks the name up at about the same time: it must find this one.
    process::sleep(Duration::from_secs(3));
}
