//! Imports of `lunatic::registry`: names for processes.

use lunatic_abi::RegistryStatus;

use super::imports::registry;
use super::len32;

fn registry_status(status: u32, function: &str) -> RegistryStatus {
    RegistryStatus::try_from(status).unwrap_or_else(|other| {
        panic!("lunatic::registry::{function} returned unknown status {other}")
    })
}

/// Registers `name` at `version` for `process` (with its message type name) in environment
/// `env` (0: the caller's).
pub(crate) fn register_name(
    env: u64,
    name: &str,
    version: &str,
    message_type: &str,
    process: u64,
) -> RegistryStatus {
    // SAFETY: every string is a live slice of the length passed.
    let status = unsafe {
        registry::register(
            env,
            name.as_ptr(),
            len32(name.len()),
            version.as_ptr(),
            len32(version.len()),
            message_type.as_ptr(),
            len32(message_type.len()),
            process,
        )
    };
    registry_status(status, "register")
}

/// Looks `name` up in the caller's environment: the highest version matching `query`.
pub(crate) fn lookup_name(
    name: &str,
    query: &str,
    message_type: &str,
) -> Result<u64, RegistryStatus> {
    let mut id = 0u64;
    // SAFETY: every string is a live slice; `id` is a live u64.
    let status = unsafe {
        registry::lookup(
            name.as_ptr(),
            len32(name.len()),
            query.as_ptr(),
            len32(query.len()),
            message_type.as_ptr(),
            len32(message_type.len()),
            &mut id,
        )
    };
    match registry_status(status, "lookup") {
        RegistryStatus::Done => Ok(id),
        other => Err(other),
    }
}

/// Removes `name` at `version` from environment `env` (0: the caller's).
pub(crate) fn unregister_name(env: u64, name: &str, version: &str) -> RegistryStatus {
    // SAFETY: both strings are live slices.
    let status = unsafe {
        registry::unregister(
            env,
            name.as_ptr(),
            len32(name.len()),
            version.as_ptr(),
            len32(version.len()),
        )
    };
    registry_status(status, "unregister")
}
