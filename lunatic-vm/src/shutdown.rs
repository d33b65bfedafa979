//! Running the main process until it ends, or until the VM is told to stop (SIGTERM,
//! SIGINT): then the supervision trees are stopped gracefully, as OTP's `init:stop`
//! stops applications.
//!
//! A graceful stop, in order:
//! 1. The top actors when the signal comes (the actor layer told the VM which processes
//!    are actors): those no live actor spawned, so the roots of main's supervision trees
//!    and of any a plain process started. Newest first, each is sent an exit signal with
//!    reason `Shutdown` from main, and waited for. An actor takes that signal
//!    as a request to stop: a supervisor stops its children in reverse start order, each
//!    with its shutdown time (their `terminate` runs), then itself. One that does not take
//!    link signals is killed with `Shutdown` instead; one that is not gone within `timeout`
//!    is unlinked from main and killed.
//! 2. Main is told to die with `Shutdown`; the VM exits with main's status (0 for a
//!    `Shutdown`, or what main ended with, if it ended first).
//!
//! A second signal during a graceful stop exits at once, with status 128 + its number.

use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{signal, Signal, SignalKind};
use wasmtime::error::Context as _;

use crate::process::{EncodedReason, EndReason, ProcessHandle};
use crate::runtime::Runtime;
use crate::sandbox::wasi::ProcessIo;

/// How often a graceful stop looks whether an actor is gone.
const POLL: Duration = Duration::from_millis(5);

/// How long a killed actor gets to be gone.
const KILLED_GONE: Duration = Duration::from_secs(5);

/// Runs the program's main process until it ends, or, on SIGTERM or SIGINT, stops it
/// gracefully (see the module docs). Returns the exit status.
///
/// # Errors
/// Main cannot be started, or the signal handlers cannot be installed.
pub(crate) async fn run_main(runtime: &Arc<Runtime>, timeout: Duration) -> wasmtime::Result<i32> {
    let mut signals = Signals::new().context("cannot install the signal handlers")?;
    let (main, mut ended) = runtime.start(ProcessIo::default()).await?;
    let signal = tokio::select! {
        reason = &mut ended => return Ok(reason.context("main vanished")?.exit_code()),
        signal = signals.next() => signal,
    };
    let trees = top_actors(runtime);
    eprintln!(
        "lunatic: {}: stopping {} supervision trees and actors, newest first (a second signal exits at once)",
        signal.name(),
        trees.len()
    );
    tokio::spawn(async move {
        let signal = signals.next().await;
        eprintln!("lunatic: {}: exiting now", signal.name());
        let _ = std::io::Write::flush(&mut std::io::stdout());
        std::process::exit(128 + signal.number());
    });
    for actor in trees {
        stop(runtime, &main, &actor, timeout).await;
    }
    main.mailbox().kill(EndReason::Shutdown);
    Ok(ended.await.context("main vanished")?.exit_code())
}

/// The live actors no live actor spawned, newest first.
fn top_actors(runtime: &Runtime) -> Vec<Arc<ProcessHandle>> {
    let is_actor = |process: &ProcessHandle| process.profile().role().is_some();
    let mut actors: Vec<_> = runtime
        .processes()
        .all()
        .into_iter()
        .filter(|process| {
            let parent = process
                .profile()
                .parent
                .and_then(|id| runtime.processes().get(id));
            is_actor(process) && !parent.is_some_and(|parent| is_actor(&parent))
        })
        .collect();
    actors.sort_by_key(|process| std::cmp::Reverse(process.profile().started));
    actors
}

/// Sends `actor` an exit signal with reason `Shutdown` from `main` and waits until it is
/// gone; kills it after `timeout`.
async fn stop(runtime: &Runtime, main: &ProcessHandle, actor: &ProcessHandle, timeout: Duration) {
    if actor.traps_link_deaths() {
        let reason = EncodedReason::new(EndReason::Shutdown);
        actor.notify_link_death(0, main.id(), 0, &reason, None);
    } else {
        // It would die of the signal as of a linked process's death, abnormally, and so
        // would main, through their link.
        runtime.unlink(main, actor.id());
        actor.mailbox().kill(EndReason::Shutdown);
    }
    if gone_within(runtime, actor, timeout).await {
        return;
    }
    eprintln!(
        "lunatic: process {} did not stop within {timeout:?}: killed",
        actor.id()
    );
    // Main is to end with `Shutdown`, not with its linked actor's kill.
    runtime.unlink(main, actor.id());
    actor.mailbox().kill(EndReason::Killed);
    let _ = gone_within(runtime, actor, KILLED_GONE).await;
}

/// Whether `process` ends within `limit`.
async fn gone_within(runtime: &Runtime, process: &ProcessHandle, limit: Duration) -> bool {
    let Some(deadline) = tokio::time::Instant::now().checked_add(limit) else {
        // Forever.
        while runtime.processes().get(process.id()).is_some() {
            tokio::time::sleep(POLL).await;
        }
        return true;
    };
    while runtime.processes().get(process.id()).is_some() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
    true
}

/// SIGTERM and SIGINT.
struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The next signal.
    async fn next(&mut self) -> StopSignal {
        tokio::select! {
            _ = self.term.recv() => StopSignal::Term,
            _ = self.int.recv() => StopSignal::Int,
        }
    }
}

/// A signal that stops the VM.
#[derive(Debug, Clone, Copy)]
enum StopSignal {
    Term,
    Int,
}

impl StopSignal {
    fn name(self) -> &'static str {
        match self {
            Self::Term => "SIGTERM",
            Self::Int => "SIGINT",
        }
    }

    fn number(self) -> i32 {
        match self {
            Self::Term => SignalKind::terminate().as_raw_value(),
            Self::Int => SignalKind::interrupt().as_raw_value(),
        }
    }
}
