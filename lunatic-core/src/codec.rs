//! The wire format of messages: bincode 1.3, in one place.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ReceiveError;

/// A value that can travel in a message: anything serde can write and read back.
pub trait Sendable: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> Sendable for T {}

/// Bytes set aside for a message before encoding it.
const SMALL_MESSAGE: usize = 64;

/// Encodes `value` as message bytes, in one pass: `bincode::serialize` would serialize
/// twice (once to measure), and serializing a socket moves it into the message.
///
/// # Panics
/// If the value's `Serialize` implementation fails (for example a sequence of unknown
/// length, or a socket serialized outside a message), which is a bug in the caller, not a
/// runtime condition.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // Most messages are small: one allocation instead of a few doublings.
    let mut bytes = Vec::with_capacity(SMALL_MESSAGE);
    match bincode::serialize_into(&mut bytes, value) {
        Ok(()) => bytes,
        Err(error) => panic!("cannot serialize message: {error}"),
    }
}

/// Decodes message bytes.
///
/// # Errors
/// The bytes are not a valid `T`.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ReceiveError> {
    bincode::deserialize(bytes).map_err(|e| ReceiveError::DeserializationFailed(e.to_string()))
}
