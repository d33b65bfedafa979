//! The wire format of messages: bincode 1.3, in one place.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ReceiveError;

/// A value that can travel in a message: anything serde can write and read back.
pub trait Sendable: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> Sendable for T {}

/// Bytes of a message encoded on the stack; a larger one moves to the heap as it grows.
/// Most messages (a number, a request, a short string) fit, so a send allocates nothing
/// and touches no static (a buffer kept in a static, or a `thread_local!`, cost more
/// than the encoding: every access to one is a call through a lock or a key).
const STACK_BYTES: usize = 64;

/// Encodes `value` as message bytes, in one pass (`bincode::serialize` would serialize
/// twice, once to measure, and serializing a socket moves it into the message), and runs
/// `use_bytes` on them.
///
/// # Panics
/// If the value's `Serialize` implementation fails (for example a sequence of unknown
/// length, or a socket serialized outside a message), which is a bug in the caller, not a
/// runtime condition.
pub(crate) fn encode<T: Serialize + ?Sized, R>(value: &T, use_bytes: impl FnOnce(&[u8]) -> R) -> R {
    let mut bytes = MessageWriter {
        stack: [0; STACK_BYTES],
        len: 0,
        heap: Vec::new(),
    };
    if let Err(error) = bincode::serialize_into(&mut bytes, value) {
        panic!("cannot serialize message: {error}");
    }
    use_bytes(bytes.as_slice())
}

/// The bytes of a message being encoded: on the stack while they fit, then on the heap.
struct MessageWriter {
    stack: [u8; STACK_BYTES],
    /// Bytes used in `stack`, while `heap` is unused.
    len: usize,
    /// All the bytes, once they outgrew `stack`.
    heap: Vec<u8>,
}

impl MessageWriter {
    #[inline]
    fn as_slice(&self) -> &[u8] {
        if self.heap.is_empty() {
            &self.stack[..self.len]
        } else {
            &self.heap
        }
    }

    #[cold]
    fn spill(&mut self, data: &[u8]) {
        if self.heap.is_empty() {
            self.heap.reserve(2 * STACK_BYTES + data.len());
            self.heap.extend_from_slice(&self.stack[..self.len]);
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
                free.copy_from_slice(data);
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

/// Decodes message bytes.
///
/// # Errors
/// The bytes are not a valid `T`.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ReceiveError> {
    bincode::deserialize(bytes).map_err(|e| ReceiveError::DeserializationFailed(e.to_string()))
}
