//! The values the host (`lunatic-vm`) and the guest library (`lunatic-core`) must agree on,
//! kept in one place so they cannot drift apart. No logic lives here.
//!
//! | item | used by |
//! |---|---|
//! | [`SpawnStatus`] | `lunatic::process::spawn` |
//! | [`ReceiveStatus`] | `lunatic::message::receive` |
//! | [`RegistryStatus`] | `lunatic::registry::*` |
//! | [`ParamKind`], [`PARAM_SIZE`] | the parameter list of `lunatic::process::spawn` |
//! | [`NO_LINK`], [`THIS_MODULE`], [`NO_FUEL_LIMIT`], [`WAIT_FOREVER`] | sentinel arguments |
//! | [`EnvironmentStatus`] | `lunatic::environment::*` |
//! | [`SPAWN_ENTRY`] | the guest export the host calls to start a spawned closure |
#![no_std]

/// Result of `lunatic::process::spawn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum SpawnStatus {
    /// The process started; its id was written to the output pointer.
    Spawned = 0,
    /// It did not; an error id was written to the output pointer.
    Failed = 1,
}

/// Result of `lunatic::message::receive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ReceiveStatus {
    /// A data message is now the current incoming message.
    Data = 0,
    /// A link-death signal is now the current incoming message.
    Signal = 1,
    /// Nothing matching arrived in time.
    TimedOut = 2,
    /// A down notice (a monitored process ended) is now the current incoming message.
    Down = 3,
}

impl TryFrom<u32> for SpawnStatus {
    type Error = u32;

    fn try_from(value: u32) -> Result<Self, u32> {
        match value {
            0 => Ok(Self::Spawned),
            1 => Ok(Self::Failed),
            other => Err(other),
        }
    }
}

impl TryFrom<u32> for ReceiveStatus {
    type Error = u32;

    fn try_from(value: u32) -> Result<Self, u32> {
        match value {
            0 => Ok(Self::Data),
            1 => Ok(Self::Signal),
            2 => Ok(Self::TimedOut),
            3 => Ok(Self::Down),
            other => Err(other),
        }
    }
}

/// Result of the `lunatic::registry` functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum RegistryStatus {
    /// Done (registered, found, or unregistered).
    Done = 0,
    /// The name is held by another process.
    Taken = 1,
    /// No such name, or no such process.
    NotFound = 2,
    /// The name is registered for another message type.
    WrongType = 3,
    /// A version or version query does not parse (semver).
    BadVersion = 4,
}

impl TryFrom<u32> for RegistryStatus {
    type Error = u32;

    fn try_from(value: u32) -> Result<Self, u32> {
        match value {
            0 => Ok(Self::Done),
            1 => Ok(Self::Taken),
            2 => Ok(Self::NotFound),
            3 => Ok(Self::WrongType),
            4 => Ok(Self::BadVersion),
            other => Err(other),
        }
    }
}

/// Result of the `lunatic::environment` functions that create something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum EnvironmentStatus {
    /// Created; its id was written to the output pointer.
    Created = 0,
    /// Refused; an error id was written to the output pointer.
    Failed = 1,
}

impl TryFrom<u32> for EnvironmentStatus {
    type Error = u32;

    fn try_from(value: u32) -> Result<Self, u32> {
        match value {
            0 => Ok(Self::Created),
            1 => Ok(Self::Failed),
            other => Err(other),
        }
    }
}

/// The type byte of one encoded spawn parameter (the wasm value type's own byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ParamKind {
    /// A 32-bit integer, little-endian in the first 4 value bytes.
    I32 = 0x7F,
    /// A 64-bit integer, little-endian in the first 8 value bytes.
    I64 = 0x7E,
    /// A 128-bit vector, little-endian in all 16 value bytes.
    V128 = 0x7B,
}

impl TryFrom<u8> for ParamKind {
    type Error = u8;

    fn try_from(value: u8) -> Result<Self, u8> {
        match value {
            0x7F => Ok(Self::I32),
            0x7E => Ok(Self::I64),
            0x7B => Ok(Self::V128),
            other => Err(other),
        }
    }
}

/// Bytes of one encoded spawn parameter: the [`ParamKind`] byte, then 16 value bytes.
pub const PARAM_SIZE: usize = 17;

/// The link tag that means "do not link" in `lunatic::process::spawn`. Tags made by the
/// host are never 0.
pub const NO_LINK: i64 = 0;

/// The module id that means "the caller's own module, in the caller's environment" in
/// `lunatic::process::spawn`.
pub const THIS_MODULE: u64 = 0;

/// The fuel limit that means "no limit" in `lunatic::environment::create`.
pub const NO_FUEL_LIMIT: u64 = u64::MAX;

/// The timeout that means "wait forever" in `lunatic::message::receive`.
pub const WAIT_FOREVER: u64 = u64::MAX;

/// The export of the guest library that runs a spawned function: `(entry: i32, arg: i32)`.
pub const SPAWN_ENTRY: &str = "lunatic_spawn_entry";

/// Largest message, in bytes, a process may build; more is refused with a trap so that one
/// guest cannot exhaust the host's memory.
pub const MAX_MESSAGE_SIZE: usize = 64 << 20;
