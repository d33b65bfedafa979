//! `ActorRef`: the typed handle to an actor, and starting, calling and casting.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use lunatic_core::registry::RegistryError;
use lunatic_core::{
    process, EndReason, ExitReason, LogLevel, LunaticError, Mailbox, Message, Process, ProcessId,
    ReceiveError, Request, Sendable, Tag, TypedBytes, WrongType,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::actor::{Context, Dispatch, Info, RawMessage};
use crate::envelope::{Envelope, Stop};

/// How long a call waits for its reply by default (gen_server's default, 5 seconds).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The process of an actor of type `A`, as the generated client holds it.
pub type ActorProcess<A> = Process<Envelope<<A as Dispatch>::Message>>;

/// Why a call got no reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No reply within the timeout (the actor may still be working on it).
    #[error("the call timed out")]
    Timeout,
    /// The actor was not alive, or died before it replied: why it ended.
    #[error("the actor is down: {0}")]
    ActorDown(EndReason),
    /// The reply could not be read.
    #[error("bad reply: {0}")]
    BadReply(String),
    /// The actor is of another type: it refused the call at once (the error names its
    /// message type and the one sent).
    #[error("the actor refused the call: {0}")]
    Refused(Box<WrongType>),
    /// The reply was of another type than the call's result (the error names both).
    #[error("the reply is of the wrong type: {0}")]
    WrongReply(Box<WrongType>),
    /// The caller is the actor itself: it would wait for a reply only it can give (OTP's
    /// `calling_self`).
    #[error("an actor cannot call itself")]
    CallingSelf,
}

impl From<ReceiveError> for CallError {
    fn from(error: ReceiveError) -> Self {
        match error {
            ReceiveError::Timeout => Self::Timeout,
            ReceiveError::ProcessDown(down) => Self::ActorDown(down.reason().clone()),
            ReceiveError::DeserializationFailed(why) => Self::BadReply(why),
            ReceiveError::Rejected(why) => Self::Refused(why),
            ReceiveError::WrongType(why) => Self::WrongReply(why),
        }
    }
}

/// Why an actor did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// Its process could not be created.
    #[error("cannot spawn the actor: {0}")]
    Spawn(#[from] LunaticError),
    /// `init` returned an error.
    #[error("init failed: {0}")]
    Init(String),
    /// The process died during `init` (it panicked or was killed): why it ended.
    #[error("the actor died during init: {0}")]
    Died(EndReason),
    /// Its report of `init` could not be read.
    #[error("bad report from init: {0}")]
    BadReport(String),
}

/// A typed, cloneable, serializable handle to an actor. It dereferences to the actor's
/// generated client, so calls read as `counter.increment()`.
pub struct ActorRef<A: Dispatch> {
    process: ActorProcess<A>,
    client: A::Client,
}

impl<A: Dispatch> ActorRef<A> {
    /// A reference to the actor in `process`.
    #[must_use]
    pub fn from_process(process: ActorProcess<A>) -> Self {
        Self {
            process,
            client: A::Client::from(process),
        }
    }

    /// Starts an actor (not linked to the caller) and waits for its `init`.
    ///
    /// # Errors
    /// The process cannot be created, `init` failed, or the actor died during `init`.
    pub fn start(args: A::Args) -> Result<Self, StartError> {
        start::<A>(None, args, false)
    }

    /// Starts an actor on node `node` (see `lunatic::distributed`) and waits for its `init`.
    ///
    /// # Errors
    /// As [`ActorRef::start`]; also when the node is not connected.
    pub fn start_on(node: u64, args: A::Args) -> Result<Self, StartError> {
        start::<A>(Some(node), args, false)
    }

    /// [`ActorRef::start_link`] on node `node`: a link across nodes fires with
    /// `NoConnection` when the node is lost.
    ///
    /// # Errors
    /// As [`ActorRef::start_on`].
    pub fn start_link_on(node: u64, args: A::Args) -> Result<Self, StartError> {
        start::<A>(Some(node), args, true)
    }

    /// Starts an actor linked to the caller and waits for its `init`: if either dies
    /// abnormally, the other is told (and dies, unless it traps link deaths).
    ///
    /// # Errors
    /// As [`ActorRef::start`].
    pub fn start_link(args: A::Args) -> Result<Self, StartError> {
        start::<A>(None, args, true)
    }

    /// The actor's process.
    #[must_use]
    pub fn process(&self) -> ActorProcess<A> {
        self.process
    }

    /// The actor's address.
    #[must_use]
    pub fn process_id(&self) -> ProcessId {
        self.process.process_id()
    }

    /// Sends a message without waiting (a cast). Casting to a dead actor does nothing.
    pub fn cast(&self, message: A::Message) {
        cast(&self.process, message);
    }

    /// Sends a call (the message `wrap` builds around a request carrying `data`) and waits up
    /// to [`DEFAULT_CALL_TIMEOUT`] for the reply.
    ///
    /// # Errors
    /// [`CallError::ActorDown`] at once if the actor is dead or dies; [`CallError::Timeout`].
    pub fn call<T: Sendable, U: Sendable>(
        &self,
        wrap: impl FnOnce(Request<T, U>) -> A::Message,
        data: T,
    ) -> Result<U, CallError> {
        call(&self.process, wrap, data, DEFAULT_CALL_TIMEOUT)
    }

    /// [`ActorRef::call`] with its own timeout.
    ///
    /// # Errors
    /// As [`ActorRef::call`].
    pub fn call_timeout<T: Sendable, U: Sendable>(
        &self,
        wrap: impl FnOnce(Request<T, U>) -> A::Message,
        data: T,
        timeout: Duration,
    ) -> Result<U, CallError> {
        call(&self.process, wrap, data, timeout)
    }

    /// Sends a raw info message, delivered to [`crate::Actor::handle_info`] with its type.
    ///
    /// # Panics
    /// If `T`'s `Serialize` implementation fails (a socket cannot travel this way).
    pub fn info<T: Sendable>(&self, value: &T) {
        self.process.send(Envelope::Info(TypedBytes::encode(value)));
    }

    /// Asks the actor to stop: it runs `terminate(Shutdown)` and ends normally.
    pub fn stop(&self) {
        stop(self.process_id());
    }

    /// Links the caller to the actor (see `Process::link`).
    #[must_use = "signals about this link carry the tag"]
    pub fn link(&self) -> Tag {
        self.process.link()
    }

    /// Removes the link between the caller and the actor.
    pub fn unlink(&self) {
        self.process.unlink();
    }

    /// Watches the actor (see `Process::monitor`).
    #[must_use = "the down notice carries the tag"]
    pub fn monitor(&self) -> Tag {
        self.process.monitor()
    }

    /// Kills the actor at once (`terminate` does not run).
    pub fn kill(&self) {
        self.process.kill();
    }

    /// Whether the actor's process is alive.
    #[must_use]
    pub fn is_alive(&self) -> bool {
        self.process.is_alive()
    }

    /// Registers the actor under `name` (freed when it ends).
    ///
    /// # Errors
    /// The name is taken, or the actor is not alive.
    pub fn register(&self, name: &str) -> Result<(), RegistryError> {
        lunatic_core::registry::register(name, &self.process)
    }

    /// The actor of type `A` registered under `name`.
    ///
    /// # Errors
    /// The name belongs to an actor of another type.
    pub fn lookup(name: &str) -> Result<Option<Self>, RegistryError> {
        Ok(lunatic_core::registry::lookup(name)?.map(Self::from_process))
    }

    /// Registers the actor (of this node) under the cluster-wide `name`, typed as its
    /// messages are: every node can look it up (see `lunatic::distributed`); the name goes
    /// when the actor ends or its node is lost.
    ///
    /// # Errors
    /// The name is held by another process, or the actor is not a live process of this
    /// node.
    pub fn register_global(&self, name: &str) -> Result<(), RegistryError> {
        lunatic_core::distributed::register_global(name, &self.process)
    }

    /// The actor of type `A` registered under the cluster-wide `name`, on whichever node.
    ///
    /// # Errors
    /// The name belongs to an actor of another type.
    pub fn lookup_global(name: &str) -> Result<Option<Self>, RegistryError> {
        Ok(lunatic_core::distributed::lookup_global(name)?.map(Self::from_process))
    }
}

impl<A: Dispatch> Deref for ActorRef<A> {
    type Target = A::Client;

    fn deref(&self) -> &A::Client {
        &self.client
    }
}

impl<A: Dispatch> Clone for ActorRef<A> {
    fn clone(&self) -> Self {
        Self::from_process(self.process)
    }
}

impl<A: Dispatch> PartialEq for ActorRef<A> {
    fn eq(&self, other: &Self) -> bool {
        self.process == other.process
    }
}

impl<A: Dispatch> Eq for ActorRef<A> {}

impl<A: Dispatch> fmt::Debug for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ActorRef<{}>{}",
            std::any::type_name::<A>(),
            self.process_id()
        )
    }
}

impl<A: Dispatch> Serialize for ActorRef<A> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.process.serialize(serializer)
    }
}

impl<'de, A: Dispatch> Deserialize<'de> for ActorRef<A> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Process::deserialize(deserializer).map(Self::from_process)
    }
}

/// Asks the actor in `process`, whatever its type, to stop: it runs `terminate(Shutdown)`
/// and ends normally.
pub fn stop(process: ProcessId) {
    Process::<Stop>::from_process_id(process).send(Stop);
}

/// Sends `message` to an actor's process without waiting.
pub fn cast<M: Sendable>(process: &Process<Envelope<M>>, message: M) {
    process.send(Envelope::Message(message));
}

/// Sends a call to an actor's process and waits up to `timeout` for the reply, watching the
/// actor so that its death ends the wait at once.
///
/// # Errors
/// [`CallError::CallingSelf`] at once if the caller is the actor; [`CallError::Refused`]
/// at once if the process is an actor of another type (or no actor); [`CallError::ActorDown`],
/// [`CallError::Timeout`], [`CallError::WrongReply`], [`CallError::BadReply`].
pub fn call<M: Sendable, T: Sendable, U: Sendable>(
    process: &Process<Envelope<M>>,
    wrap: impl FnOnce(Request<T, U>) -> M,
    data: T,
    timeout: Duration,
) -> Result<U, CallError> {
    if process.process_id() == process::this_id() {
        return Err(CallError::CallingSelf);
    }
    let (request, reply) = Request::watching(data, process);
    process.send_awaiting(Envelope::Message(wrap(request)), &reply);
    Ok(reply.wait_timeout(timeout)?)
}

/// What a new actor's process is given: its arguments, and where to report `init`.
type StartRequest<A> = Request<<A as crate::Actor>::Args, Result<(), String>>;

fn start<A: Dispatch>(
    node: Option<u64>,
    args: A::Args,
    link: bool,
) -> Result<ActorRef<A>, StartError> {
    let (request, reply) = StartRequest::<A>::new(args);
    let process = match node {
        None => process::spawn_with(request, run::<A>)?,
        Some(node) => lunatic_core::distributed::spawn_with(node, request, run::<A>)?,
    };
    if link {
        let _ = process.link();
    }
    match reply.monitor(&process).wait() {
        Ok(Ok(())) => Ok(ActorRef::from_process(process)),
        Ok(Err(why)) => Err(StartError::Init(why)),
        Err(ReceiveError::ProcessDown(down)) => Err(StartError::Died(down.reason().clone())),
        Err(other) => Err(StartError::BadReport(other.to_string())),
    }
}

/// The body of every actor's process: `init`, then serve until told to stop.
fn run<A: Dispatch>(start: StartRequest<A>, mailbox: Mailbox<Envelope<A::Message>>) {
    let (args, starter) = start.into_parts();
    let mailbox = mailbox.catch_link_panics();
    let mut ctx = Context::new(process::this_id());
    // Before `init`, so that a supervisor's `init` can say more.
    process::describe(&lunatic_core::Role {
        actor: std::any::type_name::<A>().to_owned(),
        supervisor: None,
    });
    let mut actor = match A::init(args, &mut ctx) {
        Ok(actor) => {
            starter.send(Ok(()));
            actor
        }
        Err(error) => {
            starter.send(Err(error.to_string()));
            return;
        }
    };
    // Messages of other types dropped so far.
    let mut mistyped: u64 = 0;
    loop {
        match mailbox.receive() {
            Message::Normal(Ok(Envelope::Message(message))) => actor.dispatch(message, &mut ctx),
            Message::Normal(Ok(Envelope::Info(bytes))) => {
                actor.handle_info(Info::Message(RawMessage(bytes)), &mut ctx)
            }
            Message::Normal(Err(ReceiveError::ProcessDown(down))) => {
                actor.handle_info(Info::Down(*down), &mut ctx)
            }
            Message::Normal(Err(ReceiveError::WrongType(why))) if why.found().is::<Stop>() => {
                ctx.stop(ExitReason::Shutdown)
            }
            Message::Normal(Err(ReceiveError::WrongType(why))) => {
                mistyped += 1;
                // 1, 2, 4, 8, ...: a flood of them cannot flood the log.
                if mistyped.is_power_of_two() {
                    log_mistyped::<A>(&why, mistyped);
                }
            }
            Message::Normal(Err(error)) => actor.handle_info(Info::Undecodable(error), &mut ctx),
            // Only the VM sends this (a link never fires on a shutdown): it is stopping the
            // trees main started (`lunatic` got SIGTERM), as an OTP parent's `shutdown` exit
            // stops a supervisor.
            Message::Signal(signal) if *signal.reason() == EndReason::Shutdown => {
                ctx.stop(ExitReason::Shutdown)
            }
            Message::Signal(signal) => actor.handle_info(Info::LinkDied(signal), &mut ctx),
        }
        if let Some(reason) = ctx.take_stop() {
            actor.terminate(&reason);
            process::exit(reason);
        }
    }
}

/// Messages of other types reached an actor, `count` so far: they are not served (a call
/// was refused by the receive already), only logged.
#[cold]
fn log_mistyped<A>(why: &WrongType, count: u64) {
    process::log(
        LogLevel::Warn,
        &format!(
            "actor {} did not serve a message of type `{}`: it takes `{}` ({count} such so far)",
            std::any::type_name::<A>(),
            why.found(),
            why.expected()
        ),
    );
}
