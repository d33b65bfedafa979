//! Messages in and out: the value's bytes through the codec, its resources (sockets)
//! through the host.
//!
//! A resource is serialized as its index in the message and moved into the host's outgoing
//! message; on the receiving side it is taken out of the incoming message while the value is
//! deserialized. Serde gives a `Serialize` implementation no context, so these functions
//! mark the span in which a message is being written or read; a socket serialized outside
//! one (say, with `bincode::serialize` directly) is an error rather than a lost socket.

use std::cell::Cell;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{decode, encode};
use crate::error::ReceiveError;
use crate::host;

thread_local! {
    /// Whether a value is being serialized into the host's outgoing message.
    static WRITING: Cell<bool> = const { Cell::new(false) };
    /// Whether a value is being deserialized from the host's incoming message.
    static READING: Cell<bool> = const { Cell::new(false) };
    /// Whether the host has been told to start the message being written (done only when
    /// a resource needs a message to move into), and that message's tag.
    static STARTED: Cell<bool> = const { Cell::new(false) };
    static PENDING_TAG: Cell<i64> = const { Cell::new(0) };
}

/// Sets `flag` for as long as it lives (a panic included).
struct Marked(&'static std::thread::LocalKey<Cell<bool>>);

impl Marked {
    fn new(flag: &'static std::thread::LocalKey<Cell<bool>>) -> Self {
        flag.set(true);
        Self(flag)
    }
}

impl Drop for Marked {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// Sends `value` with `tag` to `process` (dropped, with its resources, if it is not alive).
///
/// # Panics
/// If the value's `Serialize` implementation fails.
pub(crate) fn send<T: Serialize + ?Sized>(process: u64, tag: i64, value: &T) {
    PENDING_TAG.set(tag);
    STARTED.set(false);
    let writing = Marked::new(&WRITING);
    encode(value, |bytes| {
        drop(writing);
        if STARTED.replace(false) {
            // A resource moved into the message the host started for it.
            host::write_and_send(process, bytes);
        } else {
            // The common case: one host call.
            host::send_data(process, tag, bytes);
        }
    });
}

/// Makes sure the host has an outgoing message for the value being written, so that a
/// resource can move into it (called by a resource's `Serialize`).
pub(crate) fn start_message() {
    if !STARTED.replace(true) {
        host::create_message(PENDING_TAG.get());
    }
}

/// Decodes the current incoming message (the one just received) as a `T`, taking the
/// resources it refers to.
///
/// # Errors
/// The message is not a valid `T`.
pub(crate) fn decode_incoming<T: DeserializeOwned>() -> Result<T, ReceiveError> {
    host::with_message_data(|bytes| {
        let _reading = Marked::new(&READING);
        decode(bytes)
    })
}

/// Whether a value is being serialized into an outgoing message now.
pub(crate) fn writing_message() -> bool {
    WRITING.get()
}

/// Whether a value is being deserialized from the incoming message now.
pub(crate) fn reading_message() -> bool {
    READING.get()
}
