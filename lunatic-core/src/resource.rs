//! An owned handle to a host resource (a socket): closed when dropped, moved into a message
//! when serialized, taken out of the received message when deserialized.

use std::cell::Cell;
use std::fmt;
use std::io;

use lunatic_abi::{ResourceKind, ResourceStatus};
use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::host;
use crate::transfer;

/// The calling process's handle `id` to a resource of one kind. Serializing it moves the
/// resource into the outgoing message (the handle is then empty: its owner is being sent
/// anyway), so `Serialize` works through `&self` with a `Cell`.
pub(crate) struct Resource {
    id: Cell<Option<u64>>,
    kind: ResourceKind,
}

impl Resource {
    /// Takes ownership of handle `id`, a `kind`.
    pub(crate) fn new(id: u64, kind: ResourceKind) -> Self {
        Self {
            id: Cell::new(Some(id)),
            kind,
        }
    }

    /// The handle's id.
    ///
    /// # Errors
    /// `NotConnected` if the resource was moved into a message.
    pub(crate) fn id(&self) -> io::Result<u64> {
        self.id.get().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                format!("the {} was moved into a message", describe(self.kind)),
            )
        })
    }

    /// A second handle to the same resource.
    ///
    /// # Errors
    /// `NotConnected` if the resource was moved into a message.
    pub(crate) fn try_clone(&self) -> io::Result<Self> {
        Ok(Self::new(host::clone_resource(self.id()?), self.kind))
    }

    /// Moves the resource into the outgoing message and writes its index there.
    ///
    /// # Errors
    /// No message is being sent, or the resource was moved already.
    pub(crate) fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let what = describe(self.kind);
        if !transfer::writing_message() {
            return Err(S::Error::custom(format!(
                "a {what} can only be serialized into a message being sent"
            )));
        }
        let id = self.id.take().ok_or_else(|| {
            S::Error::custom(format!("the {what} was moved into a message already"))
        })?;
        transfer::start_message();
        host::push_resource(id).serialize(serializer)
    }

    /// Reads an index and takes that resource, a `kind`, out of the incoming message.
    ///
    /// # Errors
    /// No message is being received, or it holds no `kind` at that index.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        kind: ResourceKind,
        deserializer: D,
    ) -> Result<Self, D::Error> {
        let what = describe(kind);
        if !transfer::reading_message() {
            return Err(D::Error::custom(format!(
                "a {what} can only be deserialized from a received message"
            )));
        }
        let index = u32::deserialize(deserializer)?;
        match host::take_resource(index, kind) {
            Ok(id) => Ok(Self::new(id, kind)),
            Err(ResourceStatus::WrongKind) => Err(D::Error::custom(format!(
                "resource {index} of the message is not a {what}"
            ))),
            Err(_) => Err(D::Error::custom(format!(
                "the message holds no resource {index} (or it was taken already)"
            ))),
        }
    }
}

impl Drop for Resource {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            host::drop_resource(id);
        }
    }
}

impl fmt::Debug for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id.get() {
            Some(id) => write!(f, "{} {id}", describe(self.kind)),
            None => write!(f, "{} (moved)", describe(self.kind)),
        }
    }
}

/// The resource kind as error messages name it.
fn describe(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::TcpStream => "TcpStream",
        ResourceKind::TcpListener => "TcpListener",
        ResourceKind::UdpSocket => "UdpSocket",
    }
}
