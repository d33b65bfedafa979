//! The wire format of messages, in one place: a header naming the value's type, then the
//! value in bincode 1.3.
//!
//! | bytes | what |
//! |---|---|
//! | 8 | the type's fingerprint ([`MessageType`]), little-endian |
//! | 1 | `n`, the length of the type's name |
//! | `n` | the type's name, UTF-8, cut to [`MAX_WIRE_NAME`](crate::MAX_WIRE_NAME) bytes |
//! | 1 | 1 if the message carries a request whose reply is awaited, else 0 |
//! | 24 | if it does, where the reply goes: the tag, the requester's node and id (each 8 bytes, little-endian) |
//! | the rest | the value, in bincode |
//!
//! The reply address lets any receiver answer a request it cannot read at once, whatever
//! type the request is: see [`ReceiveError::WrongType`].

use std::mem::MaybeUninit;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ReceiveError;
use crate::message_type::{identity, wire_name, MessageType, WrongType};
use crate::process::ProcessId;
use crate::tag::Tag;

/// A value that can travel in a message: anything serde can write and read back.
pub trait Sendable: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> Sendable for T {}

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

/// Encodes `value` as message bytes (its header, with `reply` if it is a request, then the
/// value), in one pass (`bincode::serialize` would serialize twice, once to measure, and
/// serializing a socket moves it into the message), and runs `use_bytes` on them.
///
/// # Panics
/// If the value's `Serialize` implementation fails (for example a sequence of unknown
/// length, or a socket serialized outside a message), which is a bug in the caller, not a
/// runtime condition.
pub(crate) fn encode<T: Sendable, R>(
    value: &T,
    reply: Option<ReplyAddress>,
    use_bytes: impl FnOnce(&[u8]) -> R,
) -> R {
    let mut bytes = MessageWriter {
        stack: [MaybeUninit::uninit(); STACK_BYTES],
        len: 0,
        heap: Vec::new(),
    };
    bytes.write_header::<T>(reply);
    if let Err(error) = bincode::serialize_into(&mut bytes, value) {
        panic!("cannot serialize message: {error}");
    }
    use_bytes(bytes.as_slice())
}

/// The bytes of a message being encoded: on the stack while they fit, then on the heap.
struct MessageWriter {
    stack: [MaybeUninit<u8>; STACK_BYTES],
    /// Bytes written to the start of `stack`, while `heap` is unused.
    len: usize,
    /// All the bytes, once they outgrew `stack`.
    heap: Vec<u8>,
}

impl MessageWriter {
    #[inline]
    fn write_header<T: Sendable>(&mut self, reply: Option<ReplyAddress>) {
        use std::io::Write as _;
        let (name, fingerprint) = identity::<T>();
        let name = wire_name(name);
        // `wire_name` keeps the length within a byte.
        #[allow(clippy::cast_possible_truncation)]
        let name_len = name.len() as u8;
        let _ = self.write_all(&fingerprint.to_le_bytes());
        let _ = self.write_all(&[name_len]);
        let _ = self.write_all(name.as_bytes());
        match reply {
            None => {
                let _ = self.write_all(&[0]);
            }
            Some(reply) => {
                let mut address = [1; 25];
                address[1..9].copy_from_slice(&reply.tag.id().to_le_bytes());
                address[9..17].copy_from_slice(&reply.requester.node().to_le_bytes());
                address[17..].copy_from_slice(&reply.requester.local_id().to_le_bytes());
                let _ = self.write_all(&address);
            }
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

impl std::io::Write for MessageWriter {
    #[inline]
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    #[inline]
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        let end = self.len + data.len();
        match self.stack.get_mut(self.len..end) {
            Some(free) if self.heap.is_empty() => {
                for (to, from) in free.iter_mut().zip(data) {
                    *to = MaybeUninit::new(*from);
                }
                self.len = end;
            }
            _ => self.spill(data),
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
        let (fingerprint, rest) = bytes.split_first_chunk::<8>()?;
        let (&[name_len], rest) = rest.split_first_chunk::<1>()?;
        let (name, rest) = rest.split_at_checked(usize::from(name_len))?;
        let (&[flag], rest) = rest.split_first_chunk::<1>()?;
        let (reply, body) = match flag {
            0 => (None, rest),
            1 => {
                let (address, body) = rest.split_first_chunk::<24>()?;
                let word = |i: usize| {
                    let mut bytes = [0; 8];
                    bytes.copy_from_slice(&address[i..i + 8]);
                    bytes
                };
                let reply = ReplyAddress {
                    tag: Tag::from_id(i64::from_le_bytes(word(0))),
                    requester: ProcessId::new(
                        u64::from_le_bytes(word(8)),
                        u64::from_le_bytes(word(16)),
                    ),
                };
                (Some(reply), body)
            }
            _ => return None,
        };
        Some(Self {
            fingerprint: u64::from_le_bytes(*fingerprint),
            name,
            reply,
            body,
        })
    }

    /// The type the message was sent as.
    pub(crate) fn message_type(&self) -> MessageType {
        MessageType::received(self.fingerprint, self.name)
    }

    /// Decodes the value as a `T`.
    ///
    /// # Errors
    /// [`ReceiveError::WrongType`] if it was sent as another type,
    /// [`ReceiveError::Rejected`] if it is the rejection of a request,
    /// [`ReceiveError::DeserializationFailed`] if its bytes are not a `T`.
    #[inline]
    pub(crate) fn decode<T: Sendable>(&self) -> Result<T, ReceiveError> {
        if self.fingerprint != identity::<T>().1 {
            return Err(self.misread::<T>());
        }
        bincode::deserialize(self.body)
            .map_err(|e| ReceiveError::DeserializationFailed(e.to_string()))
    }

    #[cold]
    fn misread<T: Sendable>(&self) -> ReceiveError {
        let found = self.message_type();
        if found.is::<Rejection>() {
            if let Ok(Rejection(why)) = bincode::deserialize(self.body) {
                return ReceiveError::Rejected(why);
            }
        }
        ReceiveError::WrongType(WrongType::new(MessageType::of::<T>(), found))
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
        Self(encode(value, None, <[u8]>::to_vec))
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
        Header::read(&self.0)?.decode()
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
        encode(value, reply, |bytes| {
            let header = Header::read(bytes).unwrap();
            (header.reply, header.decode::<U>())
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
        // A name longer than the bytes.
        let mut bytes = vec![0; 8];
        bytes.push(200);
        bytes.extend_from_slice(b"u64");
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
