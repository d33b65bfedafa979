//! Supervisors: processes that start children, watch them and restart them, the way
//! Erlang/OTP's `supervisor` does.
//!
//! | strategy | when a child must be restarted |
//! |---|---|
//! | [`Strategy::OneForOne`] | only that child is restarted |
//! | [`Strategy::OneForAll`] | every other child is stopped (in reverse order), then all are started again (in order) |
//! | [`Strategy::RestForOne`] | the children started after it are stopped (in reverse order), then it and they are started again (in order) |
//!
//! | restart type | restarted after |
//! |---|---|
//! | [`Restart::Permanent`] | any end, a normal one too |
//! | [`Restart::Transient`] | an abnormal end only: not [`EndReason::Normal`] nor [`EndReason::Shutdown`] |
//! | [`Restart::Temporary`] | never; the child is forgotten when it ends |
//!
//! Restart intensity: if more than `max_restarts` restarts happen within `period`, the
//! supervisor stops all its children (in reverse order) and dies, so its own supervisor
//! decides what happens next. Children start in order; on shutdown they are stopped in
//! reverse order, each asked to stop and given its shutdown time before it is killed.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use lunatic_core::{
    EndReason, ExitReason, MessageType, Process, ProcessId, Request, Role, RoleChild, RoleStrategy,
    Sendable, SupervisorEvent, SupervisorReport, SupervisorRole, Tag,
};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, BoxError, Context, Dispatch, Info};
use crate::actor_ref::{call, ActorProcess, ActorRef, CallError, StartError, DEFAULT_CALL_TIMEOUT};
use crate::envelope::{Envelope, Stop};

/// Which children are restarted when one must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// Only the child that ended.
    OneForOne,
    /// All children.
    OneForAll,
    /// The child that ended and those started after it.
    RestForOne,
}

impl From<Strategy> for RoleStrategy {
    fn from(strategy: Strategy) -> Self {
        match strategy {
            Strategy::OneForOne => Self::OneForOne,
            Strategy::OneForAll => Self::OneForAll,
            Strategy::RestForOne => Self::RestForOne,
        }
    }
}

/// When a child is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Restart {
    /// Always.
    Permanent,
    /// After an abnormal end only.
    Transient,
    /// Never.
    Temporary,
}

/// How to start one child, and how to treat it.
pub struct ChildSpec {
    id: String,
    /// The child's actor type, when the spec knows it.
    actor: Option<ActorType>,
    start: Box<dyn Fn() -> Result<ProcessId, StartError>>,
    restart: Restart,
    shutdown: Duration,
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl ChildSpec {
    /// A permanent child: an actor of type `A` started with `args` (cloned at each restart),
    /// given 5 seconds to stop.
    pub fn actor<A>(id: impl Into<String>, args: A::Args) -> Self
    where
        A: Dispatch + 'static,
        A::Args: Clone + 'static,
    {
        Self::new(id, move || {
            ActorRef::<A>::start_link(args.clone()).map(|actor| actor.process_id())
        })
        .of_actor::<A>()
    }

    /// A permanent child: an actor of type `A` on node `node` (see
    /// `lunatic::distributed`). It is restarted there while the node is connected, and on
    /// the supervisor's own node when it is not (the node was lost: the child ended with
    /// `NoConnection`).
    pub fn actor_on<A>(id: impl Into<String>, node: u64, args: A::Args) -> Self
    where
        A: Dispatch + 'static,
        A::Args: Clone + 'static,
    {
        Self::new(id, move || {
            let start = if lunatic_core::distributed::nodes().contains(&node) {
                ActorRef::<A>::start_link_on(node, args.clone())
            } else {
                ActorRef::<A>::start_link(args.clone())
            };
            start.map(|actor| actor.process_id())
        })
        .of_actor::<A>()
    }

    /// Records that the child is an actor of type `A`, so that
    /// [`SupervisorClient::child`] hands out an `ActorRef<A>` for it (and nothing else).
    #[must_use]
    pub fn of_actor<A: Dispatch>(mut self) -> Self {
        self.actor = Some(ActorType::of::<A>());
        self
    }

    /// A permanent child that is itself a supervisor, given a minute to stop its subtree.
    pub fn supervisor<S: Supervisor + Clone>(id: impl Into<String>, supervisor: S) -> Self {
        Self::new(id, move || {
            SupervisorRef::start_supervisor(supervisor.clone()).map(|s| s.process_id())
        })
        .of_actor::<SupervisorServer<S>>()
        .shutdown(Duration::from_secs(60))
    }

    /// A permanent child started by `start` (which must start it linked to the caller).
    pub fn new(
        id: impl Into<String>,
        start: impl Fn() -> Result<ProcessId, StartError> + 'static,
    ) -> Self {
        Self {
            id: id.into(),
            actor: None,
            start: Box::new(start),
            restart: Restart::Permanent,
            shutdown: Duration::from_secs(5),
        }
    }

    /// Sets the restart type.
    #[must_use]
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how long the child may take to stop before it is killed (`Duration::ZERO`:
    /// killed at once).
    #[must_use]
    pub fn shutdown(mut self, shutdown: Duration) -> Self {
        self.shutdown = shutdown;
        self
    }
}

/// A supervisor's strategy, intensity and children.
#[derive(Debug)]
pub struct SupervisorConfig {
    strategy: Strategy,
    max_restarts: usize,
    period: Duration,
    children: Vec<ChildSpec>,
}

impl SupervisorConfig {
    /// A supervisor with `strategy`, no children yet, and an intensity of 3 restarts in 5
    /// seconds.
    #[must_use]
    pub fn new(strategy: Strategy) -> Self {
        Self {
            strategy,
            max_restarts: 3,
            period: Duration::from_secs(5),
            children: Vec::new(),
        }
    }

    /// At most `max_restarts` restarts within `period`; one more and the supervisor fails.
    #[must_use]
    pub fn intensity(mut self, max_restarts: usize, period: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.period = period;
        self
    }

    /// Adds a child, started after those added before it.
    #[must_use]
    pub fn child(mut self, child: ChildSpec) -> Self {
        self.children.push(child);
        self
    }
}

/// A supervisor's definition: its children, and how to make children at run time. The value
/// is sent to the supervisor's process, which calls these methods there.
pub trait Supervisor: Sendable + 'static {
    /// What [`SupervisorClient::start_child`] is given (use `()` if there are none).
    type ChildArgs: Sendable;

    /// The strategy, intensity and static children, in start order.
    fn init(&self) -> SupervisorConfig;

    /// A child to start at run time; `None` refuses (the default).
    fn dynamic_child(&self, args: Self::ChildArgs) -> Option<ChildSpec> {
        let _ = args;
        None
    }
}

/// One child as [`SupervisorClient::which_children`] reports it. For a handle of the
/// child's own type, ask [`SupervisorClient::child`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildInfo {
    /// The child's id.
    pub id: String,
    /// Its process, if it is running.
    pub process: Option<ProcessId>,
    /// Its actor type, when its spec says (every spec made by [`ChildSpec::actor`] or
    /// [`ChildSpec::supervisor`] does).
    pub actor: Option<ActorType>,
}

/// The type of an actor: its name for people, and the type of the messages it takes,
/// which is what two actor types are compared by (a fingerprint, not text).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActorType {
    name: String,
    messages: MessageType,
}

impl ActorType {
    /// The type of actors `A`.
    #[must_use]
    pub fn of<A: Dispatch>() -> Self {
        Self {
            name: std::any::type_name::<A>().to_owned(),
            messages: MessageType::of::<Envelope<A::Message>>(),
        }
    }

    /// Its name (`std::any::type_name`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The type of the messages it takes.
    #[must_use]
    pub fn messages(&self) -> &MessageType {
        &self.messages
    }
}

impl PartialEq for ActorType {
    fn eq(&self, other: &Self) -> bool {
        self.messages == other.messages
    }
}

impl Eq for ActorType {}

impl fmt::Display for ActorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Why [`SupervisorClient::child`] gave no handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChildError {
    /// The supervisor has no child with that id.
    #[error("no child `{0}`")]
    NotFound(String),
    /// The child is not running now (it is being restarted, or gave up).
    #[error("the child `{0}` is not running")]
    NotRunning(String),
    /// The child is an actor of another type (or of one its spec does not say).
    #[error(
        "the child `{id}` is an actor of type {}, not {expected}",
        found.as_deref().map_or("unknown", ActorType::name)
    )]
    WrongType {
        /// The child's id.
        id: String,
        /// The type asked for.
        expected: Box<ActorType>,
        /// The child's type, as its spec says (`None` when it does not).
        found: Option<Box<ActorType>>,
    },
    /// The supervisor did not answer.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// Requests a supervisor serves.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum SupervisorMessage<S: Supervisor> {
    /// Start a dynamic child.
    StartChild(Request<S::ChildArgs, Result<ProcessId, StartChildError>>),
    /// Stop a child and forget it.
    TerminateChild(Request<String, bool>),
    /// List the children.
    WhichChildren(Request<(), Vec<ChildInfo>>),
    /// How many restarts the supervisor has made.
    Restarts(Request<(), u64>),
}

/// Why a supervisor did not start a dynamic child ([`SupervisorClient::start_child`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum StartChildError {
    /// The supervisor takes no dynamic children ([`Supervisor::dynamic_child`] made none).
    #[error("this supervisor takes no dynamic children")]
    NoDynamicChildren,
    /// It has a child with this id already.
    #[error("a child with id `{id}` already exists")]
    AlreadyExists {
        /// The id.
        id: String,
    },
    /// The child did not start; it was forgotten. `why` is its [`StartError`], as text: that
    /// holds an [`EndReason`], which does not travel in messages.
    #[error("child `{id}` did not start: {why}")]
    NotStarted {
        /// The child's id.
        id: String,
        /// Why it did not start.
        why: String,
    },
    /// The call to the supervisor failed (it is down, or did not answer in time). Never
    /// sent by a supervisor: made by the caller.
    #[error("{0}")]
    #[serde(skip)]
    Call(Box<CallError>),
}

/// What a supervisor's process is given.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct SupervisorArgs<S: Supervisor> {
    spec: S,
    /// The process that started it: its death, and only its, stops the supervisor.
    parent: ProcessId,
}

struct Child {
    spec: ChildSpec,
    running: Option<(ProcessId, Tag)>,
}

/// A supervisor's process state.
pub struct SupervisorServer<S: Supervisor> {
    spec: S,
    parent: ProcessId,
    strategy: Strategy,
    max_restarts: usize,
    period: Duration,
    children: Vec<Child>,
    recent_restarts: VecDeque<Instant>,
    total_restarts: u64,
}

impl<S: Supervisor> fmt::Debug for SupervisorServer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorServer")
            .field("strategy", &self.strategy)
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

impl<S: Supervisor> Actor for SupervisorServer<S> {
    type Args = SupervisorArgs<S>;

    fn init(args: Self::Args, _ctx: &mut Context<Self>) -> Result<Self, BoxError> {
        let config = args.spec.init();
        let mut server = Self {
            spec: args.spec,
            parent: args.parent,
            strategy: config.strategy,
            max_restarts: config.max_restarts,
            period: config.period,
            children: config
                .children
                .into_iter()
                .map(|spec| Child {
                    spec,
                    running: None,
                })
                .collect(),
            recent_restarts: VecDeque::new(),
            total_restarts: 0,
        };
        for index in 0..server.children.len() {
            if let Err(error) = server.start_child(index) {
                let id = server.children[index].spec.id.clone();
                report(SupervisorEvent::StartFailed, &id, None, None, &error);
                server.stop_children(0..index);
                return Err(format!("child `{id}` did not start: {error}").into());
            }
        }
        server.describe();
        Ok(server)
    }

    fn handle_info(&mut self, info: Info, ctx: &mut Context<Self>) {
        match info {
            Info::Down(down) => {
                let found = self
                    .children
                    .iter()
                    .position(|child| child.running.is_some_and(|(_, tag)| tag == down.tag()));
                if let Some(index) = found {
                    self.children[index].running = None;
                    self.child_ended(index, down.process_id(), down.reason(), ctx);
                    self.describe();
                }
            }
            // Children are watched through monitors; only the parent's death matters here.
            Info::LinkDied(signal) if signal.process_id() == self.parent => {
                ctx.stop(ExitReason::Error(format!(
                    "parent died: {}",
                    signal.reason()
                )));
            }
            _ => {}
        }
    }

    fn terminate(&mut self, reason: &ExitReason) {
        self.stop_children(0..self.children.len());
        if let ExitReason::Error(why) = reason {
            report(SupervisorEvent::GaveUp, "", None, None, why);
        }
    }
}

impl<S: Supervisor> Dispatch for SupervisorServer<S> {
    type Message = SupervisorMessage<S>;
    type Client = SupervisorClient<S>;

    fn dispatch(&mut self, message: Self::Message, _ctx: &mut Context<Self>) {
        match message {
            SupervisorMessage::StartChild(request) => {
                let (args, reply) = request.into_parts();
                reply.send(self.start_dynamic(args));
                self.describe();
            }
            SupervisorMessage::TerminateChild(request) => {
                let (id, reply) = request.into_parts();
                let found = self.children.iter().position(|child| child.spec.id == id);
                if let Some(index) = found {
                    self.stop_children(index..=index);
                    self.children.remove(index);
                    self.describe();
                }
                reply.send(found.is_some());
            }
            SupervisorMessage::WhichChildren(request) => {
                let children = self
                    .children
                    .iter()
                    .map(|child| ChildInfo {
                        id: child.spec.id.clone(),
                        process: child.running.map(|(p, _)| p),
                        actor: child.spec.actor.clone(),
                    })
                    .collect();
                request.reply(children);
            }
            SupervisorMessage::Restarts(request) => request.reply(self.total_restarts),
        }
    }
}

impl<S: Supervisor> SupervisorServer<S> {
    fn start_child(&mut self, index: usize) -> Result<ProcessId, StartError> {
        let child = &mut self.children[index];
        let process = (child.spec.start)()?;
        let tag = Process::<()>::from_process_id(process).monitor();
        child.running = Some((process, tag));
        Ok(process)
    }

    fn start_dynamic(&mut self, args: S::ChildArgs) -> Result<ProcessId, StartChildError> {
        let spec = self
            .spec
            .dynamic_child(args)
            .ok_or(StartChildError::NoDynamicChildren)?;
        if self.children.iter().any(|child| child.spec.id == spec.id) {
            return Err(StartChildError::AlreadyExists { id: spec.id });
        }
        self.children.push(Child {
            spec,
            running: None,
        });
        let index = self.children.len() - 1;
        match self.start_child(index) {
            Ok(process) => Ok(process),
            Err(error) => {
                let id = self.children.remove(index).spec.id;
                Err(StartChildError::NotStarted {
                    id,
                    why: error.to_string(),
                })
            }
        }
    }

    /// Stops the running children in `range`, last first: each is asked to stop, given its
    /// shutdown time, then killed.
    fn stop_children(&mut self, range: impl DoubleEndedIterator<Item = usize>) {
        for index in range.rev() {
            let child = &mut self.children[index];
            let Some((process, tag)) = child.running.take() else {
                continue;
            };
            let handle = Process::<Stop>::from_process_id(process);
            if child.spec.shutdown > Duration::ZERO {
                handle.send(Stop);
                if handle.wait_down(tag, Some(child.spec.shutdown)).is_ok() {
                    continue;
                }
            }
            handle.kill();
            let _ = handle.wait_down(tag, None);
        }
    }

    /// Tells the VM what this supervisor is and which children run (for the observer).
    fn describe(&self) {
        lunatic_core::process::describe(&Role {
            actor: std::any::type_name::<S>().to_owned(),
            supervisor: Some(SupervisorRole {
                strategy: self.strategy.into(),
                intensity: u32::try_from(self.max_restarts).unwrap_or(u32::MAX),
                period_ms: u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX),
                restarts: self.total_restarts,
                children: self
                    .children
                    .iter()
                    .map(|child| RoleChild {
                        name: child.spec.id.clone(),
                        process: child.running.map_or(0, |(process, _)| process.local_id()),
                    })
                    .collect(),
                unlisted_children: 0,
            }),
        });
    }

    /// Child `index` (process `ended`) ended and is no longer running: restart what the
    /// strategy says.
    fn child_ended(
        &mut self,
        index: usize,
        ended: ProcessId,
        reason: &EndReason,
        ctx: &mut Context<Self>,
    ) {
        let restart = match self.children[index].spec.restart {
            Restart::Permanent => true,
            Restart::Transient => reason.is_abnormal(),
            Restart::Temporary => false,
        };
        if !restart {
            self.children.remove(index);
            return;
        }
        let to_start = match self.strategy {
            Strategy::OneForOne => index..index + 1,
            Strategy::OneForAll => 0..self.children.len(),
            Strategy::RestForOne => index..self.children.len(),
        };
        self.stop_children(to_start.clone());
        loop {
            let id = self.children[index].spec.id.clone();
            if !self.note_restart() {
                report(
                    SupervisorEvent::IntensityReached,
                    &id,
                    Some(ended),
                    None,
                    reason,
                );
                ctx.stop(ExitReason::Error(format!(
                    "reached maximum restart intensity ({} restarts in {:?}) restarting `{id}`",
                    self.max_restarts, self.period
                )));
                return;
            }
            let started = to_start
                .clone()
                .try_for_each(|i| match self.start_child(i) {
                    Ok(_) => Ok(()),
                    Err(error) => {
                        let failed = &self.children[i].spec.id;
                        report(SupervisorEvent::StartFailed, failed, None, None, &error);
                        Err(i)
                    }
                });
            match started {
                Ok(()) => {
                    let restarted = self.children[index].running.map(|(process, _)| process);
                    report(
                        SupervisorEvent::ChildRestarted,
                        &id,
                        Some(ended),
                        restarted,
                        reason,
                    );
                    return;
                }
                // Stop what did start, then try again: the failure counts as a restart.
                Err(failed) => self.stop_children(to_start.start..failed),
            }
        }
    }

    /// Counts a restart; `false` if it is one too many within the period.
    fn note_restart(&mut self) -> bool {
        let now = Instant::now();
        while self
            .recent_restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.period)
        {
            self.recent_restarts.pop_front();
        }
        self.recent_restarts.push_back(now);
        self.total_restarts += 1;
        self.recent_restarts.len() <= self.max_restarts
    }
}

/// Reports `event` about child `child` (empty for the supervisor itself): the process that
/// ended, the one that replaced it, and why.
fn report(
    event: SupervisorEvent,
    child: &str,
    ended: Option<ProcessId>,
    restarted: Option<ProcessId>,
    reason: &dyn fmt::Display,
) {
    lunatic_core::process::supervisor_report(&SupervisorReport {
        event,
        child: child.to_owned(),
        process: ended.map_or(0, ProcessId::local_id),
        new_process: restarted.map_or(0, ProcessId::local_id),
        reason: reason.to_string(),
    });
}

/// The typed client of a supervisor (what a [`SupervisorRef`] dereferences to).
pub struct SupervisorClient<S: Supervisor> {
    process: ActorProcess<SupervisorServer<S>>,
}

impl<S: Supervisor> From<ActorProcess<SupervisorServer<S>>> for SupervisorClient<S> {
    fn from(process: ActorProcess<SupervisorServer<S>>) -> Self {
        Self { process }
    }
}

impl<S: Supervisor> SupervisorClient<S> {
    /// Starts a dynamic child made by [`Supervisor::dynamic_child`] from `args`.
    ///
    /// # Errors
    /// The supervisor refused the child or could not start it ([`StartChildError`]), or
    /// did not answer ([`StartChildError::Call`]).
    pub fn start_child(&self, args: S::ChildArgs) -> Result<ProcessId, StartChildError> {
        call(
            &self.process,
            SupervisorMessage::StartChild,
            args,
            DEFAULT_CALL_TIMEOUT,
        )
        .map_err(|error| StartChildError::Call(Box::new(error)))?
    }

    /// Stops child `id` (as at shutdown) and forgets it; `false` if there was none.
    ///
    /// # Errors
    /// The supervisor is down or did not answer in time.
    pub fn terminate_child(&self, id: &str) -> Result<bool, CallError> {
        call(
            &self.process,
            SupervisorMessage::TerminateChild,
            id.to_owned(),
            Duration::from_secs(60),
        )
    }

    /// The children, in start order.
    ///
    /// # Errors
    /// The supervisor is down or did not answer in time.
    pub fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        call(
            &self.process,
            SupervisorMessage::WhichChildren,
            (),
            DEFAULT_CALL_TIMEOUT,
        )
    }

    /// A handle to child `id`, checked to be an actor of type `A`: a child of another
    /// type is an error, never a handle that would send it messages it cannot read.
    ///
    /// # Errors
    /// [`ChildError`]: no such child, not running, another type, or the supervisor did not
    /// answer.
    pub fn child<A: Dispatch>(&self, id: &str) -> Result<ActorRef<A>, ChildError> {
        let child = self
            .which_children()?
            .into_iter()
            .find(|child| child.id == id)
            .ok_or_else(|| ChildError::NotFound(id.to_owned()))?;
        let expected = ActorType::of::<A>();
        if child.actor.as_ref() != Some(&expected) {
            return Err(ChildError::WrongType {
                id: child.id,
                expected: Box::new(expected),
                found: child.actor.map(Box::new),
            });
        }
        let process = child
            .process
            .ok_or_else(|| ChildError::NotRunning(id.to_owned()))?;
        Ok(ActorRef::from_process(Process::from_process_id(process)))
    }

    /// A handle to child `id`, checked to be a supervisor of type `S2`.
    ///
    /// # Errors
    /// As [`SupervisorClient::child`].
    pub fn child_supervisor<S2: Supervisor>(
        &self,
        id: &str,
    ) -> Result<SupervisorRef<S2>, ChildError> {
        self.child::<SupervisorServer<S2>>(id)
    }

    /// How many restarts the supervisor has made since it started.
    ///
    /// # Errors
    /// The supervisor is down or did not answer in time.
    pub fn restarts(&self) -> Result<u64, CallError> {
        call(
            &self.process,
            SupervisorMessage::Restarts,
            (),
            DEFAULT_CALL_TIMEOUT,
        )
    }
}

/// A handle to a running supervisor.
pub type SupervisorRef<S> = ActorRef<SupervisorServer<S>>;

impl<S: Supervisor> ActorRef<SupervisorServer<S>> {
    /// Starts a supervisor for `spec`, linked to the caller; it starts its children in order
    /// before this returns.
    ///
    /// # Errors
    /// A child failed to start (the ones started are stopped again), or the supervisor died.
    pub fn start_supervisor(spec: S) -> Result<Self, StartError> {
        Self::start_link(SupervisorArgs {
            spec,
            parent: lunatic_core::process::this_id(),
        })
    }
}

impl<S: Supervisor> SupervisorArgs<S> {
    /// Arguments for a supervisor whose parent is the caller.
    #[must_use]
    pub fn new(spec: S) -> Self {
        Self {
            spec,
            parent: lunatic_core::process::this_id(),
        }
    }
}
