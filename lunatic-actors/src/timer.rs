//! Timers: a message sent later, or again and again, each run by a small process of its own
//! (so a timer costs no thread and dies with nothing else). Cancelling kills that process.

use std::time::Duration;

use lunatic_core::{process, LunaticError, Mailbox, Process, Sendable};

use crate::actor::Dispatch;
use crate::actor_ref::ActorRef;
use crate::envelope::Envelope;

/// A running timer. Dropping it does not cancel it; [`Timer::cancel`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a timer can only be cancelled through its handle"]
pub struct Timer {
    process: Process<()>,
}

impl Timer {
    /// Cancels the timer: the message is not sent (again). Cancelling a timer that already
    /// fired does nothing.
    pub fn cancel(&self) {
        self.process.kill();
    }

    /// Whether the timer may still fire.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.process.is_alive()
    }
}

/// Sends `message` to `target` after `delay`.
///
/// # Errors
/// The timer's process cannot be created.
pub fn send_after<M: Sendable>(
    target: Process<M>,
    message: M,
    delay: Duration,
) -> Result<Timer, LunaticError> {
    let process = process::spawn_with(
        (target, message, delay),
        |(target, message, delay), _: Mailbox<()>| {
            process::sleep(delay);
            target.send(message);
        },
    )?;
    Ok(Timer { process })
}

/// Sends `message` to `target` every `period` until cancelled or until `target` ends.
///
/// # Errors
/// The timer's process cannot be created.
pub fn interval<M: Sendable + Clone>(
    target: Process<M>,
    message: M,
    period: Duration,
) -> Result<Timer, LunaticError> {
    let process = process::spawn_with(
        (target, message, period),
        |(target, message, period), _: Mailbox<()>| loop {
            process::sleep(period);
            if !target.is_alive() {
                return;
            }
            target.send(message.clone());
        },
    )?;
    Ok(Timer { process })
}

/// Casts `message` to `actor` after `delay`.
///
/// # Errors
/// The timer's process cannot be created.
pub fn cast_after<A: Dispatch>(
    actor: &ActorRef<A>,
    message: A::Message,
    delay: Duration,
) -> Result<Timer, LunaticError> {
    send_after(actor.process(), Envelope::Message(message), delay)
}

/// Casts `message` to `actor` every `period` until cancelled or until the actor ends.
///
/// # Errors
/// The timer's process cannot be created.
pub fn cast_interval<A: Dispatch>(
    actor: &ActorRef<A>,
    message: A::Message,
    period: Duration,
) -> Result<Timer, LunaticError>
where
    A::Message: Clone,
{
    interval(actor.process(), Envelope::Message(message), period)
}
