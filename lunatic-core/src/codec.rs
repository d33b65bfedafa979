//! The wire format of messages, in one place: the value in bincode 1.3, between a head
//! and a tail that name its type.
//!
//! | bytes | what |
//! |---|---|
//! | 8 | the type's fingerprint ([`MessageType`]), little-endian |
//! | 1 | 1 if the message carries a request whose reply is awaited, else 0 |
//! | 24 | if it does, where the reply goes: the tag, the requester's node and id (each 8 bytes, little-endian) |
//! | ... | the value, in bincode |
//! | `n` | the type's name, UTF-8, cut to [`MAX_WIRE_NAME`](crate::MAX_WIRE_NAME) bytes |
//! | 1 | `n` |
//!
//! A receive reads the fingerprint and the flag, and decodes what follows (bincode leaves
//! the tail alone); only a message of another type has its name read, from the end. The
//! head and tail of a type are the same for all its messages: they are made once per
//! process, and the host joins them to the value (`lunatic::message::send_data`), so a
//! send copies neither. The reply address lets any receiver answer a request it cannot
//! read at once, whatever type the request is: see [`ReceiveError::WrongType`].

use std::mem::MaybeUninit;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ReceiveError;
use crate::message_type::{type_info, MessageType, WrongType};
use crate::process::ProcessId;
use crate::tag::Tag;

/// A value that can travel in a message: anything serde can write and read back, and
/// that borrows nothing (a message leaves its sender's memory).
pub trait Sendable: Serialize + DeserializeOwned + 'static {}

impl<T: Serialize + DeserializeOwned + 'static> Sendable for T {}

/// Where the reply to a request goes: the tag the requester waits for, and the requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReplyAddress {
    pub(crate) tag: Tag,
    pub(crate) requester: ProcessId,
}

/// The answer to a request its receiver could not read (sent to the request's
/// [`ReplyAddress`]); the requester's wait ends with [`ReceiveError::Rejected`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Rejection(pub(crate) WrongType);

/// Bytes of a message encoded on the stack; a larger one moves to the heap as it grows.
/// Most messages (a number, a request, a short string, with their headers) fit, so a
/// send allocates nothing and touches no static (a buffer kept in a static, or a
/// `thread_local!`, cost more than the encoding: every access to one is a call through a
/// lock or a key). The buffer is not cleared first: only what is written is read.
const STACK_BYTES: usize = 256;

/// Encodes `value` as a message and runs `use_bytes` on its three parts, which the host
/// joins: its type's head (with the flag of a reply address), the rest (the reply address
/// if it is a request, then the value), and its type's tail. The value is encoded in one
/// pass (`bincode::serialize` would serialize twice, once to measure, and serializing a
/// socket moves it into the message).
///
/// # Panics
/// If the value's `Serialize` implementation fails (for example a sequence of unknown
/// length, or a socket serialized outside a message), which is a bug in the caller, not a
/// runtime condition.
#[inline(always)]
pub(crate) fn encode<T: Sendable, R>(
    value: &T,
    reply: Option<ReplyAddress>,
    use_bytes: impl FnOnce(&[u8], &[u8], &[u8]) -> R,
) -> R {
    // A local of its own, not a field: beside the writer's other fields, the compiler
    // would clear it along with them.
    let mut stack = [MaybeUninit::uninit(); STACK_BYTES];
    let mut bytes = MessageWriter {
        stack: &mut stack,
        len: 0,
        heap: Vec::new(),
    };
    let info = type_info::<T>();
    let head = match reply {
        None => &info.head[..],
        Some(reply) => {
            bytes.write_reply(reply);
            &info.head[..8]
        }
    };
    if let Err(error) = bincode::serialize_into(&mut bytes, value) {
        panic!("cannot serialize message: {error}");
    }
    use_bytes(head, bytes.as_slice(), &info.tail)
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
    /// Writes the flag of a reply address, and the address.
    #[cold]
    fn write_reply(&mut self, reply: ReplyAddress) {
        let mut address = [1; 25];
        address[1..9].copy_from_slice(&reply.tag.id().to_le_bytes());
        address[9..17].copy_from_slice(&reply.requester.node().to_le_bytes());
        address[17..].copy_from_slice(&reply.requester.local_id().to_le_bytes());
        self.put(&address);
    }

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

/// The bytes of the value of message `bytes` (and its tail, which bincode leaves alone) if
/// its head names the type of `fingerprint` (the path every receive takes; anything else is
/// a [`Header::read`]).
#[inline(always)]
pub(crate) fn body_of(bytes: &[u8], fingerprint: u64) -> Option<&[u8]> {
    let sent_as = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    if sent_as != fingerprint {
        return None;
    }
    match *bytes.get(8)? {
        0 => bytes.get(9..),
        1 => bytes.get(33..),
        _ => None,
    }
}

/// Decodes message `bytes` as a `T`.
///
/// # Errors
/// [`ReceiveError::WrongType`] if it was sent as another type,
/// [`ReceiveError::Rejected`] if it is the refusal of a request,
/// [`ReceiveError::DeserializationFailed`] if its bytes are not a `T`.
#[inline]
pub(crate) fn decode<T: Sendable>(bytes: &[u8]) -> Result<T, ReceiveError> {
    match body_of(bytes, type_info::<T>().fingerprint) {
        Some(body) => decode_body(body),
        None => Err(misread::<T>(bytes)),
    }
}

/// Decodes the value of a message whose header named `T`.
///
/// # Errors
/// [`ReceiveError::DeserializationFailed`] if its bytes are not a `T`.
#[inline]
pub(crate) fn decode_body<T: Sendable>(body: &[u8]) -> Result<T, ReceiveError> {
    bincode::deserialize(body).map_err(unreadable)
}

/// Why a body of the right type did not decode.
#[cold]
fn unreadable(error: bincode::Error) -> ReceiveError {
    ReceiveError::DeserializationFailed(error.to_string())
}

/// Why message `bytes` is not a `T`: another type, a refusal, or no header at all.
#[cold]
#[inline(never)]
pub(crate) fn misread<T: Sendable>(bytes: &[u8]) -> ReceiveError {
    let header = match Header::read(bytes) {
        Ok(header) => header,
        Err(error) => return error,
    };
    let found = header.message_type();
    if found.fingerprint() == type_info::<T>().fingerprint {
        // A header of the right type, but not whole: read as a broken body.
        return ReceiveError::DeserializationFailed("a broken message header".to_owned());
    }
    if found.is::<Rejection>() {
        if let Ok(Rejection(why)) = bincode::deserialize(header.body) {
            return ReceiveError::Rejected(why);
        }
    }
    ReceiveError::WrongType(WrongType::new(MessageType::of::<T>(), found))
}

/// A message's header, read, and the bytes of its value.
pub(crate) struct Header<'a> {
    fingerprint: u64,
    name: &'a [u8],
    /// Where the reply goes, if the message carries a request.
    pub(crate) reply: Option<ReplyAddress>,
    body: &'a [u8],
}

impl<'a> Header<'a> {
    /// Reads the header at the start of message `bytes`.
    ///
    /// # Errors
    /// The bytes do not start with a header (they were not sent by this library).
    #[inline]
    pub(crate) fn read(bytes: &'a [u8]) -> Result<Self, ReceiveError> {
        Self::split(bytes).ok_or_else(|| {
            ReceiveError::DeserializationFailed(format!(
                "a message of {} bytes has no type header",
                bytes.len()
            ))
        })
    }

    fn split(bytes: &'a [u8]) -> Option<Self> {
        let word = |at: usize| -> Option<[u8; 8]> { bytes.get(at..at + 8)?.try_into().ok() };
        let fingerprint = u64::from_le_bytes(word(0)?);
        let (reply, body_start) = match *bytes.get(8)? {
            0 => (None, 9),
            1 => {
                let reply = ReplyAddress {
                    tag: Tag::from_id(i64::from_le_bytes(word(9)?)),
                    requester: ProcessId::new(
                        u64::from_le_bytes(word(17)?),
                        u64::from_le_bytes(word(25)?),
                    ),
                };
                (Some(reply), 33)
            }
            _ => return None,
        };
        let (&name_len, rest) = bytes.split_last()?;
        let name_start = rest.len().checked_sub(usize::from(name_len))?;
        Some(Self {
            fingerprint,
            name: rest.get(name_start..)?,
            reply,
            body: rest.get(body_start..name_start)?,
        })
    }

    /// The type the message was sent as.
    pub(crate) fn message_type(&self) -> MessageType {
        MessageType::received(self.fingerprint, self.name)
    }
}

/// A value encoded with its type, as a message is, to travel as bytes inside another
/// message and be read later as the type it is (an actor's info message, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedBytes(Vec<u8>);

impl TypedBytes {
    /// Encodes `value` with its type.
    ///
    /// # Panics
    /// If `T`'s `Serialize` implementation fails (a socket cannot travel this way).
    pub fn encode<T: Sendable>(value: &T) -> Self {
        Self(encode(value, None, |head, bytes, tail| {
            [head, bytes, tail].concat()
        }))
    }

    /// The type the value was encoded as.
    #[must_use]
    pub fn message_type(&self) -> Option<MessageType> {
        Header::split(&self.0).map(|header| header.message_type())
    }

    /// Reads the value as a `T`.
    ///
    /// # Errors
    /// [`ReceiveError::WrongType`] if it is not a `T` (both types named);
    /// [`ReceiveError::DeserializationFailed`] if its bytes are broken.
    pub fn decode<T: Sendable>(&self) -> Result<T, ReceiveError> {
        decode(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_WIRE_NAME;

    fn round_trip<T: Sendable, U: Sendable>(
        value: &T,
        reply: Option<ReplyAddress>,
    ) -> (Option<ReplyAddress>, Result<U, ReceiveError>) {
        encode(value, reply, |head, bytes, tail| {
            let bytes = [head, bytes, tail].concat();
            (Header::read(&bytes).unwrap().reply, decode::<U>(&bytes))
        })
    }

    #[test]
    fn a_value_reads_back_as_its_own_type_only() {
        assert_eq!(round_trip::<u64, u64>(&5, None), (None, Ok(5)));
        let (_, wrong) = round_trip::<String, u64>(&"hello".to_owned(), None);
        let Err(ReceiveError::WrongType(why)) = wrong else {
            panic!("{wrong:?}")
        };
        assert_eq!(why.expected().name(), "u64");
        assert_eq!(why.found().name(), "alloc::string::String");
        assert_eq!(
            why.to_string(),
            "expected a message of type `u64`, got one of type `alloc::string::String`"
        );
        let (_, wrong) = round_trip::<(u64, String), u64>(&(42, "x".to_owned()), None);
        assert!(matches!(wrong, Err(ReceiveError::WrongType(_))));
        let (_, wrong) = round_trip::<f64, u64>(&1.5, None);
        assert!(matches!(wrong, Err(ReceiveError::WrongType(_))));
    }

    #[test]
    fn a_request_carries_its_reply_address() {
        let reply = ReplyAddress {
            tag: Tag::from_id(-77),
            requester: ProcessId::new(3, u64::MAX),
        };
        assert_eq!(round_trip::<u8, u8>(&9, Some(reply)), (Some(reply), Ok(9)));
    }

    #[test]
    fn a_rejection_reads_as_rejected_whatever_was_awaited() {
        let why = WrongType::new(MessageType::of::<u64>(), MessageType::of::<String>());
        let (_, read) = round_trip::<Rejection, Vec<u8>>(&Rejection(why.clone()), None);
        assert_eq!(read, Err(ReceiveError::Rejected(why)));
    }

    #[test]
    fn bytes_without_a_header_are_an_error_not_a_value() {
        for bytes in [
            &[][..],
            &[1, 2, 3],
            &[0; 9],
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        ] {
            assert!(Header::read(bytes).is_err(), "{bytes:?}");
        }
        // A name longer than the bytes, and a name that overlaps the reply address.
        let mut bytes = vec![0; 9];
        bytes.extend_from_slice(b"u64");
        bytes.push(200);
        assert!(Header::read(&bytes).is_err());
        let mut bytes = vec![0; 8];
        bytes.push(1);
        bytes.extend_from_slice(&[0; 24]);
        bytes.extend_from_slice(b"u64");
        bytes.push(4);
        assert!(Header::read(&bytes).is_err());
    }

    #[test]
    fn typed_bytes_name_their_type() {
        let bytes = TypedBytes::encode(&"hi".to_owned());
        assert_eq!(
            bytes.message_type().unwrap().name(),
            "alloc::string::String"
        );
        assert_eq!(bytes.decode::<String>().unwrap(), "hi");
        assert!(matches!(
            bytes.decode::<u64>(),
            Err(ReceiveError::WrongType(_))
        ));
    }

    #[test]
    fn names_longer_than_a_header_holds_are_cut_but_fingerprinted_whole() {
        type Long = Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<u8>>>>>>>>>>>>>>>>>>>>>>>>>>;
        assert!(std::any::type_name::<Long>().len() > MAX_WIRE_NAME);
        let (_, read) = round_trip::<Long, Long>(&Vec::new(), None);
        assert_eq!(read, Ok(Vec::new()));
        let (_, wrong) = round_trip::<Long, u8>(&Vec::new(), None);
        let Err(ReceiveError::WrongType(why)) = wrong else {
            panic!()
        };
        assert_eq!(why.found().name().len(), MAX_WIRE_NAME);
    }
}
