//! Resources: host objects (sockets) a process holds by id and can move to another process
//! inside a message.
//!
//! A process's `ResourceTable` owns its resources; its ids are the process's own
//! (capabilities, like environment ids). Sending moves a resource out of the table into the
//! outgoing message's [`MessageResources`]; the receiver takes it into its own table while
//! it deserializes the message. Whatever nobody takes is dropped with the message, and a
//! table is dropped with its process's `Store`: a socket is closed when its last handle
//! goes, never leaked.

pub(crate) mod net;

use std::sync::Arc;

use lunatic_abi::ResourceKind;

use crate::process::state::HandleTable;
use crate::resources::net::{TcpListenerResource, TcpStreamResource, UdpSocketResource};

/// One resource. Handles are reference-counted so that `lunatic::resource::clone` can give
/// a second handle to the same socket (std's `try_clone`); the socket closes with the last.
#[derive(Debug, Clone)]
pub(crate) enum Resource {
    /// A connected TCP stream.
    TcpStream(Arc<TcpStreamResource>),
    /// A listening TCP socket.
    TcpListener(Arc<TcpListenerResource>),
    /// A UDP socket.
    UdpSocket(Arc<UdpSocketResource>),
}

impl Resource {
    /// What the resource is.
    #[must_use]
    pub(crate) fn kind(&self) -> ResourceKind {
        match self {
            Self::TcpStream(_) => ResourceKind::TcpStream,
            Self::TcpListener(_) => ResourceKind::TcpListener,
            Self::UdpSocket(_) => ResourceKind::UdpSocket,
        }
    }

    /// Whether both are handles to the same socket.
    #[must_use]
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::TcpStream(a), Self::TcpStream(b)) => Arc::ptr_eq(a, b),
            (Self::TcpListener(a), Self::TcpListener(b)) => Arc::ptr_eq(a, b),
            (Self::UdpSocket(a), Self::UdpSocket(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// The resources one process holds, by id.
pub(crate) type ResourceTable = HandleTable<Resource>;

/// Why [`MessageResources::take`] gave nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TakeError {
    /// No resource at that index, or it was taken already.
    NotFound,
    /// The resource there is of another kind; it stays in the message.
    WrongKind,
}

/// The resources travelling in one message, by index (the guest serializes the index in
/// the message's bytes). Taking one leaves its slot empty, so indices stay stable.
///
/// One word when empty, as nearly every message's is: messages are moved several times a
/// hop, and a `Vec` inline made every one of them two words larger.
#[derive(Debug, Default)]
pub(crate) struct MessageResources {
    slots: Option<Box<Slots>>,
}

/// The slots of a message that carries resources.
#[derive(Debug, Default)]
struct Slots(Vec<Option<Resource>>);

impl MessageResources {
    /// Adds `resource`; returns its index.
    pub(crate) fn push(&mut self, resource: Resource) -> u32 {
        let slots = &mut self.slots.get_or_insert_with(Box::default).0;
        slots.push(Some(resource));
        // `push_to_message` caps a message at 1024 resources, so the count fits easily.
        u32::try_from(slots.len() - 1).unwrap_or(u32::MAX)
    }

    fn slots(&self) -> &[Option<Resource>] {
        self.slots.as_deref().map_or(&[], |slots| &slots.0)
    }

    /// Takes the resource at `index` if it is of `kind`.
    ///
    /// # Errors
    /// There is none at `index` (any more), or it is of another kind.
    pub(crate) fn take(&mut self, index: u32, kind: ResourceKind) -> Result<Resource, TakeError> {
        let slot = self
            .slots
            .as_deref_mut()
            .and_then(|slots| slots.0.get_mut(index as usize))
            .ok_or(TakeError::NotFound)?;
        match slot {
            None => Err(TakeError::NotFound),
            Some(resource) if resource.kind() != kind => Err(TakeError::WrongKind),
            Some(_) => slot.take().ok_or(TakeError::NotFound),
        }
    }

    /// How many resources were put in (taken ones included).
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.slots().len()
    }
}

impl PartialEq for MessageResources {
    /// Equal when both hold handles to the same sockets in the same slots.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .slots()
                .iter()
                .zip(other.slots())
                .all(|pair| match pair {
                    (Some(a), Some(b)) => a.same_as(b),
                    (None, None) => true,
                    _ => false,
                })
    }
}

impl Eq for MessageResources {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn taking_checks_index_and_kind_and_empties_the_slot() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let permit = crate::resources::net::SocketBudget::new(1)
            .acquire(None)
            .unwrap();
        let listener = TcpListenerResource::new(listener, permit);
        let mut resources = MessageResources::default();
        let index = resources.push(Resource::TcpListener(Arc::new(listener)));
        assert_eq!(index, 0);
        assert_eq!(
            resources.take(0, ResourceKind::TcpStream).unwrap_err(),
            TakeError::WrongKind
        );
        assert!(resources.take(0, ResourceKind::TcpListener).is_ok());
        assert_eq!(
            resources.take(0, ResourceKind::TcpListener).unwrap_err(),
            TakeError::NotFound
        );
        assert_eq!(
            resources.take(7, ResourceKind::TcpListener).unwrap_err(),
            TakeError::NotFound
        );
        assert_eq!(resources.len(), 1);
    }
}
