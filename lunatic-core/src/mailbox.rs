//! Mailboxes: how a process receives.
//!
//! | type | a process gets it | link deaths |
//! |---|---|---|
//! | [`Mailbox`] | as its entry argument | kill this process too (cascading) |
//! | [`LinkMailbox`] | from `spawn_link` | arrive as [`Message::Signal`] |

use std::marker::PhantomData;
use std::time::Duration;

use lunatic_abi::EndReason;

use crate::codec::Sendable;
use crate::error::ReceiveError;
use crate::host::{self, Received};
use crate::process::ProcessId;
use crate::tag::Tag;

/// A notice that a process ended: the [`Signal`] of a link or the [`Down`] of a monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndNotice {
    process: ProcessId,
    tag: Tag,
    reason: EndReason,
}

impl EndNotice {
    /// The notice that is the current incoming message, whose bytes (the encoded reason)
    /// are `reason`. Never inlined: it would make every receive larger.
    #[inline(never)]
    fn read_incoming(reason: &[u8]) -> Self {
        Self {
            process: {
                let (node, process) = host::signal_process();
                ProcessId::on_node(node, process)
            },
            tag: Tag::from_id(host::message_tag()),
            // The VM encodes every reason it hands out.
            reason: EndReason::decode(reason)
                .unwrap_or_else(|bad| EndReason::VmFailed(format!("{bad} in an end notice"))),
        }
    }

    /// The id of the process that ended.
    #[must_use]
    pub fn id(&self) -> u128 {
        self.process.as_u128()
    }

    /// The address of the process that ended.
    #[must_use]
    pub fn process_id(&self) -> ProcessId {
        self.process
    }

    /// The tag of the link (from `spawn_link` or `Process::link`) or of the monitor (from
    /// `Process::monitor`).
    #[must_use]
    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// Why the process ended: match its variants (its `Display` text is for people).
    #[must_use]
    pub fn reason(&self) -> &EndReason {
        &self.reason
    }
}

/// A linked process died abnormally; received by processes that trap link deaths.
pub type Signal = EndNotice;

/// A monitored process ended (for any reason); received by the process that called
/// [`Process::monitor`](crate::Process::monitor).
pub type Down = EndNotice;

/// What a [`LinkMailbox`] receives.
#[derive(Debug)]
pub enum Message<M> {
    /// A message, or why none could be received: a monitored process's end arrives here,
    /// as `Err(ReceiveError::ProcessDown(..))`, as it does on a [`Mailbox`].
    Normal(Result<M, ReceiveError>),
    /// A linked process died.
    Signal(Signal),
}

impl<M> Message<M> {
    /// Whether this is a link-death signal.
    #[must_use]
    pub fn is_signal(&self) -> bool {
        matches!(self, Self::Signal(_))
    }

    /// Whether this is a normal message (or a receive error).
    #[must_use]
    pub fn is_normal(&self) -> bool {
        matches!(self, Self::Normal(_))
    }
}

/// One step of a receive: the raw outcome before the mailbox type decides what it means.
pub(crate) enum Incoming<M> {
    Data(Result<M, ReceiveError>),
    // Boxed, so the data case, the common one, is not copied as large as a notice.
    Signal(Box<Signal>),
    Down(Box<Down>),
}

/// Receives the next message tagged with one of `tags` (any when empty), as an `M`.
#[inline(always)]
pub(crate) fn receive_raw<M: Sendable>(tags: &[Tag], timeout: Option<Duration>) -> Incoming<M> {
    let mut buffer = host::receive_buffer();
    let (received, bytes, metadata) = host::receive(tags, timeout, &mut buffer);
    match received {
        Received::TimedOut => Incoming::Data(Err(ReceiveError::Timeout)),
        Received::Data => Incoming::Data(crate::transfer::decode_received(metadata, &bytes)),
        Received::Signal => Incoming::Signal(Box::new(EndNotice::read_incoming(&bytes))),
        Received::Down => Incoming::Down(Box::new(EndNotice::read_incoming(&bytes))),
    }
}

/// The mailbox of a process whose links, if any, kill it when they die. A down notice of a
/// monitored process is returned as [`ReceiveError::ProcessDown`].
///
/// # Panics
/// Every receive panics if a link-death signal arrives, which only happens if this process
/// also holds a [`LinkMailbox`] (the two are exclusive: see `spawn_link`).
#[derive(Debug)]
pub struct Mailbox<M> {
    _message: PhantomData<fn() -> M>,
}

impl<M: Sendable> Mailbox<M> {
    /// The mailbox of the calling process. Only the runtime's entry points make one.
    pub(crate) fn new() -> Self {
        Self {
            _message: PhantomData,
        }
    }

    fn take(tags: &[Tag], timeout: Option<Duration>) -> Result<M, ReceiveError> {
        match receive_raw(tags, timeout) {
            Incoming::Data(message) => message,
            Incoming::Down(down) => Err(ReceiveError::ProcessDown(down)),
            Incoming::Signal(signal) => panic!(
                "a plain Mailbox received a link signal (process {} died: {})",
                signal.id(),
                signal.reason()
            ),
        }
    }

    /// Waits for the next message.
    ///
    /// # Errors
    /// [`ReceiveError::WrongType`] if the message is not an `M`.
    pub fn receive(&self) -> Result<M, ReceiveError> {
        Self::take(&[], None)
    }

    /// Waits up to `timeout` for the next message.
    ///
    /// # Errors
    /// [`ReceiveError::Timeout`] if none came; [`ReceiveError::WrongType`].
    pub fn receive_timeout(&self, timeout: Duration) -> Result<M, ReceiveError> {
        Self::take(&[], Some(timeout))
    }

    /// Waits for the next message and returns it with its tag.
    ///
    /// # Errors
    /// [`ReceiveError::WrongType`] if the message is not an `M`.
    pub fn receive_with_tag(&self) -> Result<(M, Tag), ReceiveError> {
        // The message just received is still the host's incoming one: ask for its tag.
        Self::take(&[], None).map(|message| (message, Tag::from_id(host::message_tag())))
    }

    /// Waits for the first message tagged with one of `tags`, leaving others queued
    /// (selective receive). An empty `tags` takes any message.
    ///
    /// # Errors
    /// [`ReceiveError::WrongType`] if the message is not an `M`.
    pub fn tag_receive(&self, tags: &[Tag]) -> Result<M, ReceiveError> {
        Self::take(tags, None)
    }

    /// Makes this process receive the deaths of linked processes as
    /// [`Message::Signal`]s instead of dying with them (Erlang's `trap_exit`); the mirror of
    /// [`LinkMailbox::panic_if_link_panics`].
    #[must_use]
    pub fn catch_link_panics(self) -> LinkMailbox<M> {
        LinkMailbox::new()
    }

    /// [`Mailbox::tag_receive`] with a timeout.
    ///
    /// # Errors
    /// [`ReceiveError::Timeout`]; [`ReceiveError::WrongType`].
    pub fn tag_receive_timeout(&self, tags: &[Tag], timeout: Duration) -> Result<M, ReceiveError> {
        Self::take(tags, Some(timeout))
    }
}

/// The mailbox of a process that receives the deaths of linked processes as
/// [`Message::Signal`]s instead of dying with them.
#[derive(Debug)]
pub struct LinkMailbox<M> {
    _message: PhantomData<fn() -> M>,
}

impl<M: Sendable> LinkMailbox<M> {
    /// Turns this process into one that traps link deaths.
    pub(crate) fn new() -> Self {
        host::die_when_link_dies(false);
        Self {
            _message: PhantomData,
        }
    }

    fn take(tags: &[Tag], timeout: Option<Duration>) -> Message<M> {
        match receive_raw(tags, timeout) {
            Incoming::Data(message) => Message::Normal(message),
            Incoming::Signal(signal) => Message::Signal(*signal),
            Incoming::Down(down) => Message::Normal(Err(ReceiveError::ProcessDown(down))),
        }
    }

    /// Waits for the next message or signal.
    pub fn receive(&self) -> Message<M> {
        Self::take(&[], None)
    }

    /// Waits up to `timeout`; `Message::Normal(Err(ReceiveError::Timeout))` if nothing came.
    pub fn receive_timeout(&self, timeout: Duration) -> Message<M> {
        Self::take(&[], Some(timeout))
    }

    /// Waits for the first message or signal tagged with one of `tags`.
    pub fn tag_receive(&self, tags: &[Tag]) -> Message<M> {
        Self::take(tags, None)
    }

    /// [`LinkMailbox::tag_receive`] with a timeout.
    pub fn tag_receive_timeout(&self, tags: &[Tag], timeout: Duration) -> Message<M> {
        Self::take(tags, Some(timeout))
    }

    /// Makes link deaths kill this process again and returns a plain [`Mailbox`]. If a link
    /// already died and its signal is still queued, the process dies now.
    #[must_use]
    pub fn panic_if_link_panics(self) -> Mailbox<M> {
        host::die_when_link_dies(true);
        Mailbox::new()
    }
}
