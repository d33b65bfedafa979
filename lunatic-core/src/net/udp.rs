//! UDP sockets.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use lunatic_abi::ResourceKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{each_addr, timeout_from_ms, timeout_ms, ToSocketAddrs};
use crate::host;
use crate::resource::Resource;

/// A UDP socket (std's `UdpSocket`): receiving suspends only the calling process.
/// Serializable: sending it moves it to the receiving process.
#[derive(Debug)]
pub struct UdpSocket {
    resource: Resource,
}

impl UdpSocket {
    /// Binds to the first of `addr`'s addresses that can be bound (port 0: any free port).
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable`; `InvalidInput` if `addr` does not parse.
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<Self> {
        each_addr(&addr, host::udp_bind).map(|id| Self {
            resource: Resource::new(id, ResourceKind::UdpSocket),
        })
    }

    /// Sends `buf` as one datagram to the first of `addr`'s addresses; bytes sent.
    ///
    /// # Errors
    /// The socket's error; `InvalidInput` for a datagram over 64 KiB or an address that
    /// does not parse.
    pub fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], addr: A) -> io::Result<usize> {
        let id = self.resource.id()?;
        let target = addr.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to")
        })?;
        host::udp_send(id, buf, Some(&target))
    }

    /// Waits for one datagram; its length (the rest of a datagram longer than `buf` is
    /// dropped) and sender.
    ///
    /// # Errors
    /// The socket's error; `TimedOut` after the read timeout.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        host::udp_recv_from(self.resource.id()?, buf)
    }

    /// Sets the only peer: `send` goes there and `recv` takes only its datagrams.
    ///
    /// # Errors
    /// The socket's error; `InvalidInput` if `addr` does not parse.
    pub fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let id = self.resource.id()?;
        each_addr(&addr, |addr| host::udp_connect(id, addr))
    }

    /// Sends `buf` as one datagram to the connected peer.
    ///
    /// # Errors
    /// `NotConnected` if [`UdpSocket::connect`] was not called; the socket's error.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        host::udp_send(self.resource.id()?, buf, None)
    }

    /// Waits for one datagram from the connected peer.
    ///
    /// # Errors
    /// `NotConnected` if [`UdpSocket::connect`] was not called; `TimedOut` after the read
    /// timeout; the socket's error.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        host::udp_recv(self.resource.id()?, buf)
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    /// The socket's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        host::socket_addr(self.resource.id()?, false)
    }

    /// The connected peer.
    ///
    /// # Errors
    /// `NotConnected` if there is none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        host::socket_addr(self.resource.id()?, true)
    }

    /// Makes receives fail with `TimedOut` after waiting `timeout` (`None`: forever).
    ///
    /// # Errors
    /// `InvalidInput` for a zero duration, as in std.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        host::set_timeout(self.resource.id()?, false, timeout_ms(timeout)?);
        Ok(())
    }

    /// Makes sends fail with `TimedOut` after waiting `timeout` (`None`: forever).
    ///
    /// # Errors
    /// `InvalidInput` for a zero duration, as in std.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        host::set_timeout(self.resource.id()?, true, timeout_ms(timeout)?);
        Ok(())
    }

    /// The read timeout.
    ///
    /// # Errors
    /// `NotConnected` if the socket was moved into a message.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(timeout_from_ms(host::timeout(self.resource.id()?, false)))
    }

    /// The write timeout.
    ///
    /// # Errors
    /// `NotConnected` if the socket was moved into a message.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(timeout_from_ms(host::timeout(self.resource.id()?, true)))
    }

    /// A second handle to the same socket.
    ///
    /// # Errors
    /// `NotConnected` if this one was moved into a message.
    pub fn try_clone(&self) -> io::Result<Self> {
        self.resource.try_clone().map(|resource| Self { resource })
    }
}

impl Serialize for UdpSocket {
    /// Moves the socket into the message being sent.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.resource.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for UdpSocket {
    /// Takes the socket out of the message being received.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Resource::deserialize(ResourceKind::UdpSocket, deserializer)
            .map(|resource| Self { resource })
    }
}
