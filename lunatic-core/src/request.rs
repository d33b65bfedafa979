//! Request/reply: a message that carries its sender, and the wait for the reply.

use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::codec::Sendable;
use crate::error::ReceiveError;
use crate::host;
use crate::mailbox::{receive_raw, Incoming};
use crate::process::{Process, ProcessId};
use crate::tag::Tag;

/// A request of type `T` expecting a reply of type `U`. It captures the sender and a fresh
/// tag, so the server can [`reply`](Request::reply) and the client waits for exactly that
/// reply, whatever else is in its mailbox.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: DeserializeOwned"))]
pub struct Request<T, U> {
    data: T,
    tag: Tag,
    sender: ProcessId,
    #[serde(skip)]
    _reply: PhantomData<fn() -> U>,
}

impl<T, U: Sendable> Request<T, U> {
    /// A request from the calling process, and the handle to wait for its reply. Send the
    /// request (alone or inside another message) to the server, then wait.
    pub fn new(data: T) -> (Self, PendingReply<U>) {
        Self::tagged(data, Tag::new(), None)
    }

    /// A request to `server`, watching it while the reply is awaited: a dead server ends
    /// the wait at once. As OTP's `gen_server:call` does, the reply takes the monitor's
    /// tag, so a request costs one tag.
    pub fn watching<M>(data: T, server: &Process<M>) -> (Self, PendingReply<U>) {
        let monitor = server.monitor();
        Self::tagged(data, monitor, Some((server.process_id(), monitor)))
    }

    /// A request whose reply carries `tag` (fresh and unguessable), watching `monitor`'s
    /// server when given (whose monitor tag `tag` may be).
    fn tagged(data: T, tag: Tag, monitor: Option<(ProcessId, Tag)>) -> (Self, PendingReply<U>) {
        let request = Self {
            data,
            tag,
            sender: ProcessId::current(),
            _reply: PhantomData,
        };
        (
            request,
            PendingReply {
                tag,
                monitor,
                settled: false,
                _reply: PhantomData,
            },
        )
    }

    /// The request's payload.
    #[must_use]
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The request's payload, mutable.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// The payload, taking the request apart (reply later with [`Request::reply_to`]).
    #[must_use]
    pub fn into_parts(self) -> (T, ReplyTo<U>) {
        (
            self.data,
            ReplyTo {
                tag: self.tag,
                sender: self.sender,
                _reply: PhantomData,
            },
        )
    }

    /// The process that sent the request (it waits for a `U`).
    #[must_use]
    pub fn sender(&self) -> Process<U> {
        Process::from_id(self.sender)
    }

    /// Sends the reply to the waiting sender.
    ///
    /// # Panics
    /// If `U`'s `Serialize` implementation fails.
    pub fn reply(self, reply: U) {
        self.sender().tag_send(self.tag, reply);
    }

    /// Where the reply of this request goes, without the payload.
    #[must_use]
    pub fn reply_to(&self) -> ReplyTo<U> {
        ReplyTo {
            tag: self.tag,
            sender: self.sender,
            _reply: PhantomData,
        }
    }
}

/// The address a reply goes to: what is left of a [`Request`] once its payload is taken.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReplyTo<U> {
    tag: Tag,
    sender: ProcessId,
    #[serde(skip)]
    _reply: PhantomData<fn() -> U>,
}

impl<U: Sendable> ReplyTo<U> {
    /// The process that asked (and waits for the reply).
    #[must_use]
    pub fn caller(&self) -> ProcessId {
        self.sender
    }

    /// Sends the reply.
    ///
    /// # Panics
    /// If `U`'s `Serialize` implementation fails.
    pub fn send(self, reply: U) {
        Process::<U>::from_id(self.sender).tag_send(self.tag, reply);
    }
}

/// The caller's side of a [`Request`]: waits for its reply.
///
/// A reply that comes after the wait gave up (a timeout), or to a `PendingReply` dropped
/// without waiting, is dropped by the runtime on arrival, as Erlang drops messages to a
/// deactivated alias: it never turns up later as a stray message in the mailbox.
#[derive(Debug)]
#[must_use = "a request's reply is only received by waiting for it"]
pub struct PendingReply<U> {
    tag: Tag,
    /// The server being watched, and the monitor's tag.
    monitor: Option<(ProcessId, Tag)>,
    /// Whether the reply (or the server's end) was received.
    settled: bool,
    _reply: PhantomData<fn() -> U>,
}

impl<U> Drop for PendingReply<U> {
    fn drop(&mut self) {
        if let Some((server, monitor)) = self.monitor.take() {
            Process::<()>::from_id(server).demonitor(monitor);
        }
        if !self.settled {
            host::abandon_tag(self.tag);
        }
    }
}

impl<U> PendingReply<U> {
    /// The tag the reply is awaited under.
    pub(crate) fn tag(&self) -> Tag {
        self.tag
    }
}

impl<U: Sendable> PendingReply<U> {
    /// Watches `server` while waiting: if it is not alive or ends before replying, the wait
    /// returns [`ReceiveError::ProcessDown`] at once instead of waiting for nothing.
    pub fn monitor<M>(mut self, server: &Process<M>) -> Self {
        self.monitor = Some((server.process_id(), server.monitor()));
        self
    }

    /// Waits for the reply.
    ///
    /// # Errors
    /// [`ReceiveError::ProcessDown`] if the watched server ended;
    /// [`ReceiveError::Rejected`] if the request was sent with
    /// [`Process::send_awaiting`] and the receiver takes another type;
    /// [`ReceiveError::WrongType`] if the reply is not a `U`.
    pub fn wait(self) -> Result<U, ReceiveError> {
        self.wait_for(None)
    }

    /// Waits up to `timeout` for the reply.
    ///
    /// # Errors
    /// [`ReceiveError::Timeout`], and those of [`PendingReply::wait`].
    pub fn wait_timeout(self, timeout: Duration) -> Result<U, ReceiveError> {
        self.wait_for(Some(timeout))
    }

    fn wait_for(mut self, timeout: Option<Duration>) -> Result<U, ReceiveError> {
        let tags: &[Tag] = match &self.monitor {
            Some((_, monitor)) if *monitor != self.tag => &[self.tag, *monitor],
            _ => &[self.tag],
        };
        let outcome = match receive_raw::<U>(tags, timeout) {
            Incoming::Data(reply) => reply,
            Incoming::Down(down) => Err(ReceiveError::ProcessDown(down)),
            // A signal only matches if it carries one of these tags, and tags are unique.
            Incoming::Signal(_) => Err(ReceiveError::Timeout),
        };
        // Anything but a timeout is the end of this request; after a timeout, dropping
        // `self` abandons the tag (and the monitor goes either way).
        self.settled = !matches!(outcome, Err(ReceiveError::Timeout));
        outcome
    }
}

impl<T: Sendable, U: Sendable> Process<Request<T, U>> {
    /// Sends `data` as a request and waits for the reply. The server is watched meanwhile,
    /// so a dead server is an error, not a wait forever.
    ///
    /// # Errors
    /// [`ReceiveError::ProcessDown`] if the server is not alive or dies before replying;
    /// [`ReceiveError::Rejected`] at once if the server takes another type;
    /// [`ReceiveError::WrongType`] if the reply is not a `U`.
    pub fn request(&self, data: T) -> Result<U, ReceiveError> {
        self.send_request(data).wait()
    }

    /// [`Process::request`], giving up after `timeout` with [`ReceiveError::Timeout`].
    ///
    /// # Errors
    /// [`ReceiveError::Timeout`], and those of [`Process::request`].
    pub fn request_timeout(&self, data: T, timeout: Duration) -> Result<U, ReceiveError> {
        self.send_request(data).wait_timeout(timeout)
    }

    /// The reply and the server's down notice share the monitor's tag
    /// ([`Request::watching`]) and are told apart by kind.
    fn send_request(&self, data: T) -> PendingReply<U> {
        let (request, reply) = Request::watching(data, self);
        self.send_awaiting(request, &reply);
        reply
    }
}
