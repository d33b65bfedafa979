//! Imports of `lunatic::environment`: environments and modules.

use crate::error::LunaticError;

use super::error::take_error;
use super::imports::environment;

/// The id, or the error, a creating call of `lunatic::environment` reported.
fn created(status: u32, id: u64, function: &str) -> Result<u64, LunaticError> {
    match lunatic_abi::EnvironmentStatus::try_from(status) {
        Ok(lunatic_abi::EnvironmentStatus::Created) => Ok(id),
        Ok(lunatic_abi::EnvironmentStatus::Failed) => Err(LunaticError::Host(take_error(id))),
        Err(other) => panic!("lunatic::environment::{function} returned unknown status {other}"),
    }
}

/// Creates an environment.
pub(crate) fn create_environment(
    max_memory: u64,
    max_fuel: Option<u64>,
    namespaces: &str,
    dirs: &str,
    limits: &[u64],
) -> Result<u64, LunaticError> {
    let mut id = 0u64;
    let max_fuel = max_fuel.unwrap_or(lunatic_abi::NO_FUEL_LIMIT);
    let status = environment::create(
        max_memory,
        max_fuel,
        namespaces.as_bytes(),
        dirs.as_bytes(),
        limits,
        &mut id,
    );
    created(status, id, "create")
}

/// A handle to the caller's own environment.
pub(crate) fn this_environment() -> Result<u64, LunaticError> {
    let mut id = 0u64;
    let status = environment::this(&mut id);
    created(status, id, "this")
}

/// Drops environment `id`.
pub(crate) fn drop_environment(id: u64) {
    environment::drop(id);
}

/// Adds this module to environment `env`.
pub(crate) fn add_this_module(env: u64) -> Result<u64, LunaticError> {
    let mut id = 0u64;
    let status = environment::add_this_module(env, &mut id);
    created(status, id, "add_this_module")
}

/// Compiles `bytes` into a module of environment `env`.
pub(crate) fn add_module(env: u64, bytes: &[u8]) -> Result<u64, LunaticError> {
    let mut id = 0u64;
    let status = environment::add_module(env, bytes, &mut id);
    created(status, id, "add_module")
}

/// Drops module `id`.
pub(crate) fn drop_module(id: u64) {
    environment::drop_module(id);
}
