//! Messages in and out: the value's bytes through the codec, its resources (sockets)
//! through the host.
//!
//! A resource is serialized as its index in the message and moved into the host's outgoing
//! message; on the receiving side it is taken out of the incoming message while the value is
//! deserialized. Serde gives a `Serialize` implementation no context, so these functions
//! mark the span in which a message is being written or read; a socket serialized outside
//! one (say, with `bincode::serialize` directly) is an error rather than a lost socket.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use crate::codec::{self, encode, Rejection, Sendable};
use crate::error::ReceiveError;
use crate::host::{self, Metadata};
use crate::message_type::type_info;
use crate::process::ProcessId;
use crate::tag::Tag;

// A process is a single-threaded wasm instance, so these statics are per process. They
// are atomics only because a static must be `Sync`: on wasm32 without the atomics feature
// each access is a plain load or store (a `thread_local!` costs far more, four times a
// message).

/// Whether a value is being serialized into the host's outgoing message.
static WRITING: AtomicBool = AtomicBool::new(false);
/// Whether a value is being deserialized from the host's incoming message.
static READING: AtomicBool = AtomicBool::new(false);
/// Whether the host has been told to start the message being written (done only when a
/// resource needs a message to move into).
static STARTED: AtomicBool = AtomicBool::new(false);
/// The tag of the message being written.
static PENDING_TAG: AtomicI64 = AtomicI64::new(0);

/// Sets `flag` for as long as it lives (a panic included).
struct Marked(&'static AtomicBool);

impl Marked {
    #[inline]
    fn new(flag: &'static AtomicBool) -> Self {
        flag.store(true, Ordering::Relaxed);
        Self(flag)
    }
}

impl Drop for Marked {
    #[inline]
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Sends `value` with `tag` to `process` (dropped, with its resources, if it is not
/// alive); `reply` is the tag its reply is awaited under if the value carries a request.
///
/// # Panics
/// If the value's `Serialize` implementation fails.
pub(crate) fn send<T: Sendable>(to: ProcessId, tag: i64, value: &T, reply: Option<Tag>) {
    PENDING_TAG.store(tag, Ordering::Relaxed);
    STARTED.store(false, Ordering::Relaxed);
    let writing = Marked::new(&WRITING);
    let reply_tag = reply.map_or(0, Tag::id);
    let process = to.local_id();
    encode(value, |message_type, bytes| {
        drop(writing);
        if !to.is_local() {
            // The host refuses a resource moved into it (`STARTED`): it stays behind.
            host::send_remote(to.node_id(), process, tag, message_type, reply_tag, bytes);
        } else if STARTED.swap(false, Ordering::Relaxed) {
            // A resource moved into the message the host started for it.
            host::write_and_send(process, message_type, reply_tag, bytes);
        } else {
            // The common case: one host call.
            host::send_data(process, tag, message_type, reply_tag, bytes);
        }
    });
}

/// Makes sure the host has an outgoing message for the value being written, so that a
/// resource can move into it (called by a resource's `Serialize`).
#[inline]
pub(crate) fn start_message() {
    if !STARTED.swap(true, Ordering::Relaxed) {
        host::create_message(PENDING_TAG.load(Ordering::Relaxed));
    }
}

/// Decodes the current incoming message (the one just received), whose bytes are `bytes`
/// and of which the host said `metadata`, as a `T`, taking the resources it refers to. A
/// request of another type is refused at once: its sender is sent a [`Rejection`] naming
/// both types.
///
/// # Errors
/// The message is not a `T` ([`ReceiveError::WrongType`]), is the refusal of a request
/// this process sent ([`ReceiveError::Rejected`]), or its bytes are not a valid `T`.
#[inline(always)]
pub(crate) fn decode_received<T: Sendable>(
    metadata: Metadata,
    bytes: &[u8],
) -> Result<T, ReceiveError> {
    if metadata.message_type != type_info::<T>().fingerprint {
        return Err(misread_received::<T>(metadata.message_type, bytes));
    }
    // Only a message that carries resources lets a socket be read from it.
    let _reading = metadata.resources.then(|| Marked::new(&READING));
    codec::decode_value(bytes)
}

/// Why the incoming message is not a `T`; if it is a request of another type, refuses it.
#[cold]
#[inline(never)]
fn misread_received<T: Sendable>(message_type: u64, bytes: &[u8]) -> ReceiveError {
    let error = codec::misread::<T>(message_type, bytes);
    if let ReceiveError::WrongType(why) = &error {
        let reply_tag = host::message_reply_tag();
        if reply_tag != 0 {
            // The requester is the message's sender, as the VM recorded it.
            let (node, process) = host::message_sender();
            let requester = ProcessId::on_node(node, process);
            send(
                requester,
                reply_tag,
                &Rejection(crate::WrongType::clone(why)),
                None,
            );
        }
    }
    error
}

/// Whether a value is being serialized into an outgoing message now.
#[inline]
pub(crate) fn writing_message() -> bool {
    WRITING.load(Ordering::Relaxed)
}

/// Whether a value is being deserialized from the incoming message now.
#[inline]
pub(crate) fn reading_message() -> bool {
    READING.load(Ordering::Relaxed)
}
