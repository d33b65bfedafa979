//! Typed actors for lunatic, the way Erlang/OTP has them: GenServer-style actors, supervisors
//! and supervision trees, names and timers. Built only on `lunatic-core`'s public API: every
//! actor is a process, every message a serialized value.
//!
//! ```ignore
//! use lunatic::actors::{Actor, ActorRef, BoxError, Context};
//!
//! struct Counter { count: u64 }
//!
//! impl Actor for Counter {
//!     type Args = u64;
//!     fn init(start: u64, _: &mut Context<Self>) -> Result<Self, BoxError> {
//!         Ok(Counter { count: start })
//!     }
//! }
//!
//! #[lunatic::actor]
//! impl Counter {
//!     pub fn increment(&mut self) { self.count += 1 }       // no result: a cast
//!     pub fn get(&self) -> u64 { self.count }               // a result: a call
//! }
//!
//! let counter = ActorRef::<Counter>::start(0)?;
//! counter.increment();
//! assert_eq!(counter.get()?, 1);
//! ```
//!
//! | item | what it is | Erlang/OTP |
//! |---|---|---|
//! | [`Actor`] | `init`, `handle_info`, `terminate` | `gen_server` callbacks |
//! | `#[lunatic::actor]` | an `impl` block's methods become messages, [`Dispatch`] and a typed client | `handle_call`, `handle_cast` |
//! | [`ActorRef`] | typed handle: client methods, `call`, `cast`, `link`, `kill`, `stop`, `is_alive` | a pid |
//! | [`Supervisor`], [`SupervisorRef`] | children, strategies, restart types, intensity | `supervisor` |
//! | [`ActorRef::register`], [`ActorRef::lookup`] | typed names | `register`, `whereis` |
//! | [`timer`] | `send_after`, `interval`, `cast_after`, cancellable | `erlang:send_after`, `timer:send_interval` |
//!
//! Calls wait [`DEFAULT_CALL_TIMEOUT`] (5 s) unless given another timeout, and watch the
//! actor: a call to an actor that is dead, or dies before replying, returns
//! [`CallError::ActorDown`] at once. A cast to a dead actor is dropped.
//!
//! Every message carries its type. A call through a handle of the wrong type (an
//! `ActorRef<A>` built for a process that is not an `A`) is refused by the receiving
//! process at once ([`CallError::Refused`], naming both types); any other message of the
//! wrong type is logged and dropped; neither runs a handler. [`Stop`] stops an actor of
//! any type.
//!
//! # Supervision
//!
//! | strategy | when a child must be restarted |
//! |---|---|
//! | [`Strategy::OneForOne`] | only that child is restarted |
//! | [`Strategy::OneForAll`] | all other children are stopped (reverse order), then all start again (in order) |
//! | [`Strategy::RestForOne`] | the children started after it are stopped, then it and they start again |
//!
//! | restart type | restarted after |
//! |---|---|
//! | [`Restart::Permanent`] | any end, a normal one too |
//! | [`Restart::Transient`] | an abnormal end only |
//! | [`Restart::Temporary`] | never |
//!
//! More than `max_restarts` restarts within `period` ([`SupervisorConfig::intensity`]) and
//! the supervisor stops its children and fails, so its own supervisor decides: failures
//! climb the tree as in OTP.

mod actor;
mod actor_ref;
mod envelope;
mod supervisor;
pub mod timer;

pub use actor::{Actor, BoxError, Context, Dispatch, Info, RawMessage};
pub use actor_ref::{
    call, cast, stop, ActorProcess, ActorRef, CallError, StartError, DEFAULT_CALL_TIMEOUT,
};
pub use envelope::{Envelope, Stop};
pub use lunatic_core::{EndReason, ExitReason};
pub use supervisor::{
    ActorType, ChildError, ChildInfo, ChildSpec, Restart, StartChildError, Strategy, Supervisor,
    SupervisorArgs, SupervisorClient, SupervisorConfig, SupervisorMessage, SupervisorRef,
    SupervisorServer,
};
