//! What a process is, as the actor layer tells the VM (`lunatic::process::describe`), and
//! what a supervisor reports (`lunatic::process::supervisor_report`): the observer shows
//! the first, the log the second. One encoding each, decoded by the VM from untrusted
//! bytes: every length is checked, nothing is trusted.
//!
//! Encoding of a [`Role`]: a kind byte (0 actor, 1 supervisor), the actor's type name as a
//! text; for a supervisor then the strategy byte, `intensity` (u32), `period_ms` (u64),
//! `restarts` (u64), a child count (u32), each child as its process id (u64, 0 when not
//! running) and its name, and the count of children not listed (u32). Numbers
//! little-endian; a text is a `u16` byte length then UTF-8.
//!
//! The encoders cut every text to its limit ([`MAX_ROLE_NAME`], [`MAX_CHILD_NAME`],
//! [`MAX_REPORT_REASON`]) and list at most [`MAX_ROLE_CHILDREN`] children, so whatever a
//! program's supervisors hold, a record fits [`MAX_ROLE_SIZE`]; the decoder refuses
//! anything past those limits as malformed.

use alloc::string::String;
use alloc::vec::Vec;

use crate::reader::{ReadError, Reader};

/// Largest encoded [`Role`] or [`SupervisorReport`] the VM takes (bigger is refused with a
/// trap). The encoders' limits keep every record below it.
pub const MAX_ROLE_SIZE: usize = 40 << 10;

/// Most bytes of an actor's type name or a report's child name.
pub const MAX_ROLE_NAME: usize = 255;

/// Most bytes of a child's name in a [`Role`].
pub const MAX_CHILD_NAME: usize = 64;

/// Most children a [`Role`] lists; the rest are counted.
pub const MAX_ROLE_CHILDREN: usize = 512;

/// Most bytes of a report's reason.
pub const MAX_REPORT_REASON: usize = 2048;

abi_enum! {
    /// A supervisor's restart strategy, as the observer shows it.
    RoleStrategy: u8 {
        /// Only the child that ended is restarted.
        OneForOne = 0,
        /// All children are.
        OneForAll = 1,
        /// The child that ended and those started after it are.
        RestForOne = 2,
    }
}

impl RoleStrategy {
    /// The name Erlang gives the strategy (`one_for_one`, ...).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::OneForOne => "one_for_one",
            Self::OneForAll => "one_for_all",
            Self::RestForOne => "rest_for_one",
        }
    }
}

/// What a process is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The actor's type name (`std::any::type_name`).
    pub actor: String,
    /// Set for a supervisor.
    pub supervisor: Option<SupervisorRole>,
}

/// A supervisor's configuration and children, as it last told the VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisorRole {
    /// Which children are restarted when one must be.
    pub strategy: RoleStrategy,
    /// Most restarts within `period_ms` before the supervisor gives up.
    pub intensity: u32,
    /// The period of `intensity`, in milliseconds.
    pub period_ms: u64,
    /// Restarts so far.
    pub restarts: u64,
    /// Children in start order (at most [`MAX_ROLE_CHILDREN`] are encoded).
    pub children: Vec<RoleChild>,
    /// Children left out of `children` (past [`MAX_ROLE_CHILDREN`]).
    pub unlisted_children: u32,
}

/// One child of a supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChild {
    /// Its id in the supervisor's spec.
    pub name: String,
    /// Its process, or 0 when it is not running.
    pub process: u64,
}

/// Why bytes are not a [`Role`] or a [`SupervisorReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadRole {
    /// They end before a field does, or go on after the last, or a text or a list is
    /// longer than its limit.
    Length,
    /// A kind, strategy or event byte is unknown.
    Kind(u8),
    /// A text is not UTF-8.
    Text,
}

impl core::fmt::Display for BadRole {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Length => f.write_str("the record's length does not match its fields"),
            Self::Kind(byte) => write!(f, "unknown kind {byte}"),
            Self::Text => f.write_str("a text is not UTF-8"),
        }
    }
}

impl Role {
    /// At least the bytes [`Role::encode`] writes: the flag and the name's text, then a
    /// supervisor's fixed fields (29 bytes) and each listed child's id and name's text.
    fn size_bound(&self) -> usize {
        let children = self.supervisor.as_ref().map_or(0, |supervisor| {
            let listed = supervisor.children.len().min(MAX_ROLE_CHILDREN);
            29 + supervisor.children[..listed]
                .iter()
                .map(|child| 10 + child.name.len().min(MAX_CHILD_NAME))
                .sum::<usize>()
        });
        3 + self.actor.len().min(MAX_ROLE_NAME) + children
    }

    /// The role's one encoding (see the module docs), within [`MAX_ROLE_SIZE`]: texts are
    /// cut to their limits, children past [`MAX_ROLE_CHILDREN`] counted, not listed.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        // Sized up front: grown from empty, the vector was reallocated three times for an
        // actor's name, at every actor's start.
        let mut out = Vec::with_capacity(self.size_bound());
        out.push(u8::from(self.supervisor.is_some()));
        put_text(&mut out, &self.actor, MAX_ROLE_NAME);
        if let Some(supervisor) = &self.supervisor {
            out.push(supervisor.strategy as u8);
            out.extend_from_slice(&supervisor.intensity.to_le_bytes());
            out.extend_from_slice(&supervisor.period_ms.to_le_bytes());
            out.extend_from_slice(&supervisor.restarts.to_le_bytes());
            let listed = supervisor.children.len().min(MAX_ROLE_CHILDREN);
            out.extend_from_slice(&(listed as u32).to_le_bytes());
            for child in &supervisor.children[..listed] {
                out.extend_from_slice(&child.process.to_le_bytes());
                put_text(&mut out, &child.name, MAX_CHILD_NAME);
            }
            let unlisted = (supervisor.children.len() - listed) as u64
                + u64::from(supervisor.unlisted_children);
            out.extend_from_slice(&u32::try_from(unlisted).unwrap_or(u32::MAX).to_le_bytes());
        }
        out
    }

    /// Reads a role back.
    ///
    /// # Errors
    /// The bytes are not one role's encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, BadRole> {
        let mut reader = Reader::new(bytes);
        let kind = reader.byte()?;
        let actor = read_text(&mut reader, MAX_ROLE_NAME)?;
        let supervisor = match kind {
            0 => None,
            1 => {
                let strategy = RoleStrategy::try_from(reader.byte()?).map_err(BadRole::Kind)?;
                let intensity = reader.u32()?;
                let period_ms = reader.u64()?;
                let restarts = reader.u64()?;
                let count = reader.u32()? as usize;
                // Each child takes at least 10 bytes: a count beyond that is a lie.
                if count > MAX_ROLE_CHILDREN || count > reader.left() / 10 {
                    return Err(BadRole::Length);
                }
                let mut children = Vec::with_capacity(count);
                for _ in 0..count {
                    let process = reader.u64()?;
                    let name = read_text(&mut reader, MAX_CHILD_NAME)?;
                    children.push(RoleChild { name, process });
                }
                Some(SupervisorRole {
                    strategy,
                    intensity,
                    period_ms,
                    restarts,
                    children,
                    unlisted_children: reader.u32()?,
                })
            }
            other => return Err(BadRole::Kind(other)),
        };
        reader.end()?;
        Ok(Self { actor, supervisor })
    }
}

abi_enum! {
    /// What a supervisor report is about (Erlang's SASL supervisor reports).
    SupervisorEvent: u8 {
        /// A child ended and was restarted.
        ChildRestarted = 0,
        /// A child's start (its `init`) failed.
        StartFailed = 1,
        /// Restarts reached the intensity: the supervisor stops its children and dies.
        IntensityReached = 2,
        /// The supervisor gave up: it is ending, its children stopped.
        GaveUp = 3,
    }
}

/// One supervisor report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisorReport {
    /// What happened.
    pub event: SupervisorEvent,
    /// The child's name in the supervisor's spec (empty for events about the supervisor).
    pub child: String,
    /// The child's process (the one that ended, or the new one after a restart), or 0.
    pub process: u64,
    /// The child's new process after a restart, or 0.
    pub new_process: u64,
    /// Why: the child's end reason or start error, for people.
    pub reason: String,
}

impl SupervisorReport {
    /// At least the bytes [`SupervisorReport::encode`] writes.
    fn size_bound(&self) -> usize {
        21 + self.child.len().min(MAX_ROLE_NAME) + self.reason.len().min(MAX_REPORT_REASON)
    }

    /// The report's one encoding: the event byte, `child` as a text (cut to
    /// [`MAX_ROLE_NAME`]), `process`, `new_process` (u64 each) and `reason` as a text (cut
    /// to [`MAX_REPORT_REASON`]).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_bound());
        out.push(self.event as u8);
        put_text(&mut out, &self.child, MAX_ROLE_NAME);
        out.extend_from_slice(&self.process.to_le_bytes());
        out.extend_from_slice(&self.new_process.to_le_bytes());
        put_text(&mut out, &self.reason, MAX_REPORT_REASON);
        out
    }

    /// Reads a report back.
    ///
    /// # Errors
    /// The bytes are not one report's encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, BadRole> {
        let mut reader = Reader::new(bytes);
        let event = SupervisorEvent::try_from(reader.byte()?).map_err(BadRole::Kind)?;
        let child = read_text(&mut reader, MAX_ROLE_NAME)?;
        let process = reader.u64()?;
        let new_process = reader.u64()?;
        let reason = read_text(&mut reader, MAX_REPORT_REASON)?;
        reader.end()?;
        Ok(Self {
            event,
            child,
            process,
            new_process,
            reason,
        })
    }
}

/// Appends `text` (cut to `max` bytes at a character boundary) with its length.
fn put_text(out: &mut Vec<u8>, text: &str, max: usize) {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&(end as u16).to_le_bytes());
    out.extend_from_slice(&text.as_bytes()[..end]);
}

/// A text of at most `max` bytes: its `u16` length, then its bytes.
fn read_text(reader: &mut Reader<'_>, max: usize) -> Result<String, BadRole> {
    let len = usize::from(u16::from_le_bytes(reader.take()?));
    if len > max {
        return Err(BadRole::Length);
    }
    Ok(reader.text(len)?)
}

impl From<ReadError> for BadRole {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Length => Self::Length,
            ReadError::Text => Self::Text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::vec;

    fn supervisor() -> Role {
        Role {
            actor: "app::Tree".to_owned(),
            supervisor: Some(SupervisorRole {
                strategy: RoleStrategy::RestForOne,
                intensity: 3,
                period_ms: 5000,
                restarts: 7,
                children: vec![
                    RoleChild {
                        name: "db".to_owned(),
                        process: 42,
                    },
                    RoleChild {
                        name: "cache ü".to_owned(),
                        process: 0,
                    },
                ],
                unlisted_children: 0,
            }),
        }
    }

    #[test]
    fn an_encoding_fits_its_size_bound() {
        let long = "é".repeat(MAX_ROLE_NAME);
        let mut many = supervisor();
        if let Some(role) = &mut many.supervisor {
            role.children = (0..MAX_ROLE_CHILDREN as u64 + 5)
                .map(|process| RoleChild {
                    name: long.clone(),
                    process,
                })
                .collect();
        }
        let plain = Role {
            actor: long.clone(),
            supervisor: None,
        };
        for role in [supervisor(), many, plain] {
            assert!(role.encode().len() <= role.size_bound());
        }
        let report = SupervisorReport {
            event: SupervisorEvent::ChildRestarted,
            child: long.clone(),
            process: 1,
            new_process: 2,
            reason: long.repeat(20),
        };
        assert!(report.encode().len() <= report.size_bound());
    }

    #[test]
    fn roles_and_reports_round_trip() {
        let actor = Role {
            actor: "app::Counter".to_owned(),
            supervisor: None,
        };
        for role in [actor, supervisor()] {
            assert_eq!(Role::decode(&role.encode()), Ok(role));
        }
        let report = SupervisorReport {
            event: SupervisorEvent::ChildRestarted,
            child: "db".to_owned(),
            process: 1,
            new_process: 2,
            reason: "panicked: boom".to_owned(),
        };
        assert_eq!(SupervisorReport::decode(&report.encode()), Ok(report));
    }

    #[test]
    fn every_truncation_and_extension_is_refused() {
        let bytes = supervisor().encode();
        for cut in 0..bytes.len() {
            assert!(Role::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Role::decode(&longer), Err(BadRole::Length));
        let mut bad_kind = bytes.clone();
        bad_kind[0] = 9;
        assert_eq!(Role::decode(&bad_kind), Err(BadRole::Kind(9)));
    }

    #[test]
    fn whatever_a_supervisor_holds_its_records_fit_and_decode() {
        use alloc::string::ToString;
        let long = "ü".repeat(100_000);
        let role = Role {
            actor: long.clone(),
            supervisor: Some(SupervisorRole {
                strategy: RoleStrategy::OneForOne,
                intensity: 1,
                period_ms: 1,
                restarts: 1,
                children: (0..10_000)
                    .map(|n| RoleChild {
                        name: n.to_string() + &long,
                        process: n,
                    })
                    .collect(),
                unlisted_children: 0,
            }),
        };
        let bytes = role.encode();
        assert!(bytes.len() <= MAX_ROLE_SIZE, "{} bytes", bytes.len());
        let back = Role::decode(&bytes).unwrap();
        assert_eq!(
            back.actor.len(),
            MAX_ROLE_NAME - 1,
            "cut at a character boundary"
        );
        let supervisor = back.supervisor.unwrap();
        assert_eq!(supervisor.children.len(), MAX_ROLE_CHILDREN);
        assert_eq!(
            supervisor.unlisted_children,
            10_000 - MAX_ROLE_CHILDREN as u32
        );
        let report = SupervisorReport {
            event: SupervisorEvent::GaveUp,
            child: long.clone(),
            process: 0,
            new_process: 0,
            reason: long,
        };
        let bytes = report.encode();
        assert!(bytes.len() <= MAX_ROLE_SIZE);
        assert!(SupervisorReport::decode(&bytes).unwrap().reason.len() <= MAX_REPORT_REASON);
    }

    #[test]
    fn texts_past_their_limits_are_refused() {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&(MAX_ROLE_NAME as u16 + 1).to_le_bytes());
        bytes.extend(core::iter::repeat_n(b'a', MAX_ROLE_NAME + 1));
        assert_eq!(Role::decode(&bytes), Err(BadRole::Length));
    }

    #[test]
    fn a_lying_child_count_allocates_nothing() {
        let mut bytes = vec![1, 0, 0, 0];
        bytes.extend_from_slice(&[0; 4 + 8 + 8]);
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Role::decode(&bytes), Err(BadRole::Length));
    }
}
