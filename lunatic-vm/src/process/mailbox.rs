//! A process's queue of messages and signals, with selective receive.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use super::{DeathReason, ProcessId};
use crate::resource::MessageResources;

/// What a process sent: the guest's serialized value, and the resources (sockets) moved
/// into the message, which the bytes refer to by index.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MessageData {
    /// The serialized value.
    pub bytes: Vec<u8>,
    /// Resources travelling with it; those the receiver does not take are dropped with it.
    pub resources: MessageResources,
}

/// What a message carries.
#[derive(Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// Data a process sent.
    Data(MessageData),
    /// A linked process died abnormally, delivered to a process that traps link deaths.
    LinkDied {
        /// The process that died.
        process: ProcessId,
        /// Why it died, as text.
        reason: String,
    },
    /// A monitored process ended (for any reason), delivered to the watcher.
    ProcessDown {
        /// The process that ended.
        process: ProcessId,
        /// Why it ended, as text.
        reason: String,
    },
}

/// One entry of a mailbox.
#[derive(Debug, PartialEq, Eq)]
pub struct Message {
    /// The tag selective receive matches on (the link's tag for a signal).
    pub tag: i64,
    /// The payload.
    pub kind: MessageKind,
}

impl Message {
    /// The bytes a guest reads: the data, or a signal's reason as UTF-8 text.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        match &self.kind {
            MessageKind::Data(data) => &data.bytes,
            MessageKind::LinkDied { reason, .. } | MessageKind::ProcessDown { reason, .. } => {
                reason.as_bytes()
            }
        }
    }
}

/// Messages pushed by other processes and not yet seen by the owner, and the owner's
/// fate. Senders take this lock once per message; the owner once per batch.
#[derive(Debug, Default)]
struct Inbox {
    messages: Vec<Message>,
    death: Option<DeathReason>,
    closed: bool,
}

/// The mailbox of one process.
///
/// Only the owning process receives; anyone may push. A pending death (a kill, or a link
/// death the owner does not trap) wakes the owner, which then ends with that reason.
///
/// Two queues keep senders and the receiver off each other's cache lines: senders append
/// to the `inbox`; the owner moves the whole inbox into its own `queue` when it has nothing
/// matching left, and scans only that. Senders wake the owner only when it waits.
#[derive(Debug, Default)]
pub struct Mailbox {
    inbox: Mutex<Inbox>,
    /// Messages the owner has taken from the inbox, oldest first. Only the owner (and its
    /// death) touches it, so its lock is never contended.
    queue: Mutex<VecDeque<Message>>,
    notify: Notify,
    /// The owner is about to wait, or waits: a push must wake it.
    waiting: AtomicBool,
    death_pending: AtomicBool,
}

/// Locks `mutex`, ignoring poisoning: every critical section here is a single push, swap,
/// remove or take, so a panic cannot leave the data half-changed.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Mailbox {
    /// Queues a message and wakes the owner if it waits; a closed mailbox (dead owner)
    /// drops it. Returns whether the owner was woken.
    pub fn push(&self, message: Message) -> bool {
        let mut inbox = lock(&self.inbox);
        if inbox.closed {
            return false;
        }
        inbox.messages.push(message);
        drop(inbox);
        // Pairs with `receive`: it sets `waiting` before its last look at the inbox, so
        // either it sees this message or this sees `waiting` (and `notify_one` leaves a
        // permit if it has not started to wait yet).
        let woke = self.waiting.swap(false, Ordering::SeqCst);
        if woke {
            self.notify.notify_one();
        }
        woke
    }

    /// Asks the owner to die with `reason`; the first reason given wins.
    pub fn kill(&self, reason: DeathReason) {
        let mut inbox = lock(&self.inbox);
        if inbox.closed || inbox.death.is_some() {
            return;
        }
        inbox.death = Some(reason);
        self.death_pending.store(true, Ordering::Release);
        drop(inbox);
        self.notify.notify_one();
    }

    /// Whether the owner has been asked to die (cheap; checked at every preemption point).
    pub fn is_death_pending(&self) -> bool {
        self.death_pending.load(Ordering::Acquire)
    }

    /// The reason the owner must die with, if it must.
    pub fn pending_death(&self) -> Option<DeathReason> {
        if !self.is_death_pending() {
            return None;
        }
        lock(&self.inbox).death.clone()
    }

    /// Moves everything in the inbox to the owner's queue; returns how many messages came.
    fn take_inbox(&self, queue: &mut VecDeque<Message>) -> usize {
        let mut inbox = lock(&self.inbox);
        let count = inbox.messages.len();
        queue.extend(inbox.messages.drain(..));
        count
    }

    /// Whether a link-death signal is queued.
    pub fn has_signal(&self) -> Option<ProcessId> {
        let mut queue = lock(&self.queue);
        self.take_inbox(&mut queue);
        queue.iter().find_map(|m| match m.kind {
            MessageKind::LinkDied { process, .. } => Some(process),
            MessageKind::Data(_) | MessageKind::ProcessDown { .. } => None,
        })
    }

    /// Drops a queued down notice with `tag` (a demonitor that also flushes).
    pub fn remove_down(&self, tag: i64) {
        let mut queue = lock(&self.queue);
        self.take_inbox(&mut queue);
        queue.retain(|m| !(m.tag == tag && matches!(m.kind, MessageKind::ProcessDown { .. })));
    }

    /// Drops every queued message and refuses new ones (the owner died).
    pub fn close(&self) {
        let mut inbox = lock(&self.inbox);
        inbox.closed = true;
        inbox.messages = Vec::new();
        drop(inbox);
        *lock(&self.queue) = VecDeque::new();
    }

    /// How many messages wait.
    pub fn len(&self) -> usize {
        lock(&self.queue).len() + lock(&self.inbox).messages.len()
    }

    /// Whether no message waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the first message whose tag is in `tags` (any message when `tags` is empty),
    /// waiting up to `timeout` (`None`: forever) for one to arrive.
    ///
    /// # Errors
    /// Returns the death reason as soon as the owner is asked to die.
    pub async fn receive(
        &self,
        tags: &[i64],
        timeout: Option<Duration>,
    ) -> Result<Option<Message>, DeathReason> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let matches = |message: &Message| tags.is_empty() || tags.contains(&message.tag);
        loop {
            {
                if let Some(reason) = self.pending_death() {
                    return Err(reason);
                }
                let mut queue = lock(&self.queue);
                // Messages already taken from the inbox first, then the new ones.
                let mut scanned = 0;
                loop {
                    if let Some(at) = queue.range(scanned..).position(matches) {
                        return Ok(queue.remove(scanned + at));
                    }
                    scanned = queue.len();
                    self.waiting.store(true, Ordering::SeqCst);
                    if self.take_inbox(&mut queue) == 0 {
                        break;
                    }
                    self.waiting.store(false, Ordering::Relaxed);
                }
                // A kill between the check above and `waiting` has notified already.
                if self.is_death_pending() {
                    continue;
                }
            }
            match deadline {
                None => self.notify.notified().await,
                Some(deadline) => {
                    if tokio::time::timeout_at(deadline, self.notify.notified())
                        .await
                        .is_err()
                    {
                        self.waiting.store(false, Ordering::Relaxed);
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Waits until the owner is asked to die, and returns the reason: for host calls that
    /// wait on something else (a socket) yet must end at once when the process is killed.
    /// A message pushed meanwhile only wakes it to look again (the next receive scans the
    /// queue anyway).
    pub async fn wait_for_death(&self) -> DeathReason {
        loop {
            if let Some(reason) = self.pending_death() {
                return reason;
            }
            self.notify.notified().await;
        }
    }

    /// Waits until `duration` has passed or the owner is asked to die.
    ///
    /// # Errors
    /// Returns the death reason if the owner is asked to die first.
    pub async fn sleep(&self, duration: Duration) -> Result<(), DeathReason> {
        let deadline = tokio::time::Instant::now() + duration;
        loop {
            if let Some(reason) = self.pending_death() {
                return Err(reason);
            }
            if tokio::time::timeout_at(deadline, self.notify.notified())
                .await
                .is_err()
            {
                return Ok(());
            }
            // Woken by a kill, or by a permit a push left behind.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(tag: i64, byte: u8) -> Message {
        Message {
            tag,
            kind: MessageKind::Data(MessageData {
                bytes: vec![byte],
                resources: MessageResources::default(),
            }),
        }
    }

    #[tokio::test]
    async fn selective_receive_skips_other_tags() {
        let mailbox = Mailbox::default();
        mailbox.push(data(1, 1));
        mailbox.push(data(2, 2));
        let got = mailbox.receive(&[2], None).await.unwrap().unwrap();
        assert_eq!(got, data(2, 2));
        assert_eq!(
            mailbox.receive(&[], None).await.unwrap().unwrap(),
            data(1, 1)
        );
    }

    #[tokio::test]
    async fn receive_times_out_and_kill_wakes() {
        let mailbox = Mailbox::default();
        let got = mailbox.receive(&[], Some(Duration::from_millis(5))).await;
        assert_eq!(got, Ok(None));
        mailbox.kill(DeathReason::Killed);
        assert_eq!(mailbox.receive(&[], None).await, Err(DeathReason::Killed));
    }

    #[tokio::test]
    async fn closed_mailbox_drops_messages() {
        let mailbox = Mailbox::default();
        mailbox.close();
        mailbox.push(data(1, 1));
        assert!(mailbox.is_empty());
    }
}
