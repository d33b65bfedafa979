//! Import module `lunatic::process`: spawning, identity, links, kills and sleeping.
//!
//! `spawn` starts exported function `func` (UTF-8 name at `func_ptr`) in a new instance of
//! module `module_id`: [`THIS_MODULE`] (0) for the caller's own module in the caller's
//! environment, or a module the caller added to an environment (`lunatic::environment`). Its arguments are `params_len` bytes at `params_ptr`: a sequence
//! of [`PARAM_SIZE`]-byte entries, each a [`ParamKind`] byte and a 16-byte little-endian
//! value. With `link_tag` other than [`NO_LINK`] the child is linked to the caller before it
//! runs, and signals about it carry that tag. A full process pool makes it return
//! [`SpawnStatus::NoRoom`], a limit of the caller's environment [`SpawnStatus::OverLimit`];
//! an unknown module, a function that does not exist or arguments of the wrong types
//! [`SpawnStatus::Failed`].

use std::sync::Arc;
use std::time::Duration;

use lunatic_abi::{
    Limit, LogLevel, ParamKind, Role, SpawnStatus, SupervisorReport, MAX_LOG_TEXT, MAX_REASON_TEXT,
    MAX_ROLE_SIZE, NO_LINK, PARAM_SIZE, THIS_MODULE,
};
use wasmtime::Val;

use super::call::{slice, HostCall, SPAWN_FUEL};
use crate::process::{EndReason, Terminated};
use crate::program::EntryFunction;
use crate::runtime::{Entry, Link, SpawnFailure};

pub(super) async fn spawn(
    mut call: HostCall<'_>,
    link_tag: i64,
    module_id: u64,
    func_ptr: u32,
    func_len: u32,
    params_ptr: u32,
    params_len: u32,
    id_ptr: u32,
) -> wasmtime::Result<SpawnStatus> {
    call.charge_fuel(SPAWN_FUEL)?;
    // Check the output slot before a process exists that nobody could learn the id of.
    call.write_u64(id_ptr, 0)?;
    let function = read_function(&mut call, (func_ptr, func_len))?;
    let params = read_params(&mut call, (params_ptr, params_len))?;

    let state = call.state();
    let program = if module_id == THIS_MODULE {
        Some(Arc::clone(&state.program))
    } else {
        state.modules.get(module_id).cloned()
    };
    let Some(program) = program else {
        let error = call.fail(format_args!(
            "the process holds no module with id {module_id}"
        ));
        let id = call.state_mut().keep_error(error.to_string())?;
        call.write_u64(id_ptr, id)?;
        return Ok(SpawnStatus::Failed);
    };
    let state = call.state();
    let runtime = Arc::clone(&state.runtime);
    let parent = Arc::clone(&state.handle);
    let io = state.io.for_child();
    let link = (link_tag != NO_LINK).then(|| Link::Local {
        to: Arc::clone(&parent),
        tag: link_tag,
    });
    let entry = Entry { function, params };
    let spawned = runtime
        .spawn(program, entry, io, Some(&parent), link, None)
        .await;
    let (status, value) = match spawned {
        Ok(child) => (SpawnStatus::Spawned, child.id()),
        Err(error) => spawn_failure(&mut call, SpawnFailure::of(&error))?,
    };
    call.write_u64(id_ptr, value)?;
    Ok(status)
}

/// What a failed spawn (here or on another node) tells the guest: the status of a failure
/// it can act on (no room in a VM, a limit of its environment) with the value the status
/// names, or `Failed` with the id of the error's text.
pub(super) fn spawn_failure(
    call: &mut HostCall<'_>,
    failure: SpawnFailure,
) -> wasmtime::Result<(SpawnStatus, u64)> {
    Ok(match failure {
        SpawnFailure::NoRoom { alive } => (SpawnStatus::NoRoom, alive),
        SpawnFailure::OverLimit(limit) => (SpawnStatus::OverLimit, limit as u64),
        SpawnFailure::Other(text) => (SpawnStatus::Failed, call.state_mut().keep_error(text)?),
    })
}

pub(super) fn this(call: &mut HostCall<'_>) -> wasmtime::Result<u64> {
    Ok(call.state().handle.id())
}

pub(super) fn node_id(call: &mut HostCall<'_>) -> wasmtime::Result<u64> {
    Ok(call.state().runtime.node_id())
}

pub(super) async fn sleep_ms(_call: HostCall<'_>, ms: u64) -> wasmtime::Result<()> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(())
}

pub(super) fn link(call: &mut HostCall<'_>, tag: i64, process: u64) -> wasmtime::Result<()> {
    // Linking to a dead process kills a caller that does not trap link deaths: the gate
    // ends it now, not at some later preemption point it might never reach.
    let state = call.state();
    state
        .runtime
        .link(&state.handle, state.env().budget(), process, tag)?;
    Ok(())
}

pub(super) fn unlink(call: &mut HostCall<'_>, process: u64) -> wasmtime::Result<()> {
    let state = call.state();
    state.runtime.unlink(&state.handle, process);
    Ok(())
}

pub(super) fn monitor(call: &mut HostCall<'_>, process: u64) -> wasmtime::Result<i64> {
    let state = call.state();
    let tag = state.runtime.new_tag();
    let budget = state.env().budget();
    state.runtime.monitor(&state.handle, budget, process, tag)?;
    Ok(tag)
}

pub(super) fn demonitor(call: &mut HostCall<'_>, process: u64, tag: i64) -> wasmtime::Result<()> {
    let state = call.state_mut();
    let sandboxed = state.env().budget().is_some();
    if !state
        .runtime
        .demonitor(&state.handle, sandboxed, process, tag)
    {
        // The notice is queued, or still being pushed by a process that is ending: the tag
        // is the monitor's alone, so it is dropped whenever it comes.
        state
            .inbox
            .abandon(state.handle.mailbox(), state.handle.taken(), tag);
    }
    Ok(())
}

pub(super) fn kill(call: &mut HostCall<'_>, process: u64) -> wasmtime::Result<()> {
    if let Some(target) = call.state().runtime.processes().get(process) {
        target.mailbox().kill(EndReason::Killed);
    }
    Ok(())
}

pub(super) fn is_alive(call: &mut HostCall<'_>, process: u64) -> wasmtime::Result<u32> {
    Ok(u32::from(
        call.state().runtime.processes().get(process).is_some(),
    ))
}

pub(super) fn die_when_link_dies(call: &mut HostCall<'_>, enabled: u32) -> wasmtime::Result<()> {
    // A link death already queued as a signal now kills the caller: the gate ends it.
    call.state().set_traps_link_deaths(enabled == 0);
    Ok(())
}

pub(super) fn report_panic(
    call: &mut HostCall<'_>,
    message_ptr: u32,
    message_len: u32,
    location_ptr: u32,
    location_len: u32,
) -> wasmtime::Result<()> {
    let mut text = |ptr: u32, len: u32| -> wasmtime::Result<String> {
        let cap = u32::try_from(MAX_REASON_TEXT).unwrap_or(u32::MAX);
        let bytes = call.read(ptr, len.min(cap))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let message = text(message_ptr, message_len)?;
    let location = Some(text(location_ptr, location_len)?).filter(|l| !l.is_empty());
    call.state_mut().panic = Some(EndReason::Panicked { message, location });
    Ok(())
}

pub(super) fn end(call: &mut HostCall<'_>, ptr: u32, len: u32) -> wasmtime::Result<()> {
    // The variant byte, a text's length, and room for any fixed fields.
    if len as usize > MAX_REASON_TEXT + 16 {
        return Err(call.fail(format_args!(
            "the reason is longer than {MAX_REASON_TEXT} bytes"
        )));
    }
    let bytes = call.read(ptr, len)?;
    match EndReason::decode(&bytes) {
        Ok(reason @ (EndReason::Normal | EndReason::Shutdown | EndReason::Error(_))) => {
            Err(Terminated(reason).into())
        }
        Ok(other) => Err(call.fail(format_args!("a process cannot end itself with {other:?}"))),
        Err(bad) => Err(call.fail(bad)),
    }
}

pub(super) fn log(call: &mut HostCall<'_>, level: u32, ptr: u32, len: u32) -> wasmtime::Result<()> {
    let level = LogLevel::try_from(level)
        .map_err(|bad| call.fail(format_args!("unknown log level {bad}")))?;
    let cap = u32::try_from(MAX_LOG_TEXT).unwrap_or(u32::MAX);
    let text = call.read(ptr, len.min(cap))?;
    let state = call.state();
    let line = format!(
        "process {}: {}",
        state.handle.id(),
        String::from_utf8_lossy(&text)
    );
    crate::runtime::log_for_process(
        &line,
        level,
        "lunatic::guest",
        &state.io.output,
        state.program.env().budget().map(|budget| &**budget),
    );
    Ok(())
}

pub(super) fn describe(call: &mut HostCall<'_>, ptr: u32, len: u32) -> wasmtime::Result<()> {
    let bytes = read_record(call, ptr, len)?;
    let role = Role::decode(&bytes).map_err(|bad| call.fail(format_args!("bad role: {bad}")))?;
    let state = call.state();
    // The decoded role takes a few times its encoding's bytes (a string per child).
    let charge = state
        .env()
        .budget()
        .map(|budget| budget.hold(Limit::Memory, 4 * u64::from(len)))
        .transpose()?;
    state.handle.profile().set_role(role, charge);
    Ok(())
}

pub(super) fn supervisor_report(
    call: &mut HostCall<'_>,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<()> {
    let bytes = read_record(call, ptr, len)?;
    let report = SupervisorReport::decode(&bytes)
        .map_err(|bad| call.fail(format_args!("bad supervisor report: {bad}")))?;
    let state = call.state();
    crate::runtime::log_supervisor_report(
        &state.handle,
        &report,
        &state.io.output,
        state.program.env().budget().map(|budget| &**budget),
    );
    Ok(())
}

/// Reads a record of at most [`MAX_ROLE_SIZE`] bytes.
fn read_record(call: &mut HostCall<'_>, ptr: u32, len: u32) -> wasmtime::Result<Vec<u8>> {
    if len as usize > MAX_ROLE_SIZE {
        return Err(call.fail(format_args!(
            "the record is {len} bytes, more than {MAX_ROLE_SIZE}"
        )));
    }
    call.read(ptr, len)
}

/// Reads the function a spawn call names (UTF-8, at a pointer, of a length), without
/// copying it when it is the guest library's spawn entry.
///
/// # Errors
/// The range is outside memory, or the name is not UTF-8.
pub(super) fn read_function(
    call: &mut HostCall<'_>,
    (ptr, len): (u32, u32),
) -> wasmtime::Result<EntryFunction> {
    call.charge_copy(len as usize)?;
    let function = call.function();
    let named = EntryFunction::from_utf8(slice(call.memory()?, ptr, len, function)?);
    named.map_err(|_| call.fail("the function name is not UTF-8"))
}

/// Reads and decodes a spawn call's parameters (at a pointer, of a length).
///
/// # Errors
/// The range is outside memory, or the parameters do not decode.
pub(super) fn read_params(
    call: &mut HostCall<'_>,
    (ptr, len): (u32, u32),
) -> wasmtime::Result<Vec<Val>> {
    call.charge_copy(len as usize)?;
    let function = call.function();
    let decoded = decode_params(slice(call.memory()?, ptr, len, function)?);
    decoded.map_err(|bad| call.fail(bad))
}

/// Why spawn parameters do not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadParams {
    #[error("the parameters are {0} bytes, not a multiple of {PARAM_SIZE}")]
    Length(usize),
    #[error("unknown parameter type {0:#04x}")]
    Kind(u8),
}

/// Decodes spawn parameters (see the module docs).
pub(crate) fn decode_params(bytes: &[u8]) -> Result<Vec<Val>, BadParams> {
    if !bytes.len().is_multiple_of(PARAM_SIZE) {
        return Err(BadParams::Length(bytes.len()));
    }
    bytes
        .chunks_exact(PARAM_SIZE)
        .map(|entry| {
            let mut value = [0u8; 16];
            value.copy_from_slice(&entry[1..]);
            let value = u128::from_le_bytes(value);
            match ParamKind::try_from(entry[0]) {
                Ok(ParamKind::I32) => Ok(Val::I32(value as u32 as i32)),
                Ok(ParamKind::I64) => Ok(Val::I64(value as u64 as i64)),
                Ok(ParamKind::V128) => Ok(Val::V128(value.into())),
                Err(kind) => Err(BadParams::Kind(kind)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_decode_and_reject_garbage() {
        let mut bytes = vec![ParamKind::I32 as u8];
        bytes.extend_from_slice(&7u128.to_le_bytes());
        bytes.push(ParamKind::I64 as u8);
        bytes.extend_from_slice(&(u64::MAX as u128).to_le_bytes());
        let params = decode_params(&bytes).unwrap();
        assert!(matches!(params[..], [Val::I32(7), Val::I64(-1)]));
        assert_eq!(decode_params(&bytes[..5]).err(), Some(BadParams::Length(5)));
        bytes[0] = 0x42;
        assert_eq!(decode_params(&bytes).err(), Some(BadParams::Kind(0x42)));
    }
}
