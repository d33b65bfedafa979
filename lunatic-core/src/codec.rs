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

use std::marker::PhantomData;
use std::mem::MaybeUninit;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ReceiveError;
use crate::message_type::{named_type_info, type_info, MessageType, WrongType};

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
    let mut bytes = MessageWriter::new(&mut stack);
    if let Err(error) = bincode::serialize_into(&mut bytes, value) {
        panic!("cannot serialize message: {error}");
    }
    use_bytes(named_type_info::<T>().fingerprint, bytes.as_slice())
}

/// The bytes of a message being encoded: on the stack while they fit, then on the heap,
/// whose buffer doubles as they grow. Every write, to either, takes one inlined bounds
/// check and a copy the size of what is written (8 bytes for a `u64`); only a write that
/// outgrows the buffer leaves the fast path.
///
/// Invariant: `buf` points to `cap` bytes (those of the stack array the writer was made
/// with, or `heap`'s allocation), of which the first `len` are written.
struct MessageWriter<'a> {
    buf: *mut u8,
    cap: usize,
    len: usize,
    /// The allocation the bytes moved to once they outgrew the stack (empty before). Its
    /// own length is not kept up to date: `len` counts the bytes.
    heap: Vec<u8>,
    /// The stack array `buf` points into at first.
    stack: PhantomData<&'a mut [MaybeUninit<u8>; STACK_BYTES]>,
}

impl<'a> MessageWriter<'a> {
    fn new(stack: &'a mut [MaybeUninit<u8>; STACK_BYTES]) -> Self {
        Self {
            buf: stack.as_mut_ptr().cast::<u8>(),
            cap: STACK_BYTES,
            len: 0,
            heap: Vec::new(),
            stack: PhantomData,
        }
    }

    /// Appends `data`.
    #[inline]
    #[allow(unsafe_code)]
    fn put(&mut self, data: &[u8]) {
        if data.len() <= self.cap - self.len {
            // SAFETY: the invariant: `buf` has `cap` bytes and `len + data.len() <= cap`,
            // so the range is inside them; `data` is another object (a `&mut self` is never
            // borrowed as `data`).
            unsafe {
                std::ptr::copy_nonoverlapping(data.as_ptr(), self.buf.add(self.len), data.len())
            };
            self.len += data.len();
        } else {
            self.grow(data);
        }
    }

    /// Appends `data`, which does not fit: the bytes move to a heap buffer at least twice
    /// as large.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, data: &[u8]) {
        let needed = self
            .len
            .checked_add(data.len())
            .expect("a message larger than the address space");
        // Twice the buffer, within what a `Vec` may hold (a larger request fails as
        // `needed` itself would).
        let doubled = self.cap.saturating_mul(2).min(isize::MAX as usize);
        let mut heap = Vec::with_capacity(needed.max(doubled));
        heap.extend_from_slice(self.as_slice());
        heap.extend_from_slice(data);
        self.len = heap.len();
        self.cap = heap.capacity();
        // The old buffer (a heap one) is freed here, after the copy.
        self.heap = heap;
        self.buf = self.heap.as_mut_ptr();
    }

    /// The bytes written.
    #[inline]
    #[allow(unsafe_code)]
    fn as_slice(&self) -> &[u8] {
        // SAFETY: the invariant: the first `len` bytes of `buf` are written.
        unsafe { std::slice::from_raw_parts(self.buf, self.len) }
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
        MessageType::local::<T>(),
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

    /// Values whose bytes fit the stack buffer, cross it in the middle of a write, and
    /// outgrow the heap buffer several times read back whole.
    #[test]
    fn values_of_every_size_read_back() {
        for len in [0, 1, 247, 248, 249, 255, 256, 257, 511, 512, 513, 5_000] {
            let text: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            assert_eq!(round_trip::<String, String>(&text), Ok(text.clone()));
            let numbers: Vec<u64> = (0..len as u64).map(|n| n * 0x0101_0101).collect();
            assert_eq!(
                round_trip::<Vec<u64>, Vec<u64>>(&numbers),
                Ok(numbers.clone())
            );
            let mixed = (len as u8, numbers, text);
            assert_eq!(
                round_trip::<_, (u8, Vec<u64>, String)>(&mixed),
                Ok(mixed.clone())
            );
        }
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
