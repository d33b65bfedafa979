//! Sockets as processes hold them, and the waiting I/O on them. Everything is tokio: a
//! process blocked on a socket suspends its own task, never a thread.
//!
//! | item | job |
//! |---|---|
//! | [`TcpStreamResource`], [`UdpSocketResource`] | a socket and its read/write timeouts |
//! | [`Timeouts`] | timeouts shared by every handle to one socket, as with std's `SO_RCVTIMEO` |
//! | [`io_status`] | an `std::io::ErrorKind` as the ABI's [`IoStatus`] |
//! | [`connect`], [`resolve`], [`with_timeout`] | waiting operations, bounded by a timeout |

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lunatic_abi::{IoStatus, Limit, WAIT_FOREVER};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::sandbox::budget::{Budget, Held};

/// A read and a write timeout in milliseconds ([`WAIT_FOREVER`]: none). Atomics, because
/// every handle to the socket (in any process) shares them.
#[derive(Debug)]
pub(crate) struct Timeouts {
    read_ms: AtomicU64,
    write_ms: AtomicU64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            read_ms: AtomicU64::new(WAIT_FOREVER),
            write_ms: AtomicU64::new(WAIT_FOREVER),
        }
    }
}

impl Timeouts {
    /// The read timeout in milliseconds ([`WAIT_FOREVER`]: none).
    #[must_use]
    pub(crate) fn read_ms(&self) -> u64 {
        self.read_ms.load(Ordering::Relaxed)
    }

    /// The write timeout in milliseconds ([`WAIT_FOREVER`]: none).
    #[must_use]
    pub(crate) fn write_ms(&self) -> u64 {
        self.write_ms.load(Ordering::Relaxed)
    }

    /// Sets the read timeout.
    pub(crate) fn set_read_ms(&self, ms: u64) {
        self.read_ms.store(ms, Ordering::Relaxed);
    }

    /// Sets the write timeout.
    pub(crate) fn set_write_ms(&self, ms: u64) {
        self.write_ms.store(ms, Ordering::Relaxed);
    }
}

/// How many sockets the VM's processes may hold open at once, all together. A guest that
/// binds or connects in a loop (or sends sockets nobody receives) reaches this limit, and
/// gets an error, before the host runs out of file descriptors, which would break every
/// other process's networking and the host's own files.
#[derive(Debug)]
pub(crate) struct SocketBudget {
    open: AtomicUsize,
    max: usize,
}

impl SocketBudget {
    /// A budget of `max` sockets.
    #[must_use]
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            open: AtomicUsize::new(0),
            max,
        })
    }

    /// Reserves one socket, before it is created: one of the VM's, and one of the
    /// limit of the caller's environment (`env`; `None` for the root).
    ///
    /// # Errors
    /// `Other`, saying which, when either limit is reached.
    pub(crate) fn acquire(self: &Arc<Self>, env: Option<&Arc<Budget>>) -> io::Result<SocketPermit> {
        let charge = env
            .map(|budget| budget.hold(Limit::Descriptors, 1))
            .transpose()
            .map_err(io::Error::other)?;
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max).then_some(open + 1)
            });
        match taken {
            Ok(_) => Ok(SocketPermit {
                budget: Arc::clone(self),
                _charge: charge,
            }),
            Err(_) => Err(io::Error::other(format!(
                "the VM's limit of {} open sockets is reached (--max-sockets)",
                self.max
            ))),
        }
    }

    /// Sockets open now.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

/// One socket's share of the [`SocketBudget`] and of its environment's limit, given back
/// when the socket is dropped.
#[derive(Debug)]
pub(crate) struct SocketPermit {
    budget: Arc<SocketBudget>,
    _charge: Option<Held>,
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        self.budget.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A listening TCP socket.
#[derive(Debug)]
pub(crate) struct TcpListenerResource {
    /// The socket.
    pub(crate) listener: TcpListener,
    _permit: SocketPermit,
}

impl TcpListenerResource {
    /// Wraps a bound listener with its permit.
    #[must_use]
    pub(crate) fn new(listener: TcpListener, permit: SocketPermit) -> Self {
        Self {
            listener,
            _permit: permit,
        }
    }
}

/// A connected TCP stream. Reads and writes go through `&self` (readiness, then a
/// non-blocking attempt), so one process can read while another writes to a clone.
#[derive(Debug)]
pub(crate) struct TcpStreamResource {
    /// The socket.
    pub(crate) stream: TcpStream,
    /// Its timeouts.
    pub(crate) timeouts: Timeouts,
    _permit: SocketPermit,
}

impl TcpStreamResource {
    /// Wraps a connected stream and its permit, with no timeouts.
    #[must_use]
    pub(crate) fn new(stream: TcpStream, permit: SocketPermit) -> Self {
        Self {
            stream,
            timeouts: Timeouts::default(),
            _permit: permit,
        }
    }

    /// Reads at most `max` bytes (at least 1) into the spare capacity of `buf` (no zeroing
    /// of a buffer the guest may have made large), waiting up to the read timeout; 0 bytes
    /// means end of file.
    ///
    /// # Errors
    /// The socket's error, or `TimedOut`.
    pub(crate) async fn read(&self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        use bytes::BufMut as _;
        let read = async {
            loop {
                self.stream.readable().await?;
                // `Vec` grows by its own rules when full; the limit keeps the read to `max`.
                match self.stream.try_read_buf(&mut (&mut *buf).limit(max)) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    other => return other,
                }
            }
        };
        with_timeout(self.timeouts.read_ms(), "reading", read).await
    }

    /// Writes some of `bytes`, waiting up to the write timeout; returns how many.
    ///
    /// # Errors
    /// The socket's error, or `TimedOut`.
    pub(crate) async fn write(&self, bytes: &[u8]) -> io::Result<usize> {
        let write = async {
            loop {
                self.stream.writable().await?;
                match self.stream.try_write(bytes) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    other => return other,
                }
            }
        };
        with_timeout(self.timeouts.write_ms(), "writing", write).await
    }
}

/// A UDP socket.
#[derive(Debug)]
pub(crate) struct UdpSocketResource {
    /// The socket.
    pub(crate) socket: UdpSocket,
    /// Its timeouts.
    pub(crate) timeouts: Timeouts,
    _permit: SocketPermit,
}

impl UdpSocketResource {
    /// Wraps a bound socket and its permit, with no timeouts.
    #[must_use]
    pub(crate) fn new(socket: UdpSocket, permit: SocketPermit) -> Self {
        Self {
            _permit: permit,
            socket,
            timeouts: Timeouts::default(),
        }
    }

    /// Receives one datagram into `buf` (the rest of a longer one is dropped) and its
    /// sender, waiting up to the read timeout.
    ///
    /// # Errors
    /// The socket's error, or `TimedOut`.
    pub(crate) async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        with_timeout(
            self.timeouts.read_ms(),
            "receiving",
            self.socket.recv_from(buf),
        )
        .await
    }

    /// Receives one datagram from the connected peer, waiting up to the read timeout.
    ///
    /// # Errors
    /// Not connected, the socket's error, or `TimedOut`.
    pub(crate) async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        with_timeout(self.timeouts.read_ms(), "receiving", self.socket.recv(buf)).await
    }

    /// Sends `bytes` as one datagram to `to` (the connected peer when `None`), waiting up
    /// to the write timeout.
    ///
    /// # Errors
    /// Not connected (for `None`), the socket's error, or `TimedOut`.
    pub(crate) async fn send(&self, bytes: &[u8], to: Option<SocketAddr>) -> io::Result<usize> {
        let ms = self.timeouts.write_ms();
        match to {
            Some(addr) => with_timeout(ms, "sending", self.socket.send_to(bytes, addr)).await,
            // The system's error here is "destination address required": say what it means.
            None if self.socket.peer_addr().is_err() => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the UDP socket is not connected",
            )),
            None => with_timeout(ms, "sending", self.socket.send(bytes)).await,
        }
    }
}

/// Runs `work`, giving up with `TimedOut` after `ms` milliseconds ([`WAIT_FOREVER`]: never).
///
/// # Errors
/// `work`'s error, or `TimedOut` ("`what` timed out").
pub(crate) async fn with_timeout<T>(
    ms: u64,
    what: &str,
    work: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    if ms == WAIT_FOREVER {
        return work.await;
    }
    match tokio::time::timeout(Duration::from_millis(ms), work).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{what} timed out after {ms} ms"),
        )),
    }
}

/// Connects to `addr`, giving up after `timeout_ms` ([`WAIT_FOREVER`]: the system's own).
///
/// # Errors
/// The connection is refused, unreachable, or not made in time.
pub(crate) async fn connect(addr: SocketAddr, timeout_ms: u64) -> io::Result<TcpStream> {
    with_timeout(timeout_ms, "connecting", TcpStream::connect(addr)).await
}

/// The addresses `name` ("host:port") resolves to, through the system resolver on tokio's
/// blocking pool, giving up after `timeout_ms`.
///
/// # Errors
/// `InvalidInput` if `name` lacks a valid port; `NotFound` if it does not resolve (or to
/// nothing); `TimedOut`.
pub(crate) async fn resolve(name: &str, timeout_ms: u64) -> io::Result<Vec<SocketAddr>> {
    let lookup = async {
        match tokio::net::lookup_host(name).await {
            Ok(addrs) => Ok(addrs.collect::<Vec<_>>()),
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Err(e),
            Err(e) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("cannot resolve `{name}`: {e}"),
            )),
        }
    };
    let addrs = with_timeout(timeout_ms, "resolving", lookup).await?;
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("`{name}` resolves to no address"),
        ));
    }
    Ok(addrs)
}

/// The ABI's number for an I/O error of `kind`.
#[must_use]
pub(crate) fn io_status(kind: io::ErrorKind) -> IoStatus {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => IoStatus::NotFound,
        K::PermissionDenied => IoStatus::PermissionDenied,
        K::ConnectionRefused => IoStatus::ConnectionRefused,
        K::ConnectionReset => IoStatus::ConnectionReset,
        K::ConnectionAborted => IoStatus::ConnectionAborted,
        K::NotConnected => IoStatus::NotConnected,
        K::AddrInUse => IoStatus::AddrInUse,
        K::AddrNotAvailable => IoStatus::AddrNotAvailable,
        K::BrokenPipe => IoStatus::BrokenPipe,
        K::AlreadyExists => IoStatus::AlreadyExists,
        K::WouldBlock => IoStatus::WouldBlock,
        K::InvalidInput => IoStatus::InvalidInput,
        K::InvalidData => IoStatus::InvalidData,
        K::TimedOut => IoStatus::TimedOut,
        K::WriteZero => IoStatus::WriteZero,
        K::Interrupted => IoStatus::Interrupted,
        K::Unsupported => IoStatus::Unsupported,
        K::UnexpectedEof => IoStatus::UnexpectedEof,
        K::OutOfMemory => IoStatus::OutOfMemory,
        K::HostUnreachable => IoStatus::HostUnreachable,
        K::NetworkUnreachable => IoStatus::NetworkUnreachable,
        K::NetworkDown => IoStatus::NetworkDown,
        _ => IoStatus::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_time_out_and_kinds_map() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let budget = SocketBudget::new(1);
        let permit = budget.acquire(None).unwrap();
        let client = TcpStreamResource::new(connect(addr, 1000).await.unwrap(), permit);
        client.timeouts.set_read_ms(20);
        let error = client
            .read(&mut Vec::with_capacity(4), 4)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(io_status(error.kind()), IoStatus::TimedOut);
        drop(listener);
        let refused = connect(addr, WAIT_FOREVER).await.unwrap_err();
        assert_eq!(io_status(refused.kind()), IoStatus::ConnectionRefused);
        assert_eq!(
            resolve("no-port", 1000).await.unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        // The budget of one is spent until the stream goes.
        assert_eq!(
            budget.acquire(None).unwrap_err().kind(),
            io::ErrorKind::Other
        );
        drop(client);
        assert_eq!(budget.open(), 0);
        assert!(budget.acquire(None).is_ok());
    }
}
