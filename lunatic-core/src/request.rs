//! Request/reply: a message that carries its sender, and the call that waits for the reply.

use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::codec::{decode, Sendable};
use crate::error::ReceiveError;
use crate::host;
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
    /// The request's payload.
    #[must_use]
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The request's payload, mutable.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
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
}

impl<T: Sendable, U: Sendable> Process<Request<T, U>> {
    /// Sends `data` as a request and waits for the reply.
    ///
    /// # Errors
    /// [`ReceiveError::DeserializationFailed`] if the reply is not a `U`.
    pub fn request(&self, data: T) -> Result<U, ReceiveError> {
        self.call(data, None)
    }

    /// [`Process::request`], giving up after `timeout` with [`ReceiveError::Timeout`].
    ///
    /// # Errors
    /// [`ReceiveError::Timeout`]; [`ReceiveError::DeserializationFailed`].
    pub fn request_timeout(&self, data: T, timeout: Duration) -> Result<U, ReceiveError> {
        self.call(data, Some(timeout))
    }

    fn call(&self, data: T, timeout: Option<Duration>) -> Result<U, ReceiveError> {
        let tag = Tag::new();
        let sender = ProcessId::current();
        self.send(Request {
            data,
            tag,
            sender,
            _reply: PhantomData,
        });
        match host::receive(&[tag.id()], timeout) {
            host::Received::Data => decode(&host::message_data()),
            host::Received::TimedOut => Err(ReceiveError::Timeout),
            // A signal only matches if it carries this tag, and tags are unique.
            host::Received::Signal => Err(ReceiveError::DeserializationFailed(
                "a signal answered a request".into(),
            )),
        }
    }
}
