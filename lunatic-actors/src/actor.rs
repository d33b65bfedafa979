//! The `Actor` behaviour (Erlang's gen_server) and what its callbacks are given.

use std::marker::PhantomData;

use lunatic_core::{
    Down, ExitReason, MessageType, ProcessId, ReceiveError, Sendable, Signal, TypedBytes,
};

use crate::actor_ref::{ActorProcess, ActorRef};

/// Any error, for `init`: `?` works on every error type and on strings (`.into()`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An actor: state that lives in its own process and serves messages one at a time.
///
/// Write `init` (and, if needed, `handle_info` and `terminate`); the message handling comes
/// from `#[lunatic::actor]` on an `impl` block, which implements [`Dispatch`].
pub trait Actor: Sized {
    /// What [`Actor::init`] is given. It travels to the new process, so it is serialized.
    type Args: Sendable;

    /// Builds the state, in the actor's own process. An error stops the actor before it
    /// serves anything, and the starter gets [`StartError::Init`](crate::StartError::Init).
    ///
    /// # Errors
    /// Whatever stops the actor from starting.
    fn init(args: Self::Args, ctx: &mut Context<Self>) -> Result<Self, BoxError>;

    /// Link signals, down notices of monitored processes, raw info messages and messages
    /// that could not be read. The default stops the actor when a linked process dies (as a
    /// gen_server that traps exits would) and ignores the rest.
    fn handle_info(&mut self, info: Info, ctx: &mut Context<Self>) {
        if let Info::LinkDied(signal) = info {
            ctx.stop(ExitReason::Error(format!(
                "linked process {} died: {}",
                signal.id(),
                signal.reason()
            )));
        }
    }

    /// Called once when the actor stops for a [`ExitReason`] (not when it panics: a panic ends
    /// the process at once).
    fn terminate(&mut self, reason: &ExitReason) {
        let _ = reason;
    }
}

/// The message handling of an actor: implemented by `#[lunatic::actor]`, which generates the
/// message enum, this dispatch and the typed client.
pub trait Dispatch: Actor {
    /// Every message the actor serves (calls carry their `Request`).
    type Message: Sendable;
    /// The typed client an [`ActorRef`] dereferences to (`counter.increment()`).
    type Client: From<ActorProcess<Self>>;

    /// Serves one message.
    fn dispatch(&mut self, message: Self::Message, ctx: &mut Context<Self>);
}

/// What [`Actor::handle_info`] receives.
#[derive(Debug)]
pub enum Info {
    /// A linked process died abnormally.
    LinkDied(Signal),
    /// A monitored process ended.
    Down(Down),
    /// A raw message sent with [`ActorRef::info`].
    Message(RawMessage),
    /// A message of the actor's type whose bytes could not be read, or a stray refusal of
    /// a request (a message of another type is never handed
    /// to the actor: it is refused or dropped, and logged).
    Undecodable(ReceiveError),
}

/// A raw info message: a value with its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage(pub(crate) TypedBytes);

impl RawMessage {
    /// Reads the message as a `T`.
    ///
    /// # Errors
    /// [`ReceiveError::WrongType`] if it is not a `T` (both types named), or
    /// [`ReceiveError::DeserializationFailed`].
    pub fn decode<T: Sendable>(&self) -> Result<T, ReceiveError> {
        self.0.decode()
    }

    /// The type it was sent as.
    #[must_use]
    pub fn message_type(&self) -> Option<MessageType> {
        self.0.message_type()
    }
}

/// What a callback may do besides changing the state: know itself, stop.
#[derive(Debug)]
pub struct Context<A> {
    process: ProcessId,
    stop: Option<ExitReason>,
    _actor: PhantomData<fn() -> A>,
}

impl<A> Context<A> {
    pub(crate) fn new(process: ProcessId) -> Self {
        Self {
            process,
            stop: None,
            _actor: PhantomData,
        }
    }

    /// Stops the actor once the current callback returns.
    pub fn stop(&mut self, reason: ExitReason) {
        self.stop = Some(reason);
    }

    /// The reason the actor is to stop, if it is.
    pub(crate) fn take_stop(&mut self) -> Option<ExitReason> {
        self.stop.take()
    }

    /// The actor's process.
    #[must_use]
    pub fn process_id(&self) -> ProcessId {
        self.process
    }
}

impl<A: Dispatch> Context<A> {
    /// A reference to this actor.
    #[must_use]
    pub fn this(&self) -> ActorRef<A> {
        ActorRef::from_process(lunatic_core::Process::from_process_id(self.process))
    }
}
