//! Two supervision trees to observe and to shut down (tests/observer.rs): `shop` (one for
//! one: orders, billing, mailer) and, started after it, `audit` (one for one: auditor), plus
//! a plain process with three `Order`s queued that it never reads. Every worker prints its
//! start and its `terminate`, so a test sees restarts and the order of a graceful shutdown.
//! With the argument `stubborn`, the auditor takes a minute to stop (and is given it).
use std::time::Duration;

use lunatic::actors::{
    Actor, BoxError, ChildSpec, Context, ExitReason, Strategy, Supervisor, SupervisorConfig,
    SupervisorRef,
};
use lunatic::{process, Mailbox};
use serde::{Deserialize, Serialize};

struct Worker {
    name: String,
}

impl Actor for Worker {
    type Args = String;

    fn init(name: String, _: &mut Context<Self>) -> Result<Self, BoxError> {
        println!("started {name}");
        Ok(Worker { name })
    }

    fn terminate(&mut self, reason: &ExitReason) {
        if self.name == "stubborn auditor" {
            println!("terminating {} slowly", self.name);
            process::sleep(Duration::from_secs(60));
        }
        println!("terminate {} ({reason})", self.name);
    }
}

#[lunatic::actor]
impl Worker {
    fn ping(&mut self) -> u64 {
        1
    }
}

fn worker(name: &str) -> ChildSpec {
    ChildSpec::actor::<Worker>(name, name.to_owned()).shutdown(Duration::from_secs(2))
}

#[derive(Clone, Serialize, Deserialize)]
enum Tree {
    Shop,
    /// Whether the auditor is stubborn.
    Audit(bool),
}

impl Supervisor for Tree {
    type ChildArgs = ();

    fn init(&self) -> SupervisorConfig {
        let config =
            SupervisorConfig::new(Strategy::OneForOne).intensity(5, Duration::from_secs(10));
        match self {
            Tree::Shop => config
                .child(worker("orders"))
                .child(worker("billing"))
                .child(worker("mailer")),
            Tree::Audit(false) => config.child(worker("auditor")),
            Tree::Audit(true) => config.child(
                ChildSpec::actor::<Worker>("auditor", "stubborn auditor".to_owned())
                    .shutdown(Duration::from_secs(60)),
            ),
        }
    }
}

/// A message type the backlog never reads.
#[derive(Serialize, Deserialize)]
struct Order {
    id: u64,
}

fn backlog(_: Mailbox<Order>) {
    loop {
        process::sleep(Duration::from_secs(3600));
    }
}

#[lunatic::main]
fn main(mailbox: Mailbox<()>) {
    let shop = SupervisorRef::start_supervisor(Tree::Shop).unwrap();
    shop.register("shop").unwrap();
    let stubborn = std::env::args().any(|arg| arg == "stubborn");
    let _audit = SupervisorRef::start_supervisor(Tree::Audit(stubborn)).unwrap();
    let backlog = process::spawn(backlog).unwrap();
    for id in 0..3 {
        backlog.send(Order { id });
    }
    println!("backlog {}", backlog.process_id().local_id());
    println!("ready");
    // Until the VM is told to stop.
    let _ = mailbox.receive();
    println!("main ended by itself");
}
