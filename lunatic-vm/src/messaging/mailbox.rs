//! A process's queue of messages and signals, with selective receive.

// The unsafe items: the handoff slot's accesses and `Mailbox`'s `Sync`, argued by the
// handoff's invariants (see `Mailbox`).
#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::task::Waker;

// The observer's counters (`Taken`, `Recent`) are plain std atomics even in the loom model:
// only the owner writes them, and nothing synchronizes through them.
use std::sync::atomic::{AtomicBool as StdAtomicBool, AtomicU64, Ordering::Relaxed};

use super::sync::{AtomicBool, Mutex, MutexGuard, Ordering, UnsafeCell};
use crate::process::{EncodedReason, EndReason, ProcessId};
use crate::resources::MessageResources;
use crate::sandbox::budget::Held;

/// A message's bytes: small values (a number, a short request) are stored inline, so
/// sending one allocates nothing and the receiver's thread frees nothing that another
/// thread allocated.
pub(crate) type MessageBytes = smallvec::SmallVec<[u8; 24]>;

/// What a process sent: the guest's serialized value, and the resources (sockets) moved
/// into the message, which the bytes refer to by index.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MessageData {
    /// The process that sent it (on the node `extra` names).
    pub(crate) sender: u64,
    /// The fingerprint of its type, as the sender gave it.
    pub(crate) message_type: u64,
    /// The tag its reply is awaited under, if it is a request; else 0.
    pub(crate) reply_tag: i64,
    /// The serialized value.
    pub(crate) bytes: MessageBytes,
    /// Resources travelling with it, or the node of a remote sender.
    pub(crate) extra: MessageExtra,
}

/// What few messages carry besides their bytes: resources (those the receiver does not
/// take are dropped with the message), or the node of a sender on another node. Kept out
/// of line, so the many messages with neither are a word smaller: messages are moved
/// several times a hop.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MessageExtra(Option<Box<Extra>>);

#[derive(Debug, Default, PartialEq, Eq)]
struct Extra {
    resources: MessageResources,
    /// 0: this node.
    sender_node: u64,
}

impl MessageExtra {
    /// The resources of a local message (nothing out of line when there are none).
    #[inline]
    pub(crate) fn resources(resources: MessageResources) -> Self {
        if resources.len() == 0 {
            return Self(None);
        }
        Self(Some(Box::new(Extra {
            resources,
            sender_node: 0,
        })))
    }

    /// A message from a process of node `node`.
    pub(crate) fn from_node(node: u64) -> Self {
        Self(Some(Box::new(Extra {
            resources: MessageResources::default(),
            sender_node: node,
        })))
    }

    /// Whether resources travel with it.
    #[inline]
    pub(crate) fn has_resources(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|extra| extra.resources.len() > 0)
    }

    /// Its resources, if any travel with it.
    pub(crate) fn resources_mut(&mut self) -> Option<&mut MessageResources> {
        self.0.as_mut().map(|extra| &mut extra.resources)
    }

    /// The sender's node: 0 for this one.
    pub(crate) fn sender_node(&self) -> u64 {
        self.0.as_ref().map_or(0, |extra| extra.sender_node)
    }
}

/// What a message carries.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum MessageKind {
    /// Data a process sent.
    Data(MessageData),
    /// A linked process died abnormally, delivered to a process that traps link deaths.
    LinkDied {
        /// The node it ran on: 0 for this one.
        node: u64,
        /// The process that died.
        process: ProcessId,
        /// Why it died.
        reason: EncodedReason,
    },
    /// A monitored process ended (for any reason), delivered to the watcher.
    ProcessDown {
        /// The node it ran on: 0 for this one.
        node: u64,
        /// The process that ended.
        process: ProcessId,
        /// Why it ended.
        reason: EncodedReason,
    },
}

/// One entry of a mailbox.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Message {
    /// The tag selective receive matches on (the link's tag for a signal).
    pub(crate) tag: i64,
    /// The payload.
    pub(crate) kind: MessageKind,
    /// What it costs, counted against the environment that made it until it is dropped:
    /// its sender's for data, the watcher's or linker's for a notice it asked for
    /// (`None` from the root environment, which is not counted). Boxed, so a message of
    /// the root's is one word larger, not three: messages are moved on every hop.
    pub(crate) charge: Option<Box<Held>>,
}

impl Message {
    /// The bytes a guest reads: the data, or a notice's encoded [`EndReason`].
    #[must_use]
    pub(crate) fn bytes(&self) -> &[u8] {
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
    /// Whether the owner's receive found nothing and waits, and with which waker: the next
    /// push (or a kill) takes it and wakes the owner, so a stream of messages to a busy
    /// receiver costs no wake-up.
    receiver: Waiting,
    /// The owner's task, while it waits in a host call on something other than this
    /// mailbox (a socket, a timer): a kill wakes it, so that the call ends.
    kill_watcher: Option<Waker>,
    /// Messages (and their bytes) ever queued here, for the observer.
    arrived: u64,
    arrived_bytes: u64,
}

/// Whether the owner waits in a receive, and what wakes it.
#[derive(Debug, Default)]
enum Waiting {
    #[default]
    No,
    /// It waits with the waker kept in [`Mailbox::owner`].
    Owner,
    /// It waits with another waker than that one (never in the VM, whose processes keep
    /// their task's waker; in tests).
    Other(Waker),
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

    fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Takes the messages of abandoned tags out of `messages`, keeping the others' order and
    /// the buffer (the caller holds the mailbox's lock: nothing is allocated or freed here
    /// but the list of the abandoned, dropped after the lock).
    #[cold]
    fn remove_from(&self, messages: &mut VecDeque<Message>) -> Vec<Message> {
        let mut abandoned = Vec::new();
        for _ in 0..messages.len() {
            if let Some(message) = messages.pop_front() {
                if self.contains(message.tag) {
                    abandoned.push(message);
                } else {
                    messages.push_back(message);
                }
            }
        }
        abandoned
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
/// many-to-one traffic. A sender's batch ([`Mailbox::push_batch`]) moves the same way: its
/// buffer trades places with an empty queue, or is appended in one copy.
///
/// A push that finds the owner waiting hands the first message it delivers to the owner
/// directly, in `handoff`, rather than in the queue: the owner's receive after the
/// wake-up then takes it without the lock (one atomic read-modify-write less a message
/// exchanged, and the queue's line left alone), straight into its incoming message if it
/// matches the receive's tags (else to the back of the inbox, as if it had been queued).
///
/// # Invariants of the handoff
///
/// 1. **One writer, then one reader.** The slot is written only by a push that takes
///    `Waiting` from the queue (under its lock), and the owner sets `Waiting` only when
///    the slot is empty (it looks under the lock). So between a wait and the owner's next
///    look at the slot, at most one push writes it, once. (A wait that timed out leaves
///    `Waiting` behind; the one push that takes it still finds the slot empty.)
/// 2. **The owner reads it only once it is full.** `handed` is stored (`Release`) by that
///    push after its write, and read (`Acquire`) by the owner before it reads the slot;
///    the owner empties the slot, then clears `handed`. Only the owner reads the slot: its
///    receives, `abandon`, `has_signal`, and its own `close` at its end.
/// 3. **Order.** A handed message came after everything the owner held when it waited,
///    and before anything queued after it (the push that hands it finds the queue empty,
///    as the owner left it; the rest of its own batch and later pushes queue behind it).
///    So the owner takes the slot after its inbox and before the queue: it looks at the
///    slot again under the queue's lock before it moves the queue (a push may hand a
///    message between its first look and the lock; the loom model found that order broken
///    without the second look).
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Mailbox {
    /// Whether `queue.receiver` says the owner waits, readable without the lock. First,
    /// so it shares a cache line with the lock a send takes anyway.
    receiver_waiting: AtomicBool,
    /// Whether `queue` may hold a message: set by every push under the queue's lock,
    /// cleared by the owner when it finds or leaves the queue empty (under the lock). A
    /// `try_receive` on an empty mailbox, which every plain receive that waits starts with,
    /// so takes no lock.
    maybe_queued: AtomicBool,
    /// Whether `handoff` holds a message (see the handoff's invariants).
    handed: AtomicBool,
    queue: Mutex<Queue>,
    death_pending: AtomicBool,
    /// The first message pushed to the owner while it waited.
    handoff: UnsafeCell<Option<Message>>,
    /// The waker the owner left at its first wait, kept for its life: a wait and its
    /// wake-up then take no reference to the owner's task and give none back, two atomic
    /// read-modify-writes a message. Written once, under the queue's lock; read by a push
    /// after it saw `Waiting::Owner` under that lock.
    owner: OnceLock<Waker>,
    /// The owner's last received messages, kept once an observer runs (out of line: most
    /// VMs run none, and every process has a mailbox).
    recent: OnceLock<Box<Recent>>,
}

// SAFETY: the one field that is not `Sync`, `handoff`, is written by one push at a time,
// and read by the owner only once written (the handoff's invariants 1 and 2).
unsafe impl Sync for Mailbox {}

/// How many of the owner's last received messages the observer is shown.
pub(crate) const RECENT: usize = 8;

/// Whether an observer runs (`lunatic --observe`): only then do receives note what they
/// took in [`Recent`], a line no receive touches otherwise.
pub(crate) static OBSERVED: StdAtomicBool = StdAtomicBool::new(false);

/// What the owner took out of its mailbox (received, or dropped as abandoned), counted by
/// the owner alone with plain relaxed stores, no read-modify-write. The observer reads them
/// unsynchronized, so a count may lag. It lives in the owner's [`ProcessHandle`] beside the
/// reference counts its host calls write anyway (see `process::handle`): a receive writes
/// no cache line more for it.
///
/// [`ProcessHandle`]: crate::process::ProcessHandle
#[derive(Debug, Default)]
pub(crate) struct Taken {
    messages: AtomicU64,
    bytes: AtomicU64,
}

impl Taken {
    /// Nothing taken yet.
    pub(crate) const fn new() -> Self {
        Self {
            messages: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Counts `message` as taken; `received`: by a receive (so it is noted as recent
    /// while an observer runs).
    #[inline]
    fn count(&self, message: &Message, recent: Option<&OnceLock<Box<Recent>>>) {
        self.messages
            .store(self.messages.load(Relaxed) + 1, Relaxed);
        let size = message.bytes().len() as u64;
        self.bytes.store(self.bytes.load(Relaxed) + size, Relaxed);
        if let Some(recent) = recent {
            if OBSERVED.load(Relaxed) {
                Recent::note(recent, message);
            }
        }
    }
}

/// The last [`RECENT`] messages received, by their count modulo [`RECENT`]: what
/// [`Sighting::encode`] makes of each. Written by the owner only, and only while an
/// observer runs.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Recent {
    received: AtomicU64,
    slots: [(AtomicU64, AtomicU64); RECENT],
}

impl Recent {
    /// Notes `message` in `recent`, made at the first note. Only the owner notes.
    #[cold]
    fn note(recent: &OnceLock<Box<Self>>, message: &Message) {
        let recent = recent.get_or_init(Box::default);
        recent.record(message);
    }

    fn record(&self, message: &Message) {
        let index = self.received.load(Relaxed);
        self.received.store(index + 1, Relaxed);
        let sighting = Sighting::of(message);
        let (kind, message_type) = sighting.encode();
        let slot = &self.slots[index as usize % RECENT];
        slot.0.store(message_type, Relaxed);
        slot.1.store(sighting.bytes << 2 | kind, Relaxed);
    }
}

/// One message as the observer lists it: what it is, and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sighting {
    pub(crate) kind: QueuedKind,
    pub(crate) bytes: u64,
}

impl Sighting {
    fn of(message: &Message) -> Self {
        let kind = match &message.kind {
            MessageKind::Data(data) => QueuedKind::Data(data.message_type),
            MessageKind::LinkDied { .. } => QueuedKind::LinkDied,
            MessageKind::ProcessDown { .. } => QueuedKind::Down,
        };
        Self {
            kind,
            bytes: message.bytes().len() as u64,
        }
    }

    /// The kind as two bits, and the type (0 for a notice).
    fn encode(self) -> (u64, u64) {
        match self.kind {
            QueuedKind::Data(message_type) => (0, message_type),
            QueuedKind::LinkDied => (1, 0),
            QueuedKind::Down => (2, 0),
        }
    }

    /// Reads a slot of [`Taken::recent`] back.
    fn decode(message_type: u64, size_and_kind: u64) -> Self {
        let kind = match size_and_kind & 3 {
            0 => QueuedKind::Data(message_type),
            1 => QueuedKind::LinkDied,
            _ => QueuedKind::Down,
        };
        Self {
            kind,
            bytes: size_and_kind >> 2,
        }
    }
}

/// A mailbox as the observer sees it.
#[derive(Debug)]
pub(crate) struct Census {
    /// Messages queued and not received yet, and their bytes.
    pub(crate) messages: u64,
    pub(crate) bytes: u64,
    /// Messages ever queued.
    pub(crate) arrived: u64,
    /// The first messages of the shared queue (not those the owner already moved to its
    /// inbox), with their selective-receive tags.
    pub(crate) queued: Vec<(Sighting, i64)>,
    /// The last messages received, newest first.
    pub(crate) recent: Vec<Sighting>,
}

/// What a message is, for the observer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueuedKind {
    /// Data of the type with this fingerprint.
    Data(u64),
    /// A link-death signal.
    LinkDied,
    /// A down notice.
    Down,
}

/// The owner's side of its mailbox: messages moved out of the shared queue, older than any
/// still there. Kept in the process's own state, so taking one takes no lock.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    taken: VecDeque<Message>,
}

impl Mailbox {
    // A panic while a lock is held cannot leave a queue half-changed (every critical
    // section is a few moves: a message placed, a batch swapped in or appended, a removal,
    // a take), so the locks need no poisoning.
    #[inline]
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock()
    }

    /// Queues a message and wakes the owner; a closed mailbox (dead owner) drops it, and so
    /// does an abandoned tag. The one-message case of [`Mailbox::push_batch`], written
    /// out: a message is large, and passing it on to a call of its own would copy it once
    /// more on every send (see "Stalls that instruction counts miss" in the performance
    /// log).
    pub(crate) fn push(&self, message: Message) {
        let mut queue = self.queue();
        if queue.closed || queue.abandoned.contains(message.tag) {
            drop(queue);
            drop(message);
            return;
        }
        let receiver = self.place_first(&mut queue, message);
        drop(queue);
        self.wake(receiver);
    }

    /// Queues `messages` in order under one lock, leaving `messages` empty (the batch a
    /// sender's outbox delivers). The batch moves whole, not a message at a time: its
    /// buffer trades places with the queue's when the queue is empty (as the owner leaves
    /// it when it takes), else it is appended in one copy.
    pub(crate) fn push_batch(&self, messages: &mut VecDeque<Message>) {
        self.push_batch_locked(self.queue(), messages);
    }

    /// [`Mailbox::push_batch`] with the lock taken. What it drops (messages to a dead owner
    /// or of an abandoned tag, which may close sockets) it drops after the lock; a batch
    /// that places nothing leaves the owner waiting, unwoken.
    fn push_batch_locked(
        &self,
        mut queue: MutexGuard<'_, Queue>,
        messages: &mut VecDeque<Message>,
    ) {
        if queue.closed {
            drop(queue);
            messages.clear();
            return;
        }
        let abandoned = if queue.abandoned.is_empty() {
            Vec::new()
        } else {
            queue.abandoned.remove_from(messages)
        };
        let Some(first) = messages.pop_front() else {
            drop(queue);
            drop(abandoned);
            return;
        };
        let receiver = self.place_first(&mut queue, first);
        if !messages.is_empty() {
            queue.arrived += messages.len() as u64;
            queue.arrived_bytes += messages.iter().map(|m| m.bytes().len() as u64).sum::<u64>();
            if queue.messages.is_empty() {
                std::mem::swap(&mut queue.messages, messages);
            } else {
                queue.messages.append(messages);
            }
            self.maybe_queued.store(true, Ordering::Release);
        }
        drop(queue);
        drop(abandoned);
        self.wake(receiver);
    }

    /// Places the first message a push places: takes the owner's wait, counts the message,
    /// hands it over if the owner waits (this push took `Waiting` for it, so the slot is
    /// empty), else queues it, and returns the wait, to be woken after the lock.
    #[inline(always)]
    fn place_first(&self, queue: &mut Queue, message: Message) -> Waiting {
        let receiver = std::mem::take(&mut queue.receiver);
        // Two additions where the compiler keeps them apart: merged into one 16-byte
        // read-modify-write (as a helper doing both let it), a round trip was 3-4% slower.
        queue.arrived += 1;
        queue.arrived_bytes += message.bytes().len() as u64;
        if matches!(receiver, Waiting::No) {
            queue.messages.push_back(message);
            self.maybe_queued.store(true, Ordering::Release);
        } else {
            // SAFETY: this push took `Waiting`, so it is the slot's one writer, and the
            // owner does not read it before `handed` is set (invariants 1, 2).
            self.handoff
                .with_mut(|slot| unsafe { *slot = Some(message) });
            self.handed.store(true, Ordering::Release);
        }
        self.receiver_waiting.store(false, Ordering::Relaxed);
        receiver
    }

    /// Wakes the owner if it waited (`receiver`, taken from the queue under its lock).
    /// Outside the lock: waking may queue the task on another worker and wake that worker.
    /// The owner may have run meanwhile, so the wake-up may find it waiting again, or not:
    /// then its task polls once for nothing, as after any spurious wake-up.
    #[inline]
    fn wake(&self, receiver: Waiting) {
        match receiver {
            Waiting::No => {}
            Waiting::Owner => {
                if let Some(owner) = self.owner.get() {
                    owner.wake_by_ref();
                }
            }
            Waiting::Other(waker) => waker.wake(),
        }
    }

    /// Whether the owner waits in a receive (a hint: a sender delivers at once to a waiting
    /// owner, and batches messages to a busy one).
    pub(crate) fn has_waiting_receiver(&self) -> bool {
        self.receiver_waiting.load(Ordering::Relaxed)
    }

    /// Asks the owner to die with `reason`; the first reason given wins.
    pub(crate) fn kill(&self, reason: EndReason) {
        self.kill_locked(self.queue(), reason);
    }

    /// A link-death `signal` for the owner: queued if `traps()`, read under the queue's
    /// lock, says the owner traps link deaths; else the owner is asked to die with
    /// `reason()`. An owner that stops trapping them looks for a queued signal under this
    /// lock after it switched (`Inbox::has_signal`), so either it finds this signal or this
    /// sees the switch: no signal waits, unseen, in the mailbox of a process that should
    /// have died of it.
    pub(crate) fn signal_link_death(
        &self,
        signal: Message,
        traps: impl FnOnce() -> bool,
        reason: impl FnOnce() -> EndReason,
    ) {
        // A batch of one, made before the lock (the one allocation of this path).
        let mut signal = VecDeque::from([signal]);
        let queue = self.queue();
        if traps() {
            self.push_batch_locked(queue, &mut signal);
        } else {
            self.kill_locked(queue, reason());
        }
    }

    fn kill_locked(&self, mut queue: MutexGuard<'_, Queue>, reason: EndReason) {
        if queue.closed || queue.death.is_some() {
            return;
        }
        queue.death = Some(reason);
        self.death_pending.store(true, Ordering::Release);
        let receiver = std::mem::take(&mut queue.receiver);
        let watcher = queue.kill_watcher.take();
        self.receiver_waiting.store(false, Ordering::Relaxed);
        drop(queue);
        self.wake(receiver);
        if let Some(watcher) = watcher {
            watcher.wake();
        }
    }

    /// Makes a kill wake `waker` (the owner's task, waiting in a host call on something
    /// else than this mailbox), unless the owner has been told to die already: then it
    /// returns `true`. Under the queue's lock, as a kill is, so one of the two always sees
    /// the other.
    pub(crate) fn watch_for_kill(&self, waker: &Waker) -> bool {
        let mut queue = self.queue();
        if queue.death.is_some() {
            return true;
        }
        match &mut queue.kill_watcher {
            Some(known) if known.will_wake(waker) => {}
            watcher => *watcher = Some(waker.clone()),
        }
        false
    }

    /// Whether the owner has been asked to die (cheap; checked at every preemption point).
    #[inline]
    pub(crate) fn is_death_pending(&self) -> bool {
        self.death_pending.load(Ordering::Acquire)
    }

    /// The reason the owner must die with, if it must.
    #[inline]
    pub(crate) fn pending_death(&self) -> Option<EndReason> {
        if !self.is_death_pending() {
            return None;
        }
        self.death_reason()
    }

    #[cold]
    fn death_reason(&self) -> Option<EndReason> {
        self.queue().death.clone()
    }

    /// The mailbox as the observer sees it, with what its owner `taken` out, listing at
    /// most `listed` queued messages.
    pub(crate) fn census(&self, taken: &Taken, listed: usize) -> Census {
        let queue = self.queue();
        let (arrived, arrived_bytes) = (queue.arrived, queue.arrived_bytes);
        let queued = queue
            .messages
            .iter()
            .take(listed)
            .map(|message| (Sighting::of(message), message.tag))
            .collect();
        drop(queue);
        let recent = self.recent.get().map_or_else(Vec::new, |recent| {
            let received = recent.received.load(Relaxed) as usize;
            (1..=RECENT.min(received))
                .map(|back| {
                    let slot = &recent.slots[(received - back) % RECENT];
                    Sighting::decode(slot.0.load(Relaxed), slot.1.load(Relaxed))
                })
                .collect()
        });
        Census {
            messages: arrived.saturating_sub(taken.messages.load(Relaxed)),
            bytes: arrived_bytes.saturating_sub(taken.bytes.load(Relaxed)),
            arrived,
            queued,
            recent,
        }
    }

    /// Drops every queued message and refuses new ones (the owner died; what its inbox
    /// holds goes with its state). Returns how many messages ever arrived.
    pub(crate) fn close(&self) -> u64 {
        let mut queue = self.queue();
        queue.closed = true;
        // Dropped after the lock (a message's sockets close when it is dropped).
        let messages = std::mem::take(&mut queue.messages);
        // The owner closes its own mailbox, at its end: the slot is its to empty.
        let handed = self.take_handoff();
        // Nothing will wake the owner again. Its task's waker stays in `owner` until the
        // mailbox is dropped; the task holds nothing of the process once it is done.
        queue.receiver = Waiting::No;
        queue.kill_watcher = None;
        self.maybe_queued.store(false, Ordering::Relaxed);
        let arrived = queue.arrived;
        drop(queue);
        drop((messages, handed));
        arrived
    }
}

impl Inbox {
    /// The first queued link-death signal: who died, and why.
    pub(crate) fn has_signal(&self, mailbox: &Mailbox) -> Option<(ProcessId, EncodedReason)> {
        let queue = mailbox.queue();
        let handed = mailbox.handed.load(Ordering::Acquire);
        // SAFETY: invariant 2: the owner (the caller) reads a full slot; no push writes it
        // while it is full.
        let slot = mailbox
            .handoff
            .with(|slot| unsafe { (*slot).as_ref() })
            .filter(|_| handed);
        self.taken
            .iter()
            .chain(slot)
            .chain(&queue.messages)
            .find_map(|m| match &m.kind {
                MessageKind::LinkDied {
                    process, reason, ..
                } => Some((*process, reason.clone())),
                MessageKind::Data(_) | MessageKind::ProcessDown { .. } => None,
            })
    }

    /// Drops every queued message with `tag`, and every one that arrives later (Erlang's
    /// alias deactivation: the reply to a request that timed out never shows up; and a
    /// demonitor's flush: a down notice the ended process was pushing meanwhile never
    /// shows up either).
    pub(crate) fn abandon(&mut self, mailbox: &Mailbox, taken: &Taken, tag: i64) {
        // Under the lock the tag is inserted and everything that arrived moves to the
        // inbox, as a take's move does: no message of the tag is handed or queued unseen.
        // They are looked through and dropped (sockets close) after the lock.
        let mut queue = mailbox.queue();
        queue.abandoned.insert(tag);
        self.taken.extend(mailbox.take_handoff());
        mailbox.maybe_queued.store(false, Ordering::Relaxed);
        self.move_queued(&mut queue);
        drop(queue);
        self.taken.retain(|m| {
            let keep = m.tag != tag;
            if !keep {
                taken.count(m, None);
            }
            keep
        });
    }

    /// Whether the owner has nothing to receive and has not been asked to die, seen
    /// without a lock (a push racing with it may be missed, as if it came a moment later).
    #[inline]
    pub(crate) fn is_surely_empty(&self, mailbox: &Mailbox) -> bool {
        self.taken.is_empty()
            && !mailbox.handed.load(Ordering::Acquire)
            && !mailbox.maybe_queued.load(Ordering::Acquire)
            && !mailbox.is_death_pending()
    }

    /// Takes the first queued message whose tag is in `tags` (any message when `tags` is
    /// empty), without waiting. (The host calls use [`Inbox::take_into`].)
    ///
    /// # Errors
    /// Returns the death reason if the owner has been asked to die.
    #[cfg(any(test, loom_model))]
    pub(crate) fn try_receive(
        &mut self,
        mailbox: &Mailbox,
        taken: &Taken,
        tags: &[i64],
    ) -> Result<Option<Message>, EndReason> {
        self.take(mailbox, taken, tags, None)
    }

    /// [`Inbox::take_into`], returning the message (for tests: the host calls take it into
    /// the process's incoming message).
    ///
    /// # Errors
    /// Returns the death reason if the owner has been asked to die.
    #[cfg(any(test, loom_model))]
    pub(crate) fn take(
        &mut self,
        mailbox: &Mailbox,
        taken: &Taken,
        tags: &[i64],
        waker: Option<&Waker>,
    ) -> Result<Option<Message>, EndReason> {
        let mut into = None;
        self.take_into(mailbox, taken, tags, waker, &mut into)
            .map_err(|reason| *reason)?;
        Ok(into)
    }

    /// Takes the first message whose tag is in `tags` (any message when `tags` is empty)
    /// into `into`, and says whether there was one; when there is none and `waker` is
    /// given, leaves it for the next push (or kill), so that a push between this scan and
    /// the owner's wait is never missed.
    ///
    /// `into` must be empty (the receive host call passes the process's incoming message,
    /// which it has just cleared): it may be written under the queue's lock, where nothing
    /// is dropped. The message goes straight there because it is large, and each copy of it
    /// on the way (on the stack of a process just woken, which other processes have since
    /// pushed out of the cache) cost cache misses.
    ///
    /// # Errors
    /// Returns the death reason if the owner has been asked to die (boxed: the result is
    /// two words, returned in registers on every receive).
    pub(crate) fn take_into(
        &mut self,
        mailbox: &Mailbox,
        taken: &Taken,
        tags: &[i64],
        waker: Option<&Waker>,
        into: &mut Option<Message>,
    ) -> Result<bool, Box<EndReason>> {
        debug_assert!(into.is_none(), "a take's message goes into an empty place");
        if let Some(reason) = mailbox.pending_death() {
            return Err(Box::new(reason));
        }
        let mut searched = 0;
        loop {
            if take_first(&mut self.taken, searched, tags, into)
                || self.take_handed(mailbox, tags, into)
            {
                if let Some(message) = into {
                    taken.count(message, Some(&mailbox.recent));
                }
                return Ok(true);
            }
            searched = self.taken.len();
            if waker.is_none() && !mailbox.maybe_queued.load(Ordering::Acquire) {
                return Ok(false);
            }
            match self.take_queued(mailbox, tags, waker, into)? {
                Queued::Moved => {}
                Queued::Handed => {
                    if let Some(message) = into {
                        taken.count(message, Some(&mailbox.recent));
                    }
                    return Ok(true);
                }
                Queued::Nothing => return Ok(false),
            }
        }
    }

    /// The part of a take under the queue's lock (out of line: a process woken for a
    /// message finds it handed, and takes no lock): a message handed since the caller
    /// looked, else the queue moved to the inbox, else the wait recorded (if `waker`).
    #[inline(never)]
    fn take_queued(
        &mut self,
        mailbox: &Mailbox,
        tags: &[i64],
        waker: Option<&Waker>,
        into: &mut Option<Message>,
    ) -> Result<Queued, Box<EndReason>> {
        let mut queue = mailbox.queue();
        if let Some(reason) = &queue.death {
            return Err(Box::new(reason.clone()));
        }
        // A message handed since the caller's look is older than any queued: it goes
        // first (under the lock, no push hands one).
        if self.take_handed(mailbox, tags, into) {
            return Ok(Queued::Handed);
        }
        // The queue is empty now, or after the move below, and stays so while its lock is
        // held.
        mailbox.maybe_queued.store(false, Ordering::Relaxed);
        if !queue.messages.is_empty() {
            self.move_queued(&mut queue);
            return Ok(Queued::Moved);
        }
        if let Some(waker) = waker {
            // Invariant 1: the slot is empty (emptied above; nothing is handed before the
            // owner waits).
            queue.receiver = match mailbox.owner.get() {
                Some(owner) if owner.will_wake(waker) => Waiting::Owner,
                Some(_) => Waiting::Other(waker.clone()),
                // The first wait; only the owner sets it, under the lock.
                None => match mailbox.owner.set(waker.clone()) {
                    Ok(()) => Waiting::Owner,
                    Err(waker) => Waiting::Other(waker),
                },
            };
            mailbox.receiver_waiting.store(true, Ordering::Relaxed);
        }
        Ok(Queued::Nothing)
    }

    /// Moves everything `queue` holds to the back of the inbox (the caller holds the
    /// queue's lock, cleared `maybe_queued` under it, and took the handed message first:
    /// it is older).
    fn move_queued(&mut self, queue: &mut Queue) {
        if self.taken.is_empty() {
            // The buffers trade places, so both keep their capacity.
            std::mem::swap(&mut self.taken, &mut queue.messages);
        } else {
            self.taken.append(&mut queue.messages);
        }
    }
}

impl Inbox {
    /// Takes a message handed to the owner (see [`Mailbox`]): into `into` if its tag is in
    /// `tags` (or `tags` is empty), else to the back of the inbox; whether it went to
    /// `into`. The caller searched the whole inbox first, so a handed message that matches
    /// is the first that does; it never passes through the inbox, whose buffer a woken
    /// process has not touched since it last ran.
    // Always inlined, and its closure kept small (the other case is out of line): where the
    // compiler made either a call, the message went through a frame of its own (about 120
    // instructions more a hop, by callgrind).
    #[inline(always)]
    fn take_handed(&mut self, mailbox: &Mailbox, tags: &[i64], into: &mut Option<Message>) -> bool {
        if !mailbox.handed.load(Ordering::Acquire) {
            return false;
        }
        // SAFETY: invariant 2: the owner reads a full slot, which no push writes.
        let matched = mailbox.handoff.with_mut(|slot| unsafe {
            let slot = &mut *slot;
            let matched = slot
                .as_ref()
                .is_some_and(|message| tags.is_empty() || tags.contains(&message.tag));
            if matched {
                // A swap with the empty `into`: nothing to drop, so no drop code here.
                std::mem::swap(into, slot);
            }
            matched
        });
        if matched {
            mailbox.handed.store(false, Ordering::Relaxed);
        } else {
            self.taken.extend(mailbox.take_handoff());
        }
        matched
    }
}

impl Mailbox {
    /// Empties the handoff slot, if `handed` says it is full. Only the owner calls it (its
    /// takes, its `abandon` and its `close`): it is the slot's one reader.
    #[inline(never)]
    fn take_handoff(&self) -> Option<Message> {
        if !self.handed.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: invariant 2: the owner reads a full slot, which no push writes.
        let message = self.handoff.with_mut(|slot| unsafe { (*slot).take() });
        self.handed.store(false, Ordering::Relaxed);
        message
    }
}

/// What the locked part of a take did.
enum Queued {
    /// It moved the queue to the inbox, to be searched.
    Moved,
    /// It took a message handed meanwhile.
    Handed,
    /// There was nothing (and the wait is recorded, if the take may wait).
    Nothing,
}

/// Moves the first message at or after `from` whose tag is in `tags` (any, when `tags` is
/// empty) into `into`; whether there was one.
#[inline(always)]
fn take_first(
    messages: &mut VecDeque<Message>,
    from: usize,
    tags: &[i64],
    into: &mut Option<Message>,
) -> bool {
    let found = if tags.is_empty() {
        Some(from)
    } else {
        messages
            .range(from..)
            .position(|m| tags.contains(&m.tag))
            .map(|at| from + at)
    };
    match found {
        Some(index) if index < messages.len() => {
            *into = if index == 0 {
                messages.pop_front()
            } else {
                messages.remove(index)
            };
            true
        }
        _ => false,
    }
}

#[cfg(all(test, not(loom_model)))]
mod tests {
    //! Deterministic tests of what the `receive` host call runs (`Inbox::take_into`, through
    //! `take` with the task's waker and `try_receive` without, kills and the kill waker),
    //! with a waker that counts its wake-ups instead of a runtime.

    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    #[test]
    fn a_message_is_small() {
        // Messages are moved several times a hop (outbox, queue, inbox, the receive).
        assert!(
            std::mem::size_of::<Message>() <= 88,
            "{}",
            std::mem::size_of::<Message>()
        );
    }

    /// What the tests' owners took (the observer's counters; not checked here).
    static TAKEN: Taken = Taken::new();

    fn data(tag: i64, byte: u8) -> Message {
        Message {
            tag,
            kind: MessageKind::Data(MessageData {
                bytes: MessageBytes::from_slice(&[byte]),
                ..MessageData::default()
            }),
            charge: None,
        }
    }

    /// A waker that counts how often it was woken.
    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter::default());
        (Arc::clone(&counter), Waker::from(Arc::clone(&counter)))
    }

    fn wakes(counter: &Counter) -> usize {
        counter.0.load(Ordering::SeqCst)
    }

    /// The owner waits: the next push hands its first message over, the rest queue.
    fn wait_then_push(mailbox: &Mailbox, inbox: &mut Inbox, messages: Vec<Message>) {
        let (_, waker) = counting_waker();
        assert_eq!(inbox.take(mailbox, &TAKEN, &[], Some(&waker)), Ok(None));
        mailbox.push_batch(&mut messages.into_iter().collect());
        assert!(
            mailbox.handed.load(Ordering::Relaxed),
            "the first was handed over"
        );
    }

    #[test]
    fn a_handed_message_comes_before_those_queued_after_it() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        wait_then_push(&mailbox, &mut inbox, vec![data(1, 1), data(2, 2)]);
        mailbox.push(data(3, 3));
        assert!(!inbox.is_surely_empty(&mailbox));
        // A selective receive skips it and keeps it first.
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[3]),
            Ok(Some(data(3, 3)))
        );
        let rest: Vec<_> =
            std::iter::from_fn(|| inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap()).collect();
        assert_eq!(rest, vec![data(1, 1), data(2, 2)]);
        assert!(inbox.is_surely_empty(&mailbox));
    }

    #[test]
    fn a_handed_message_is_abandoned_seen_as_a_signal_and_dropped_at_close() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        wait_then_push(&mailbox, &mut inbox, vec![data(7, 1)]);
        inbox.abandon(&mailbox, &TAKEN, 7);
        assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]), Ok(None));

        let signal = Message {
            tag: 0,
            kind: MessageKind::LinkDied {
                node: 0,
                process: 4,
                reason: EncodedReason::new(EndReason::Killed),
            },
            charge: None,
        };
        wait_then_push(&mailbox, &mut inbox, vec![signal]);
        assert_eq!(
            inbox.has_signal(&mailbox).map(|(process, _)| process),
            Some(4)
        );

        mailbox.close();
        assert!(!mailbox.handed.load(Ordering::Relaxed), "closing drops it");
        assert!(inbox.is_surely_empty(&mailbox));
    }

    #[test]
    fn the_observer_sees_the_last_messages_received_newest_first() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        let taken = Taken::new();
        mailbox.push(data(0, 0));
        assert_eq!(
            inbox.try_receive(&mailbox, &taken, &[]),
            Ok(Some(data(0, 0)))
        );
        assert!(
            mailbox.census(&taken, 0).recent.is_empty(),
            "nothing is noted (or allocated) before an observer runs"
        );
        // Left on: other tests only note what they receive too.
        OBSERVED.store(true, Relaxed);
        // Message n is n bytes long, so the sightings tell them apart.
        for size in 1..=10usize {
            let mut message = data(0, 0);
            if let MessageKind::Data(data) = &mut message.kind {
                data.bytes = MessageBytes::from_vec(vec![0; size]);
            }
            mailbox.push(message);
            assert!(inbox.try_receive(&mailbox, &taken, &[]).unwrap().is_some());
        }
        let census = mailbox.census(&taken, 0);
        let sizes: Vec<u64> = census.recent.iter().map(|s| s.bytes).collect();
        assert_eq!(sizes, vec![10, 9, 8, 7, 6, 5, 4, 3]);
        assert!(census.recent.iter().all(|s| s.kind == QueuedKind::Data(0)));
        assert_eq!(census.messages, 0);
        assert_eq!(census.arrived, 11);
    }

    #[test]
    fn selective_take_skips_other_tags_and_keeps_them_in_order() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        let (counter, waker) = counting_waker();
        mailbox.push(data(1, 1));
        mailbox.push(data(2, 2));
        assert_eq!(
            inbox.take(&mailbox, &TAKEN, &[2], Some(&waker)),
            Ok(Some(data(2, 2)))
        );
        assert_eq!(
            inbox.take(&mailbox, &TAKEN, &[], Some(&waker)),
            Ok(Some(data(1, 1)))
        );
        assert_eq!(wakes(&counter), 0, "nothing waited, nothing was woken");
    }

    #[test]
    fn a_take_that_finds_nothing_is_woken_once_by_the_next_push() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        let (counter, waker) = counting_waker();
        assert_eq!(inbox.take(&mailbox, &TAKEN, &[9], Some(&waker)), Ok(None));
        assert!(mailbox.has_waiting_receiver());
        // A message of another tag wakes the owner too: it cannot know the tag waited for.
        mailbox.push(data(8, 1));
        assert_eq!(wakes(&counter), 1);
        assert!(!mailbox.has_waiting_receiver());
        // The waker was taken: a second push does not wake again until the owner waits.
        mailbox.push(data(8, 2));
        assert_eq!(wakes(&counter), 1);
        assert_eq!(inbox.take(&mailbox, &TAKEN, &[9], Some(&waker)), Ok(None));
        mailbox.push(data(9, 3));
        assert_eq!(wakes(&counter), 2);
        assert_eq!(
            inbox.take(&mailbox, &TAKEN, &[9], Some(&waker)),
            Ok(Some(data(9, 3)))
        );
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[]),
            Ok(Some(data(8, 1)))
        );
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[]),
            Ok(Some(data(8, 2)))
        );
    }

    #[test]
    fn a_kill_wakes_a_waiting_take_and_wins_over_queued_messages() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        let (counter, waker) = counting_waker();
        assert_eq!(inbox.take(&mailbox, &TAKEN, &[], Some(&waker)), Ok(None));
        mailbox.push(data(1, 1));
        mailbox.kill(EndReason::Killed);
        // The first reason wins.
        mailbox.kill(EndReason::OutOfFuel);
        assert_eq!(wakes(&counter), 1);
        assert_eq!(
            inbox.take(&mailbox, &TAKEN, &[], Some(&waker)),
            Err(EndReason::Killed)
        );
        assert!(
            !inbox.is_surely_empty(&mailbox),
            "a pending death is something to take"
        );
    }

    #[test]
    fn a_kill_wakes_the_kill_watcher_once() {
        let mailbox = Mailbox::default();
        let (counter, waker) = counting_waker();
        assert!(!mailbox.watch_for_kill(&waker));
        // The same waker again changes nothing.
        assert!(!mailbox.watch_for_kill(&waker));
        mailbox.kill(EndReason::Killed);
        assert_eq!(wakes(&counter), 1);
        assert!(mailbox.watch_for_kill(&waker), "the death is seen");
        mailbox.kill(EndReason::Killed);
        assert_eq!(wakes(&counter), 1, "a second kill is ignored");
    }

    #[test]
    fn a_kill_before_the_watch_is_seen_by_the_watcher() {
        let mailbox = Mailbox::default();
        let (counter, waker) = counting_waker();
        mailbox.kill(EndReason::Killed);
        assert!(mailbox.watch_for_kill(&waker));
        assert_eq!(wakes(&counter), 0);
    }

    #[test]
    fn abandoned_tags_drop_queued_and_late_messages() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        mailbox.push(data(7, 1));
        mailbox.push(data(8, 2));
        inbox.abandon(&mailbox, &TAKEN, 7);
        mailbox.push(data(7, 3));
        for tag in 100..100 + MAX_ABANDONED_TAGS as i64 {
            inbox.abandon(&mailbox, &TAKEN, tag);
        }
        // The oldest abandoned tag is forgotten once the list is full.
        mailbox.push(data(7, 4));
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[]),
            Ok(Some(data(8, 2)))
        );
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[]),
            Ok(Some(data(7, 4)))
        );
        assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]), Ok(None));
    }

    #[test]
    fn a_message_of_an_abandoned_tag_leaves_its_waiting_owner_asleep() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        inbox.abandon(&mailbox, &TAKEN, 7);
        let (counter, waker) = counting_waker();
        assert_eq!(inbox.take(&mailbox, &TAKEN, &[], Some(&waker)), Ok(None));
        mailbox.push(data(7, 1));
        mailbox.push_batch(&mut VecDeque::from([data(7, 2), data(7, 3)]));
        assert_eq!(wakes(&counter), 0, "nothing arrived for the owner");
        assert!(mailbox.has_waiting_receiver(), "it still waits");
        // The next message is handed to it, and wakes it; the batch's abandoned one is
        // dropped, its other one queued.
        mailbox.push_batch(&mut VecDeque::from([data(7, 4), data(8, 5), data(9, 6)]));
        assert_eq!(wakes(&counter), 1);
        assert!(!mailbox.has_waiting_receiver());
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[]),
            Ok(Some(data(8, 5)))
        );
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[]),
            Ok(Some(data(9, 6)))
        );
        assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]), Ok(None));
    }

    #[test]
    fn messages_keep_their_order_across_batches() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        mailbox.push(data(1, 1));
        mailbox.push(data(2, 2));
        mailbox.push(data(3, 3));
        // Moves all three out of the shared queue, leaving 1 and 3 behind.
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[2]).unwrap(),
            Some(data(2, 2))
        );
        mailbox.push(data(1, 4));
        inbox.abandon(&mailbox, &TAKEN, 3);
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap(),
            Some(data(1, 1))
        );
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[1]).unwrap(),
            Some(data(1, 4))
        );
        assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap(), None);
    }

    #[test]
    fn a_batch_moves_whole_into_an_empty_queue_or_behind_what_is_queued() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        let mut batch = VecDeque::from([data(1, 1), data(2, 2), data(3, 3)]);
        mailbox.push_batch(&mut batch);
        assert!(batch.is_empty(), "the batch is taken");
        assert!(!inbox.is_surely_empty(&mailbox));
        mailbox.push(data(4, 4));
        let mut batch = VecDeque::from([data(5, 5), data(6, 6)]);
        mailbox.push_batch(&mut batch);
        assert!(batch.is_empty());
        let census = mailbox.census(&TAKEN, 0);
        assert_eq!((census.arrived, census.messages, census.bytes), (6, 6, 6));
        for n in 1..=6 {
            assert_eq!(
                inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap(),
                Some(data(n, n as u8))
            );
        }
        assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap(), None);
        // The queue was emptied by the take: the next batch's rest takes its place again.
        mailbox.push_batch(&mut VecDeque::from([data(7, 7), data(8, 8)]));
        for n in 7..=8 {
            assert_eq!(
                inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap(),
                Some(data(n, n as u8))
            );
        }
    }

    #[test]
    fn a_drained_mailbox_sees_the_next_push() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        assert!(inbox.is_surely_empty(&mailbox));
        assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap(), None);
        mailbox.push(data(1, 1));
        assert!(!inbox.is_surely_empty(&mailbox));
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap(),
            Some(data(1, 1))
        );
        // Emptied by that take: the next look takes no lock, and must still see a push.
        assert!(inbox.is_surely_empty(&mailbox));
        mailbox.push(data(2, 2));
        mailbox.push(data(3, 3));
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[3]).unwrap(),
            Some(data(3, 3))
        );
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap(),
            Some(data(2, 2))
        );
        assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap(), None);
        mailbox.push(data(4, 4));
        assert_eq!(
            inbox.try_receive(&mailbox, &TAKEN, &[]).unwrap(),
            Some(data(4, 4))
        );
    }

    #[test]
    fn a_closed_mailbox_drops_messages_and_wakes_no_one() {
        let (mailbox, mut inbox) = (Mailbox::default(), Inbox::default());
        let (counter, waker) = counting_waker();
        assert_eq!(inbox.take(&mailbox, &TAKEN, &[], Some(&waker)), Ok(None));
        mailbox.close();
        mailbox.push(data(1, 1));
        let mut batch = VecDeque::from([data(2, 2), data(3, 3)]);
        mailbox.push_batch(&mut batch);
        assert!(batch.is_empty(), "the batch is dropped");
        assert_eq!(wakes(&counter), 0);
        assert_eq!(inbox.try_receive(&mailbox, &TAKEN, &[]), Ok(None));
    }
}
