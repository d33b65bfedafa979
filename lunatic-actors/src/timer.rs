//! Timers: a message sent later, or again and again, each run by a small process of its own
//! (so a timer costs no thread and dies with nothing else). Cancelling kills that process.

use std::time::Duration;

use lunatic_core::{process, EndReason, LunaticError, Mailbox, Process, Sendable};

use crate::actor::Dispatch;
use crate::actor_ref::ActorRef;
use crate::envelope::Envelope;

/// A running timer. Dropping it does not cancel it; [`Timer::cancel`] does.
/// (An interval timer ends by itself when its target does.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a timer can only be cancelled through its handle"]
pub struct Timer {
    process: Process<()>,
}

impl Timer {
    /// Cancels the timer and waits until its process is gone, so the message cannot arrive
    /// later. Returns `true` if the timer was stopped before it fired, `false` if it had
    /// already fired (or was already cancelled).
    #[allow(clippy::must_use_candidate)]
    pub fn cancel(&self) -> bool {
        let monitor = self.process.monitor();
        self.process.kill();
        match self.process.wait_down(monitor, None) {
            Ok(down) => *down.reason() == EndReason::Killed,
            Err(_) => false,
        }
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

/// Sends `message` to `target` every `period` until cancelled or until `target` ends. The
/// timer keeps the message encoded and sends a fresh copy each time, so `M` need not be
/// `Clone`.
///
/// # Errors
/// The timer's process cannot be created.
///
/// # Panics
/// If `M`'s `Serialize` implementation fails.
pub fn interval<M: Sendable>(
    target: Process<M>,
    message: M,
    period: Duration,
) -> Result<Timer, LunaticError> {
    let encoded = match bincode::serialize(&message) {
        Ok(bytes) => bytes,
        Err(error) => panic!("cannot serialize the timer's message: {error}"),
    };
    let process = process::spawn_with((target, encoded, period), repeat::<M>)?;
    Ok(Timer { process })
}

/// The body of an interval timer.
fn repeat<M: Sendable>((target, encoded, period): (Process<M>, Vec<u8>, Duration), _: Mailbox<()>) {
    loop {
        process::sleep(period);
        if !target.is_alive() {
            return;
        }
        match bincode::deserialize::<M>(&encoded) {
            Ok(message) => target.send(message),
            Err(error) => panic!("the timer's message does not decode: {error}"),
        }
    }
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
/// # Panics
/// If the message's `Serialize` implementation fails.
///
/// # Errors
/// The timer's process cannot be created.
pub fn cast_interval<A: Dispatch>(
    actor: &ActorRef<A>,
    message: A::Message,
    period: Duration,
) -> Result<Timer, LunaticError> {
    interval(actor.process(), Envelope::Message(message), period)
}
