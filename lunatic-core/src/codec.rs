//! The wire format of messages, in one place: the value in bincode 1.3. Its type travels
//! beside it, as the host's metadata of the message: the fingerprint of its
//! [`MessageType`] (`lunatic::message::send_data` takes it, a receive's `ReceiveInfo`
//! gives it back), and, for a request, the tag its reply is awaited under; the VM keeps
//! the names of types, which each process records at a type's first use. So a message is
//! no larger than its value, a receive compares two numbers before it decodes, and a
//! receiver can name, and refuse at once, a request of another type, whose requester is
//! the message's sender as the VM recorded it (no field of the message can redirect the
//! refusal).
//!
//! A value carried inside another message as bytes ([`TypedBytes`]) has the fingerprint
//! in front: 8 bytes, little-endian.

use std::mem::MaybeUninit;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ReceiveError;
use crate::message_type::{type_info, MessageType, WrongType};

/// A value that can travel in a message: anything serde can write and read back, and
/// that borrows nothing (a message leaves its sender's memory).
pub trait Sendable: Serialize + DeserializeOwned + 'static {}

impl<T: Serialize + DeserializeOwned + 'static> Sendable for T {}

/// The answer to a request its receiver could not read (sent to its sender under its
/// reply tag); the requester's wait ends with [`ReceiveError::Rejected`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Rejection(pub(crate) WrongType);

/// Bytes of a message encoded on the stack; a larger one moves to the heap as it grows.
/// Most messages (a number, a request, a short string) fit, so a
/// send allocates nothing and touches no static (a buffer kept in a static, or a
/// `thread_local!`, cost more than the encoding: every access to one is a call through a
/// lock or a key). The buffer is not cleared first: only what is written is read.
const STACK_BYTES: usize = 256;

/// Encodes `value` and runs `use_bytes` on the fingerprint of its type and its bytes. The
/// value is encoded in one pass (`bincode::serialize` would serialize twice, once to
/// measure, and serializing a socket moves it into the message).
///
/// # Panics
/// If the value's `Serialize` implementation fails (for example a sequence of unknown
/// length, or a socket serialized outside a message), which is a bug in the caller, not a
/// runtime condition.
#[inline(always)]
pub(crate) fn encode<T: Sendable, R>(value: &T, use_bytes: impl FnOnce(u64, &[u8]) -> R) -> R {
    // A local of its own, not a field: beside the writer's other fields, the compiler
    // would clear it along with them.
    let mut stack = [MaybeUninit::uninit(); STACK_BYTES];
    let mut bytes = MessageWriter {
        stack: &mut stack,
        len: 0,
        heap: Vec::new(),
    };
    if let Err(error) = bincode::serialize_into(&mut bytes, value) {
        panic!("cannot serialize message: {error}");
    }
    use_bytes(type_info::<T>().fingerprint, bytes.as_slice())
}

/// The bytes of a message being encoded: on the stack while they fit, then on the heap.
struct MessageWriter<'a> {
    stack: &'a mut [MaybeUninit<u8>; STACK_BYTES],
    /// Bytes written to the start of `stack`, while `heap` is unused.
    len: usize,
    /// All the bytes, once they outgrew `stack`.
    heap: Vec<u8>,
}

impl MessageWriter<'_> {
    /// Appends `data`.
    #[inline]
    #[allow(unsafe_code)]
    fn put(&mut self, data: &[u8]) {
        let end = self.len + data.len();
        if end <= STACK_BYTES && self.heap.is_empty() {
            // SAFETY: `len + data.len() <= STACK_BYTES`, so the range is inside `stack`;
            // `data` is another object (a `&mut self` is never borrowed as `data`); and
            // `MaybeUninit<u8>` has the layout of `u8`.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    self.stack.as_mut_ptr().add(self.len).cast::<u8>(),
                    data.len(),
                );
            }
            self.len = end;
        } else {
            self.spill(data);
        }
    }

    /// The bytes written to the stack.
    #[inline]
    #[allow(unsafe_code)]
    fn stacked(&self) -> &[u8] {
        // SAFETY: `write_all` wrote the first `len` bytes of `stack` (`len <= STACK_BYTES`),
        // and `MaybeUninit<u8>` has the layout of `u8`.
        unsafe { std::slice::from_raw_parts(self.stack.as_ptr().cast::<u8>(), self.len) }
    }

    #[inline]
    fn as_slice(&self) -> &[u8] {
        if self.heap.is_empty() {
            self.stacked()
        } else {
            &self.heap
        }
    }

    #[cold]
    fn spill(&mut self, data: &[u8]) {
        if self.heap.is_empty() {
            let mut heap = Vec::with_capacity(2 * STACK_BYTES + data.len());
            heap.extend_from_slice(self.stacked());
            self.heap = heap;
        }
        self.heap.extend_from_slice(data);
    }
}

impl std::io::Write for MessageWriter<'_> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    #[inline]
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.put(data);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes `bytes`, sent as the type of fingerprint `message_type`, as a `T`.
///
/// # Errors
/// [`ReceiveError::WrongType`] if it was sent as another type,
/// [`ReceiveError::Rejected`] if it is the refusal of a request,
/// [`ReceiveError::DeserializationFailed`] if its bytes are not a `T`.
#[inline(always)]
pub(crate) fn decode<T: Sendable>(message_type: u64, bytes: &[u8]) -> Result<T, ReceiveError> {
    if message_type == type_info::<T>().fingerprint {
        decode_value(bytes)
    } else {
        Err(misread::<T>(message_type, bytes))
    }
}

/// Decodes `bytes`, sent as a `T`.
///
/// # Errors
/// [`ReceiveError::DeserializationFailed`] if they are not a valid `T`.
#[inline(always)]
pub(crate) fn decode_value<T: Sendable>(bytes: &[u8]) -> Result<T, ReceiveError> {
    bincode::deserialize(bytes).map_err(unreadable)
}

/// Why a value of the right type did not decode.
#[cold]
fn unreadable(error: bincode::Error) -> ReceiveError {
    ReceiveError::DeserializationFailed(error.to_string())
}

/// Why `bytes`, sent as the type of fingerprint `message_type`, are not a `T`: another
/// type, or the refusal of a request.
#[cold]
#[inline(never)]
pub(crate) fn misread<T: Sendable>(message_type: u64, bytes: &[u8]) -> ReceiveError {
    if message_type == type_info::<Rejection>().fingerprint {
        if let Ok(Rejection(why)) = bincode::deserialize(bytes) {
            return ReceiveError::Rejected(Box::new(why));
        }
    }
    ReceiveError::WrongType(Box::new(WrongType::new(
        MessageType::of::<T>(),
        MessageType::of_fingerprint(message_type),
    )))
}

/// A value encoded with its type, to travel as bytes inside another message and be read
/// later as the type it is (an actor's info message, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedBytes(Vec<u8>);

impl TypedBytes {
    /// Encodes `value` with its type.
    ///
    /// # Panics
    /// If `T`'s `Serialize` implementation fails (a socket cannot travel this way).
    pub fn encode<T: Sendable>(value: &T) -> Self {
        Self(encode(value, |message_type, bytes| {
            [&message_type.to_le_bytes()[..], bytes].concat()
        }))
    }

    /// The fingerprint in front, and the value's bytes.
    fn parts(&self) -> Option<(u64, &[u8])> {
        let (message_type, bytes) = self.0.split_first_chunk::<8>()?;
        Some((u64::from_le_bytes(*message_type), bytes))
    }

    /// The type the value was encoded as.
    #[must_use]
    pub fn message_type(&self) -> Option<MessageType> {
        self.parts()
            .map(|(message_type, _)| MessageType::of_fingerprint(message_type))
    }

    /// Reads the value as a `T`.
    ///
    /// # Errors
    /// [`ReceiveError::WrongType`] if it is not a `T` (both types named);
    /// [`ReceiveError::DeserializationFailed`] if its bytes are broken.
    pub fn decode<T: Sendable>(&self) -> Result<T, ReceiveError> {
        let (message_type, bytes) = self.parts().ok_or_else(|| {
            ReceiveError::DeserializationFailed("typed bytes without a type".to_owned())
        })?;
        decode(message_type, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Sendable, U: Sendable>(value: &T) -> Result<U, ReceiveError> {
        encode(value, |message_type, bytes| {
            decode::<U>(message_type, bytes)
        })
    }

    #[test]
    fn a_value_reads_back_as_its_own_type_only() {
        assert_eq!(round_trip::<u64, u64>(&5), Ok(5));
        let wrong = round_trip::<String, u64>(&"hello".to_owned());
        let Err(ReceiveError::WrongType(why)) = wrong else {
            panic!("{wrong:?}")
        };
        assert_eq!(why.expected().name(), "u64");
        assert!(why.found().is::<String>());
        assert!(matches!(
            round_trip::<(u64, String), u64>(&(42, "x".to_owned())),
            Err(ReceiveError::WrongType(_))
        ));
        assert!(matches!(
            round_trip::<f64, u64>(&1.5),
            Err(ReceiveError::WrongType(_))
        ));
    }

    #[test]
    fn a_rejection_reads_as_rejected_whatever_was_awaited() {
        let why = WrongType::new(MessageType::of::<u64>(), MessageType::of::<String>());
        let read = round_trip::<Rejection, Vec<u8>>(&Rejection(why.clone()));
        assert_eq!(read, Err(ReceiveError::Rejected(Box::new(why))));
    }

    #[test]
    fn typed_bytes_know_their_type() {
        let bytes = TypedBytes::encode(&"hi".to_owned());
        assert!(bytes.message_type().unwrap().is::<String>());
        assert_eq!(bytes.decode::<String>().unwrap(), "hi");
        assert!(matches!(
            bytes.decode::<u64>(),
            Err(ReceiveError::WrongType(_))
        ));
        assert!(TypedBytes(vec![1, 2]).decode::<u8>().is_err());
    }
}
