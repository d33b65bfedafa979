//! Import module `lunatic::message`: building, sending and receiving messages.
//!
//! A process has at most one *outgoing* message (being written) and one *incoming* message
//! (the last one received). Sending moves the outgoing bytes into the target's mailbox
//! without another copy; receiving makes a queued message the incoming one, which the guest
//! then copies out.
//!
//! | function | parameters | returns | traps when |
//! |---|---|---|---|
//! | `new_tag` | | `i64`: a tag unique in this VM, never 0 | never |
//! | `create_data` | `tag: i64, capacity: u64` | nothing: starts a new outgoing message, dropping an unsent one (and closing the resources moved into it); `capacity` is a size hint | never |
//! | `write_data` | `ptr: u32, len: u32` | `u32`: bytes appended | no outgoing message; range outside memory; message over [`MAX_MESSAGE_SIZE`] |
//! | `send_data` | `process: u64, tag: i64, ptr: u32, len: u32` | nothing: appends `len` bytes at `ptr` to the outgoing message (started now with `tag` if there is none; a started one takes `tag`) and sends it as `send` does: one call for a message without resources | range outside memory; message over [`MAX_MESSAGE_SIZE`] |
//! | `send` | `process: u64` | nothing: the message (bytes and resources) goes to `process`, or is dropped if it is not alive | no outgoing message |
//! | `receive` | `tags_ptr: u32, tags_len: u32, timeout_ms: u64, buf_ptr: u32, buf_len: u32, info_ptr: u32` | [`ReceiveStatus`]: data, signal, down notice or timeout; the message's first bytes are copied to `buf_ptr` and a [`ReceiveInfo`] written at `info_ptr` | a range outside memory (tags, buffer or info, checked before anything is taken); more than 1024 tags; the process is killed while it waits (it ends) |
//! | `abandon_tag` | `tag: i64` | nothing: queued messages with `tag` are dropped, and so is every one that arrives later (the last 1024 abandoned tags are remembered) | never |
//! | `try_receive` | `tags_ptr: u32, tags_len: u32, buf_ptr: u32, buf_len: u32, info_ptr: u32` | [`ReceiveStatus`], as `receive` with no wait (`TimedOut`: nothing queued, and the incoming message is left as it was); a plain call, so a queued message costs no suspension | as `receive`; the process has been told to die (it ends) |
//! | `receive_waited` | | `u32`: 1 if the last plain receive waited, else 0 (see below) | never |
//! | `data_size` | | `u64`: bytes of the incoming message | no incoming message |
//! | `read_data` | `ptr: u32, len: u32` | `u32`: bytes copied, `min(len, size)` | no incoming message; range outside memory |
//! | `get_tag` | | `i64`: the incoming message's tag | no incoming message |
//! | `signal_process` | | `u64`: the process whose end the incoming signal or down notice reports | the incoming message is neither |
//!
//! `receive` drops the previous incoming message, then takes the first queued message whose
//! tag is one of the `tags_len` `i64` tags at `tags_ptr` (any message when `tags_len` is 0)
//! and waits up to `timeout_ms` milliseconds ([`WAIT_FOREVER`]: no limit) for one. Only the
//! calling process is suspended. The data of a signal or a down notice is the ended
//! process's reason, as UTF-8 text.
//!
//! Both receive calls copy the first `min(size, buf_len)` bytes of what they took to
//! `buf_ptr` and write its size, and whether the call had to wait, at `info_ptr`
//! ([`ReceiveInfo`]); on `TimedOut` they write nothing. So a message that fits the guest's
//! buffer costs one call: a round trip between two processes is a `send_data` and a
//! `receive` each way. The guest reads a larger message with `read_data`.
//!
//! A plain receive (no tags) that may wait has two ways in: `try_receive` first, which
//! costs no suspension when a message is queued, or `receive` at once, which spares that
//! call when none is. The guest picks by whether its last plain receive waited (a process
//! answering another one's messages waits for each): `receive` records that, and so does
//! a `try_receive` that takes a message. The guest library asks through its export
//! [`RECEIVE_WAITED_EXPORT`](lunatic_abi::RECEIVE_WAITED_EXPORT), whose body calls
//! `receive_waited`; pre-initialization replaces that body with a read of a global it
//! adds ([`crate::preinit`]), which the runtime writes when the answer changes. The hint
//! costs a process no byte of linear memory, so a process parked in its first receive
//! still has touched none.
//!
//! Resources (sockets) travel with a message: `lunatic::resource::push_to_message` moves one
//! into the outgoing message, `lunatic::resource::take_from_message` takes one out of the
//! incoming message. Resources nobody takes close when the message is dropped: when the
//! next message is received, or when the receiver ends.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use lunatic_abi::{ReceiveInfo, ReceiveStatus, MAX_MESSAGE_SIZE, WAIT_FOREVER};
use wasmtime::{bail, format_err};
use wasmtime::{Caller, Linker, Val};

use super::memory;
use crate::process::{EndReason, Message, MessageBytes, MessageData, MessageKind, Terminated};
use crate::state::{Outgoing, ProcessState};

const MODULE: &str = "lunatic::message";

/// Most tags one selective receive may name.
const MAX_TAGS: u32 = 1024;

/// Bytes preallocated at most for an outgoing message, whatever capacity the guest asks.
const MAX_CAPACITY_HINT: u64 = 64 << 10;

fn incoming<'a>(
    caller: &'a Caller<'_, ProcessState>,
    function: &str,
) -> wasmtime::Result<&'a Message> {
    caller
        .data()
        .incoming
        .as_ref()
        .ok_or_else(|| format_err!("{MODULE}::{function}: no message has been received"))
}

pub(super) fn register(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "new_tag", |caller: Caller<'_, ProcessState>| {
        caller.data().runtime.new_tag()
    })?;
    linker.func_wrap(
        MODULE,
        "create_data",
        |mut caller: Caller<'_, ProcessState>, tag: i64, capacity: u64| {
            let capacity = capacity.min(MAX_CAPACITY_HINT) as usize;
            caller.data_mut().outgoing = Some(Outgoing {
                tag,
                data: MessageBytes::with_capacity(capacity),
                resources: Default::default(),
            });
        },
    )?;
    linker.func_wrap(MODULE, "write_data", write_data)?;
    linker.func_wrap(
        MODULE,
        "send",
        |mut caller: Caller<'_, ProcessState>, process: u64| {
            let state = caller.data_mut();
            let outgoing = state
                .outgoing
                .take()
                .ok_or_else(|| format_err!("{MODULE}::send: no message was created"))?;
            let tag = outgoing.tag;
            deliver(state, process, tag, outgoing);
            Ok(())
        },
    )?;
    linker.func_wrap(MODULE, "send_data", send_data)?;
    linker.func_wrap(MODULE, "try_receive", try_receive)?;
    linker.func_wrap(
        MODULE,
        "receive_waited",
        |caller: Caller<'_, ProcessState>| u32::from(caller.data().receive_waited),
    )?;
    linker.func_wrap(
        MODULE,
        "abandon_tag",
        |mut caller: Caller<'_, ProcessState>, tag: i64| {
            let state = caller.data_mut();
            state.inbox.abandon(state.handle.mailbox(), tag);
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "receive",
        |mut caller,
         (tags_ptr, tags_len, timeout_ms, buf_ptr, buf_len, info_ptr): (
            u32,
            u32,
            u64,
            u32,
            u32,
            u32,
        )|
         -> Box<dyn Future<Output = wasmtime::Result<u32>> + Send + '_> {
            let out = ReceiveBuffer {
                ptr: buf_ptr,
                len: buf_len,
                info_ptr,
            };
            let function = ReceiveCall::FUNCTION;
            let begun = check_receive(&caller, tags_ptr, tags_len, out, function)
                .and_then(|()| begin_receive(&mut caller, tags_ptr, tags_len, function));
            match begun {
                Ok(tags) => Box::new(ReceiveCall {
                    caller,
                    tags,
                    out,
                    timeout: (timeout_ms != WAIT_FOREVER)
                        .then(|| Duration::from_millis(timeout_ms)),
                    deadline: None,
                    waited: false,
                }),
                Err(error) => Box::new(std::future::ready(Err(error))),
            }
        },
    )?;
    linker.func_wrap(MODULE, "data_size", |caller: Caller<'_, ProcessState>| {
        Ok(incoming(&caller, "data_size")?.bytes().len() as u64)
    })?;
    linker.func_wrap(MODULE, "read_data", read_data)?;
    linker.func_wrap(MODULE, "get_tag", |caller: Caller<'_, ProcessState>| {
        Ok(incoming(&caller, "get_tag")?.tag)
    })?;
    linker.func_wrap(
        MODULE,
        "signal_process",
        |caller: Caller<'_, ProcessState>| match incoming(&caller, "signal_process")?.kind {
            MessageKind::LinkDied { process, .. } | MessageKind::ProcessDown { process, .. } => {
                Ok(process)
            }
            MessageKind::Data(_) => bail!(
                "{MODULE}::signal_process: the incoming message is not a signal or down notice"
            ),
        },
    )?;
    Ok(())
}

fn write_data(mut caller: Caller<'_, ProcessState>, ptr: u32, len: u32) -> wasmtime::Result<u32> {
    const FUNCTION: &str = "lunatic::message::write_data";
    let memory = memory::memory(&caller, FUNCTION)?;
    let (bytes, state) = memory.data_and_store_mut(&mut caller);
    let outgoing = state
        .outgoing
        .as_mut()
        .ok_or_else(|| format_err!("{FUNCTION}: no message was created"))?;
    let bytes = memory::slice(bytes, ptr, len, FUNCTION)?;
    if outgoing.data.len() + bytes.len() > MAX_MESSAGE_SIZE {
        bail!("{FUNCTION}: the message would exceed the limit of {MAX_MESSAGE_SIZE} bytes");
    }
    outgoing.data.extend_from_slice(bytes);
    Ok(len)
}

fn send_data(
    mut caller: Caller<'_, ProcessState>,
    process: u64,
    tag: i64,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<()> {
    const FUNCTION: &str = "lunatic::message::send_data";
    let memory = memory::memory(&caller, FUNCTION)?;
    let (bytes, state) = memory.data_and_store_mut(&mut caller);
    let bytes = memory::slice(bytes, ptr, len, FUNCTION)?;
    let outgoing = match state.outgoing.take() {
        // The common case, a message without resources: its bytes are all there is.
        None if bytes.len() <= MAX_MESSAGE_SIZE => Outgoing {
            tag,
            data: MessageBytes::from_slice(bytes),
            resources: Default::default(),
        },
        started => finish_started(started.unwrap_or_default(), bytes, FUNCTION)?,
    };
    deliver(state, process, tag, outgoing);
    Ok(())
}

/// `outgoing` (a message started for a resource, or an empty one) with `bytes` appended.
///
/// # Errors
/// The message would exceed [`MAX_MESSAGE_SIZE`].
#[inline(never)]
fn finish_started(
    mut outgoing: Outgoing,
    bytes: &[u8],
    function: &str,
) -> wasmtime::Result<Outgoing> {
    if outgoing.data.len() + bytes.len() > MAX_MESSAGE_SIZE {
        bail!("{function}: the message would exceed the limit of {MAX_MESSAGE_SIZE} bytes");
    }
    outgoing.data.extend_from_slice(bytes);
    Ok(outgoing)
}

/// Puts `outgoing` in `process`'s mailbox with `tag`; a process that is not alive drops it
/// (and so closes its resources).
fn deliver(state: &mut ProcessState, process: u64, tag: i64, outgoing: Outgoing) {
    state.send(
        process,
        Message {
            tag,
            kind: MessageKind::Data(MessageData {
                bytes: outgoing.data,
                resources: outgoing.resources,
            }),
        },
    );
}

fn read_data(mut caller: Caller<'_, ProcessState>, ptr: u32, len: u32) -> wasmtime::Result<u32> {
    const FUNCTION: &str = "lunatic::message::read_data";
    let memory = memory::memory(&caller, FUNCTION)?;
    let (bytes, state) = memory.data_and_store_mut(&mut caller);
    let message = state
        .incoming
        .as_ref()
        .ok_or_else(|| format_err!("{FUNCTION}: no message has been received"))?;
    let data = message.bytes();
    let count = data.len().min(len as usize);
    // `count` is at most `len`, a u32.
    memory::slice_mut(bytes, ptr, count as u32, FUNCTION)?.copy_from_slice(&data[..count]);
    Ok(count as u32)
}

/// The tags of one receive call: a request waits on one, so a few fit without allocating.
type Tags = smallvec::SmallVec<[i64; 4]>;

/// Where a receive call copies what it took: the guest's buffer, and its [`ReceiveInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReceiveBuffer {
    ptr: u32,
    len: u32,
    info_ptr: u32,
}

/// The arguments of a receive call whose ranges were found inside memory. A process
/// receives into the same stack buffer call after call, and a memory never shrinks, so the
/// same arguments again need no second look at memory (two checks a message, one by the
/// `try_receive` that finds nothing and one by the `receive` after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CheckedReceive {
    tags_ptr: u32,
    tags_len: u32,
    out: ReceiveBuffer,
}

/// Checks a receive call's ranges (before anything is taken, so a bad pointer loses no
/// message) and delivers what this process sent. The common case, the arguments of the last
/// call again, is inlined; the checks against memory are not.
///
/// # Errors
/// More than [`MAX_TAGS`] tags, or a range (tags, buffer or info) outside memory.
#[inline]
fn check_receive(
    caller: &Caller<'_, ProcessState>,
    tags_ptr: u32,
    tags_len: u32,
    out: ReceiveBuffer,
    function: &str,
) -> wasmtime::Result<()> {
    let state = caller.data();
    state.deliver_sent();
    let args = CheckedReceive {
        tags_ptr,
        tags_len,
        out,
    };
    if state.checked_receive.get() == Some(args) {
        return Ok(());
    }
    check_receive_ranges(caller, args, function)
}

/// [`check_receive`] for arguments not seen last time: checks them against memory and
/// remembers them.
///
/// # Errors
/// As [`check_receive`].
#[inline(never)]
fn check_receive_ranges(
    caller: &Caller<'_, ProcessState>,
    args: CheckedReceive,
    function: &str,
) -> wasmtime::Result<()> {
    let CheckedReceive {
        tags_ptr,
        tags_len,
        out,
    } = args;
    if tags_len > MAX_TAGS {
        bail!("{function}: {tags_len} tags given, at most {MAX_TAGS} are allowed");
    }
    let bytes = memory::memory(caller, function)?.data(caller);
    memory::slice(bytes, tags_ptr, tags_len * 8, function)?;
    memory::slice(bytes, out.ptr, out.len, function)?;
    memory::slice(bytes, out.info_ptr, ReceiveInfo::SIZE as u32, function)?;
    caller.data().checked_receive.set(Some(args));
    Ok(())
}

/// The tags a receive call names (their range already checked), read from guest memory;
/// the previous incoming message is dropped (the guest is done with it: resources it did
/// not take close at once).
///
/// # Errors
/// The module exports no memory (checked already, so never in practice).
#[inline]
fn begin_receive(
    caller: &mut Caller<'_, ProcessState>,
    tags_ptr: u32,
    tags_len: u32,
    function: &str,
) -> wasmtime::Result<Tags> {
    let tags = if tags_len == 0 {
        Tags::new()
    } else {
        read_tags(caller, tags_ptr, tags_len, function)?
    };
    caller.data_mut().incoming = None;
    Ok(tags)
}

/// The `tags_len` tags at `tags_ptr` (a selective receive's).
///
/// # Errors
/// As [`begin_receive`].
#[inline(never)]
fn read_tags(
    caller: &Caller<'_, ProcessState>,
    tags_ptr: u32,
    tags_len: u32,
    function: &str,
) -> wasmtime::Result<Tags> {
    let memory = memory::memory(caller, function)?;
    let bytes = memory::slice(memory.data(caller), tags_ptr, tags_len * 8, function)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|chunk| i64::from_le_bytes(chunk.try_into().unwrap_or_default()))
        .collect())
}

/// Makes `received` the incoming message, copies its first bytes and its [`ReceiveInfo`]
/// to the guest, and says what it is. Nothing is written when nothing was received: a
/// process parked in its first receive has touched none of its memory, and a write (or the
/// page table a read maps) would cost it a page.
fn finish_receive(
    caller: &mut Caller<'_, ProcessState>,
    received: Result<Option<Message>, EndReason>,
    out: ReceiveBuffer,
    waited: bool,
    function: &str,
) -> wasmtime::Result<u32> {
    let message = match received {
        Ok(Some(message)) => message,
        Ok(None) => return Ok(ReceiveStatus::TimedOut as u32),
        Err(reason) => return Err(terminated(reason)),
    };
    let status = match message.kind {
        MessageKind::Data(_) => ReceiveStatus::Data,
        MessageKind::LinkDied { .. } => ReceiveStatus::Signal,
        MessageKind::ProcessDown { .. } => ReceiveStatus::Down,
    };
    let data = message.bytes();
    // At most MAX_MESSAGE_SIZE bytes (or a reason text), and `count` is at most `out.len`.
    let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let count = size.min(out.len);
    let memory = memory::memory(caller, function)?;
    let (bytes, state) = memory.data_and_store_mut(&mut *caller);
    memory::slice_mut(bytes, out.ptr, count, function)?.copy_from_slice(&data[..count as usize]);
    let info = ReceiveInfo { size, waited };
    memory::slice_mut(bytes, out.info_ptr, ReceiveInfo::SIZE as u32, function)?
        .copy_from_slice(&info.to_bytes());
    state.incoming = Some(message);
    Ok(status as u32)
}

/// The error that ends a process told to die while it receives (kept out of line: it is
/// rare, and building it inline made every receive save more registers).
#[cold]
#[inline(never)]
fn terminated(reason: EndReason) -> wasmtime::Error {
    Terminated(reason).into()
}

fn try_receive(
    mut caller: Caller<'_, ProcessState>,
    tags_ptr: u32,
    tags_len: u32,
    buf_ptr: u32,
    buf_len: u32,
    info_ptr: u32,
) -> wasmtime::Result<u32> {
    const FUNCTION: &str = "lunatic::message::try_receive";
    let out = ReceiveBuffer {
        ptr: buf_ptr,
        len: buf_len,
        info_ptr,
    };
    // Every plain receive that waits starts here, on an empty mailbox: that answer costs
    // no lock, and leaves the incoming message as it was.
    check_receive(&caller, tags_ptr, tags_len, out, FUNCTION)?;
    let state = caller.data();
    if state.inbox.is_surely_empty(state.handle.mailbox()) {
        return Ok(ReceiveStatus::TimedOut as u32);
    }
    let tags = begin_receive(&mut caller, tags_ptr, tags_len, FUNCTION)?;
    let state = caller.data_mut();
    let received = state.inbox.try_receive(state.handle.mailbox(), &tags);
    if tags.is_empty() && matches!(received, Ok(Some(_))) {
        record_waited(&mut caller, false)?;
    }
    finish_receive(&mut caller, received, out, false, FUNCTION)
}

/// Records whether a plain receive waited, for the guest's next one (see the module docs):
/// a field, and the instance's global when the answer changes.
///
/// # Errors
/// The global refuses the value (it is checked to be a mutable `i32` when the module is
/// linked, so this does not happen).
#[inline]
fn record_waited(caller: &mut Caller<'_, ProcessState>, waited: bool) -> wasmtime::Result<()> {
    if caller.data().receive_waited == waited {
        return Ok(());
    }
    record_waited_change(caller, waited)
}

/// [`record_waited`] when the answer changes (out of line: it rarely does).
#[inline(never)]
fn record_waited_change(
    caller: &mut Caller<'_, ProcessState>,
    waited: bool,
) -> wasmtime::Result<()> {
    let state = caller.data_mut();
    state.receive_waited = waited;
    match state.receive_waited_global {
        Some(global) => global.set(&mut *caller, Val::I32(waited.into())),
        None => Ok(()),
    }
}

/// A `receive` call waiting for its message: a future written out rather than an
/// `async fn`, because it is boxed and polled once per message exchanged (the state machine
/// of an `async fn` moved more than the work it did).
struct ReceiveCall<'a> {
    caller: Caller<'a, ProcessState>,
    tags: Tags,
    out: ReceiveBuffer,
    /// How long to wait (`None`: forever), and the timer started when the first scan
    /// finds nothing.
    timeout: Option<Duration>,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Whether a scan found nothing (see [`ReceiveInfo::waited`]).
    waited: bool,
}

impl ReceiveCall<'_> {
    const FUNCTION: &'static str = "lunatic::message::receive";

    /// Whether the timeout (started at the first wait) is still running; out of line, as
    /// most receives wait without one.
    #[inline(never)]
    fn deadline_pending(&mut self, timeout: Duration, cx: &mut Context<'_>) -> bool {
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        deadline.as_mut().poll(cx).is_pending()
    }
}

impl Future for ReceiveCall<'_> {
    type Output = wasmtime::Result<u32>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let call = self.get_mut();
        // A scan that finds nothing leaves this task's waker under the lock a push takes.
        let state = call.caller.data_mut();
        let received = match state
            .inbox
            .take(state.handle.mailbox(), &call.tags, Some(cx.waker()))
        {
            Ok(None) => {
                call.waited = true;
                match call.timeout {
                    None => return Poll::Pending,
                    Some(timeout) => {
                        if call.deadline_pending(timeout, cx) {
                            return Poll::Pending;
                        }
                        Ok(None)
                    }
                }
            }
            done => done,
        };
        if call.tags.is_empty() {
            if let Err(error) = record_waited(&mut call.caller, call.waited) {
                return Poll::Ready(Err(error));
            }
        }
        Poll::Ready(finish_receive(
            &mut call.caller,
            received,
            call.out,
            call.waited,
            Self::FUNCTION,
        ))
    }
}
