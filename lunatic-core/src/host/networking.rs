//! Imports of `lunatic::networking`: TCP, UDP and DNS.

use std::io;
use std::net::SocketAddr;

use lunatic_abi::{
    decode_socket_addr, encode_socket_addr, IoStatus, ShutdownHow, MAX_RESOLVED_ADDRS,
    SOCKET_ADDR_SIZE,
};

use super::error::take_error;
use super::imports::networking;

/// The value a `lunatic::networking` call wrote, or the I/O error it reported.
fn io_result(status: u32, out: u64, function: &str) -> io::Result<u64> {
    match IoStatus::try_from(status) {
        Ok(IoStatus::Done) => Ok(out),
        Ok(status) => Err(io::Error::new(
            crate::net::error_kind(status),
            take_error(out),
        )),
        Err(other) => panic!("lunatic::networking::{function} returned unknown status {other}"),
    }
}

/// An address record read back from guest memory the host wrote.
fn read_addr(record: &[u8; SOCKET_ADDR_SIZE], function: &str) -> SocketAddr {
    decode_socket_addr(record)
        .unwrap_or_else(|| panic!("lunatic::networking::{function} wrote a malformed address"))
}

/// The addresses `name` (`host:port`) resolves to.
pub(crate) fn resolve(name: &str, timeout_ms: u64) -> io::Result<Vec<SocketAddr>> {
    let mut records = vec![[0u8; SOCKET_ADDR_SIZE]; MAX_RESOLVED_ADDRS as usize];
    let mut out = 0u64;
    let status = networking::resolve(name.as_bytes(), timeout_ms, &mut records, &mut out);
    let count = io_result(status, out, "resolve")? as usize;
    Ok(records[..count.min(records.len())]
        .iter()
        .map(|record| read_addr(record, "resolve"))
        .collect())
}

/// Binds a TCP listener; its id.
pub(crate) fn tcp_bind(addr: &SocketAddr) -> io::Result<u64> {
    let record = encode_socket_addr(addr);
    let mut out = 0u64;
    let status = networking::tcp_bind(&record, &mut out);
    io_result(status, out, "tcp_bind")
}

/// Waits for a connection on `listener`; the stream's id and the peer.
pub(crate) fn tcp_accept(listener: u64) -> io::Result<(u64, SocketAddr)> {
    let mut record = [0u8; SOCKET_ADDR_SIZE];
    let mut out = 0u64;
    let status = networking::tcp_accept(listener, &mut record, &mut out);
    let id = io_result(status, out, "tcp_accept")?;
    Ok((id, read_addr(&record, "tcp_accept")))
}

/// Connects to `addr`; the stream's id.
pub(crate) fn tcp_connect(addr: &SocketAddr, timeout_ms: u64) -> io::Result<u64> {
    let record = encode_socket_addr(addr);
    let mut out = 0u64;
    let status = networking::tcp_connect(&record, timeout_ms, &mut out);
    io_result(status, out, "tcp_connect")
}

/// Reads from `stream` into `buf`.
pub(crate) fn tcp_read(stream: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut out = 0u64;
    let status = networking::tcp_read(stream, buf, &mut out);
    io_result(status, out, "tcp_read").map(|n| n as usize)
}

/// Writes some of `buf` to `stream`.
pub(crate) fn tcp_write(stream: u64, buf: &[u8]) -> io::Result<usize> {
    let mut out = 0u64;
    let status = networking::tcp_write(stream, buf, &mut out);
    io_result(status, out, "tcp_write").map(|n| n as usize)
}

/// Shuts down part of `stream`.
pub(crate) fn tcp_shutdown(stream: u64, how: ShutdownHow) -> io::Result<()> {
    let mut out = 0u64;
    let status = networking::tcp_shutdown(stream, how as u32, &mut out);
    io_result(status, out, "tcp_shutdown").map(|_| ())
}

/// Binds a UDP socket; its id.
pub(crate) fn udp_bind(addr: &SocketAddr) -> io::Result<u64> {
    let record = encode_socket_addr(addr);
    let mut out = 0u64;
    let status = networking::udp_bind(&record, &mut out);
    io_result(status, out, "udp_bind")
}

/// Sets the peer of UDP socket `socket`.
pub(crate) fn udp_connect(socket: u64, addr: &SocketAddr) -> io::Result<()> {
    let record = encode_socket_addr(addr);
    let mut out = 0u64;
    let status = networking::udp_connect(socket, &record, &mut out);
    io_result(status, out, "udp_connect").map(|_| ())
}

/// Sends `buf` as one datagram to `to`, or to the connected peer when `None`.
pub(crate) fn udp_send(socket: u64, buf: &[u8], to: Option<&SocketAddr>) -> io::Result<usize> {
    let mut out = 0u64;
    let status = match to {
        Some(addr) => networking::udp_send_to(socket, buf, &encode_socket_addr(addr), &mut out),
        None => networking::udp_send(socket, buf, &mut out),
    };
    let function = if to.is_some() {
        "udp_send_to"
    } else {
        "udp_send"
    };
    io_result(status, out, function).map(|n| n as usize)
}

/// Receives one datagram into `buf`, and its sender.
pub(crate) fn udp_recv_from(socket: u64, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    let mut record = [0u8; SOCKET_ADDR_SIZE];
    let mut out = 0u64;
    let status = networking::udp_recv_from(socket, buf, &mut record, &mut out);
    let count = io_result(status, out, "udp_recv_from")? as usize;
    Ok((count, read_addr(&record, "udp_recv_from")))
}

/// Receives one datagram from the connected peer into `buf`.
pub(crate) fn udp_recv(socket: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut out = 0u64;
    let status = networking::udp_recv(socket, buf, &mut out);
    io_result(status, out, "udp_recv").map(|n| n as usize)
}

/// The local (`peer == false`) or peer address of socket `id`.
pub(crate) fn socket_addr(id: u64, peer: bool) -> io::Result<SocketAddr> {
    let mut record = [0u8; SOCKET_ADDR_SIZE];
    let mut out = 0u64;
    let status = if peer {
        networking::peer_addr(id, &mut record, &mut out)
    } else {
        networking::local_addr(id, &mut record, &mut out)
    };
    let function = if peer { "peer_addr" } else { "local_addr" };
    io_result(status, out, function)?;
    Ok(read_addr(&record, function))
}

/// Sets the read (`write == false`) or write timeout of socket `id`, in milliseconds
/// ([`WAIT_FOREVER`]: none).
pub(crate) fn set_timeout(id: u64, write: bool, timeout_ms: u64) {
    if write {
        networking::set_write_timeout(id, timeout_ms);
    } else {
        networking::set_read_timeout(id, timeout_ms);
    }
}

/// The read (`write == false`) or write timeout of socket `id`, in milliseconds.
pub(crate) fn timeout(id: u64, write: bool) -> u64 {
    if write {
        networking::write_timeout(id)
    } else {
        networking::read_timeout(id)
    }
}
