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
//! | function | parameters | result at `out_ptr` (on `Done`) | traps when |
//! |---|---|---|---|
//! | `resolve` | `name_ptr: u32, name_len: u32, timeout_ms: u64, addrs_ptr: u32, addrs_capacity: u32, out_ptr: u32` | how many addresses were written at `addrs_ptr` (at most `addrs_capacity` and [`MAX_RESOLVED_ADDRS`]) | a range is outside memory |
//! | `tcp_bind` | `addr_ptr: u32, out_ptr: u32` | a listener id | a range is outside memory; the address is malformed |
//! | `tcp_accept` | `listener: u64, addr_ptr: u32, out_ptr: u32` | a stream id; the peer's address is written at `addr_ptr` | `listener` is not a listener of the caller's; a range is outside memory |
//! | `tcp_connect` | `addr_ptr: u32, timeout_ms: u64, out_ptr: u32` | a stream id | a range is outside memory; the address is malformed |
//! | `tcp_read` | `stream: u64, ptr: u32, len: u32, out_ptr: u32` | bytes read into `ptr` (at most `len` and 64 KiB; 0: end of stream), within the read timeout | `stream` is not a stream of the caller's; a range is outside memory |
//! | `tcp_write` | `stream: u64, ptr: u32, len: u32, out_ptr: u32` | bytes written from `ptr` (at most 64 KiB), within the write timeout | as `tcp_read` |
//! | `tcp_shutdown` | `stream: u64, how: u32, out_ptr: u32` | 0; `how` is a [`ShutdownHow`] | `stream` is not a stream of the caller's; `how` is unknown; `out_ptr` is outside memory |
//! | `udp_bind` | `addr_ptr: u32, out_ptr: u32` | a UDP socket id | a range is outside memory; the address is malformed |
//! | `udp_connect` | `socket: u64, addr_ptr: u32, out_ptr: u32` | 0: `send`/`recv` now use that peer | `socket` is not a UDP socket of the caller's; a range is outside memory; the address is malformed |
//! | `udp_send_to` | `socket: u64, ptr: u32, len: u32, addr_ptr: u32, out_ptr: u32` | bytes sent as one datagram (more than 64 KiB: `InvalidInput`) | as `udp_connect` |
//! | `udp_send` | `socket: u64, ptr: u32, len: u32, out_ptr: u32` | bytes sent to the connected peer | `socket` is not a UDP socket of the caller's; a range is outside memory |
//! | `udp_recv_from` | `socket: u64, ptr: u32, len: u32, addr_ptr: u32, out_ptr: u32` | bytes of one datagram (the rest of a longer one is dropped); the sender is written at `addr_ptr` | as `udp_send` |
//! | `udp_recv` | `socket: u64, ptr: u32, len: u32, out_ptr: u32` | bytes of one datagram from the connected peer | as `udp_send` |
//! | `local_addr` | `id: u64, addr_ptr: u32, out_ptr: u32` | 0; the socket's own address is written at `addr_ptr` | `id` is not a socket of the caller's; a range is outside memory |
//! | `peer_addr` | `id: u64, addr_ptr: u32, out_ptr: u32` | 0; the peer's address is written at `addr_ptr` | `id` is not a stream or UDP socket of the caller's; a range is outside memory |
//! | `set_read_timeout` | `id: u64, timeout_ms: u64` | (returns nothing) for every handle to this socket | `id` is not a stream or UDP socket of the caller's |
//! | `set_write_timeout` | `id: u64, timeout_ms: u64` | (returns nothing) | as `set_read_timeout` |
//! | `read_timeout` | `id: u64` | (returns the timeout as `u64`) | as `set_read_timeout` |
//! | `write_timeout` | `id: u64` | (returns the timeout as `u64`) | as `set_read_timeout` |
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
use wasmtime::{format_err, Caller, Linker};

use super::memory;
use crate::net::{io_status, TcpListenerResource, TcpStreamResource, UdpSocketResource};
use crate::process::{ProcessHandle, Terminated};
use crate::resource::Resource;
use crate::state::ProcessState;

const MODULE: &str = "lunatic::networking";

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
fn check_writable(
    caller: &mut Caller<'_, ProcessState>,
    ptr: u32,
    len: u32,
    function: &str,
) -> wasmtime::Result<()> {
    let memory = memory::memory(caller, function)?;
    memory::slice_mut(memory.data_mut(caller), ptr, len, function).map(|_| ())
}

/// The socket address at `ptr`.
fn read_addr(
    caller: &mut Caller<'_, ProcessState>,
    ptr: u32,
    function: &str,
) -> wasmtime::Result<SocketAddr> {
    let bytes = memory::read(caller, ptr, ADDR_LEN, function)?;
    let record: [u8; SOCKET_ADDR_SIZE] = bytes
        .try_into()
        .map_err(|_| format_err!("{}: short socket address", function))?;
    decode_socket_addr(&record).ok_or_else(|| {
        format_err!(
            "{}: malformed socket address (kind byte {})",
            function,
            record[0]
        )
    })
}

/// Writes `addr` at `ptr`.
fn write_addr(
    caller: &mut Caller<'_, ProcessState>,
    ptr: u32,
    addr: &SocketAddr,
    function: &str,
) -> wasmtime::Result<()> {
    memory::write(caller, ptr, &encode_socket_addr(addr), function)
}

/// Reports `result`: the value at `out_ptr` and [`IoStatus::Done`], or an error id there and
/// the error's kind.
fn report(
    caller: &mut Caller<'_, ProcessState>,
    out_ptr: u32,
    result: io::Result<u64>,
    function: &str,
) -> wasmtime::Result<u32> {
    let (status, value) = match result {
        Ok(value) => (IoStatus::Done, value),
        Err(error) => (
            io_status(error.kind()),
            caller.data_mut().errors.insert(error.to_string())?,
        ),
    };
    memory::write(caller, out_ptr, &value.to_le_bytes(), function)?;
    Ok(status as u32)
}

/// Runs `work` unless the process is told to die first, which ends it at once.
async fn unless_killed<T>(
    process: &ProcessHandle,
    work: impl Future<Output = T>,
) -> wasmtime::Result<T> {
    tokio::select! {
        biased;
        reason = process.mailbox().wait_for_death() => Err(Terminated(reason).into()),
        output = work => Ok(output),
    }
}

/// The caller's process handle, to wait with; what the caller sent is delivered first
/// (see [`crate::outbox`]): it may now wait, and others may see what it does.
fn process(caller: &Caller<'_, ProcessState>) -> Arc<ProcessHandle> {
    caller.data().deliver_sent();
    Arc::clone(&caller.data().handle)
}

/// The caller's resource `id` if `pick` finds the wanted kind in it (`what`, for the trap).
fn resource<T>(
    caller: &Caller<'_, ProcessState>,
    id: u64,
    function: &str,
    what: &str,
    pick: impl FnOnce(&Resource) -> Option<&Arc<T>>,
) -> wasmtime::Result<Arc<T>> {
    caller
        .data()
        .resources
        .get(id)
        .and_then(pick)
        .map(Arc::clone)
        .ok_or_else(|| format_err!("{}: no {what} with id {id}", function))
}

fn stream(
    caller: &Caller<'_, ProcessState>,
    id: u64,
    function: &str,
) -> wasmtime::Result<Arc<TcpStreamResource>> {
    resource(caller, id, function, "TCP stream", |r| match r {
        Resource::TcpStream(stream) => Some(stream),
        _ => None,
    })
}

fn listener(
    caller: &Caller<'_, ProcessState>,
    id: u64,
    function: &str,
) -> wasmtime::Result<Arc<TcpListenerResource>> {
    resource(caller, id, function, "TCP listener", |r| match r {
        Resource::TcpListener(listener) => Some(listener),
        _ => None,
    })
}

fn udp(
    caller: &Caller<'_, ProcessState>,
    id: u64,
    function: &str,
) -> wasmtime::Result<Arc<UdpSocketResource>> {
    resource(caller, id, function, "UDP socket", |r| match r {
        Resource::UdpSocket(socket) => Some(socket),
        _ => None,
    })
}

/// The timeouts of a stream or UDP socket.
fn with_timeouts<T>(
    caller: &Caller<'_, ProcessState>,
    id: u64,
    function: &str,
    use_them: impl FnOnce(&crate::net::Timeouts) -> T,
) -> wasmtime::Result<T> {
    match caller.data().resources.get(id) {
        Some(Resource::TcpStream(stream)) => Ok(use_them(&stream.timeouts)),
        Some(Resource::UdpSocket(socket)) => Ok(use_them(&socket.timeouts)),
        _ => Err(format_err!(
            "{}: no TCP stream or UDP socket with id {id}",
            function
        )),
    }
}

/// Stores a new resource; its id.
fn hold(caller: &mut Caller<'_, ProcessState>, resource: Resource) -> wasmtime::Result<u64> {
    caller.data_mut().resources.insert(resource)
}

pub(super) fn register(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap_async(
        MODULE,
        "resolve",
        |caller,
         (name_ptr, name_len, timeout_ms, addrs_ptr, addrs_capacity, out_ptr): (
            u32,
            u32,
            u64,
            u32,
            u32,
            u32,
        )| {
            Box::new(resolve(
                caller,
                (name_ptr, name_len, timeout_ms),
                (addrs_ptr, addrs_capacity),
                out_ptr,
            ))
        },
    )?;
    register_tcp(linker)?;
    register_udp(linker)?;
    register_socket(linker)?;
    Ok(())
}

fn register_tcp(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap_async(
        MODULE,
        "tcp_bind",
        |mut caller: Caller<'_, ProcessState>, (addr_ptr, out_ptr): (u32, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::tcp_bind";
                check_writable(&mut caller, out_ptr, OUT_LEN, FUNCTION)?;
                let addr = read_addr(&mut caller, addr_ptr, FUNCTION)?;
                let result = match caller.data().runtime.sockets().acquire() {
                    Ok(permit) => {
                        match unless_killed(&process(&caller), TcpListener::bind(addr)).await? {
                            Ok(listener) => {
                                let listener = TcpListenerResource::new(listener, permit);
                                Ok(hold(
                                    &mut caller,
                                    Resource::TcpListener(Arc::new(listener)),
                                )?)
                            }
                            Err(error) => Err(error),
                        }
                    }
                    Err(error) => Err(error),
                };
                report(&mut caller, out_ptr, result, FUNCTION)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "tcp_accept",
        |mut caller: Caller<'_, ProcessState>, (id, addr_ptr, out_ptr): (u64, u32, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::tcp_accept";
                let listener = listener(&caller, id, FUNCTION)?;
                check_writable(&mut caller, addr_ptr, ADDR_LEN, FUNCTION)?;
                check_writable(&mut caller, out_ptr, OUT_LEN, FUNCTION)?;
                // The permit first: at the limit, a connection waits in the backlog rather
                // than being accepted and dropped.
                let result = match caller.data().runtime.sockets().acquire() {
                    Ok(permit) => {
                        let accepted =
                            unless_killed(&process(&caller), listener.listener.accept()).await?;
                        match accepted {
                            Ok((stream, peer)) => {
                                write_addr(&mut caller, addr_ptr, &peer, FUNCTION)?;
                                let stream = Arc::new(TcpStreamResource::new(stream, permit));
                                Ok(hold(&mut caller, Resource::TcpStream(stream))?)
                            }
                            Err(error) => Err(error),
                        }
                    }
                    Err(error) => Err(error),
                };
                report(&mut caller, out_ptr, result, FUNCTION)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "tcp_connect",
        |mut caller: Caller<'_, ProcessState>, (addr_ptr, timeout_ms, out_ptr): (u32, u64, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::tcp_connect";
                check_writable(&mut caller, out_ptr, OUT_LEN, FUNCTION)?;
                let addr = read_addr(&mut caller, addr_ptr, FUNCTION)?;
                let result = match caller.data().runtime.sockets().acquire() {
                    Ok(permit) => {
                        let connect = crate::net::connect(addr, timeout_ms);
                        match unless_killed(&process(&caller), connect).await? {
                            Ok(stream) => {
                                let stream = Arc::new(TcpStreamResource::new(stream, permit));
                                Ok(hold(&mut caller, Resource::TcpStream(stream))?)
                            }
                            Err(error) => Err(error),
                        }
                    }
                    Err(error) => Err(error),
                };
                report(&mut caller, out_ptr, result, FUNCTION)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "tcp_read",
        |mut caller: Caller<'_, ProcessState>, (id, ptr, len, out_ptr): (u64, u32, u32, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::tcp_read";
                let stream = stream(&caller, id, FUNCTION)?;
                check_writable(&mut caller, ptr, len, FUNCTION)?;
                check_writable(&mut caller, out_ptr, OUT_LEN, FUNCTION)?;
                let max = len.min(MAX_IO_CHUNK) as usize;
                if max == 0 {
                    // As `Read::read` with an empty buffer: nothing, at once.
                    return report(&mut caller, out_ptr, Ok(0), FUNCTION);
                }
                let mut buffer = Vec::with_capacity(max);
                let read = unless_killed(&process(&caller), stream.read(&mut buffer, max)).await?;
                let result = match read {
                    Ok(count) => {
                        memory::write(&mut caller, ptr, &buffer, FUNCTION)?;
                        Ok(count as u64)
                    }
                    Err(error) => Err(error),
                };
                report(&mut caller, out_ptr, result, FUNCTION)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "tcp_write",
        |mut caller: Caller<'_, ProcessState>, (id, ptr, len, out_ptr): (u64, u32, u32, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::tcp_write";
                let stream = stream(&caller, id, FUNCTION)?;
                check_writable(&mut caller, out_ptr, OUT_LEN, FUNCTION)?;
                let bytes = memory::read(&mut caller, ptr, len.min(MAX_IO_CHUNK), FUNCTION)?;
                let written = unless_killed(&process(&caller), stream.write(&bytes)).await?;
                report(&mut caller, out_ptr, written.map(|n| n as u64), FUNCTION)
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "tcp_shutdown",
        |mut caller: Caller<'_, ProcessState>, id: u64, how: u32, out_ptr: u32| {
            const FUNCTION: &str = "lunatic::networking::tcp_shutdown";
            let stream = stream(&caller, id, FUNCTION)?;
            let how = match ShutdownHow::try_from(how) {
                Ok(ShutdownHow::Read) => Shutdown::Read,
                Ok(ShutdownHow::Write) => Shutdown::Write,
                Ok(ShutdownHow::Both) => Shutdown::Both,
                Err(how) => return Err(format_err!("{}: unknown shutdown {how}", FUNCTION)),
            };
            let result = socket2::SockRef::from(&stream.stream).shutdown(how);
            report(&mut caller, out_ptr, result.map(|()| 0), FUNCTION)
        },
    )?;
    Ok(())
}

fn register_udp(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap_async(
        MODULE,
        "udp_bind",
        |mut caller: Caller<'_, ProcessState>, (addr_ptr, out_ptr): (u32, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::udp_bind";
                check_writable(&mut caller, out_ptr, OUT_LEN, FUNCTION)?;
                let addr = read_addr(&mut caller, addr_ptr, FUNCTION)?;
                let result = match caller.data().runtime.sockets().acquire() {
                    Ok(permit) => {
                        match unless_killed(&process(&caller), UdpSocket::bind(addr)).await? {
                            Ok(socket) => {
                                let socket = Arc::new(UdpSocketResource::new(socket, permit));
                                Ok(hold(&mut caller, Resource::UdpSocket(socket))?)
                            }
                            Err(error) => Err(error),
                        }
                    }
                    Err(error) => Err(error),
                };
                report(&mut caller, out_ptr, result, FUNCTION)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "udp_connect",
        |mut caller: Caller<'_, ProcessState>, (id, addr_ptr, out_ptr): (u64, u32, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::udp_connect";
                let socket = udp(&caller, id, FUNCTION)?;
                check_writable(&mut caller, out_ptr, OUT_LEN, FUNCTION)?;
                let addr = read_addr(&mut caller, addr_ptr, FUNCTION)?;
                let connected =
                    unless_killed(&process(&caller), socket.socket.connect(addr)).await?;
                report(&mut caller, out_ptr, connected.map(|()| 0), FUNCTION)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "udp_send_to",
        |mut caller: Caller<'_, ProcessState>,
         (id, ptr, len, addr_ptr, out_ptr): (u64, u32, u32, u32, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::udp_send_to";
                let socket = udp(&caller, id, FUNCTION)?;
                check_writable(&mut caller, out_ptr, OUT_LEN, FUNCTION)?;
                let addr = read_addr(&mut caller, addr_ptr, FUNCTION)?;
                udp_send(caller, socket, (ptr, len), Some(addr), out_ptr, FUNCTION).await
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "udp_send",
        |mut caller: Caller<'_, ProcessState>, (id, ptr, len, out_ptr): (u64, u32, u32, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::udp_send";
                let socket = udp(&caller, id, FUNCTION)?;
                check_writable(&mut caller, out_ptr, OUT_LEN, FUNCTION)?;
                udp_send(caller, socket, (ptr, len), None, out_ptr, FUNCTION).await
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "udp_recv_from",
        |mut caller: Caller<'_, ProcessState>,
         (id, ptr, len, addr_ptr, out_ptr): (u64, u32, u32, u32, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::udp_recv_from";
                let socket = udp(&caller, id, FUNCTION)?;
                check_writable(&mut caller, addr_ptr, ADDR_LEN, FUNCTION)?;
                udp_recv(
                    caller,
                    socket,
                    (ptr, len),
                    Some(addr_ptr),
                    out_ptr,
                    FUNCTION,
                )
                .await
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "udp_recv",
        |caller: Caller<'_, ProcessState>, (id, ptr, len, out_ptr): (u64, u32, u32, u32)| {
            Box::new(async move {
                const FUNCTION: &str = "lunatic::networking::udp_recv";
                let socket = udp(&caller, id, FUNCTION)?;
                udp_recv(caller, socket, (ptr, len), None, out_ptr, FUNCTION).await
            })
        },
    )?;
    Ok(())
}

/// `udp_send_to` (with `to`) and `udp_send`.
async fn udp_send(
    mut caller: Caller<'_, ProcessState>,
    socket: Arc<UdpSocketResource>,
    (ptr, len): (u32, u32),
    to: Option<SocketAddr>,
    out_ptr: u32,
    function: &str,
) -> wasmtime::Result<u32> {
    let sent = if len > MAX_IO_CHUNK {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a datagram of {len} bytes is larger than {MAX_IO_CHUNK}"),
        ))
    } else {
        let bytes = memory::read(&mut caller, ptr, len, function)?;
        unless_killed(&process(&caller), socket.send(&bytes, to)).await?
    };
    report(&mut caller, out_ptr, sent.map(|n| n as u64), function)
}

/// `udp_recv_from` (with `addr_ptr`) and `udp_recv`.
async fn udp_recv(
    mut caller: Caller<'_, ProcessState>,
    socket: Arc<UdpSocketResource>,
    (ptr, len): (u32, u32),
    addr_ptr: Option<u32>,
    out_ptr: u32,
    function: &str,
) -> wasmtime::Result<u32> {
    check_writable(&mut caller, ptr, len, function)?;
    check_writable(&mut caller, out_ptr, OUT_LEN, function)?;
    let mut buffer = vec![0u8; len.min(MAX_IO_CHUNK) as usize];
    let received = unless_killed(&process(&caller), async {
        match addr_ptr {
            Some(_) => socket
                .recv_from(&mut buffer)
                .await
                .map(|(n, from)| (n, Some(from))),
            None => socket.recv(&mut buffer).await.map(|n| (n, None)),
        }
    })
    .await?;
    let result = match received {
        Ok((count, from)) => {
            memory::write(&mut caller, ptr, &buffer[..count], function)?;
            if let (Some(addr_ptr), Some(from)) = (addr_ptr, from) {
                write_addr(&mut caller, addr_ptr, &from, function)?;
            }
            Ok(count as u64)
        }
        Err(error) => Err(error),
    };
    report(&mut caller, out_ptr, result, function)
}

fn register_socket(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        "local_addr",
        |mut caller: Caller<'_, ProcessState>, id: u64, addr_ptr: u32, out_ptr: u32| {
            const FUNCTION: &str = "lunatic::networking::local_addr";
            let addr = match caller.data().resources.get(id) {
                Some(Resource::TcpStream(stream)) => stream.stream.local_addr(),
                Some(Resource::TcpListener(listener)) => listener.listener.local_addr(),
                Some(Resource::UdpSocket(socket)) => socket.socket.local_addr(),
                None => return Err(format_err!("{}: no socket with id {id}", FUNCTION)),
            };
            report_addr(&mut caller, addr, addr_ptr, out_ptr, FUNCTION)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "peer_addr",
        |mut caller: Caller<'_, ProcessState>, id: u64, addr_ptr: u32, out_ptr: u32| {
            const FUNCTION: &str = "lunatic::networking::peer_addr";
            let addr = match caller.data().resources.get(id) {
                Some(Resource::TcpStream(stream)) => stream.stream.peer_addr(),
                Some(Resource::UdpSocket(socket)) => socket.socket.peer_addr(),
                _ => {
                    return Err(format_err!(
                        "{}: no TCP stream or UDP socket with id {id}",
                        FUNCTION
                    ))
                }
            };
            report_addr(&mut caller, addr, addr_ptr, out_ptr, FUNCTION)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "set_read_timeout",
        |caller: Caller<'_, ProcessState>, id: u64, timeout_ms: u64| {
            with_timeouts(&caller, id, "lunatic::networking::set_read_timeout", |t| {
                t.set_read_ms(timeout_ms)
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "set_write_timeout",
        |caller: Caller<'_, ProcessState>, id: u64, timeout_ms: u64| {
            with_timeouts(&caller, id, "lunatic::networking::set_write_timeout", |t| {
                t.set_write_ms(timeout_ms);
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "read_timeout",
        |caller: Caller<'_, ProcessState>, id: u64| {
            with_timeouts(
                &caller,
                id,
                "lunatic::networking::read_timeout",
                crate::net::Timeouts::read_ms,
            )
        },
    )?;
    linker.func_wrap(
        MODULE,
        "write_timeout",
        |caller: Caller<'_, ProcessState>, id: u64| {
            with_timeouts(
                &caller,
                id,
                "lunatic::networking::write_timeout",
                crate::net::Timeouts::write_ms,
            )
        },
    )?;
    Ok(())
}

/// Reports an address query: the address at `addr_ptr` and 0 at `out_ptr`, or the error.
fn report_addr(
    caller: &mut Caller<'_, ProcessState>,
    addr: io::Result<SocketAddr>,
    addr_ptr: u32,
    out_ptr: u32,
    function: &str,
) -> wasmtime::Result<u32> {
    check_writable(caller, out_ptr, OUT_LEN, function)?;
    let result = match addr {
        Ok(addr) => write_addr(caller, addr_ptr, &addr, function).map(|()| Ok(0))?,
        Err(error) => Err(error),
    };
    report(caller, out_ptr, result, function)
}

async fn resolve(
    mut caller: Caller<'_, ProcessState>,
    (name_ptr, name_len, timeout_ms): (u32, u32, u64),
    (addrs_ptr, addrs_capacity): (u32, u32),
    out_ptr: u32,
) -> wasmtime::Result<u32> {
    const FUNCTION: &str = "lunatic::networking::resolve";
    let capacity = addrs_capacity.min(MAX_RESOLVED_ADDRS);
    check_writable(&mut caller, addrs_ptr, capacity * ADDR_LEN, FUNCTION)?;
    check_writable(&mut caller, out_ptr, OUT_LEN, FUNCTION)?;
    // Checked before the copy: the host never allocates what a guest asks for unchecked.
    let text = if name_len <= MAX_NAME_LEN {
        memory::read(&mut caller, name_ptr, name_len, FUNCTION)?
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
            return report(&mut caller, out_ptr, Err(error), FUNCTION);
        }
    };
    let resolved = unless_killed(
        &process(&caller),
        crate::net::resolve(&host_name, timeout_ms),
    )
    .await?;
    let result = match resolved {
        Ok(addrs) => {
            let mut written = 0u32;
            for addr in addrs.iter().take(capacity as usize) {
                write_addr(&mut caller, addrs_ptr + written * ADDR_LEN, addr, FUNCTION)?;
                written += 1;
            }
            Ok(u64::from(written))
        }
        Err(error) => Err(error),
    };
    report(&mut caller, out_ptr, result, FUNCTION)
}
