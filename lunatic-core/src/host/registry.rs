//! Imports of `lunatic::registry`: names for processes.

use lunatic_abi::RegistryStatus;

use super::imports::registry;

fn registry_status(status: u32, function: &str) -> RegistryStatus {
    RegistryStatus::try_from(status).unwrap_or_else(|other| {
        panic!("lunatic::registry::{function} returned unknown status {other}")
    })
}

/// Registers `name` at `version` for `process` (whose messages are of type
/// `message_type`, a fingerprint) in environment `env` (0: the caller's).
pub(crate) fn register_name(
    env: u64,
    name: &str,
    version: &str,
    message_type: u64,
    process: u64,
) -> RegistryStatus {
    let status = registry::register(
        env,
        name.as_bytes(),
        version.as_bytes(),
        message_type,
        process,
    );
    registry_status(status, "register")
}

/// Looks `name` up in the caller's environment: the highest version matching `query`.
pub(crate) fn lookup_name(
    name: &str,
    query: &str,
    message_type: u64,
) -> Result<u64, RegistryStatus> {
    let mut id = 0u64;
    let status = registry::lookup(name.as_bytes(), query.as_bytes(), message_type, &mut id);
    match registry_status(status, "lookup") {
        RegistryStatus::Done => Ok(id),
        other => Err(other),
    }
}

/// Removes `name` at `version` from environment `env` (0: the caller's).
pub(crate) fn unregister_name(env: u64, name: &str, version: &str) -> RegistryStatus {
    let status = registry::unregister(env, name.as_bytes(), version.as_bytes());
    registry_status(status, "unregister")
}
