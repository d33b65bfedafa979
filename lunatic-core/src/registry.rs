//! Names for processes, per environment and versioned. A name is freed when its process
//! ends.
//!
//! | function | scope |
//! |---|---|
//! | [`register`], [`lookup`], [`unregister`] | one unversioned name (version `0.0.0`) in the caller's environment |
//! | [`register_version`], [`lookup_version`], [`unregister_version`] | a name at a semver version in the caller's environment; a lookup takes a query such as `"^1.2"` and finds the highest matching version |
//! | [`Environment::register`](crate::Environment::register) and `unregister` | a versioned name inside another environment, for its processes to look up |
//!
//! Lookups are typed: a name registered for a `Process<M>` is only found as a `Process<M>`,
//! so a mistaken lookup is an error at the lookup, not a message nobody can read.

use lunatic_abi::RegistryStatus;

use crate::codec::Sendable;
use crate::host;
use crate::message_type::MessageType;
use crate::process::{Process, ProcessId};

/// The version of names registered without one.
const UNVERSIONED: &str = "0.0.0";

/// Why a registry call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Another live process holds the name at that version.
    #[error("the name `{0}` is already registered")]
    Taken(String),
    /// The process to register is not alive (or the environment is gone).
    #[error("the process is not alive")]
    NotAlive,
    /// The name is registered for processes of another message type.
    #[error("the name `{0}` is registered for another message type")]
    WrongType(String),
    /// A version or query is not valid semver.
    #[error("`{0}` is not a valid version or version query")]
    BadVersion(String),
    /// The caller's environment holds as many handles (names among them) as its limit
    /// allows ([`crate::Config::max_handles`]).
    #[error("the environment is over its limit of handles")]
    OverLimit,
}

/// The type a name is registered for: its message type's fingerprint (working it out
/// records its name in the VM's table, where errors look it up).
fn message_type<M: Sendable>() -> u64 {
    MessageType::of::<M>().fingerprint()
}

/// Registers `process` under `name` at `version` in environment `env` (0: the caller's).
pub(crate) fn register_in<M: Sendable>(
    env: u64,
    name: &str,
    version: &str,
    process: &Process<M>,
) -> Result<(), RegistryError> {
    match host::register_name(
        env,
        name,
        version,
        message_type::<M>(),
        process.process_id().local_id(),
    ) {
        RegistryStatus::Done => Ok(()),
        RegistryStatus::Taken => Err(RegistryError::Taken(name.to_owned())),
        RegistryStatus::BadVersion => Err(RegistryError::BadVersion(version.to_owned())),
        RegistryStatus::OverLimit => Err(RegistryError::OverLimit),
        RegistryStatus::NotFound | RegistryStatus::WrongType => Err(RegistryError::NotAlive),
    }
}

/// Removes `name` at `version` from environment `env` (0: the caller's).
pub(crate) fn unregister_in(env: u64, name: &str, version: &str) -> Result<bool, RegistryError> {
    match host::unregister_name(env, name, version) {
        RegistryStatus::Done => Ok(true),
        RegistryStatus::BadVersion => Err(RegistryError::BadVersion(version.to_owned())),
        _ => Ok(false),
    }
}

/// Registers `process` under `name` in the caller's environment.
///
/// # Errors
/// [`RegistryError::Taken`] if a live process holds the name; [`RegistryError::NotAlive`].
pub fn register<M: Sendable>(name: &str, process: &Process<M>) -> Result<(), RegistryError> {
    register_in(0, name, UNVERSIONED, process)
}

/// Registers `process` under `name` at semver `version` (for example `"1.2.3"`) in the
/// caller's environment.
///
/// # Errors
/// [`RegistryError::Taken`] if that name and version are held; [`RegistryError::BadVersion`];
/// [`RegistryError::NotAlive`].
pub fn register_version<M: Sendable>(
    name: &str,
    version: &str,
    process: &Process<M>,
) -> Result<(), RegistryError> {
    register_in(0, name, version, process)
}

/// The process registered under `name` (without a version) in the caller's environment.
///
/// # Errors
/// [`RegistryError::WrongType`] if the name is registered for another message type.
pub fn lookup<M: Sendable>(name: &str) -> Result<Option<Process<M>>, RegistryError> {
    lookup_version(name, "*")
}

/// The process registered under `name` in the caller's environment whose version is the
/// highest matching semver `query` (for example `"^1.2"` matches `1.2.3` and `1.9.0`).
///
/// # Errors
/// [`RegistryError::WrongType`]; [`RegistryError::BadVersion`] if `query` does not parse.
pub fn lookup_version<M: Sendable>(
    name: &str,
    query: &str,
) -> Result<Option<Process<M>>, RegistryError> {
    match host::lookup_name(name, query, message_type::<M>()) {
        Ok(id) => Ok(Some(Process::from_process_id(ProcessId::local(id)))),
        Err(RegistryStatus::WrongType) => Err(RegistryError::WrongType(name.to_owned())),
        Err(RegistryStatus::BadVersion) => Err(RegistryError::BadVersion(query.to_owned())),
        Err(_) => Ok(None),
    }
}

/// Removes `name` (without a version) from the caller's environment; whether it was there.
pub fn unregister(name: &str) -> bool {
    unregister_in(0, name, UNVERSIONED).unwrap_or(false)
}

/// Removes `name` at `version` from the caller's environment; whether it was there.
///
/// # Errors
/// [`RegistryError::BadVersion`].
pub fn unregister_version(name: &str, version: &str) -> Result<bool, RegistryError> {
    unregister_in(0, name, version)
}
