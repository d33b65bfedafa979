//! Messages that know their type: every way the public API lets a program send a value
//! as another type, to plain processes and to actors. Each scenario (the first argument)
//! prints what it saw.
use std::time::{Duration, Instant};

use lunatic::actors::{
    Actor, ActorRef, BoxError, ChildSpec, Context, Info, Strategy, Supervisor, SupervisorConfig,
    SupervisorRef,
};
use lunatic::{process, Mailbox, MessageType, Process, ReceiveError, Request};
use serde::{Deserialize, Serialize};

#[lunatic::main]
fn main(mailbox: Mailbox<u64>) {
    match std::env::args().nth(1).unwrap_or_default().as_str() {
        "mailbox" => mailbox_scenario(&mailbox),
        "named-by-sender" => named_by_sender(&mailbox),
        "requests" => requests(),
        "actors" => actors(),
        "versions" => versions(),
        other => panic!("unknown scenario {other:?}"),
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Point {
    x: f64,
    y: f64,
}

/// Values of other types sent to a `Mailbox<u64>`: each is an error naming both types.
fn mailbox_scenario(mailbox: &Mailbox<u64>) {
    let me = process::this(mailbox).process_id();
    Process::<String>::from_process_id(me).send("hello".to_owned());
    Process::<Point>::from_process_id(me).send(Point { x: 1.5, y: 2.0 });
    Process::<(u64, String)>::from_process_id(me).send((42, "x".to_owned()));
    Process::<f64>::from_process_id(me).send(1.5);
    Process::<u64>::from_process_id(me).send(5);
    for sent in ["string", "struct", "tuple", "float", "u64"] {
        match mailbox.receive_timeout(Duration::from_secs(5)) {
            Err(ReceiveError::WrongType(why)) => println!(
                "{sent}: wrong type: expected {} found {} ({why})",
                why.expected(),
                why.found()
            ),
            other => println!("{sent}: {other:?}"),
        }
    }
}

/// A generic type with a serde name of its own: its name is `Named<...> as Named/1`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename = "Named/1")]
struct Named<T>(T);

/// Six maps of strings: a type name of more than 512 bytes.
type Maps = (
    std::collections::HashMap<String, String>,
    std::collections::HashMap<String, String>,
    std::collections::HashMap<String, String>,
    std::collections::HashMap<String, String>,
    std::collections::HashMap<String, String>,
    std::collections::HashMap<String, String>,
);

/// Values whose type names join a Rust name and a serde name, sent by another process (which
/// records the names it sends: this one only receives them) to a `Mailbox<u64>`.
fn named_by_sender(mailbox: &Mailbox<u64>) {
    let me = process::this(mailbox);
    process::spawn_with(me, |parent: Process<u64>, _: Mailbox<()>| {
        let me = parent.process_id();
        Process::<Process<u64>>::from_process_id(me).send(parent);
        Process::<v2::Order>::from_process_id(me).send(v2::Order {
            id: 1,
            note: "n".to_owned(),
        });
        Process::<Named<Maps>>::from_process_id(me).send(Named(Default::default()));
    })
    .unwrap();
    for sent in ["handle", "order", "long"] {
        match mailbox.receive_timeout(Duration::from_secs(5)) {
            Err(ReceiveError::WrongType(why)) => {
                println!("{sent}: found {}", why.found());
                println!("{sent} is u64: {}", why.found().is::<u64>());
            }
            other => println!("{sent}: {other:?}"),
        }
    }
}

/// A request of the wrong type is refused at once; the server sees the error and goes on.
fn requests() {
    let server = process::spawn(|inbox: Mailbox<Request<u64, u64>>| loop {
        match inbox.receive() {
            Ok(request) => {
                let n = *request.data();
                request.reply(n + 1);
            }
            Err(error) => println!("server: {error}"),
        }
    })
    .unwrap();
    let wrong = Process::<Request<String, u64>>::from_process_id(server.process_id());
    let started = Instant::now();
    match wrong.request_timeout("five".to_owned(), Duration::from_secs(5)) {
        Err(ReceiveError::Rejected(why)) => println!(
            "wrong request: refused within 1 s: {}; server takes {}",
            started.elapsed() < Duration::from_secs(1),
            why.expected()
        ),
        other => println!("wrong request: {other:?}"),
    }
    let wrong_reply = Process::<Request<u64, String>>::from_process_id(server.process_id());
    println!(
        "wrong reply type: {:?}",
        wrong_reply
            .request_timeout(1, Duration::from_secs(5))
            .map_err(|e| e.to_string())
    );
    println!("right request: {:?}", server.request(41));
}

// ---- two actors of different types ----

struct Counter {
    count: u64,
}

impl Actor for Counter {
    type Args = u64;

    fn init(count: u64, _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Counter { count })
    }

    fn handle_info(&mut self, info: Info, _: &mut Context<Self>) {
        if let Info::Message(raw) = info {
            println!(
                "info as String: {:?}",
                raw.decode::<String>().map_err(|e| e.to_string())
            );
            println!("info as u64: {:?}", raw.decode::<u64>());
        }
    }

    fn terminate(&mut self, reason: &lunatic::ExitReason) {
        println!("counter terminates: {reason}");
    }
}

#[lunatic::actor]
impl Counter {
    fn increment(&mut self) {
        self.count += 1;
    }

    fn get(&self) -> u64 {
        self.count
    }
}

struct Acceptor;

impl Actor for Acceptor {
    type Args = ();

    fn init((): (), _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Acceptor)
    }
}

#[lunatic::actor]
impl Acceptor {
    fn addr(&self) -> String {
        "127.0.0.1:8080".to_owned()
    }

    fn poke(&mut self) {
        println!("acceptor poked (wrong)");
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Tree;

impl Supervisor for Tree {
    type ChildArgs = ();

    fn init(&self) -> SupervisorConfig {
        SupervisorConfig::new(Strategy::OneForOne).child(ChildSpec::actor::<Counter>("counter", 0))
    }
}

fn actors() {
    let counter = ActorRef::<Counter>::start(10).unwrap();

    // A u64 0 was once the envelope's `Stop`.
    Process::<u64>::from_process_id(counter.process_id()).send(0);
    println!(
        "after a u64 0: alive {}, {:?}",
        counter.is_alive(),
        counter.get()
    );
    // A flood of them is logged a few times, not a thousand.
    for n in 1..1000 {
        Process::<u64>::from_process_id(counter.process_id()).send(n);
    }
    println!("after 1,000 u64s: {:?}", counter.get());

    // A cast and a call through a handle of the wrong actor type.
    let as_acceptor =
        ActorRef::<Acceptor>::from_process(Process::from_process_id(counter.process_id()));
    as_acceptor.poke();
    let started = Instant::now();
    match as_acceptor.addr() {
        Err(lunatic::actors::CallError::Refused(why)) => println!(
            "mistyped call: refused within 1 s: {}; counter takes {}",
            started.elapsed() < Duration::from_secs(1),
            why.expected()
        ),
        other => println!("mistyped call: {other:?}"),
    }
    counter.increment();
    println!("counter after mistyped messages: {:?}", counter.get());

    // The case: an `ActorRef<Acceptor>` made from a supervisor.
    let supervisor = SupervisorRef::start_supervisor(Tree).unwrap();
    let before = supervisor.which_children().unwrap().len();
    let as_acceptor =
        ActorRef::<Acceptor>::from_process(Process::from_process_id(supervisor.process_id()));
    println!(
        "supervisor as acceptor: {:?}",
        as_acceptor.addr().map_err(|e| e.to_string())
    );
    println!(
        "supervisor children: {before} before, {} after",
        supervisor.which_children().unwrap().len()
    );

    // Raw info messages carry their type too.
    counter.info(&7_u64);
    let _ = counter.get();

    // `Stop` stops an actor of any type.
    let monitor = counter.monitor();
    lunatic::actors::stop(counter.process_id());
    let down = counter
        .process()
        .wait_down(monitor, Some(Duration::from_secs(5)));
    println!("stopped: {:?}", down.map(|d| d.reason().clone()));
}

// ---- versions ----

mod v2 {
    use serde::{Deserialize, Serialize};

    /// A type versioned by its serde name.
    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename = "Order/2")]
    pub(crate) struct Order {
        pub(crate) id: u64,
        pub(crate) note: String,
    }
}

fn versions() {
    println!("u64: {:#018x}", MessageType::of::<u64>().fingerprint());
    let order = MessageType::of::<v2::Order>();
    println!("order: {} {:#018x}", order.name(), order.fingerprint());
    let mailbox_type = MessageType::of::<u64>();
    println!("order is u64: {}", order == mailbox_type);
}
