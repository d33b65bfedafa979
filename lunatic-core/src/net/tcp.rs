//! TCP: listeners and streams.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use lunatic_abi::{ResourceKind, ShutdownHow};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{each_addr, timeout_from_ms, timeout_ms, ToSocketAddrs};
use crate::host;
use crate::resource::Resource;

/// A listening TCP socket (std's `TcpListener`). `accept` suspends only the calling process.
/// Serializable: sending it moves it to the receiving process.
#[derive(Debug)]
pub struct TcpListener {
    resource: Resource,
}

impl TcpListener {
    /// Listens on the first of `addr`'s addresses that can be bound (port 0: any free port,
    /// see [`TcpListener::local_addr`]).
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable`, `PermissionDenied`; `InvalidInput` if `addr` does
    /// not parse.
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<Self> {
        each_addr(&addr, host::tcp_bind).map(|id| Self {
            resource: Resource::new(id, ResourceKind::TcpListener),
        })
    }

    /// Waits for the next connection; the stream and the peer's address.
    ///
    /// # Errors
    /// The socket's error (for example too many open files).
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (id, peer) = host::tcp_accept(self.resource.id()?)?;
        Ok((TcpStream::from_id(id), peer))
    }

    /// An endless iterator of accepted connections ([`TcpListener::accept`] without the
    /// peer's address).
    #[must_use]
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// The socket's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        host::socket_addr(self.resource.id()?, false)
    }

    /// A second handle to the same listener (it closes with the last handle).
    ///
    /// # Errors
    /// `NotConnected` if this one was moved into a message.
    pub fn try_clone(&self) -> io::Result<Self> {
        self.resource.try_clone().map(|resource| Self { resource })
    }
}

/// The connections of a [`TcpListener`], from [`TcpListener::incoming`]; never ends.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().map(|(stream, _)| stream))
    }
}

/// A TCP connection (std's `TcpStream`): `Read` and `Write` suspend only the calling
/// process. Serializable: sending it moves it to the receiving process.
#[derive(Debug)]
pub struct TcpStream {
    resource: Resource,
}

impl TcpStream {
    fn from_id(id: u64) -> Self {
        Self {
            resource: Resource::new(id, ResourceKind::TcpStream),
        }
    }

    /// Connects to the first of `addr`'s addresses that accepts.
    ///
    /// # Errors
    /// `ConnectionRefused` (nobody listens), `TimedOut`, unreachable networks;
    /// `InvalidInput` if `addr` does not parse; `NotFound` if a name does not resolve.
    pub fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<Self> {
        each_addr(&addr, |addr| {
            host::tcp_connect(addr, lunatic_abi::WAIT_FOREVER)
        })
        .map(Self::from_id)
    }

    /// Connects to `addr`, giving up after `timeout`.
    ///
    /// # Errors
    /// `TimedOut`, and those of [`TcpStream::connect`]; `InvalidInput` for a zero
    /// `timeout`.
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<Self> {
        host::tcp_connect(addr, timeout_ms(Some(timeout))?).map(Self::from_id)
    }

    /// The address of the other end.
    ///
    /// # Errors
    /// The socket's error (`NotConnected` after the peer is gone, on some systems).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        host::socket_addr(self.resource.id()?, true)
    }

    /// This end's address.
    ///
    /// # Errors
    /// The socket's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        host::socket_addr(self.resource.id()?, false)
    }

    /// Shuts down reading, writing or both (the peer reads end of file after `Write`).
    ///
    /// # Errors
    /// The socket's error (`NotConnected`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let how = match how {
            Shutdown::Read => ShutdownHow::Read,
            Shutdown::Write => ShutdownHow::Write,
            Shutdown::Both => ShutdownHow::Both,
        };
        host::tcp_shutdown(self.resource.id()?, how)
    }

    /// A second handle to the same connection, for example to read in one process and
    /// write in another. Timeouts are shared; the connection closes with the last handle.
    ///
    /// # Errors
    /// `NotConnected` if this one was moved into a message.
    pub fn try_clone(&self) -> io::Result<Self> {
        self.resource.try_clone().map(|resource| Self { resource })
    }

    /// Makes reads fail with `TimedOut` after waiting `timeout` (`None`: wait forever).
    /// Shared by every handle to this connection, in any process.
    ///
    /// # Errors
    /// `InvalidInput` for a zero duration, as in std.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        host::set_timeout(self.resource.id()?, false, timeout_ms(timeout)?);
        Ok(())
    }

    /// Makes writes fail with `TimedOut` after waiting `timeout` (`None`: wait forever).
    ///
    /// # Errors
    /// `InvalidInput` for a zero duration, as in std.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        host::set_timeout(self.resource.id()?, true, timeout_ms(timeout)?);
        Ok(())
    }

    /// The read timeout (whole milliseconds, rounded up).
    ///
    /// # Errors
    /// `NotConnected` if the stream was moved into a message.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(timeout_from_ms(host::timeout(self.resource.id()?, false)))
    }

    /// The write timeout (whole milliseconds, rounded up).
    ///
    /// # Errors
    /// `NotConnected` if the stream was moved into a message.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(timeout_from_ms(host::timeout(self.resource.id()?, true)))
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        host::tcp_read(self.resource.id()?, buf)
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        host::tcp_write(self.resource.id()?, buf)
    }

    /// Nothing to do: writes are not buffered in the process.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Serialize for TcpStream {
    /// Moves the stream into the message being sent.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.resource.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TcpStream {
    /// Takes the stream out of the message being received.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Resource::deserialize(ResourceKind::TcpStream, deserializer)
            .map(|resource| Self { resource })
    }
}

impl Serialize for TcpListener {
    /// Moves the listener into the message being sent.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.resource.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TcpListener {
    /// Takes the listener out of the message being received.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Resource::deserialize(ResourceKind::TcpListener, deserializer)
            .map(|resource| Self { resource })
    }
}
