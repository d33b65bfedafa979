//! Import module `lunatic::message`: building, sending and receiving messages.
//!
//! A process has at most one *outgoing* message (being written) and one *incoming* message
//! (the last one received). Sending moves the outgoing bytes into the target's mailbox
//! without another copy; receiving makes a queued message the incoming one, which the guest
//! then copies out.
//!
//! `receive` drops the previous incoming message, then takes the first queued message whose
//! tag is one of the `tags_len` `i64` tags at `tags_ptr` (any message when `tags_len` is 0)
//! and waits up to `timeout_ms` milliseconds ([`WAIT_FOREVER`]: no limit) for one. Only the
//! calling process is suspended. The data of a signal or a down notice is the ended
//! process's [`EndReason`](lunatic_abi::EndReason), encoded.
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
//! adds ([`crate::program::preinit`]), which the runtime writes when the answer changes. The hint
//! costs a process no byte of linear memory, so a process parked in its first receive
//! still has touched none.
//!
//! Resources (sockets) travel with a message: `lunatic::resource::push_to_message` moves one
//! into the outgoing message, `lunatic::resource::take_from_message` takes one out of the
//! incoming message. Resources nobody takes close when the message is dropped: when the
//! next message is received, or when the receiver ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lunatic_abi::{Limit, ReceiveInfo, ReceiveStatus, MAX_MESSAGE_SIZE, WAIT_FOREVER};
use wasmtime::Val;

use super::call::{fail, slice, slice_mut, HostCall};
use crate::messaging::{Message, MessageBytes, MessageData, MessageExtra, MessageKind};
use crate::process::state::{Outgoing, ProcessState};
use crate::process::{EndReason, Terminated};
use crate::sandbox::budget::{Budget, Held, OverLimit};

/// Most tags one selective receive may name.
const MAX_TAGS: u32 = 1024;

/// Bytes preallocated at most for an outgoing message, whatever capacity the guest asks.
const MAX_CAPACITY_HINT: u64 = 64 << 10;

/// The incoming message.
fn incoming<'a>(call: &'a HostCall<'_>) -> wasmtime::Result<&'a Message> {
    call.state()
        .incoming
        .as_ref()
        .ok_or_else(|| call.fail("no message has been received"))
}

pub(super) fn new_tag(call: &mut HostCall<'_>) -> wasmtime::Result<i64> {
    Ok(call.state().runtime.new_tag())
}

pub(super) fn create_data(
    call: &mut HostCall<'_>,
    tag: i64,
    capacity: u64,
) -> wasmtime::Result<()> {
    let capacity = capacity.min(MAX_CAPACITY_HINT) as usize;
    call.state_mut().outgoing = Some(Outgoing {
        tag,
        data: MessageBytes::with_capacity(capacity),
        resources: Default::default(),
    });
    Ok(())
}

pub(super) fn write_data(call: &mut HostCall<'_>, ptr: u32, len: u32) -> wasmtime::Result<u32> {
    call.charge_copy(len as usize)?;
    let function = call.function();
    let (bytes, state) = call.memory_and_state()?;
    let outgoing = state
        .outgoing
        .as_mut()
        .ok_or_else(|| fail(function, "no message was created"))?;
    let bytes = slice(bytes, ptr, len, function)?;
    if outgoing.data.len() + bytes.len() > state.max_message_size {
        return Err(too_large(function, state.max_message_size));
    }
    outgoing.data.extend_from_slice(bytes);
    Ok(len)
}

/// A message grew past `max`: the VM's [`MAX_MESSAGE_SIZE`], or the sender's environment's
/// lower limit ([`Limit::MessageBytes`]).
#[cold]
#[inline(never)]
fn too_large(function: &lunatic_abi::HostFunction, max: usize) -> wasmtime::Error {
    if max < MAX_MESSAGE_SIZE {
        return OverLimit {
            limit: Limit::MessageBytes,
            max: max as u64,
        }
        .into();
    }
    fail(
        function,
        format_args!("the message would exceed the limit of {MAX_MESSAGE_SIZE} bytes"),
    )
}

pub(super) fn send(
    call: &mut HostCall<'_>,
    process: u64,
    message_type: u64,
    reply_tag: i64,
) -> wasmtime::Result<()> {
    let Some(outgoing) = call.state_mut().outgoing.take() else {
        return Err(call.fail("no message was created"));
    };
    let tag = outgoing.tag;
    let typed = Typed {
        message_type,
        reply_tag,
    };
    deliver(call.state_mut(), process, tag, typed, Body::Built(outgoing))
}

pub(super) fn send_data(
    call: &mut HostCall<'_>,
    process: u64,
    tag: i64,
    message_type: u64,
    reply_tag: i64,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<()> {
    call.charge_copy(len as usize)?;
    let function = call.function();
    let (bytes, state) = call.memory_and_state()?;
    let bytes = slice(bytes, ptr, len, function)?;
    let body = match state.outgoing.take() {
        // The common case, a message without resources: its bytes are all there is, and are
        // copied from guest memory straight into the message.
        None if bytes.len() <= state.max_message_size => Body::InGuestMemory(bytes),
        started => Body::Built(finish_started(
            started.unwrap_or_default(),
            bytes,
            state.max_message_size,
            function,
        )?),
    };
    let typed = Typed {
        message_type,
        reply_tag,
    };
    deliver(state, process, tag, typed, body)
}

pub(super) fn receive_waited(call: &mut HostCall<'_>) -> wasmtime::Result<u32> {
    Ok(u32::from(call.state().receive_waited))
}

pub(super) fn abandon_tag(call: &mut HostCall<'_>, tag: i64) -> wasmtime::Result<()> {
    let state = call.state_mut();
    state
        .inbox
        .abandon(state.handle.mailbox(), state.handle.taken(), tag);
    Ok(())
}

pub(super) fn data_size(call: &mut HostCall<'_>) -> wasmtime::Result<u64> {
    Ok(incoming(call)?.bytes().len() as u64)
}

pub(super) fn get_tag(call: &mut HostCall<'_>) -> wasmtime::Result<i64> {
    Ok(incoming(call)?.tag)
}

pub(super) fn signal_process(call: &mut HostCall<'_>) -> wasmtime::Result<u64> {
    match incoming(call)?.kind {
        MessageKind::LinkDied { process, .. } | MessageKind::ProcessDown { process, .. } => {
            Ok(process)
        }
        MessageKind::Data(_) => {
            Err(call.fail("the incoming message is not a signal or down notice"))
        }
    }
}

/// The incoming message, which must be data.
fn incoming_data<'a>(call: &'a HostCall<'_>) -> wasmtime::Result<&'a MessageData> {
    match &incoming(call)?.kind {
        MessageKind::Data(data) => Ok(data),
        MessageKind::LinkDied { .. } | MessageKind::ProcessDown { .. } => {
            Err(call.fail("the incoming message is a signal or down notice, not data"))
        }
    }
}

pub(super) fn sender(call: &mut HostCall<'_>) -> wasmtime::Result<u64> {
    Ok(incoming_data(call)?.sender)
}

pub(super) fn reply_tag(call: &mut HostCall<'_>) -> wasmtime::Result<i64> {
    Ok(incoming_data(call)?.reply_tag)
}

pub(super) fn sender_node(call: &mut HostCall<'_>) -> wasmtime::Result<u64> {
    let node = incoming_data(call)?.extra.sender_node();
    Ok(call.state().runtime.node_or_this(node))
}

pub(super) fn signal_node(call: &mut HostCall<'_>) -> wasmtime::Result<u64> {
    match incoming(call)?.kind {
        MessageKind::LinkDied { node, .. } | MessageKind::ProcessDown { node, .. } => {
            Ok(call.state().runtime.node_or_this(node))
        }
        MessageKind::Data(_) => {
            Err(call.fail("the incoming message is not a signal or down notice"))
        }
    }
}

pub(super) fn name_type(
    call: &mut HostCall<'_>,
    message_type: u64,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<()> {
    if len > 64 << 10 {
        return Err(call.fail("the name is longer than 64 KiB"));
    }
    call.charge_copy(len as usize)?;
    let function = call.function();
    let (bytes, state) = call.memory_and_state()?;
    // Read in place: every process of a program names the same few types, so most names
    // are known already, and a new one is copied once, into the table.
    let name = slice(bytes, ptr, len, function)?;
    state.runtime.type_names().record(message_type, name);
    Ok(())
}

pub(super) fn type_name(
    call: &mut HostCall<'_>,
    message_type: u64,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<u32> {
    let name = call.state().runtime.type_names().get(message_type);
    call.write_text(ptr, len, name.as_deref().unwrap_or_default())
}

pub(super) fn read_data(call: &mut HostCall<'_>, ptr: u32, len: u32) -> wasmtime::Result<u32> {
    call.charge_copy(len as usize)?;
    let function = call.function();
    let (bytes, state) = call.memory_and_state()?;
    let message = state
        .incoming
        .as_ref()
        .ok_or_else(|| fail(function, "no message has been received"))?;
    let data = message.bytes();
    let count = data.len().min(len as usize);
    // `count` is at most `len`, a u32.
    slice_mut(bytes, ptr, count as u32, function)?.copy_from_slice(&data[..count]);
    Ok(count as u32)
}

/// The future of a host call as wasmtime takes it.
type BoxedCall<'a, T> = Box<dyn Future<Output = wasmtime::Result<T>> + Send + 'a>;

/// `receive`: checks its ranges and begins at once; the returned future waits (declared
/// `Mailbox`: it ends by itself when the caller is killed, and is boxed here).
pub(super) fn receive<'a>(
    mut call: HostCall<'a>,
    tags_ptr: u32,
    tags_len: u32,
    timeout_ms: u64,
    buf_ptr: u32,
    buf_len: u32,
    info_ptr: u32,
) -> BoxedCall<'a, u32> {
    let out = ReceiveBuffer {
        ptr: buf_ptr,
        len: buf_len,
        info_ptr,
    };
    let begun = check_receive(&mut call, tags_ptr, tags_len, out)
        .and_then(|()| begin_receive(&mut call, tags_ptr, tags_len));
    match begun {
        Ok(tags) => Box::new(ReceiveCall {
            call,
            tags,
            out,
            timeout: (timeout_ms != WAIT_FOREVER).then(|| Duration::from_millis(timeout_ms)),
            deadline: None,
            waited: false,
        }),
        Err(error) => Box::new(std::future::ready(Err(error))),
    }
}

/// `outgoing` (a message started for a resource, or an empty one) with `bytes` appended.
///
/// # Errors
/// The message would exceed `max` bytes.
#[inline(never)]
fn finish_started(
    mut outgoing: Outgoing,
    bytes: &[u8],
    max: usize,
    function: &lunatic_abi::HostFunction,
) -> wasmtime::Result<Outgoing> {
    if outgoing.data.len() + bytes.len() > max {
        return Err(too_large(function, max));
    }
    outgoing.data.extend_from_slice(bytes);
    Ok(outgoing)
}

/// What a queued message costs the host beyond its bytes (its entry in a queue), as
/// `Limit::QueuedBytes` counts it: an empty message is not free.
const QUEUED_OVERHEAD: u64 = 64;

/// What a resource (a socket handle) travelling in a queued message is counted as: a
/// message may carry a thousand handles to one socket, each a host allocation.
const QUEUED_RESOURCE: u64 = 1 << 10;

/// What a sender says of a message it sends: its type, and whether it is a request.
#[derive(Debug, Clone, Copy)]
struct Typed {
    /// The fingerprint of its type.
    message_type: u64,
    /// The tag its reply is awaited under if it is a request, else 0.
    reply_tag: i64,
}

/// What a sent message holds besides its type.
enum Body<'a> {
    /// Bytes still in guest memory (a message sent in one call, without resources).
    InGuestMemory(&'a [u8]),
    /// A message built in the host over several calls, or with resources.
    Built(Outgoing),
}

/// Puts `body` in `process`'s mailbox with `tag`; a process that is not alive drops it
/// (and so closes its resources).
///
/// # Errors
/// The sender's environment is over its limit of queued bytes (see `sandbox::budget`).
#[inline(always)]
fn deliver(
    state: &mut ProcessState,
    process: u64,
    tag: i64,
    typed: Typed,
    body: Body<'_>,
) -> wasmtime::Result<()> {
    let charge = match state.env().budget() {
        None => None,
        Some(budget) => Some(charge_queued(budget, &body)?),
    };
    let sender = state.handle.id();
    let outbox = state.outbox();
    // Made after the outbox is borrowed: see `ProcessState::outbox`.
    let (bytes, extra) = match body {
        Body::InGuestMemory(bytes) => (MessageBytes::from_slice(bytes), MessageExtra::default()),
        Body::Built(outgoing) => (outgoing.data, MessageExtra::resources(outgoing.resources)),
    };
    outbox.send(
        process,
        Message {
            tag,
            kind: MessageKind::Data(MessageData {
                sender,
                message_type: typed.message_type,
                reply_tag: typed.reply_tag,
                bytes,
                extra,
            }),
            charge,
        },
    );
    Ok(())
}

/// What `body` costs its sandboxed sender's environment while it is queued.
///
/// # Errors
/// The environment is over its limit of queued bytes.
#[cold]
#[inline(never)]
fn charge_queued(budget: &Arc<Budget>, body: &Body<'_>) -> Result<Box<Held>, OverLimit> {
    let (len, resources) = match body {
        Body::InGuestMemory(bytes) => (bytes.len(), 0),
        Body::Built(outgoing) => (outgoing.data.len(), outgoing.resources.len()),
    };
    let queued = len as u64 + QUEUED_OVERHEAD + resources as u64 * QUEUED_RESOURCE;
    budget.hold(Limit::QueuedBytes, queued).map(Box::new)
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
/// message). The common case, the arguments of the last call again, is inlined; the checks
/// against memory are not.
///
/// # Errors
/// More than [`MAX_TAGS`] tags, or a range (tags, buffer or info) outside memory.
#[inline]
fn check_receive(
    call: &mut HostCall<'_>,
    tags_ptr: u32,
    tags_len: u32,
    out: ReceiveBuffer,
) -> wasmtime::Result<()> {
    let args = CheckedReceive {
        tags_ptr,
        tags_len,
        out,
    };
    if call.state().checked_receive.get() == Some(args) {
        return Ok(());
    }
    check_receive_ranges(call, args)
}

/// [`check_receive`] for arguments not seen last time: checks them against memory and
/// remembers them.
///
/// # Errors
/// As [`check_receive`].
#[inline(never)]
fn check_receive_ranges(call: &mut HostCall<'_>, args: CheckedReceive) -> wasmtime::Result<()> {
    let CheckedReceive {
        tags_ptr,
        tags_len,
        out,
    } = args;
    if tags_len > MAX_TAGS {
        return Err(call.fail(format_args!(
            "{tags_len} tags given, at most {MAX_TAGS} are allowed"
        )));
    }
    let function = call.function();
    let (bytes, state) = call.memory_and_state()?;
    slice(bytes, tags_ptr, tags_len * 8, function)?;
    slice(bytes, out.ptr, out.len, function)?;
    slice(bytes, out.info_ptr, ReceiveInfo::SIZE as u32, function)?;
    state.checked_receive.set(Some(args));
    Ok(())
}

/// The tags a receive call names (their range already checked), read from guest memory;
/// the previous incoming message is dropped (the guest is done with it: resources it did
/// not take close at once).
///
/// # Errors
/// The module exports no memory (checked already, so never in practice).
#[inline]
fn begin_receive(call: &mut HostCall<'_>, tags_ptr: u32, tags_len: u32) -> wasmtime::Result<Tags> {
    let tags = if tags_len == 0 {
        Tags::new()
    } else {
        read_tags(call, tags_ptr, tags_len)?
    };
    call.state_mut().incoming = None;
    Ok(tags)
}

/// The `tags_len` tags at `tags_ptr` (a selective receive's).
///
/// # Errors
/// As [`begin_receive`].
#[inline(never)]
fn read_tags(call: &mut HostCall<'_>, tags_ptr: u32, tags_len: u32) -> wasmtime::Result<Tags> {
    let function = call.function();
    let bytes = slice(call.memory()?, tags_ptr, tags_len * 8, function)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|chunk| i64::from_le_bytes(chunk.try_into().unwrap_or_default()))
        .collect())
}

/// Copies the first bytes of the incoming message (which the take that `received` reports
/// made it) and its [`ReceiveInfo`] to the guest, and says what it is. Nothing is written
/// when nothing was received: a process parked in its first receive has touched none of
/// its memory, and a write (or the page table a read maps) would cost it a page.
fn finish_receive(
    call: &mut HostCall<'_>,
    received: Result<bool, Box<EndReason>>,
    out: ReceiveBuffer,
    waited: bool,
) -> wasmtime::Result<ReceiveStatus> {
    match received {
        Ok(true) => {}
        Ok(false) => return Ok(ReceiveStatus::TimedOut),
        Err(reason) => return Err(terminated(*reason)),
    }
    let Some(message) = &call.state().incoming else {
        return Err(incoming_lost());
    };
    let (status, message_type, resources) = match &message.kind {
        MessageKind::Data(data) => (
            ReceiveStatus::Data,
            data.message_type,
            data.extra.has_resources(),
        ),
        MessageKind::LinkDied { .. } => (ReceiveStatus::Signal, 0, false),
        MessageKind::ProcessDown { .. } => (ReceiveStatus::Down, 0, false),
    };
    // At most MAX_MESSAGE_SIZE bytes (or an encoded reason), and `count` at most `out.len`.
    let size = u32::try_from(message.bytes().len()).unwrap_or(u32::MAX);
    let count = size.min(out.len);
    call.charge_copy(count as usize)?;
    let function = call.function();
    let (bytes, state) = call.memory_and_state()?;
    // Still there: the charge and the memory lookup leave the state's messages alone.
    let data = state.incoming.as_ref().map_or(&[][..], Message::bytes);
    let data = data.get(..count as usize).unwrap_or_default();
    slice_mut(bytes, out.ptr, data.len() as u32, function)?.copy_from_slice(data);
    let info = ReceiveInfo {
        size,
        waited,
        resources,
        message_type,
    };
    slice_mut(bytes, out.info_ptr, ReceiveInfo::SIZE as u32, function)?
        .copy_from_slice(&info.to_bytes());
    Ok(status)
}

/// The error that ends a process whose take reported a message and left none: a bug of the
/// VM's own, which ends the process rather than the VM.
#[cold]
#[inline(never)]
fn incoming_lost() -> wasmtime::Error {
    Terminated(EndReason::VmFailed(
        "a receive found no incoming message after taking one".into(),
    ))
    .into()
}

/// The error that ends a process told to die while it receives (kept out of line: it is
/// rare, and building it inline made every receive save more registers).
#[cold]
#[inline(never)]
fn terminated(reason: EndReason) -> wasmtime::Error {
    Terminated(reason).into()
}

pub(super) fn try_receive(
    call: &mut HostCall<'_>,
    tags_ptr: u32,
    tags_len: u32,
    buf_ptr: u32,
    buf_len: u32,
    info_ptr: u32,
) -> wasmtime::Result<ReceiveStatus> {
    let out = ReceiveBuffer {
        ptr: buf_ptr,
        len: buf_len,
        info_ptr,
    };
    // Every plain receive that waits starts here, on an empty mailbox: that answer costs
    // no lock, and leaves the incoming message as it was.
    check_receive(call, tags_ptr, tags_len, out)?;
    let state = call.state();
    if state.inbox.is_surely_empty(state.handle.mailbox()) {
        return Ok(ReceiveStatus::TimedOut);
    }
    let tags = begin_receive(call, tags_ptr, tags_len)?;
    let state = call.state_mut();
    let received = state.inbox.take_into(
        state.handle.mailbox(),
        state.handle.taken(),
        &tags,
        None,
        &mut state.incoming,
    );
    if tags.is_empty() && received == Ok(true) {
        record_waited(call, false)?;
    }
    finish_receive(call, received, out, false)
}

/// Records whether a plain receive waited, for the guest's next one (see the module docs):
/// a field, and the instance's global when the answer changes.
///
/// # Errors
/// The global refuses the value (it is checked to be a mutable `i32` when the module is
/// linked, so this does not happen).
#[inline]
fn record_waited(call: &mut HostCall<'_>, waited: bool) -> wasmtime::Result<()> {
    if call.state().receive_waited == waited {
        return Ok(());
    }
    record_waited_change(call, waited)
}

/// [`record_waited`] when the answer changes (out of line: it rarely does).
#[inline(never)]
fn record_waited_change(call: &mut HostCall<'_>, waited: bool) -> wasmtime::Result<()> {
    let state = call.state_mut();
    state.receive_waited = waited;
    match state.receive_waited_global {
        Some(global) => global.set(call.caller(), Val::I32(waited.into())),
        None => Ok(()),
    }
}

/// A `receive` call waiting for its message: a future written out rather than an
/// `async fn`, because it is boxed and polled once per message exchanged (the state machine
/// of an `async fn` moved more than the work it did).
struct ReceiveCall<'a> {
    call: HostCall<'a>,
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
        let receive = self.get_mut();
        // A scan that finds nothing leaves this task's waker under the lock a push takes.
        let state = receive.call.state_mut();
        let received = match state.inbox.take_into(
            state.handle.mailbox(),
            state.handle.taken(),
            &receive.tags,
            Some(cx.waker()),
            &mut state.incoming,
        ) {
            Ok(false) => {
                receive.waited = true;
                match receive.timeout {
                    None => return Poll::Pending,
                    Some(timeout) => {
                        if receive.deadline_pending(timeout, cx) {
                            return Poll::Pending;
                        }
                        Ok(false)
                    }
                }
            }
            done => done,
        };
        if receive.tags.is_empty() {
            if let Err(error) = record_waited(&mut receive.call, receive.waited) {
                return Poll::Ready(Err(error));
            }
        }
        Poll::Ready(
            finish_receive(&mut receive.call, received, receive.out, receive.waited)
                .map(|status| status as u32),
        )
    }
}
