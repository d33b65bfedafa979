//! Reading the ABI's encodings front to back (end reasons, roles, supervisor reports):
//! little-endian numbers and UTF-8 texts, each length checked against what is left, so
//! bytes from a guest can end anywhere without a panic.

use alloc::string::String;

/// Why bytes do not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// They end before a field does, or go on after the last.
    Length,
    /// A text is not UTF-8.
    Text,
}

/// The bytes left to read.
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }

    pub(crate) fn take<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(ReadError::Length)?;
        self.0 = rest;
        Ok(*head)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, ReadError> {
        self.take::<1>().map(|[byte]| byte)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, ReadError> {
        self.take().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, ReadError> {
        self.take().map(u64::from_le_bytes)
    }

    /// A text of `len` bytes.
    pub(crate) fn text(&mut self, len: usize) -> Result<String, ReadError> {
        if len > self.0.len() {
            return Err(ReadError::Length);
        }
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        core::str::from_utf8(text)
            .map(String::from)
            .map_err(|_| ReadError::Text)
    }

    /// How many bytes are left.
    pub(crate) fn left(&self) -> usize {
        self.0.len()
    }

    /// Checks that nothing is left.
    pub(crate) fn end(&self) -> Result<(), ReadError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ReadError::Length)
        }
    }
}
