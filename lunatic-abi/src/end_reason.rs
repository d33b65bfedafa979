//! Why a process ended: one enum both sides share, and its one encoding.
//!
//! The VM decides a process's [`EndReason`] and hands it, encoded, to every process that
//! hears of the end (a link signal, a down notice); the guest library decodes it and
//! programs match its variants. Display text is for people: no program should compare it.
//!
//! Encoding: one variant byte, then the variant's fields in order; numbers little-endian,
//! texts as a `u32` byte length then UTF-8, an optional text as a presence byte (0 or 1)
//! then the text. A [`EndReason::LinkedDied`] holds the reason its linked process ended
//! with, never another `LinkedDied` (a chain of links reports the root cause), so decoding
//! recurses at most once.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::reader::{ReadError, Reader};

abi_enum! {
    /// What kind of trap ended a process ([`EndReason::Trapped`]).
    TrapKind: u8 {
        /// An `unreachable` instruction (also: a guest's abort).
        Unreachable = 0,
        /// A load or store outside linear memory.
        MemoryOutOfBounds = 1,
        /// A table access outside the table.
        TableOutOfBounds = 2,
        /// An indirect call through a null table entry.
        IndirectCallToNull = 3,
        /// An indirect call to a function of another signature.
        BadSignature = 4,
        /// Integer overflow (`i32.div_s` of the minimum by -1, say).
        IntegerOverflow = 5,
        /// Integer division by zero.
        IntegerDivisionByZero = 6,
        /// A float that does not fit the integer it was converted to.
        BadConversionToInteger = 7,
        /// The wasm stack ran out.
        StackOverflow = 8,
        /// It called a host function its environment does not allow.
        NotAllowed = 9,
        /// A host function refused the call (a range outside memory, an unknown id, a call
        /// out of order); the text names the function.
        HostCall = 10,
        /// Any other trap.
        Other = 11,
        /// A call that returns nothing went over a limit of its environment; the text
        /// names the limit.
        OverLimit = 12,
    }
}

/// Why a process ended. Every reason but [`EndReason::Normal`] and [`EndReason::Shutdown`]
/// is abnormal: linked processes are told (and die, unless they trap link deaths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// Its entry function returned, or it exited with status 0.
    Normal,
    /// It was asked to stop and did (an actor's `Shutdown`).
    Shutdown,
    /// Another process killed it.
    Killed,
    /// The guest panicked.
    Panicked {
        /// The panic message.
        message: String,
        /// Where it panicked (`file:line:column`), when known.
        location: Option<String>,
    },
    /// It trapped.
    Trapped {
        /// Which trap.
        kind: TrapKind,
        /// The trap as the VM describes it.
        message: String,
    },
    /// It tried to grow its memory past its environment's limit.
    OutOfMemory,
    /// It used up its environment's fuel.
    OutOfFuel,
    /// It called `proc_exit` with this non-zero status.
    ExitCode(i32),
    /// A process it was linked to ended abnormally.
    LinkedDied {
        /// The linked process.
        process: u64,
        /// Why that process ended (never itself `LinkedDied`: see [`EndReason::linked_died`]).
        reason: Box<EndReason>,
    },
    /// It linked to, or monitored, a process that was not alive (Erlang's `noproc`).
    NoProcess {
        /// The process that was not alive.
        process: u64,
    },
    /// It stopped with an error of its own (an actor's `ExitReason::Error`).
    Error(String),
    /// The node the process ran on can no longer be reached.
    NoConnection {
        /// The node.
        node: u64,
    },
    /// The VM failed while running it (a bug in the VM, not in the guest).
    VmFailed(String),
    /// It held a cluster-wide name that a process of another node had claimed first; when
    /// two nodes that registered the same name meet, the later claim's holder is ended
    /// (as Erlang's `global` ends one of two clashing holders).
    NameTaken {
        /// The name.
        name: String,
        /// The node whose process keeps it.
        node: u64,
    },
}

/// Variant bytes of the encoding.
mod variant {
    pub(super) const NORMAL: u8 = 0;
    pub(super) const SHUTDOWN: u8 = 1;
    pub(super) const KILLED: u8 = 2;
    pub(super) const PANICKED: u8 = 3;
    pub(super) const TRAPPED: u8 = 4;
    pub(super) const OUT_OF_MEMORY: u8 = 5;
    pub(super) const OUT_OF_FUEL: u8 = 6;
    pub(super) const EXIT_CODE: u8 = 7;
    pub(super) const LINKED_DIED: u8 = 8;
    pub(super) const NO_PROCESS: u8 = 9;
    pub(super) const ERROR: u8 = 10;
    pub(super) const NO_CONNECTION: u8 = 11;
    pub(super) const VM_FAILED: u8 = 12;
    pub(super) const NAME_TAKEN: u8 = 13;
}

/// Bytes that do not decode as an [`EndReason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadEndReason;

impl fmt::Display for BadEndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed end reason")
    }
}

impl EndReason {
    /// The reason of a process that dies because linked process `process` ended with
    /// `reason`: the root cause is kept, so a chain of links does not nest.
    #[must_use]
    pub fn linked_died(process: u64, reason: &EndReason) -> Self {
        let root = match reason {
            Self::LinkedDied { reason, .. } => reason.as_ref().clone(),
            other => other.clone(),
        };
        Self::LinkedDied {
            process,
            reason: Box::new(root),
        }
    }

    /// The names of the variants in snake case (metrics labels), at the index of
    /// [`EndReason::variant_index`].
    pub const VARIANT_NAMES: [&'static str; 14] = [
        "normal",
        "shutdown",
        "killed",
        "panicked",
        "trapped",
        "out_of_memory",
        "out_of_fuel",
        "exit_code",
        "linked_died",
        "no_process",
        "error",
        "no_connection",
        "vm_failed",
        "name_taken",
    ];

    /// The index of the variant (its encoding's first byte), below
    /// `EndReason::VARIANT_NAMES.len()`.
    #[must_use]
    pub fn variant_index(&self) -> usize {
        usize::from(match self {
            Self::Normal => variant::NORMAL,
            Self::Shutdown => variant::SHUTDOWN,
            Self::Killed => variant::KILLED,
            Self::Panicked { .. } => variant::PANICKED,
            Self::Trapped { .. } => variant::TRAPPED,
            Self::OutOfMemory => variant::OUT_OF_MEMORY,
            Self::OutOfFuel => variant::OUT_OF_FUEL,
            Self::ExitCode(_) => variant::EXIT_CODE,
            Self::LinkedDied { .. } => variant::LINKED_DIED,
            Self::NoProcess { .. } => variant::NO_PROCESS,
            Self::Error(_) => variant::ERROR,
            Self::NoConnection { .. } => variant::NO_CONNECTION,
            Self::VmFailed(_) => variant::VM_FAILED,
            Self::NameTaken { .. } => variant::NAME_TAKEN,
        })
    }

    /// Whether linked processes must be told: anything but a normal end or a shutdown.
    #[must_use]
    pub fn is_abnormal(&self) -> bool {
        !matches!(self, Self::Normal | Self::Shutdown)
    }

    /// The exit status the VM returns when the main process ends this way.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Normal | Self::Shutdown => 0,
            Self::ExitCode(code) => *code,
            // The status a native Rust program ends with when `main` panics.
            Self::Panicked { .. } => 101,
            _ => 1,
        }
    }

    /// Appends the encoding of this reason to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let text = |out: &mut Vec<u8>, text: &str| {
            // Texts longer than 4 GiB cannot be made by a guest (its memory is smaller).
            let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&text.as_bytes()[..len as usize]);
        };
        match self {
            Self::Normal => out.push(variant::NORMAL),
            Self::Shutdown => out.push(variant::SHUTDOWN),
            Self::Killed => out.push(variant::KILLED),
            Self::Panicked { message, location } => {
                out.push(variant::PANICKED);
                text(out, message);
                match location {
                    Some(location) => {
                        out.push(1);
                        text(out, location);
                    }
                    None => out.push(0),
                }
            }
            Self::Trapped { kind, message } => {
                out.push(variant::TRAPPED);
                out.push(*kind as u8);
                text(out, message);
            }
            Self::OutOfMemory => out.push(variant::OUT_OF_MEMORY),
            Self::OutOfFuel => out.push(variant::OUT_OF_FUEL),
            Self::ExitCode(code) => {
                out.push(variant::EXIT_CODE);
                out.extend_from_slice(&code.to_le_bytes());
            }
            Self::LinkedDied { process, reason } => {
                out.push(variant::LINKED_DIED);
                out.extend_from_slice(&process.to_le_bytes());
                reason.encode(out);
            }
            Self::NoProcess { process } => {
                out.push(variant::NO_PROCESS);
                out.extend_from_slice(&process.to_le_bytes());
            }
            Self::Error(message) => {
                out.push(variant::ERROR);
                text(out, message);
            }
            Self::NoConnection { node } => {
                out.push(variant::NO_CONNECTION);
                out.extend_from_slice(&node.to_le_bytes());
            }
            Self::VmFailed(message) => {
                out.push(variant::VM_FAILED);
                text(out, message);
            }
            Self::NameTaken { name, node } => {
                out.push(variant::NAME_TAKEN);
                text(out, name);
                out.extend_from_slice(&node.to_le_bytes());
            }
        }
    }

    /// The encoding of this reason.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes a reason [`EndReason::encode`] wrote; trailing bytes are refused.
    ///
    /// # Errors
    /// [`BadEndReason`] if `bytes` are not exactly one encoded reason.
    pub fn decode(bytes: &[u8]) -> Result<Self, BadEndReason> {
        let mut reader = Reader::new(bytes);
        let reason = read_reason(&mut reader, true)?;
        reader.end()?;
        Ok(reason)
    }
}

impl From<ReadError> for BadEndReason {
    fn from(_: ReadError) -> Self {
        BadEndReason
    }
}

/// A text: its `u32` length, then its bytes.
fn read_text(reader: &mut Reader<'_>) -> Result<String, ReadError> {
    let len = reader.u32()? as usize;
    reader.text(len)
}

/// One reason; a `LinkedDied` only if `outer` (its inner reason is never one).
fn read_reason(reader: &mut Reader<'_>, outer: bool) -> Result<EndReason, BadEndReason> {
    Ok(match reader.byte()? {
        variant::NORMAL => EndReason::Normal,
        variant::SHUTDOWN => EndReason::Shutdown,
        variant::KILLED => EndReason::Killed,
        variant::PANICKED => {
            let message = read_text(reader)?;
            let location = match reader.byte()? {
                0 => None,
                1 => Some(read_text(reader)?),
                _ => return Err(BadEndReason),
            };
            EndReason::Panicked { message, location }
        }
        variant::TRAPPED => EndReason::Trapped {
            kind: TrapKind::try_from(reader.byte()?).map_err(|_| BadEndReason)?,
            message: read_text(reader)?,
        },
        variant::OUT_OF_MEMORY => EndReason::OutOfMemory,
        variant::OUT_OF_FUEL => EndReason::OutOfFuel,
        variant::EXIT_CODE => EndReason::ExitCode(i32::from_le_bytes(reader.take()?)),
        variant::LINKED_DIED if outer => EndReason::LinkedDied {
            process: reader.u64()?,
            reason: Box::new(read_reason(reader, false)?),
        },
        variant::NO_PROCESS => EndReason::NoProcess {
            process: reader.u64()?,
        },
        variant::ERROR => EndReason::Error(read_text(reader)?),
        variant::NO_CONNECTION => EndReason::NoConnection {
            node: reader.u64()?,
        },
        variant::VM_FAILED => EndReason::VmFailed(read_text(reader)?),
        variant::NAME_TAKEN => EndReason::NameTaken {
            name: read_text(reader)?,
            node: reader.u64()?,
        },
        _ => return Err(BadEndReason),
    })
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Normal => f.write_str("normal exit"),
            Self::Shutdown => f.write_str("shutdown"),
            Self::Killed => f.write_str("killed"),
            Self::Panicked { message, location } => {
                write!(f, "panicked: {message}")?;
                match location {
                    Some(location) => write!(f, " at {location}"),
                    None => Ok(()),
                }
            }
            Self::Trapped { message, .. } => write!(f, "trapped: {message}"),
            Self::OutOfMemory => {
                f.write_str("out of memory: the environment's memory limit was reached")
            }
            Self::OutOfFuel => {
                f.write_str("out of fuel: the environment's compute limit was reached")
            }
            Self::ExitCode(code) => write!(f, "exited with status {code}"),
            Self::LinkedDied { process, reason } => {
                write!(f, "linked process {process} died: {reason}")
            }
            Self::NoProcess { process } => write!(f, "process {process} is not alive"),
            Self::Error(message) => f.write_str(message),
            Self::NoConnection { node } => write!(f, "node {node} cannot be reached"),
            Self::VmFailed(message) => write!(f, "the VM failed: {message}"),
            Self::NameTaken { name, node } => {
                write!(
                    f,
                    "cluster-wide name {name:?} is held by a process of node {node}"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::vec;

    use super::*;

    fn every_variant() -> Vec<EndReason> {
        let panicked = EndReason::Panicked {
            message: "boom".into(),
            location: Some("src/main.rs:1:2".into()),
        };
        vec![
            EndReason::Normal,
            EndReason::Shutdown,
            EndReason::Killed,
            panicked.clone(),
            EndReason::Panicked {
                message: String::new(),
                location: None,
            },
            EndReason::Trapped {
                kind: TrapKind::StackOverflow,
                message: "wasm trap: call stack exhausted".into(),
            },
            EndReason::OutOfMemory,
            EndReason::OutOfFuel,
            EndReason::ExitCode(-3),
            EndReason::linked_died(7, &panicked),
            EndReason::NoProcess { process: 9 },
            EndReason::Error("bad state".into()),
            EndReason::NoConnection { node: 2 },
            EndReason::VmFailed("worker panicked".into()),
            EndReason::NameTaken {
                name: "leader".into(),
                node: 3,
            },
        ]
    }

    #[test]
    fn every_variant_round_trips() {
        for reason in every_variant() {
            assert_eq!(EndReason::decode(&reason.to_bytes()), Ok(reason));
        }
    }

    #[test]
    fn the_variant_index_is_the_encoding_s_first_byte_and_names_a_variant() {
        for reason in every_variant() {
            let index = reason.variant_index();
            assert_eq!(usize::from(reason.to_bytes()[0]), index);
            assert!(index < EndReason::VARIANT_NAMES.len());
        }
        assert_eq!(
            EndReason::VARIANT_NAMES[EndReason::OutOfFuel.variant_index()],
            "out_of_fuel"
        );
    }

    #[test]
    fn every_prefix_and_any_trailing_byte_is_refused() {
        for reason in every_variant() {
            let bytes = reason.to_bytes();
            for len in 0..bytes.len() {
                assert_eq!(EndReason::decode(&bytes[..len]), Err(BadEndReason));
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(EndReason::decode(&longer), Err(BadEndReason));
        }
    }

    #[test]
    fn links_report_the_root_cause_and_never_nest() {
        let first = EndReason::linked_died(1, &EndReason::Killed);
        let second = EndReason::linked_died(2, &first);
        assert_eq!(second, EndReason::linked_died(2, &EndReason::Killed));
        assert_eq!(second.to_string(), "linked process 2 died: killed");
        // A nested encoding (which the VM never writes) is refused.
        let mut nested = vec![variant::LINKED_DIED];
        nested.extend_from_slice(&2u64.to_le_bytes());
        nested.extend_from_slice(&first.to_bytes());
        assert_eq!(EndReason::decode(&nested), Err(BadEndReason));
    }

    #[test]
    fn a_text_longer_than_its_bytes_and_bad_utf8_are_refused() {
        let mut long = vec![variant::ERROR];
        long.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(EndReason::decode(&long), Err(BadEndReason));
        let mut bad = vec![variant::ERROR];
        bad.extend_from_slice(&1u32.to_le_bytes());
        bad.push(0xFF);
        assert_eq!(EndReason::decode(&bad), Err(BadEndReason));
    }

    #[test]
    fn only_normal_and_shutdown_are_normal() {
        let normal: Vec<_> = every_variant()
            .into_iter()
            .filter(|reason| !reason.is_abnormal())
            .collect();
        assert_eq!(normal, [EndReason::Normal, EndReason::Shutdown]);
        assert_eq!(EndReason::ExitCode(3).exit_code(), 3);
        assert_eq!(every_variant()[3].exit_code(), 101);
    }
}
