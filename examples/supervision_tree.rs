//! A four-level supervision tree whose workers crash and come back, printing the tree's life
//! as it happens:
//!
//! ```text
//! app (one-for-one)
//! ├── db (rest-for-one): connection, cache
//! └── web (one-for-all): listener, handlers (one-for-one, at most 1 restart in 10 s): handler-1, handler-2
//! ```
use std::time::Duration;

use lunatic::actors::{
    Actor, ActorRef, BoxError, ChildSpec, Context, ExitReason, Strategy, Supervisor,
    SupervisorConfig, SupervisorRef,
};
use lunatic::{process, Mailbox, Process};
use serde::{Deserialize, Serialize};

/// A worker that logs its start and stop.
struct Worker {
    path: String,
}

impl Actor for Worker {
    type Args = String;

    fn init(path: String, _: &mut Context<Self>) -> Result<Self, BoxError> {
        println!("  + {path} started");
        Ok(Worker { path })
    }

    fn terminate(&mut self, reason: &ExitReason) {
        println!("  - {} stopped ({reason})", self.path);
    }
}

#[lunatic::actor]
impl Worker {
    /// Fails, as a bug would.
    fn crash(&mut self) {
        panic!("{} hit a bug", self.path);
    }
}

fn worker(path: &str) -> ChildSpec {
    let id = path.rsplit('/').next().unwrap_or(path);
    ChildSpec::actor::<Worker>(id, path.to_owned())
}

/// Every supervisor of the tree, by name.
#[derive(Clone, Serialize, Deserialize)]
enum Tree {
    App,
    Db,
    Web,
    Handlers,
}

impl Supervisor for Tree {
    type ChildArgs = ();

    fn init(&self) -> SupervisorConfig {
        match self {
            Tree::App => SupervisorConfig::new(Strategy::OneForOne)
                .intensity(10, Duration::from_secs(10))
                .child(ChildSpec::supervisor("db", Tree::Db))
                .child(ChildSpec::supervisor("web", Tree::Web)),
            Tree::Db => SupervisorConfig::new(Strategy::RestForOne)
                .child(worker("app/db/connection"))
                .child(worker("app/db/cache")),
            Tree::Web => SupervisorConfig::new(Strategy::OneForAll)
                .child(worker("app/web/listener"))
                .child(ChildSpec::supervisor("handlers", Tree::Handlers)),
            Tree::Handlers => SupervisorConfig::new(Strategy::OneForOne)
                .intensity(1, Duration::from_secs(10))
                .child(worker("app/web/handlers/handler-1"))
                .child(worker("app/web/handlers/handler-2")),
        }
    }
}

fn crash(root: &SupervisorRef<Tree>, path: &str) {
    println!("* crashing {path}");
    let before = try_find(root, path).expect("the child is running");
    ActorRef::<Worker>::from_process(Process::from_process_id(before)).crash();
    // Wait until the tree has healed: the child runs again, in a new process.
    for _ in 0..5_000 {
        process::sleep_ms(2);
        if let Some(now) = try_find(root, path) {
            if now != before {
                process::sleep_ms(20);
                return;
            }
        }
    }
    panic!("{path} did not come back");
}

/// The running process of the child at `path` (ids separated by `/`) under `root`.
fn try_find(root: &SupervisorRef<Tree>, path: &str) -> Option<lunatic::ProcessId> {
    let mut supervisor = root.clone();
    let mut ids = path.split('/').peekable();
    loop {
        let id = ids.next()?;
        if ids.peek().is_none() {
            let child = supervisor
                .which_children()
                .ok()?
                .into_iter()
                .find(|c| c.id == id)?;
            return child.process;
        }
        // A handle typed as a supervisor of the tree, checked to be one.
        supervisor = supervisor.child_supervisor::<Tree>(id).ok()?;
    }
}

#[lunatic::main]
fn main(_: Mailbox<()>) {
    println!("* starting the tree");
    let app = SupervisorRef::start_supervisor(Tree::App).unwrap();
    crash(&app, "web/handlers/handler-1");
    crash(&app, "db/connection");
    crash(&app, "web/listener");
    // Two crashes within 10 s are one more than `handlers` allows: it gives up, and `web`
    // (one-for-all) restarts its whole subtree.
    crash(&app, "web/handlers/handler-2");
    crash(&app, "web/handlers/handler-2");
    println!(
        "* app restarted its children {} times",
        app.restarts().unwrap()
    );
    println!("* stopping the tree");
    let tag = app.monitor();
    app.stop();
    let _ = app.process().wait_down(tag, None);
    println!("* done");
}
