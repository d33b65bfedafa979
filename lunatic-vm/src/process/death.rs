//! Why a process ended, as the VM keeps and hands it on.

use std::fmt;
use std::sync::{Arc, OnceLock};

pub(crate) use lunatic_abi::EndReason;

/// An end reason with its ABI encoding, made once per death and shared by every link signal
/// and down notice that reports it (a process watched by thousands encodes its reason once).
/// The encoding is made when first read: most processes end unwatched, and nothing reads it.
#[derive(Debug, Clone)]
pub(crate) struct EncodedReason(Arc<(EndReason, OnceLock<Box<[u8]>>)>);

impl EncodedReason {
    /// The notice of `reason`.
    #[must_use]
    pub(crate) fn new(reason: EndReason) -> Self {
        Self(Arc::new((reason, OnceLock::new())))
    }

    /// The reason.
    #[must_use]
    pub(crate) fn reason(&self) -> &EndReason {
        &self.0 .0
    }

    /// The reason's encoding, as the guest reads it.
    #[must_use]
    pub(crate) fn bytes(&self) -> &[u8] {
        let (reason, bytes) = &*self.0;
        bytes.get_or_init(|| reason.to_bytes().into_boxed_slice())
    }
}

/// Equal when the reasons are (whether either was encoded yet does not matter).
impl PartialEq for EncodedReason {
    fn eq(&self, other: &Self) -> bool {
        self.reason() == other.reason()
    }
}

impl Eq for EncodedReason {}

/// The error a host call returns to end a process that has been told to die; the
/// process's runner recognises it and reports the original reason.
#[derive(Debug)]
pub(crate) struct Terminated(pub(crate) EndReason);

impl fmt::Display for Terminated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "process terminated: {}", self.0)
    }
}

impl std::error::Error for Terminated {}
