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
    // The message exists before the value is serialized: resources move into it.
    host::create_message(tag);
    let bytes = {
        let _writing = Marked::new(&WRITING);
        encode(value)
    };
    host::write_and_send(process, &bytes);
}

/// Decodes the current incoming message (the one just received) as a `T`, taking the
/// resources it refers to.
///
/// # Errors
/// The message is not a valid `T`.
pub(crate) fn decode_incoming<T: DeserializeOwned>() -> Result<T, ReceiveError> {
    let bytes = host::message_data();
    let _reading = Marked::new(&READING);
    decode(&bytes)
}

/// Whether a value is being serialized into an outgoing message now.
pub(crate) fn writing_message() -> bool {
    WRITING.get()
}

/// Whether a value is being deserialized from the incoming message now.
pub(crate) fn reading_message() -> bool {
    READING.get()
}
