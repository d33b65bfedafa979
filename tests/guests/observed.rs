//! Two supervision trees to observe and to shut down (tests/observer.rs): `shop` (one for
//! one: orders, billing, mailer) and, started after it, `audit` (one for one: auditor), plus
//! a plain process with three `Order`s queued that it never reads. Every worker prints its
//! start and its `terminate`, so a test sees restarts and the order of a graceful shutdown.
//! With the argument `stubborn`, the auditor takes a minute to stop (and is given it). With
//! `crowd`, a third tree has 600 children with long names, and its first child crashes with
//! a 20 KiB panic message. With `impostor`, a plain process describes itself as a
//! supervisor of `shop` and of itself. With `sandbox`, two sleeping processes run in an
//! environment with a fuel limit and at most 10 processes. With `deep`, a plain process
//! main spawned starts a third tree, `depot` (porter), after the others. With `sleeper`, a
//! process wakes from 40 timed-out receives of 3 ms, then prints its id and parks.
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

    fn crash(&mut self, text: String) {
        panic!("{text}");
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
    Crowd,
    Depot,
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
            Tree::Depot => config.child(worker("porter")),
            Tree::Crowd => (0..600).fold(config, |config, n| {
                config.child(worker(&format!("crowd-{n:03}-{}", "x".repeat(100))))
            }),
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

/// Timed-out receives of the `sleeper`.
const SLEEPS: u32 = 40;

fn backlog(_: Mailbox<Order>) {
    loop {
        process::sleep(Duration::from_secs(3600));
    }
}

#[lunatic::main]
fn main(mailbox: Mailbox<()>) {
    let shop = SupervisorRef::start_supervisor(Tree::Shop).unwrap();
    shop.register("shop").unwrap();
    let arg = |name: &str| std::env::args().any(|arg| arg == name);
    let _audit = SupervisorRef::start_supervisor(Tree::Audit(arg("stubborn"))).unwrap();
    if arg("crowd") {
        let crowd = SupervisorRef::start_supervisor(Tree::Crowd).unwrap();
        crowd.register("crowd").unwrap();
        let first = crowd
            .child::<Worker>(&format!("crowd-000-{}", "x".repeat(100)))
            .unwrap();
        first.crash("boom ".repeat(4096));
        println!("crowd crashed one");
    }
    if arg("deep") {
        let main = process::this(&mailbox);
        process::spawn_with(main, |main: lunatic::Process<()>, rest: Mailbox<()>| {
            let _depot = SupervisorRef::start_supervisor(Tree::Depot).unwrap();
            main.send(());
            let _ = rest.receive();
        })
        .unwrap();
        mailbox.receive().unwrap();
    }
    let _sandbox = arg("sandbox").then(|| {
        let mut config = lunatic::Config::new(64 << 20, Some(1_000_000));
        config.max_processes(10);
        let mut sandbox = lunatic::Environment::new(config).unwrap();
        let module = sandbox.add_this_module().unwrap();
        for _ in 0..2 {
            module.spawn(backlog).unwrap();
        }
        sandbox
    });
    if arg("sleeper") {
        process::spawn(|mailbox: Mailbox<()>| {
            for _ in 0..SLEEPS {
                let _ = mailbox.receive_timeout(Duration::from_millis(3));
            }
            let me = process::this(&mailbox).process_id().local_id();
            println!("sleeper {me} done");
            let _ = mailbox.receive();
        })
        .unwrap();
    }
    if arg("impostor") {
        let shop_id = shop.process().process_id().local_id();
        let impostor = process::spawn_with(shop_id, |shop: u64, mailbox: Mailbox<()>| {
            let me = process::this(&mailbox).process_id().local_id();
            process::describe(&lunatic::Role {
                actor: "impostor".to_owned(),
                supervisor: Some(lunatic::SupervisorRole {
                    strategy: lunatic::RoleStrategy::OneForAll,
                    intensity: 1,
                    period_ms: 1,
                    restarts: 0,
                    children: vec![
                        lunatic::RoleChild {
                            name: "stolen".to_owned(),
                            process: shop,
                        },
                        lunatic::RoleChild {
                            name: "myself".to_owned(),
                            process: me,
                        },
                    ],
                    unlisted_children: 0,
                }),
            });
            println!("impostor {me}");
            let _ = mailbox.receive();
        })
        .unwrap();
        let _ = impostor;
    }
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
