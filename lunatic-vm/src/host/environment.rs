//! Import module `lunatic::environment`: environments with limits, and modules added to them.
//!
//! Environment and module ids are the caller's own (like file descriptors): another process
//! cannot use them, and they are dropped when the caller ends. A process can only create
//! environments within its own environment's limits.
//!
//! `max_fuel` is in units of about 100,000 instructions ([`NO_FUEL_LIMIT`]: none). The
//! namespaces (`module::name` prefixes of allowed host functions) and the directories are
//! newline-separated UTF-8 lists. `add_module` compiles any wasm module (at most 32 MiB) off
//! the scheduler's threads; bytes that are not a valid module, and imports the runtime does
//! not provide, are errors. A module's processes are spawned with `lunatic::process::spawn`.

use std::sync::Arc;

use lunatic_abi::{EnvironmentStatus, Limit, NO_FUEL_LIMIT};

use super::call::HostCall;
use crate::program::MAX_MODULE_SIZE;
use crate::sandbox::environment::EnvConfig;

/// Raw fuel a caller with a fuel limit pays per byte of a module it has compiled: a
/// compile costs the host far more than a copy.
const COMPILE_FUEL_PER_BYTE: u64 = 64;

/// Bytes of memory a loaded module is counted as per byte of it, against its loader's
/// environment: the bytes are kept, and the compiled code is about as large.
const MODULE_MEMORY_PER_BYTE: u64 = 2;

/// Why a creating call made nothing, as the guest reads it (by error id).
type Refusal = String;

/// Writes the outcome of a creating call: the new id, or an error id.
fn report(
    call: &mut HostCall<'_>,
    id_ptr: u32,
    outcome: Result<u64, Refusal>,
) -> wasmtime::Result<EnvironmentStatus> {
    let (status, value) = match outcome {
        Ok(id) => (EnvironmentStatus::Created, id),
        Err(error) => (
            EnvironmentStatus::Failed,
            call.state_mut().keep_error(error)?,
        ),
    };
    call.write_u64(id_ptr, value)?;
    Ok(status)
}

/// A newline-separated UTF-8 list from guest memory.
fn read_list(call: &mut HostCall<'_>, ptr: u32, len: u32) -> wasmtime::Result<Vec<String>> {
    let bytes = call.read(ptr, len)?;
    let text = String::from_utf8(bytes).map_err(|_| call.fail("a list is not UTF-8"))?;
    Ok(text
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

pub(super) fn create(
    call: &mut HostCall<'_>,
    max_memory: u64,
    max_fuel: u64,
    namespaces_ptr: u32,
    namespaces_len: u32,
    dirs_ptr: u32,
    dirs_len: u32,
    limits_ptr: u32,
    limits_len: u32,
    id_ptr: u32,
) -> wasmtime::Result<EnvironmentStatus> {
    let namespaces = read_list(call, namespaces_ptr, namespaces_len)?;
    let dirs = read_list(call, dirs_ptr, dirs_len)?;
    if limits_len as usize > 4 * Limit::ALL.len() {
        return Err(call.fail(format_args!("{limits_len} numbers of limits given")));
    }
    let pairs = call.read_u64s(limits_ptr, limits_len)?;
    let own = call.state().env().config();
    let limits = own
        .limits
        .for_child(&pairs)
        .map_err(|bad| call.fail(format_args!("{bad} is not a limit (or the pairs are odd)")))?;
    let preopens = dirs.iter().map(|dir| own.resolve_dir(dir)).collect();
    let config = EnvConfig {
        max_memory,
        max_fuel: (max_fuel != NO_FUEL_LIMIT).then_some(max_fuel),
        namespaces,
        preopens,
        limits,
    };
    let state = call.state();
    let outcome = match state.runtime.create_environment(state.env(), config) {
        Ok(env) => call
            .state_mut()
            .environments
            .insert(env)
            .map_err(|e| e.to_string()),
        Err(why) => Err(why.to_string()),
    };
    report(call, id_ptr, outcome)
}

pub(super) fn this(call: &mut HostCall<'_>, id_ptr: u32) -> wasmtime::Result<EnvironmentStatus> {
    let env = Arc::clone(call.state().env());
    let outcome = call
        .state_mut()
        .environments
        .insert(env)
        .map_err(|e| e.to_string());
    report(call, id_ptr, outcome)
}

pub(super) fn drop(call: &mut HostCall<'_>, env_id: u64) -> wasmtime::Result<()> {
    if call.state_mut().environments.remove(env_id) {
        Ok(())
    } else {
        Err(call.fail(format_args!("no environment with id {env_id}")))
    }
}

pub(super) async fn add_this_module(
    mut call: HostCall<'_>,
    env_id: u64,
    id_ptr: u32,
) -> wasmtime::Result<EnvironmentStatus> {
    let state = call.state();
    let outcome = match state.environments.get(env_id).cloned() {
        None => Err(format!("no environment with id {env_id}")),
        Some(env) => {
            let (runtime, program) = (Arc::clone(&state.runtime), Arc::clone(&state.program));
            // Linking for another engine compiles the module again: the caller pays for it
            // if it is metered, and it runs off the threads that run processes.
            if runtime.relink_compiles(&program, &env)? {
                let size = program.bytes().len() as u64;
                call.charge_fuel(size * COMPILE_FUEL_PER_BYTE)?;
            }
            let caller = Arc::clone(call.state().env());
            match runtime
                .compile_off_thread(&caller, move |runtime| runtime.relink(&program, env))
                .await
            {
                Ok(linked) => linked.map_err(|e| format!("{e:#}")),
                Err(join) => Err(format!("linking the module failed: {join}")),
            }
        }
    };
    let outcome = outcome.and_then(|program| {
        call.state_mut()
            .modules
            .insert(program)
            .map_err(|e| e.to_string())
    });
    report(&mut call, id_ptr, outcome)
}

pub(super) async fn add_module(
    mut call: HostCall<'_>,
    env_id: u64,
    bytes_ptr: u32,
    bytes_len: u32,
    id_ptr: u32,
) -> wasmtime::Result<EnvironmentStatus> {
    let outcome = load(&mut call, env_id, bytes_ptr, bytes_len).await?;
    report(&mut call, id_ptr, outcome)
}

/// `add_module`'s work: the module's id in the caller's table, or why there is none.
async fn load(
    call: &mut HostCall<'_>,
    env_id: u64,
    bytes_ptr: u32,
    bytes_len: u32,
) -> wasmtime::Result<Result<u64, Refusal>> {
    if bytes_len as usize > MAX_MODULE_SIZE {
        // Refused before it is copied.
        return Ok(Err(format!(
            "the module is {bytes_len} bytes, more than the limit of {MAX_MODULE_SIZE}"
        )));
    }
    call.charge_fuel(u64::from(bytes_len) * COMPILE_FUEL_PER_BYTE)?;
    let bytes = call.read(bytes_ptr, bytes_len)?;
    let state = call.state();
    let Some(env) = state.environments.get(env_id).cloned() else {
        return Ok(Err(format!("no environment with id {env_id}")));
    };
    let (runtime, caller) = (Arc::clone(&state.runtime), Arc::clone(state.env()));
    // The module's bytes and its code stay in memory while it is used.
    let cost = u64::from(bytes_len) * MODULE_MEMORY_PER_BYTE;
    let charge = match caller
        .budget()
        .map(|b| b.hold(Limit::Memory, cost))
        .transpose()
    {
        Ok(charge) => charge,
        Err(over) => return Ok(Err(over.to_string())),
    };
    // Compiling takes milliseconds to seconds: keep it off the threads that run processes.
    let compiled = runtime
        .compile_off_thread(&caller, move |runtime| {
            runtime.load_module(&bytes, env, charge)
        })
        .await;
    Ok(match compiled {
        Ok(Ok(program)) => call
            .state_mut()
            .modules
            .insert(program)
            .map_err(|e| e.to_string()),
        Ok(Err(error)) => Err(format!("{error:#}")),
        Err(join) => Err(format!("compiling the module failed: {join}")),
    })
}

pub(super) fn drop_module(call: &mut HostCall<'_>, module_id: u64) -> wasmtime::Result<()> {
    if call.state_mut().modules.remove(module_id) {
        Ok(())
    } else {
        Err(call.fail(format_args!("no module with id {module_id}")))
    }
}
