//! The wire format of messages: bincode 1.3, in one place.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ReceiveError;

/// A value that can travel in a message: anything serde can write and read back.
pub trait Sendable: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> Sendable for T {}

/// Most bytes the reused encoding buffer keeps between messages; one that grew past
/// this for a large message is freed rather than kept.
const KEPT_BUFFER: usize = 64 << 10;

thread_local! {
    /// The buffer messages are encoded into, reused: a send allocates nothing.
    static BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Encodes `value` as message bytes, in one pass (`bincode::serialize` would serialize
/// twice, once to measure, and serializing a socket moves it into the message), and runs
/// `use_bytes` on them.
///
/// # Panics
/// If the value's `Serialize` implementation fails (for example a sequence of unknown
/// length, or a socket serialized outside a message), which is a bug in the caller, not a
/// runtime condition.
pub(crate) fn encode<T: Serialize + ?Sized, R>(value: &T, use_bytes: impl FnOnce(&[u8]) -> R) -> R {
    // Taken out while in use, so a `Serialize` that sends a message of its own gets a
    // fresh buffer instead of a borrow error.
    let mut bytes = BUFFER.take();
    bytes.clear();
    if let Err(error) = bincode::serialize_into(&mut bytes, value) {
        panic!("cannot serialize message: {error}");
    }
    let result = use_bytes(&bytes);
    if bytes.capacity() <= KEPT_BUFFER {
        BUFFER.set(bytes);
    }
    result
}

/// Decodes message bytes.
///
/// # Errors
/// The bytes are not a valid `T`.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ReceiveError> {
    bincode::deserialize(bytes).map_err(|e| ReceiveError::DeserializationFailed(e.to_string()))
}
