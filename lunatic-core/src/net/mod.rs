//! Networking: TCP, UDP and DNS with the blocking API of `std::net`, where blocking
//! suspends only the calling process (the VM waits with tokio, no thread is held).
//!
//! | item | what it is |
//! |---|---|
//! | [`TcpListener`] | `bind`, `accept`, `incoming`, `local_addr` |
//! | [`TcpStream`] | `connect`, `connect_timeout`, `Read`/`Write`, timeouts, `try_clone`, `shutdown` |
//! | [`UdpSocket`] | `bind`, `send_to`/`recv_from`, `connect`/`send`/`recv`, timeouts |
//! | [`resolve`], [`resolve_timeout`] | DNS: the addresses of `host:port` |
//! | [`ToSocketAddrs`] | what the functions above take: `"127.0.0.1:80"`, `"name:80"`, a `SocketAddr`, `(ip, port)` |
//!
//! Sockets are capabilities of the process that holds them, and they are `Serialize`:
//! sending one in a message (or as a spawn context) *moves* it to the receiving process,
//! which is how a listener hands each connection to a process of its own. A socket that is
//! dropped, or whose process ends, is closed (once its last clone is gone).
//!
//! Errors are `std::io::Error`s with std's kinds: `ConnectionRefused`, `AddrInUse`,
//! `InvalidInput` for an address that does not parse, `NotFound` for a name that does not
//! resolve. An expired read or write timeout is always `TimedOut` (std says `WouldBlock` on
//! Unix and `TimedOut` on Windows). Processes need the namespace `lunatic::networking` in
//! their environment; without it their first network call ends them with "host function
//! lunatic::networking::... is not allowed in this environment".

mod addr;
mod tcp;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use lunatic_abi::{IoStatus, WAIT_FOREVER};

pub use addr::ToSocketAddrs;
pub use tcp::{Incoming, TcpListener, TcpStream};
pub use udp::UdpSocket;

use crate::host;

/// The addresses `name` resolves to; `name` is `host:port`, the host a DNS name or an IP
/// address (`"localhost:8080"`, `"[::1]:80"`).
///
/// # Errors
/// `InvalidInput` if `name` lacks a port; `NotFound` if it does not resolve.
pub fn resolve(name: &str) -> io::Result<std::vec::IntoIter<SocketAddr>> {
    host::resolve(name, WAIT_FOREVER).map(Vec::into_iter)
}

/// [`resolve`], giving up after `timeout`.
///
/// # Errors
/// Those of [`resolve`]; `TimedOut`; `InvalidInput` for a zero `timeout`.
pub fn resolve_timeout(
    name: &str,
    timeout: Duration,
) -> io::Result<std::vec::IntoIter<SocketAddr>> {
    host::resolve(name, timeout_ms(Some(timeout))?).map(Vec::into_iter)
}

/// `timeout` in whole milliseconds for the host (rounded up, so 1 us is not "at once"),
/// [`WAIT_FOREVER`] for `None`.
///
/// # Errors
/// `InvalidInput` for a zero duration, as std refuses it.
pub(crate) fn timeout_ms(timeout: Option<Duration>) -> io::Result<u64> {
    match timeout {
        None => Ok(WAIT_FOREVER),
        Some(duration) if duration.is_zero() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot set a 0 duration timeout",
        )),
        Some(duration) => {
            let ms = duration.as_nanos().div_ceil(1_000_000);
            Ok(u64::try_from(ms)
                .unwrap_or(WAIT_FOREVER - 1)
                .min(WAIT_FOREVER - 1))
        }
    }
}

/// A timeout the host reports, back as std's `Option<Duration>`.
pub(crate) fn timeout_from_ms(ms: u64) -> Option<Duration> {
    (ms != WAIT_FOREVER).then(|| Duration::from_millis(ms))
}

/// The `std::io::ErrorKind` of an error the host reported.
pub(crate) fn error_kind(status: IoStatus) -> io::ErrorKind {
    use io::ErrorKind as K;
    match status {
        IoStatus::NotFound => K::NotFound,
        IoStatus::PermissionDenied => K::PermissionDenied,
        IoStatus::ConnectionRefused => K::ConnectionRefused,
        IoStatus::ConnectionReset => K::ConnectionReset,
        IoStatus::ConnectionAborted => K::ConnectionAborted,
        IoStatus::NotConnected => K::NotConnected,
        IoStatus::AddrInUse => K::AddrInUse,
        IoStatus::AddrNotAvailable => K::AddrNotAvailable,
        IoStatus::BrokenPipe => K::BrokenPipe,
        IoStatus::AlreadyExists => K::AlreadyExists,
        IoStatus::WouldBlock => K::WouldBlock,
        IoStatus::InvalidInput => K::InvalidInput,
        IoStatus::InvalidData => K::InvalidData,
        IoStatus::TimedOut => K::TimedOut,
        IoStatus::WriteZero => K::WriteZero,
        IoStatus::Interrupted => K::Interrupted,
        IoStatus::Unsupported => K::Unsupported,
        IoStatus::UnexpectedEof => K::UnexpectedEof,
        IoStatus::OutOfMemory => K::OutOfMemory,
        IoStatus::HostUnreachable => K::HostUnreachable,
        IoStatus::NetworkUnreachable => K::NetworkUnreachable,
        IoStatus::NetworkDown => K::NetworkDown,
        IoStatus::Done | IoStatus::Other => K::Other,
    }
}

/// Runs `attempt` on each address of `addrs` until one works; the last error otherwise
/// (std's behaviour for `connect` and `bind` with several addresses).
///
/// # Errors
/// `addrs` does not resolve, resolves to nothing, or every attempt failed.
pub(crate) fn each_addr<A: ToSocketAddrs + ?Sized, T>(
    addrs: &A,
    mut attempt: impl FnMut(&SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for addr in addrs.to_socket_addrs()? {
        match attempt(&addr) {
            Ok(value) => return Ok(value),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_and_zero_is_refused() {
        assert_eq!(timeout_ms(None).unwrap(), WAIT_FOREVER);
        assert_eq!(timeout_ms(Some(Duration::from_micros(1))).unwrap(), 1);
        assert_eq!(timeout_ms(Some(Duration::from_millis(1500))).unwrap(), 1500);
        assert_eq!(
            timeout_ms(Some(Duration::ZERO)).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(timeout_from_ms(WAIT_FOREVER), None);
        assert_eq!(timeout_from_ms(5), Some(Duration::from_millis(5)));
    }

    #[test]
    fn every_status_has_a_kind() {
        for number in 1..=23 {
            let status = IoStatus::try_from(number).unwrap();
            assert!(number == IoStatus::Other as u32 || error_kind(status) != io::ErrorKind::Other);
        }
    }
}
