//! Import module `lunatic::networking`: TCP, UDP and DNS, as calls that block only the
//! calling process. Sockets are resources (`lunatic::resource`): per-process ids that can
//! move to another process in a message. Environments allow or deny the whole module with
//! the namespace `lunatic::networking`.
//!
//! Calls that can fail return an [`IoStatus`] and write a `u64` at `out_ptr`: the result
//! (an id, a byte count) when [`IoStatus::Done`], otherwise the id of an error message
//! (`lunatic::error`) whose `std::io::ErrorKind` is the status. Socket addresses are
//! [`SOCKET_ADDR_SIZE`]-byte records (see `lunatic_abi::encode_socket_addr`). Timeouts are
//! in milliseconds, [`WAIT_FOREVER`](lunatic_abi::WAIT_FOREVER) for none; a timeout that expires is `TimedOut` (std
//! reports `WouldBlock` or `TimedOut` depending on the platform: this is always `TimedOut`).
//!
//! The calls that make a socket (`tcp_bind`, `tcp_accept`, `tcp_connect`, `udp_bind`) also
//! trap when the caller already holds 10,000 handles, and return `Other` when the VM's
//! socket budget (`--max-sockets`, shared by all processes) is spent; `tcp_accept` checks
//! the budget before it accepts, so a connection waits in the backlog rather than being
//! accepted and dropped.
//!
//! A process waiting in any of these calls is suspended alone and ends at once if it is
//! killed (or a link kills it). `resolve` takes `host:port` (the host a name or an IP
//! address); names go to the system resolver on tokio's blocking pool, so no scheduler
//! thread waits. A name that does not resolve is `NotFound`, a malformed one
//! (no port, longer than 1024 bytes, not UTF-8) `InvalidInput`.

use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use lunatic_abi::{
    decode_socket_addr, encode_socket_addr, IoStatus, ShutdownHow, MAX_RESOLVED_ADDRS,
    SOCKET_ADDR_SIZE,
};
use tokio::net::{TcpListener, UdpSocket};

use super::call::{slice_mut, HostCall};
use crate::resources::net::{
    io_status, SocketPermit, TcpListenerResource, TcpStreamResource, UdpSocketResource,
};
use crate::resources::Resource;

/// Most bytes one read, write or datagram moves (a bigger `len` reads or writes less, as
/// `Read`/`Write` allow; a bigger datagram is refused).
const MAX_IO_CHUNK: u32 = 64 << 10;

/// Longest name `resolve` accepts, in bytes.
const MAX_NAME_LEN: u32 = 1024;

/// Bytes of the `u64` every fallible call writes at `out_ptr`.
const OUT_LEN: u32 = 8;

/// Bytes of an encoded socket address, as the `u32` lengths guest memory is addressed with.
const ADDR_LEN: u32 = SOCKET_ADDR_SIZE as u32;

/// Traps now, before anything waits, if `len` bytes at `ptr` cannot be written: a result
/// must never be lost after the work was done (an accepted connection, say).
fn check_writable(call: &mut HostCall<'_>, ptr: u32, len: u32) -> wasmtime::Result<()> {
    let function = call.function();
    slice_mut(call.memory()?, ptr, len, function).map(|_| ())
}

/// The socket address at `ptr`.
fn read_addr(call: &mut HostCall<'_>, ptr: u32) -> wasmtime::Result<SocketAddr> {
    let bytes = call.read(ptr, ADDR_LEN)?;
    let record: [u8; SOCKET_ADDR_SIZE] = bytes
        .try_into()
        .map_err(|_| call.fail("short socket address"))?;
    decode_socket_addr(&record).ok_or_else(|| {
        call.fail(format_args!(
            "malformed socket address (kind byte {})",
            record[0]
        ))
    })
}

/// Writes `addr` at `ptr`.
fn write_addr(call: &mut HostCall<'_>, ptr: u32, addr: &SocketAddr) -> wasmtime::Result<()> {
    call.write(ptr, &encode_socket_addr(addr))
}

/// Reports `result`: the value at `out_ptr` and [`IoStatus::Done`], or an error id there and
/// the error's kind.
fn report(
    call: &mut HostCall<'_>,
    out_ptr: u32,
    result: io::Result<u64>,
) -> wasmtime::Result<IoStatus> {
    let (status, value) = match result {
        Ok(value) => (IoStatus::Done, value),
        Err(error) => (
            io_status(error.kind()),
            call.state_mut().keep_error(error.to_string())?,
        ),
    };
    call.write_u64(out_ptr, value)?;
    Ok(status)
}

/// The caller's resource `id` if `pick` finds the wanted kind in it (`what`, for the trap).
fn resource<T>(
    call: &HostCall<'_>,
    id: u64,
    what: &str,
    pick: impl FnOnce(&Resource) -> Option<&Arc<T>>,
) -> wasmtime::Result<Arc<T>> {
    call.state()
        .resources
        .get(id)
        .and_then(pick)
        .map(Arc::clone)
        .ok_or_else(|| call.fail(format_args!("no {what} with id {id}")))
}

fn stream(call: &HostCall<'_>, id: u64) -> wasmtime::Result<Arc<TcpStreamResource>> {
    resource(call, id, "TCP stream", |r| match r {
        Resource::TcpStream(stream) => Some(stream),
        _ => None,
    })
}

fn listener(call: &HostCall<'_>, id: u64) -> wasmtime::Result<Arc<TcpListenerResource>> {
    resource(call, id, "TCP listener", |r| match r {
        Resource::TcpListener(listener) => Some(listener),
        _ => None,
    })
}

fn udp(call: &HostCall<'_>, id: u64) -> wasmtime::Result<Arc<UdpSocketResource>> {
    resource(call, id, "UDP socket", |r| match r {
        Resource::UdpSocket(socket) => Some(socket),
        _ => None,
    })
}

/// The timeouts of a stream or UDP socket.
fn with_timeouts<T>(
    call: &HostCall<'_>,
    id: u64,
    use_them: impl FnOnce(&crate::resources::net::Timeouts) -> T,
) -> wasmtime::Result<T> {
    match call.state().resources.get(id) {
        Some(Resource::TcpStream(stream)) => Ok(use_them(&stream.timeouts)),
        Some(Resource::UdpSocket(socket)) => Ok(use_them(&socket.timeouts)),
        _ => Err(call.fail(format_args!("no TCP stream or UDP socket with id {id}"))),
    }
}

/// Takes a share of the VM's socket budget, opens a socket with `open` (the caller waits)
/// and keeps what `keep` makes of it as a new resource: its id, or the I/O error (a spent
/// budget is `Other`).
async fn open_socket<S>(
    call: &mut HostCall<'_>,
    open: impl Future<Output = io::Result<S>>,
    keep: impl FnOnce(&mut HostCall<'_>, S, SocketPermit) -> wasmtime::Result<Resource>,
) -> wasmtime::Result<io::Result<u64>> {
    let state = call.state();
    let permit = match state.runtime.sockets().acquire(state.env().budget()) {
        Ok(permit) => permit,
        Err(error) => return Ok(Err(error)),
    };
    match open.await {
        Ok(socket) => {
            let resource = keep(call, socket, permit)?;
            Ok(Ok(call.state_mut().resources.insert(resource)?))
        }
        Err(error) => Ok(Err(error)),
    }
}

pub(super) async fn resolve(
    mut call: HostCall<'_>,
    name_ptr: u32,
    name_len: u32,
    timeout_ms: u64,
    addrs_ptr: u32,
    addrs_capacity: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let capacity = addrs_capacity.min(MAX_RESOLVED_ADDRS);
    check_writable(&mut call, addrs_ptr, capacity * ADDR_LEN)?;
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    // Checked before the copy: the host never allocates what a guest asks for unchecked.
    let text = if name_len <= MAX_NAME_LEN {
        call.read(name_ptr, name_len)?
    } else {
        Vec::new()
    };
    let host_name = match String::from_utf8(text) {
        Ok(text) if name_len <= MAX_NAME_LEN => text,
        _ => {
            let error = io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a name to resolve must be UTF-8 of at most {MAX_NAME_LEN} bytes"),
            );
            return report(&mut call, out_ptr, Err(error));
        }
    };
    let result = match crate::resources::net::resolve(&host_name, timeout_ms).await {
        Ok(addrs) => {
            let mut written = 0u32;
            for addr in addrs.iter().take(capacity as usize) {
                write_addr(&mut call, addrs_ptr + written * ADDR_LEN, addr)?;
                written += 1;
            }
            Ok(u64::from(written))
        }
        Err(error) => Err(error),
    };
    report(&mut call, out_ptr, result)
}

pub(super) async fn tcp_bind(
    mut call: HostCall<'_>,
    addr_ptr: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    let addr = read_addr(&mut call, addr_ptr)?;
    let result = open_socket(&mut call, TcpListener::bind(addr), |_, listener, permit| {
        let listener = TcpListenerResource::new(listener, permit);
        Ok(Resource::TcpListener(Arc::new(listener)))
    })
    .await?;
    report(&mut call, out_ptr, result)
}

pub(super) async fn tcp_accept(
    mut call: HostCall<'_>,
    id: u64,
    addr_ptr: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let listener = listener(&call, id)?;
    check_writable(&mut call, addr_ptr, ADDR_LEN)?;
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    // The permit first: at the limit, a connection waits in the backlog rather than being
    // accepted and dropped.
    let accept = listener.listener.accept();
    let result = open_socket(&mut call, accept, |call, (stream, peer), permit| {
        write_addr(call, addr_ptr, &peer)?;
        let stream = TcpStreamResource::new(stream, permit);
        Ok(Resource::TcpStream(Arc::new(stream)))
    })
    .await?;
    report(&mut call, out_ptr, result)
}

pub(super) async fn tcp_connect(
    mut call: HostCall<'_>,
    addr_ptr: u32,
    timeout_ms: u64,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    let addr = read_addr(&mut call, addr_ptr)?;
    let connect = crate::resources::net::connect(addr, timeout_ms);
    let result = open_socket(&mut call, connect, |_, stream, permit| {
        let stream = TcpStreamResource::new(stream, permit);
        Ok(Resource::TcpStream(Arc::new(stream)))
    })
    .await?;
    report(&mut call, out_ptr, result)
}

pub(super) async fn tcp_read(
    mut call: HostCall<'_>,
    id: u64,
    ptr: u32,
    len: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let stream = stream(&call, id)?;
    check_writable(&mut call, ptr, len)?;
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    let max = len.min(MAX_IO_CHUNK) as usize;
    if max == 0 {
        // As `Read::read` with an empty buffer: nothing, at once.
        return report(&mut call, out_ptr, Ok(0));
    }
    let mut buffer = Vec::with_capacity(max);
    let result = match stream.read(&mut buffer, max).await {
        Ok(count) => {
            call.write(ptr, &buffer)?;
            Ok(count as u64)
        }
        Err(error) => Err(error),
    };
    report(&mut call, out_ptr, result)
}

pub(super) async fn tcp_write(
    mut call: HostCall<'_>,
    id: u64,
    ptr: u32,
    len: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let stream = stream(&call, id)?;
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    let bytes = call.read(ptr, len.min(MAX_IO_CHUNK))?;
    let written = stream.write(&bytes).await;
    report(&mut call, out_ptr, written.map(|n| n as u64))
}

pub(super) fn tcp_shutdown(
    call: &mut HostCall<'_>,
    id: u64,
    how: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let stream = stream(call, id)?;
    let how = match ShutdownHow::try_from(how) {
        Ok(ShutdownHow::Read) => Shutdown::Read,
        Ok(ShutdownHow::Write) => Shutdown::Write,
        Ok(ShutdownHow::Both) => Shutdown::Both,
        Err(how) => return Err(call.fail(format_args!("unknown shutdown {how}"))),
    };
    let result = socket2::SockRef::from(&stream.stream).shutdown(how);
    report(call, out_ptr, result.map(|()| 0))
}

pub(super) async fn udp_bind(
    mut call: HostCall<'_>,
    addr_ptr: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    let addr = read_addr(&mut call, addr_ptr)?;
    let result = open_socket(&mut call, UdpSocket::bind(addr), |_, socket, permit| {
        let socket = UdpSocketResource::new(socket, permit);
        Ok(Resource::UdpSocket(Arc::new(socket)))
    })
    .await?;
    report(&mut call, out_ptr, result)
}

pub(super) async fn udp_connect(
    mut call: HostCall<'_>,
    id: u64,
    addr_ptr: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let socket = udp(&call, id)?;
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    let addr = read_addr(&mut call, addr_ptr)?;
    let connected = socket.socket.connect(addr).await;
    report(&mut call, out_ptr, connected.map(|()| 0))
}

pub(super) async fn udp_send_to(
    mut call: HostCall<'_>,
    id: u64,
    ptr: u32,
    len: u32,
    addr_ptr: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let socket = udp(&call, id)?;
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    let addr = read_addr(&mut call, addr_ptr)?;
    send_datagram(call, socket, (ptr, len), Some(addr), out_ptr).await
}

pub(super) async fn udp_send(
    mut call: HostCall<'_>,
    id: u64,
    ptr: u32,
    len: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let socket = udp(&call, id)?;
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    send_datagram(call, socket, (ptr, len), None, out_ptr).await
}

pub(super) async fn udp_recv_from(
    mut call: HostCall<'_>,
    id: u64,
    ptr: u32,
    len: u32,
    addr_ptr: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let socket = udp(&call, id)?;
    check_writable(&mut call, addr_ptr, ADDR_LEN)?;
    receive_datagram(call, socket, (ptr, len), Some(addr_ptr), out_ptr).await
}

pub(super) async fn udp_recv(
    call: HostCall<'_>,
    id: u64,
    ptr: u32,
    len: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let socket = udp(&call, id)?;
    receive_datagram(call, socket, (ptr, len), None, out_ptr).await
}

/// `udp_send_to` (with `to`) and `udp_send`.
async fn send_datagram(
    mut call: HostCall<'_>,
    socket: Arc<UdpSocketResource>,
    (ptr, len): (u32, u32),
    to: Option<SocketAddr>,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let sent = if len > MAX_IO_CHUNK {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a datagram of {len} bytes is larger than {MAX_IO_CHUNK}"),
        ))
    } else {
        let bytes = call.read(ptr, len)?;
        socket.send(&bytes, to).await
    };
    report(&mut call, out_ptr, sent.map(|n| n as u64))
}

/// `udp_recv_from` (with `addr_ptr`) and `udp_recv`.
async fn receive_datagram(
    mut call: HostCall<'_>,
    socket: Arc<UdpSocketResource>,
    (ptr, len): (u32, u32),
    addr_ptr: Option<u32>,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    check_writable(&mut call, ptr, len)?;
    check_writable(&mut call, out_ptr, OUT_LEN)?;
    let mut buffer = vec![0u8; len.min(MAX_IO_CHUNK) as usize];
    let received = match addr_ptr {
        Some(_) => socket
            .recv_from(&mut buffer)
            .await
            .map(|(n, from)| (n, Some(from))),
        None => socket.recv(&mut buffer).await.map(|n| (n, None)),
    };
    let result = match received {
        Ok((count, from)) => {
            call.write(ptr, &buffer[..count])?;
            if let (Some(addr_ptr), Some(from)) = (addr_ptr, from) {
                write_addr(&mut call, addr_ptr, &from)?;
            }
            Ok(count as u64)
        }
        Err(error) => Err(error),
    };
    report(&mut call, out_ptr, result)
}

pub(super) fn local_addr(
    call: &mut HostCall<'_>,
    id: u64,
    addr_ptr: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let addr = match call.state().resources.get(id) {
        Some(Resource::TcpStream(stream)) => stream.stream.local_addr(),
        Some(Resource::TcpListener(listener)) => listener.listener.local_addr(),
        Some(Resource::UdpSocket(socket)) => socket.socket.local_addr(),
        None => return Err(call.fail(format_args!("no socket with id {id}"))),
    };
    report_addr(call, addr, addr_ptr, out_ptr)
}

pub(super) fn peer_addr(
    call: &mut HostCall<'_>,
    id: u64,
    addr_ptr: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    let addr = match call.state().resources.get(id) {
        Some(Resource::TcpStream(stream)) => stream.stream.peer_addr(),
        Some(Resource::UdpSocket(socket)) => socket.socket.peer_addr(),
        _ => return Err(call.fail(format_args!("no TCP stream or UDP socket with id {id}"))),
    };
    report_addr(call, addr, addr_ptr, out_ptr)
}

pub(super) fn set_read_timeout(
    call: &mut HostCall<'_>,
    id: u64,
    timeout_ms: u64,
) -> wasmtime::Result<()> {
    with_timeouts(call, id, |t| t.set_read_ms(timeout_ms))
}

pub(super) fn set_write_timeout(
    call: &mut HostCall<'_>,
    id: u64,
    timeout_ms: u64,
) -> wasmtime::Result<()> {
    with_timeouts(call, id, |t| t.set_write_ms(timeout_ms))
}

pub(super) fn read_timeout(call: &mut HostCall<'_>, id: u64) -> wasmtime::Result<u64> {
    with_timeouts(call, id, crate::resources::net::Timeouts::read_ms)
}

pub(super) fn write_timeout(call: &mut HostCall<'_>, id: u64) -> wasmtime::Result<u64> {
    with_timeouts(call, id, crate::resources::net::Timeouts::write_ms)
}

/// Reports an address query: the address at `addr_ptr` and 0 at `out_ptr`, or the error.
fn report_addr(
    call: &mut HostCall<'_>,
    addr: io::Result<SocketAddr>,
    addr_ptr: u32,
    out_ptr: u32,
) -> wasmtime::Result<IoStatus> {
    check_writable(call, out_ptr, OUT_LEN)?;
    let result = match addr {
        Ok(addr) => write_addr(call, addr_ptr, &addr).map(|()| Ok(0))?,
        Err(error) => Err(error),
    };
    report(call, out_ptr, result)
}
