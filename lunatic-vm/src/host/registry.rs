//! Import module `lunatic::registry`: names for processes, per environment and versioned.
//!
//! Strings are UTF-8 of at most [`MAX_NAME`] bytes. `env_id` is 0 for the caller's own
//! environment, or an environment id the caller holds (from `lunatic::environment::create`).
//! `message_type` is the fingerprint of the registrant's message type; a lookup must give
//! the same one.
//!
//! | function | parameters | returns | traps when |
//! |---|---|---|---|
//! | `register` | `env_id: u64, name_ptr: u32, name_len: u32, version_ptr: u32, version_len: u32, message_type: u64, process: u64` | [`RegistryStatus`]: `Done`, `Taken` (that name and version are held), `NotFound` (`process` is not alive, or no such environment) or `BadVersion` | a range is outside memory; a string is not UTF-8 or too long |
//! | `lookup` | `name_ptr: u32, name_len: u32, query_ptr: u32, query_len: u32, message_type: u64, id_ptr: u32` | [`RegistryStatus`]: `Done` (the highest version matching the semver query, in the caller's environment; its process id written as `u64` at `id_ptr`), `NotFound`, `WrongType` or `BadVersion` (the query does not parse) | as `register`, and `id_ptr` |
//! | `unregister` | `env_id: u64, name_ptr: u32, name_len: u32, version_ptr: u32, version_len: u32` | [`RegistryStatus`]: `Done`, `NotFound` or `BadVersion` | as `register` |
//!
//! A name is freed when its process ends.

use lunatic_abi::{Limit, RegistryStatus};
use semver::{Version, VersionReq};

use super::call::HostCall;
use crate::messaging::registry::{Lookup, NameKey, Registration};

/// Longest name, version or query, in bytes.
const MAX_NAME: u32 = 1024;

fn read_string(call: &mut HostCall<'_>, ptr: u32, len: u32) -> wasmtime::Result<String> {
    if len > MAX_NAME {
        return Err(call.fail(format_args!(
            "a string of {len} bytes is longer than {MAX_NAME}"
        )));
    }
    call.read_string(ptr, len)
}

/// The environment id `env_id` stands for (0: the caller's), if the caller holds it.
fn environment(call: &HostCall<'_>, env_id: u64) -> Option<u64> {
    let state = call.state();
    if env_id == 0 {
        Some(state.env().id())
    } else {
        state.environments.get(env_id).map(|env| env.id())
    }
}

/// Reads a name key; `Err(status)` if the environment or version is not valid.
fn read_key(
    call: &mut HostCall<'_>,
    env_id: u64,
    (name_ptr, name_len): (u32, u32),
    (version_ptr, version_len): (u32, u32),
) -> wasmtime::Result<Result<NameKey, RegistryStatus>> {
    let name = read_string(call, name_ptr, name_len)?;
    let version = read_string(call, version_ptr, version_len)?;
    let Some(env) = environment(call, env_id) else {
        return Ok(Err(RegistryStatus::NotFound));
    };
    Ok(Version::parse(&version)
        .map(|version| NameKey { env, name, version })
        .map_err(|_| RegistryStatus::BadVersion))
}

pub(super) fn register(
    call: &mut HostCall<'_>,
    env_id: u64,
    name_ptr: u32,
    name_len: u32,
    version_ptr: u32,
    version_len: u32,
    message_type: u64,
    process: u64,
) -> wasmtime::Result<RegistryStatus> {
    let key = read_key(
        call,
        env_id,
        (name_ptr, name_len),
        (version_ptr, version_len),
    )?;
    let key = match key {
        Ok(key) => key,
        Err(status) => return Ok(status),
    };
    let state = call.state();
    let runtime = &state.runtime;
    let Some(owner) = runtime.processes().get(process) else {
        return Ok(RegistryStatus::NotFound);
    };
    let charge = match state
        .env()
        .budget()
        .map(|budget| budget.hold(Limit::Handles, 1))
    {
        None => None,
        Some(Ok(charge)) => Some(charge),
        Some(Err(_)) => return Ok(RegistryStatus::OverLimit),
    };
    let registration = Registration {
        process,
        message_type,
        _charge: charge,
    };
    if !runtime.registry().register(&key, registration) {
        return Ok(RegistryStatus::Taken);
    }
    owner.add_name(key);
    // The owner may have ended meanwhile, before it could release the name.
    if runtime.processes().get(process).is_none() {
        runtime.registry().release(process, &owner.take_names());
    }
    Ok(RegistryStatus::Done)
}

pub(super) fn lookup(
    call: &mut HostCall<'_>,
    name_ptr: u32,
    name_len: u32,
    query_ptr: u32,
    query_len: u32,
    message_type: u64,
    id_ptr: u32,
) -> wasmtime::Result<RegistryStatus> {
    let name = read_string(call, name_ptr, name_len)?;
    let query = read_string(call, query_ptr, query_len)?;
    let Ok(query) = VersionReq::parse(&query) else {
        return Ok(RegistryStatus::BadVersion);
    };
    let state = call.state();
    let found = state
        .runtime
        .registry()
        .lookup(state.env().id(), &name, &query, message_type);
    Ok(match found {
        Lookup::Found(process) => {
            call.write_u64(id_ptr, process)?;
            RegistryStatus::Done
        }
        Lookup::NotFound => RegistryStatus::NotFound,
        Lookup::WrongType(_) => RegistryStatus::WrongType,
    })
}

pub(super) fn unregister(
    call: &mut HostCall<'_>,
    env_id: u64,
    name_ptr: u32,
    name_len: u32,
    version_ptr: u32,
    version_len: u32,
) -> wasmtime::Result<RegistryStatus> {
    let key = match read_key(
        call,
        env_id,
        (name_ptr, name_len),
        (version_ptr, version_len),
    )? {
        Ok(key) => key,
        Err(status) => return Ok(status),
    };
    let runtime = &call.state().runtime;
    Ok(match runtime.registry().unregister(&key) {
        Some(named) => {
            if let Some(owner) = runtime.processes().get(named) {
                owner.remove_name(&key);
            }
            RegistryStatus::Done
        }
        None => RegistryStatus::NotFound,
    })
}
