//! VM-wide names for processes. A name is freed when its process ends.
//!
//! Lookups are typed: a name registered for a `Process<M>` is only found as a `Process<M>`,
//! so a mistaken lookup is an error at the lookup, not a message nobody can read.

use lunatic_abi::RegistryStatus;

use crate::host;
use crate::process::{Process, ProcessId};

/// Why a registry call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Another live process holds the name.
    #[error("the name `{0}` is already registered")]
    Taken(String),
    /// The process to register is not alive.
    #[error("the process is not alive")]
    NotAlive,
    /// The name is registered for processes of another message type.
    #[error("the name `{0}` is registered for another message type")]
    WrongType(String),
}

fn type_name<M>() -> &'static str {
    std::any::type_name::<M>()
}

/// Registers `process` under `name`.
///
/// # Errors
/// [`RegistryError::Taken`] if a live process holds the name; [`RegistryError::NotAlive`].
pub fn register<M>(name: &str, process: &Process<M>) -> Result<(), RegistryError> {
    match host::register_name(name, type_name::<M>(), process.process_id().local_id()) {
        RegistryStatus::Done => Ok(()),
        RegistryStatus::Taken => Err(RegistryError::Taken(name.to_owned())),
        RegistryStatus::NotFound | RegistryStatus::WrongType => Err(RegistryError::NotAlive),
    }
}

/// The process registered under `name`, if any.
///
/// # Errors
/// [`RegistryError::WrongType`] if the name is registered for another message type.
pub fn lookup<M>(name: &str) -> Result<Option<Process<M>>, RegistryError> {
    match host::lookup_name(name, type_name::<M>()) {
        Ok(id) => Ok(Some(Process::from_process_id(ProcessId::local(id)))),
        Err(RegistryStatus::WrongType) => Err(RegistryError::WrongType(name.to_owned())),
        Err(_) => Ok(None),
    }
}

/// Removes `name`; returns whether it was registered.
pub fn unregister(name: &str) -> bool {
    host::unregister_name(name)
}
