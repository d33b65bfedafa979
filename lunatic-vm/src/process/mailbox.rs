//! A process's queue of messages and signals, with selective receive.

use std::collections::VecDeque;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::OnceLock;
use std::task::{Poll, Waker};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};

use super::{EndNotice, EndReason, ProcessId};
use crate::resource::MessageResources;

/// A message's bytes: small values (a number, a short request) are stored inline, so
/// sending one allocates nothing and the receiver's thread frees nothing that another
/// thread allocated.
pub type MessageBytes = smallvec::SmallVec<[u8; 32]>;

/// What a process sent: the guest's serialized value, and the resources (sockets) moved
/// into the message, which the bytes refer to by index.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MessageData {
    /// The serialized value.
    pub bytes: MessageBytes,
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
        /// Why it died.
        reason: EndNotice,
    },
    /// A monitored process ended (for any reason), delivered to the watcher.
    ProcessDown {
        /// The process that ended.
        process: ProcessId,
        /// Why it ended.
        reason: EndNotice,
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
    /// The bytes a guest reads: the data, or a notice's encoded [`EndReason`].
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        match &self.kind {
            MessageKind::Data(data) => &data.bytes,
            MessageKind::LinkDied { reason, .. } | MessageKind::ProcessDown { reason, .. } => {
                reason.bytes()
            }
        }
    }
}

#[derive(Debug, Default)]
struct Queue {
    messages: VecDeque<Message>,
    death: Option<EndReason>,
    closed: bool,
    /// Tags whose messages are dropped on arrival (a request the owner stopped waiting
    /// for), newest last, at most [`MAX_ABANDONED_TAGS`].
    abandoned: AbandonedTags,
    /// The owner's receive, when it found nothing and waits: the next push (or a kill)
    /// takes and wakes it, so a stream of messages to a busy receiver costs no wake-up.
    receiver: Option<Waker>,
}

/// Most abandoned tags a mailbox remembers; the oldest is forgotten first (a reply that
/// late is then queued after all, as any unexpected message is).
pub(crate) const MAX_ABANDONED_TAGS: usize = 1024;

/// The tags a mailbox drops messages of, in the order they were abandoned. Guests choose
/// tags (a reply's, or any passed to `abandon_tag`), so the set keeps `std`'s keyed hash, not
/// an `IdMap`'s; it is only hashed once something was abandoned.
#[derive(Debug, Default)]
struct AbandonedTags {
    tags: std::collections::HashSet<i64>,
    order: VecDeque<i64>,
}

impl AbandonedTags {
    fn insert(&mut self, tag: i64) {
        if self.tags.insert(tag) {
            self.order.push_back(tag);
            if self.order.len() > MAX_ABANDONED_TAGS {
                if let Some(oldest) = self.order.pop_front() {
                    self.tags.remove(&oldest);
                }
            }
        }
    }

    fn contains(&self, tag: i64) -> bool {
        !self.tags.is_empty() && self.tags.contains(&tag)
    }
}

/// The shared side of one process's mailbox: what senders push into.
///
/// Only the owning process receives (through its [`Inbox`]); anyone may push. A pending
/// death (a kill, or a link death the owner does not trap) wakes the owner, which then
/// ends with that reason.
///
/// Pushes land in `queue`; the owner moves them to its `Inbox` a batch at a time (a swap
/// of the two buffers when the inbox is empty) and receives from there. So the lock
/// senders share is taken by the owner once per batch, not once per message: with senders
/// on another core, the per-message lock hand-off between cores was most of the cost of
/// many-to-one traffic.
#[derive(Debug, Default)]
#[repr(C)]
pub struct Mailbox {
    /// Whether `queue.receiver` holds the owner's waker, readable without the lock. First,
    /// so it shares a cache line with the lock a send takes anyway.
    receiver_waiting: AtomicBool,
    /// Whether `queue` may hold a message: set by every push under the queue's lock,
    /// cleared by the owner when it finds or leaves the queue empty (under the lock). A
    /// `try_receive` on an empty mailbox, which every plain receive that waits starts with,
    /// so takes no lock.
    maybe_queued: AtomicBool,
    queue: Mutex<Queue>,
    death_pending: AtomicBool,
    /// The owner's task waker, so a kill wakes a host call that waits on something other
    /// than this mailbox (a socket, a timer). Set once, by the first call that waits: a
    /// process's task has one waker for its whole life.
    kill_waker: OnceLock<Waker>,
}

/// The owner's side of its mailbox: messages moved out of the shared queue, older than any
/// still there. Kept in the process's own state, so taking one takes no lock.
#[derive(Debug, Default)]
pub struct Inbox {
    taken: VecDeque<Message>,
}

impl Mailbox {
    // A panic while a lock is held cannot leave a queue half-changed (every critical
    // section is a single push, remove or take), so the locks need no poisoning.
    #[inline]
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock()
    }

    /// Queues a message and wakes the owner; a closed mailbox (dead owner) drops it.
    pub fn push(&self, message: Message) {
        self.push_all(std::iter::once(message));
    }

    /// Queues `messages` in order under one lock, leaving `messages` empty (the batch a
    /// sender's outbox delivers).
    pub fn push_batch(&self, messages: &mut Vec<Message>) {
        self.push_all(messages.drain(..));
    }

    fn push_all(&self, messages: impl Iterator<Item = Message>) {
        let mut queue = self.queue();
        if queue.closed {
            drop(queue);
            messages.for_each(drop);
            return;
        }
        for message in messages {
            if !queue.abandoned.contains(message.tag) {
                queue.messages.push_back(message);
            }
        }
        self.maybe_queued.store(true, Ordering::Release);
        let receiver = queue.receiver.take();
        self.receiver_waiting.store(false, Ordering::Relaxed);
        drop(queue);
        if let Some(receiver) = receiver {
            receiver.wake();
        }
    }

    /// Whether the owner waits in a receive (a hint: a sender delivers at once to a waiting
    /// owner, and batches messages to a busy one).
    pub fn has_waiting_receiver(&self) -> bool {
        self.receiver_waiting.load(Ordering::Relaxed)
    }

    /// Asks the owner to die with `reason`; the first reason given wins.
    pub fn kill(&self, reason: EndReason) {
        let mut queue = self.queue();
        if queue.closed || queue.death.is_some() {
            return;
        }
        queue.death = Some(reason);
        self.death_pending.store(true, Ordering::Release);
        let receiver = queue.receiver.take();
        self.receiver_waiting.store(false, Ordering::Relaxed);
        drop(queue);
        if let Some(receiver) = receiver {
            receiver.wake();
        }
        // Pairs with the fence in `watch_for_kill`: either that call sees the death, or
        // this one sees its waker.
        fence(Ordering::SeqCst);
        if let Some(waker) = self.kill_waker.get() {
            waker.wake_by_ref();
        }
    }

    /// Makes a kill from now on wake `waker`, the owner's task waker (see `kill_waker`).
    /// Returns whether the owner has been told to die, so that a kill racing with the first
    /// call to this is not missed.
    #[inline]
    pub fn watch_for_kill(&self, waker: &Waker) -> bool {
        match self.kill_waker.get() {
            Some(known) => debug_assert!(known.will_wake(waker), "a process's waker changed"),
            None => {
                let _ = self.kill_waker.set(waker.clone());
                fence(Ordering::SeqCst);
            }
        }
        self.is_death_pending()
    }

    /// Whether the owner has been asked to die (cheap; checked at every preemption point).
    #[inline]
    pub fn is_death_pending(&self) -> bool {
        self.death_pending.load(Ordering::Acquire)
    }

    /// The reason the owner must die with, if it must.
    #[inline]
    pub fn pending_death(&self) -> Option<EndReason> {
        if !self.is_death_pending() {
            return None;
        }
        self.death_reason()
    }

    #[cold]
    fn death_reason(&self) -> Option<EndReason> {
        self.queue().death.clone()
    }

    /// Drops every queued message and refuses new ones (the owner died; what its inbox
    /// holds goes with its state).
    pub fn close(&self) {
        let mut queue = self.queue();
        queue.closed = true;
        queue.messages = VecDeque::new();
        self.maybe_queued.store(false, Ordering::Relaxed);
    }
}

impl Inbox {
    /// The first queued link-death signal: who died, and why.
    pub fn has_signal(&self, mailbox: &Mailbox) -> Option<(ProcessId, EndNotice)> {
        let queue = mailbox.queue();
        self.taken
            .iter()
            .chain(&queue.messages)
            .find_map(|m| match &m.kind {
                MessageKind::LinkDied { process, reason } => Some((*process, reason.clone())),
                MessageKind::Data(_) | MessageKind::ProcessDown { .. } => None,
            })
    }

    /// Drops every queued message with `tag`, and every one that arrives later (Erlang's
    /// alias deactivation: the reply to a request that timed out never shows up; and a
    /// demonitor's flush: a down notice the ended process was pushing meanwhile never
    /// shows up either).
    pub fn abandon(&mut self, mailbox: &Mailbox, tag: i64) {
        self.taken.retain(|m| m.tag != tag);
        let mut queue = mailbox.queue();
        queue.messages.retain(|m| m.tag != tag);
        queue.abandoned.insert(tag);
    }

    /// How many messages wait.
    pub fn len(&self, mailbox: &Mailbox) -> usize {
        self.taken.len() + mailbox.queue().messages.len()
    }

    /// Whether no message waits.
    pub fn is_empty(&self, mailbox: &Mailbox) -> bool {
        self.len(mailbox) == 0
    }

    /// Whether the owner has nothing to receive and has not been asked to die, seen
    /// without a lock (a push racing with it may be missed, as if it came a moment later).
    #[inline]
    pub fn is_surely_empty(&self, mailbox: &Mailbox) -> bool {
        self.taken.is_empty()
            && !mailbox.maybe_queued.load(Ordering::Acquire)
            && !mailbox.is_death_pending()
    }

    /// Takes the first queued message whose tag is in `tags` (any message when `tags` is
    /// empty), without waiting.
    ///
    /// # Errors
    /// Returns the death reason if the owner has been asked to die.
    pub fn try_receive(
        &mut self,
        mailbox: &Mailbox,
        tags: &[i64],
    ) -> Result<Option<Message>, EndReason> {
        self.take(mailbox, tags, None)
    }

    /// Takes a matching message; when there is none, leaves `waker` for the next push (or
    /// kill), so that a push between this scan and the owner's wait is never missed.
    ///
    /// # Errors
    /// Returns the death reason if the owner has been asked to die.
    pub fn take(
        &mut self,
        mailbox: &Mailbox,
        tags: &[i64],
        waker: Option<&Waker>,
    ) -> Result<Option<Message>, EndReason> {
        if let Some(reason) = mailbox.pending_death() {
            return Err(reason);
        }
        let mut searched = 0;
        loop {
            if let Some(message) = take_first(&mut self.taken, searched, tags) {
                return Ok(Some(message));
            }
            searched = self.taken.len();
            if waker.is_none() && !mailbox.maybe_queued.load(Ordering::Acquire) {
                return Ok(None);
            }
            let mut queue = mailbox.queue();
            if let Some(reason) = &queue.death {
                return Err(reason.clone());
            }
            // The queue is empty now, or after the move below, and stays so while its
            // lock is held.
            mailbox.maybe_queued.store(false, Ordering::Relaxed);
            if queue.messages.is_empty() {
                if let Some(waker) = waker {
                    match &mut queue.receiver {
                        Some(stored) if stored.will_wake(waker) => {}
                        stored => *stored = Some(waker.clone()),
                    }
                    mailbox.receiver_waiting.store(true, Ordering::Relaxed);
                }
                return Ok(None);
            }
            if self.taken.is_empty() {
                // The buffers trade places, so both keep their capacity.
                std::mem::swap(&mut self.taken, &mut queue.messages);
            } else {
                self.taken.append(&mut queue.messages);
            }
        }
    }

    /// Takes the first message whose tag is in `tags` (any message when `tags` is empty),
    /// waiting up to `timeout` (`None`: forever) for one to arrive. Sets `waited` if there
    /// was none at first (the owner's next receive will likely wait too).
    ///
    /// # Errors
    /// Returns the death reason as soon as the owner is asked to die.
    pub async fn receive(
        &mut self,
        mailbox: &Mailbox,
        tags: &[i64],
        timeout: Option<Duration>,
        waited: &mut bool,
    ) -> Result<Option<Message>, EndReason> {
        // Each poll scans the queue and, finding nothing, leaves its waker under the lock
        // a push takes: a push between the scan and the wait is never missed.
        let wait = std::future::poll_fn(|cx| match self.take(mailbox, tags, Some(cx.waker())) {
            Ok(None) => {
                *waited = true;
                Poll::Pending
            }
            done => Poll::Ready(done),
        });
        match timeout {
            None => wait.await,
            Some(timeout) => tokio::time::timeout(timeout, wait)
                .await
                .unwrap_or(Ok(None)),
        }
    }
}

/// Removes the first message at or after `from` whose tag is in `tags` (any, when `tags` is
/// empty).
#[inline(always)]
fn take_first(messages: &mut VecDeque<Message>, from: usize, tags: &[i64]) -> Option<Message> {
    let index = if tags.is_empty() {
        from
    } else {
        from + messages.range(from..).position(|m| tags.contains(&m.tag))?
    };
    if index == 0 {
        messages.pop_front()
    } else {
        messages.remove(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(tag: i64, byte: u8) -> Message {
        Message {
            tag,
            kind: MessageKind::Data(MessageData {
                bytes: MessageBytes::from_slice(&[byte]),
                resources: MessageResources::default(),
            }),
        }
    }

    #[tokio::test]
    async fn selective_receive_skips_other_tags() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        mailbox.push(data(1, 1));
        mailbox.push(data(2, 2));
        let mut waited = false;
        let got = inbox
            .receive(&mailbox, &[2], None, &mut waited)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, data(2, 2));
        assert!(!waited, "a queued message is taken without waiting");
        assert_eq!(
            inbox
                .receive(&mailbox, &[], None, &mut false)
                .await
                .unwrap()
                .unwrap(),
            data(1, 1)
        );
    }

    #[tokio::test]
    async fn receive_times_out_and_kill_wakes() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        let mut waited = false;
        let got = inbox
            .receive(&mailbox, &[], Some(Duration::from_millis(5)), &mut waited)
            .await;
        assert_eq!(got, Ok(None));
        assert!(waited);
        mailbox.kill(EndReason::Killed);
        assert_eq!(
            inbox.receive(&mailbox, &[], None, &mut false).await,
            Err(EndReason::Killed)
        );
    }

    #[tokio::test]
    async fn abandoned_tags_drop_queued_and_late_messages() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        mailbox.push(data(7, 1));
        mailbox.push(data(8, 2));
        inbox.abandon(&mailbox, 7);
        mailbox.push(data(7, 3));
        assert_eq!(inbox.len(&mailbox), 1);
        for tag in 100..100 + MAX_ABANDONED_TAGS as i64 {
            inbox.abandon(&mailbox, tag);
        }
        // The oldest abandoned tag is forgotten once the list is full.
        mailbox.push(data(7, 4));
        assert_eq!(inbox.len(&mailbox), 2);
    }

    #[tokio::test]
    async fn messages_keep_their_order_across_batches() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        mailbox.push(data(1, 1));
        mailbox.push(data(2, 2));
        mailbox.push(data(3, 3));
        // Moves all three out of the shared queue, leaving 1 and 3 behind.
        assert_eq!(inbox.try_receive(&mailbox, &[2]).unwrap(), Some(data(2, 2)));
        mailbox.push(data(1, 4));
        inbox.abandon(&mailbox, 3);
        assert_eq!(inbox.len(&mailbox), 2);
        assert_eq!(inbox.try_receive(&mailbox, &[]).unwrap(), Some(data(1, 1)));
        assert_eq!(inbox.try_receive(&mailbox, &[1]).unwrap(), Some(data(1, 4)));
        assert_eq!(inbox.try_receive(&mailbox, &[]).unwrap(), None);
        // A kill wins over queued messages.
        mailbox.push(data(5, 5));
        mailbox.kill(EndReason::Killed);
        assert_eq!(inbox.try_receive(&mailbox, &[]), Err(EndReason::Killed));
    }

    #[tokio::test]
    async fn a_push_wakes_a_waiting_owner() {
        let mailbox = std::sync::Arc::new(Mailbox::default());
        let waiting = tokio::spawn({
            let mailbox = std::sync::Arc::clone(&mailbox);
            async move {
                let mut inbox = Inbox::default();
                let got = inbox.receive(&mailbox, &[9], None, &mut false).await;
                (got, inbox)
            }
        });
        tokio::task::yield_now().await;
        mailbox.push(data(8, 1));
        mailbox.push(data(9, 2));
        let (got, mut inbox) = waiting.await.unwrap();
        assert_eq!(got, Ok(Some(data(9, 2))));
        assert_eq!(inbox.try_receive(&mailbox, &[]).unwrap(), Some(data(8, 1)));
    }

    #[test]
    fn a_drained_mailbox_sees_the_next_push() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        assert_eq!(inbox.try_receive(&mailbox, &[]).unwrap(), None);
        mailbox.push(data(1, 1));
        assert_eq!(inbox.try_receive(&mailbox, &[]).unwrap(), Some(data(1, 1)));
        // Emptied by that take: the next look takes no lock, and must still see a push.
        assert_eq!(inbox.try_receive(&mailbox, &[]).unwrap(), None);
        mailbox.push(data(2, 2));
        mailbox.push(data(3, 3));
        assert_eq!(inbox.try_receive(&mailbox, &[3]).unwrap(), Some(data(3, 3)));
        assert_eq!(inbox.try_receive(&mailbox, &[]).unwrap(), Some(data(2, 2)));
        assert_eq!(inbox.try_receive(&mailbox, &[]).unwrap(), None);
        mailbox.push(data(4, 4));
        assert_eq!(inbox.try_receive(&mailbox, &[]).unwrap(), Some(data(4, 4)));
    }

    #[tokio::test]
    async fn closed_mailbox_drops_messages() {
        let (mailbox, inbox) = (Mailbox::default(), Inbox::default());
        mailbox.close();
        mailbox.push(data(1, 1));
        assert!(inbox.is_empty(&mailbox));
    }
}
