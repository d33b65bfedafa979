//! Import module `lunatic::environment`: environments with limits, and modules added to them.
//!
//! Environment and module ids are the caller's own (like file descriptors): another process
//! cannot use them, and they are dropped when the caller ends. A process can only create
//! environments within its own environment's limits.
//!
//! | function | parameters | returns | traps when |
//! |---|---|---|---|
//! | `create` | `max_memory: u64, max_fuel: u64, namespaces_ptr: u32, namespaces_len: u32, dirs_ptr: u32, dirs_len: u32, id_ptr: u32` | [`EnvironmentStatus`]; writes the environment id (or an error id) as `u64` at `id_ptr` | a range is outside memory; a list is not UTF-8 |
//! | `this` | `id_ptr: u32` | [`EnvironmentStatus`]; writes an id for the caller's own environment | `id_ptr` is outside memory |
//! | `drop` | `env_id: u64` | nothing | `env_id` is unknown |
//! | `add_this_module` | `env_id: u64, id_ptr: u32` | [`EnvironmentStatus`]; writes the module id (or an error id) | `id_ptr` is outside memory |
//! | `add_module` | `env_id: u64, bytes_ptr: u32, bytes_len: u32, id_ptr: u32` | [`EnvironmentStatus`]; writes the module id (or an error id) | a range is outside memory |
//! | `drop_module` | `module_id: u64` | nothing | `module_id` is unknown |
//!
//! `max_fuel` is in units of about 100,000 instructions ([`NO_FUEL_LIMIT`]: none). The
//! namespaces (`module::name` prefixes of allowed host functions) and the directories are
//! newline-separated UTF-8 lists. `add_module` compiles any wasm module (at most 32 MiB) off
//! the scheduler's threads; bytes that are not a valid module, and imports the runtime does
//! not provide, are errors. A module's processes are spawned with `lunatic::process::spawn`.

use std::sync::Arc;

use lunatic_abi::{EnvironmentStatus, NO_FUEL_LIMIT};
use wasmtime::{bail, format_err, Caller, Linker};

use super::memory;
use crate::environment::EnvConfig;
use crate::program::MAX_MODULE_SIZE;
use crate::state::ProcessState;

const MODULE: &str = "lunatic::environment";

/// Writes the outcome of a creating call: the new id, or an error id.
fn report(
    caller: &mut Caller<'_, ProcessState>,
    id_ptr: u32,
    outcome: Result<u64, String>,
    function: &str,
) -> wasmtime::Result<u32> {
    let (status, value) = match outcome {
        Ok(id) => (EnvironmentStatus::Created, id),
        Err(error) => (
            EnvironmentStatus::Failed,
            caller.data_mut().errors.insert(error)?,
        ),
    };
    memory::write(
        caller,
        id_ptr,
        &value.to_le_bytes(),
        &format!("{MODULE}::{function}"),
    )?;
    Ok(status as u32)
}

/// A newline-separated UTF-8 list from guest memory.
fn read_list(
    caller: &mut Caller<'_, ProcessState>,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<Vec<String>> {
    let bytes = memory::read(caller, ptr, len, "lunatic::environment::create")?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format_err!("{MODULE}::create: a list is not UTF-8"))?;
    Ok(text
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

pub(super) fn register(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        "create",
        |mut caller: Caller<'_, ProcessState>,
         max_memory: u64,
         max_fuel: u64,
         namespaces_ptr: u32,
         namespaces_len: u32,
         dirs_ptr: u32,
         dirs_len: u32,
         id_ptr: u32| {
            let namespaces = read_list(&mut caller, namespaces_ptr, namespaces_len)?;
            let dirs = read_list(&mut caller, dirs_ptr, dirs_len)?;
            let own = caller.data().env().config();
            let preopens = dirs.iter().map(|dir| own.resolve_dir(dir)).collect();
            let max_fuel = (max_fuel != NO_FUEL_LIMIT).then_some(max_fuel);
            let config = EnvConfig {
                max_memory,
                max_fuel,
                namespaces,
                preopens,
            };
            let state = caller.data();
            let outcome = state.runtime.create_environment(state.env(), config);
            let outcome = match outcome {
                Ok(env) => caller
                    .data_mut()
                    .environments
                    .insert(env)
                    .map_err(|e| e.to_string()),
                Err(why) => Err(why),
            };
            report(&mut caller, id_ptr, outcome, "create")
        },
    )?;
    linker.func_wrap(
        MODULE,
        "this",
        |mut caller: Caller<'_, ProcessState>, id_ptr: u32| {
            let env = Arc::clone(caller.data().env());
            let outcome = caller
                .data_mut()
                .environments
                .insert(env)
                .map_err(|e| e.to_string());
            report(&mut caller, id_ptr, outcome, "this")
        },
    )?;
    linker.func_wrap(
        MODULE,
        "drop",
        |mut caller: Caller<'_, ProcessState>, env_id: u64| {
            if !caller.data_mut().environments.remove(env_id) {
                bail!("{MODULE}::drop: no environment with id {env_id}");
            }
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "add_this_module",
        |mut caller: Caller<'_, ProcessState>, env_id: u64, id_ptr: u32| {
            let state = caller.data();
            let outcome = match state.environments.get(env_id) {
                None => Err(format!("no environment with id {env_id}")),
                Some(env) => state
                    .runtime
                    .relink(&state.program, Arc::clone(env))
                    .map_err(|e| format!("{e:#}")),
            };
            let outcome = outcome.and_then(|program| {
                caller
                    .data_mut()
                    .modules
                    .insert(program)
                    .map_err(|e| e.to_string())
            });
            report(&mut caller, id_ptr, outcome, "add_this_module")
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "add_module",
        |caller, (env_id, bytes_ptr, bytes_len, id_ptr): (u64, u32, u32, u32)| {
            Box::new(add_module(caller, env_id, (bytes_ptr, bytes_len), id_ptr))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "drop_module",
        |mut caller: Caller<'_, ProcessState>, module_id: u64| {
            if !caller.data_mut().modules.remove(module_id) {
                bail!("{MODULE}::drop_module: no module with id {module_id}");
            }
            Ok(())
        },
    )?;
    Ok(())
}

async fn add_module(
    mut caller: Caller<'_, ProcessState>,
    env_id: u64,
    (bytes_ptr, bytes_len): (u32, u32),
    id_ptr: u32,
) -> wasmtime::Result<u32> {
    // Compiling takes a while: the caller waits.
    caller.data().deliver_sent();
    let outcome = if bytes_len as usize > MAX_MODULE_SIZE {
        Err(format!(
            "the module is {bytes_len} bytes, more than the limit of {MAX_MODULE_SIZE}"
        ))
    } else {
        let bytes = memory::read(
            &mut caller,
            bytes_ptr,
            bytes_len,
            "lunatic::environment::add_module",
        )?;
        let state = caller.data();
        match state.environments.get(env_id).cloned() {
            None => Err(format!("no environment with id {env_id}")),
            Some(env) => {
                let runtime = Arc::clone(&state.runtime);
                // Compiling takes milliseconds: keep it off the threads that run processes.
                let compiled =
                    tokio::task::spawn_blocking(move || runtime.load_module(&bytes, env)).await;
                match compiled {
                    Ok(Ok(program)) => caller
                        .data_mut()
                        .modules
                        .insert(program)
                        .map_err(|e| e.to_string()),
                    Ok(Err(error)) => Err(format!("{error:#}")),
                    Err(join) => Err(format!("compiling the module failed: {join}")),
                }
            }
        }
    };
    report(&mut caller, id_ptr, outcome, "add_module")
}
