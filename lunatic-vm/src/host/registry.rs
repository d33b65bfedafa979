//! Import module `lunatic::registry`: names for processes, per environment and versioned.
//!
//! Strings are UTF-8 of at most [`MAX_NAME`] bytes. `env_id` is 0 for the caller's own
//! environment, or an environment id the caller holds (from `lunatic::environment::create`).
//! The type name is the registrant's message type; a lookup must give the same one.
//!
//! | function | parameters | returns | traps when |
//! |---|---|---|---|
//! | `register` | `env_id: u64, name_ptr: u32, name_len: u32, version_ptr: u32, version_len: u32, type_ptr: u32, type_len: u32, process: u64` | [`RegistryStatus`]: `Done`, `Taken` (that name and version are held), `NotFound` (`process` is not alive, or no such environment) or `BadVersion` | a range is outside memory; a string is not UTF-8 or too long |
//! | `lookup` | `name_ptr: u32, name_len: u32, query_ptr: u32, query_len: u32, type_ptr: u32, type_len: u32, id_ptr: u32` | [`RegistryStatus`]: `Done` (the highest version matching the semver query, in the caller's environment; its process id written as `u64` at `id_ptr`), `NotFound`, `WrongType` or `BadVersion` (the query does not parse) | as `register`, and `id_ptr` |
//! | `unregister` | `env_id: u64, name_ptr: u32, name_len: u32, version_ptr: u32, version_len: u32` | [`RegistryStatus`]: `Done`, `NotFound` or `BadVersion` | as `register` |
//!
//! A name is freed when its process ends.

use lunatic_abi::RegistryStatus;
use semver::{Version, VersionReq};
use wasmtime::{bail, Caller, Linker};

use super::memory;
use crate::registry::{Lookup, NameKey, Registration};
use crate::state::ProcessState;

const MODULE: &str = "lunatic::registry";

/// Longest name, version, query or type name, in bytes.
const MAX_NAME: u32 = 1024;

fn read_string(
    caller: &mut Caller<'_, ProcessState>,
    (ptr, len): (u32, u32),
    function: &str,
) -> wasmtime::Result<String> {
    if len > MAX_NAME {
        bail!("{MODULE}::{function}: a string of {len} bytes is longer than {MAX_NAME}");
    }
    let bytes = memory::read(caller, ptr, len, &format!("{MODULE}::{function}"))?;
    String::from_utf8(bytes)
        .map_err(|_| wasmtime::format_err!("{MODULE}::{function}: a string is not UTF-8"))
}

/// The environment id `env_id` stands for (0: the caller's), if the caller holds it.
fn environment(caller: &Caller<'_, ProcessState>, env_id: u64) -> Option<u64> {
    let state = caller.data();
    if env_id == 0 {
        Some(state.env().id())
    } else {
        state.environments.get(env_id).map(|env| env.id())
    }
}

/// Reads a name key; `Err(status)` if the environment or version is not valid.
fn read_key(
    caller: &mut Caller<'_, ProcessState>,
    env_id: u64,
    name: (u32, u32),
    version: (u32, u32),
    function: &str,
) -> wasmtime::Result<Result<NameKey, RegistryStatus>> {
    let name = read_string(caller, name, function)?;
    let version = read_string(caller, version, function)?;
    let Some(env) = environment(caller, env_id) else {
        return Ok(Err(RegistryStatus::NotFound));
    };
    Ok(Version::parse(&version)
        .map(|version| NameKey { env, name, version })
        .map_err(|_| RegistryStatus::BadVersion))
}

pub(super) fn register(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        "register",
        |mut caller: Caller<'_, ProcessState>,
         env_id: u64,
         name_ptr: u32,
         name_len: u32,
         version_ptr: u32,
         version_len: u32,
         type_ptr: u32,
         type_len: u32,
         process: u64| {
            caller.data().deliver_sent();
            let key = read_key(
                &mut caller,
                env_id,
                (name_ptr, name_len),
                (version_ptr, version_len),
                "register",
            )?;
            let message_type = read_string(&mut caller, (type_ptr, type_len), "register")?;
            let key = match key {
                Ok(key) => key,
                Err(status) => return Ok(status as u32),
            };
            let runtime = &caller.data().runtime;
            let Some(owner) = runtime.processes().get(process) else {
                return Ok(RegistryStatus::NotFound as u32);
            };
            if !runtime.registry().register(
                &key,
                Registration {
                    process,
                    message_type,
                },
            ) {
                return Ok(RegistryStatus::Taken as u32);
            }
            owner.add_name(key);
            // The owner may have ended meanwhile, before it could release the name.
            if runtime.processes().get(process).is_none() {
                runtime.registry().release(process, &owner.take_names());
            }
            Ok(RegistryStatus::Done as u32)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "lookup",
        |mut caller: Caller<'_, ProcessState>,
         name_ptr: u32,
         name_len: u32,
         query_ptr: u32,
         query_len: u32,
         type_ptr: u32,
         type_len: u32,
         id_ptr: u32| {
            caller.data().deliver_sent();
            let name = read_string(&mut caller, (name_ptr, name_len), "lookup")?;
            let query = read_string(&mut caller, (query_ptr, query_len), "lookup")?;
            let message_type = read_string(&mut caller, (type_ptr, type_len), "lookup")?;
            let Ok(query) = VersionReq::parse(&query) else {
                return Ok(RegistryStatus::BadVersion as u32);
            };
            let state = caller.data();
            let status = match state.runtime.registry().lookup(
                state.env().id(),
                &name,
                &query,
                &message_type,
            ) {
                Lookup::Found(process) => {
                    memory::write(
                        &mut caller,
                        id_ptr,
                        &process.to_le_bytes(),
                        "lunatic::registry::lookup",
                    )?;
                    RegistryStatus::Done
                }
                Lookup::NotFound => RegistryStatus::NotFound,
                Lookup::WrongType(_) => RegistryStatus::WrongType,
            };
            Ok(status as u32)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "unregister",
        |mut caller: Caller<'_, ProcessState>,
         env_id: u64,
         name_ptr: u32,
         name_len: u32,
         version_ptr: u32,
         version_len: u32| {
            caller.data().deliver_sent();
            let key = match read_key(
                &mut caller,
                env_id,
                (name_ptr, name_len),
                (version_ptr, version_len),
                "unregister",
            )? {
                Ok(key) => key,
                Err(status) => return Ok(status as u32),
            };
            let removed = caller.data().runtime.registry().unregister(&key);
            Ok(if removed {
                RegistryStatus::Done
            } else {
                RegistryStatus::NotFound
            } as u32)
        },
    )?;
    Ok(())
}
