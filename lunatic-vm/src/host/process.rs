//! Import module `lunatic::process`: spawning, identity, links, kills and sleeping.
//!
//! | function | parameters | returns | traps when |
//! |---|---|---|---|
//! | `spawn` | `link_tag: i64, module_id: u64, func_ptr: u32, func_len: u32, params_ptr: u32, params_len: u32, id_ptr: u32` | [`SpawnStatus`]; writes the new process id (or an error id) as `u64` at `id_ptr` | a range is outside memory; the name is not UTF-8; the parameters are malformed |
//! | `this` | | `u64`: the caller's process id | never |
//! | `sleep_ms` | `ms: u64` | nothing, after `ms` milliseconds | the process is killed while it sleeps (it ends) |
//! | `link` | `tag: i64, process: u64` | nothing: links both ways; a dead `process` is reported at once | `process` is not alive and the caller does not trap link deaths (it ends) |
//! | `unlink` | `process: u64` | nothing | never |
//! | `monitor` | `process: u64` | `i64`: a new tag; when `process` ends (for any reason) a down notice with that tag is queued for the caller, at once if it is not alive | never |
//! | `demonitor` | `process: u64, tag: i64` | nothing: removes the caller's monitor `tag`; its down notice, queued or arriving later (a process ending as this runs), is dropped | never |
//! | `kill` | `process: u64` | nothing: `process` ends with reason "killed"; unknown ids are ignored | never |
//! | `is_alive` | `process: u64` | `u32`: 1 if alive, 0 if not | never |
//! | `die_when_link_dies` | `enabled: u32` | nothing: 1 (the default) makes abnormal deaths of linked processes kill the caller; 0 turns them into signal messages | `enabled` is 1 and a link-death signal is already queued (the caller ends) |
//! | `report_panic` | `message_ptr: u32, message_len: u32, location_ptr: u32, location_len: u32` | nothing: records the panic (UTF-8 message, and `file:line:column` or an empty location) the caller is about to trap with | a range is outside memory |
//! | `end` | `reason_ptr: u32, reason_len: u32` | never returns: the caller ends with the encoded [`EndReason`] at `reason_ptr`, which must be `Normal`, `Shutdown` or `Error` | the range is outside memory; the reason does not decode, is another variant, or is longer than [`MAX_REASON_TEXT`] bytes |
//!
//! `spawn` starts exported function `func` (UTF-8 name at `func_ptr`) in a new instance of
//! module `module_id`: [`THIS_MODULE`] (0) for the caller's own module in the caller's
//! environment, or a module the caller added to an environment (`lunatic::environment`). Its arguments are `params_len` bytes at `params_ptr`: a sequence
//! of [`PARAM_SIZE`]-byte entries, each a [`ParamKind`] byte and a 16-byte little-endian
//! value. With `link_tag` other than [`NO_LINK`] the child is linked to the caller before it
//! runs, and signals about it carry that tag. An unknown module, a function that does not
//! exist, arguments of the wrong types, or a full process pool make it return
//! [`SpawnStatus::Failed`].

use std::sync::Arc;
use std::time::Duration;

use lunatic_abi::{ParamKind, SpawnStatus, MAX_REASON_TEXT, NO_LINK, PARAM_SIZE, THIS_MODULE};
use wasmtime::{bail, format_err};
use wasmtime::{Caller, Linker, Val};

use super::memory;
use crate::process::{EndReason, Terminated};
use crate::runtime::{Entry, Link};
use crate::state::ProcessState;

const MODULE: &str = "lunatic::process";

pub(super) fn register(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap_async(
        MODULE,
        "spawn",
        |caller,
         (link_tag, module_id, func_ptr, func_len, params_ptr, params_len, id_ptr): (
            i64,
            u64,
            u32,
            u32,
            u32,
            u32,
            u32,
        )| {
            Box::new(spawn(
                caller,
                (link_tag, module_id),
                (func_ptr, func_len),
                (params_ptr, params_len),
                id_ptr,
            ))
        },
    )?;
    linker.func_wrap(MODULE, "this", |caller: Caller<'_, ProcessState>| {
        caller.data().handle.id()
    })?;
    linker.func_wrap_async(MODULE, "sleep_ms", |caller, (ms,): (u64,)| {
        caller.data().deliver_sent();
        let handle = Arc::clone(&caller.data().handle);
        Box::new(async move {
            handle
                .mailbox()
                .sleep(Duration::from_millis(ms))
                .await
                .map_err(|reason| wasmtime::Error::new(Terminated(reason)))
        })
    })?;
    linker.func_wrap(
        MODULE,
        "link",
        |caller: Caller<'_, ProcessState>, tag: i64, process: u64| {
            let state = caller.data();
            state.deliver_sent();
            state.runtime.link(&state.handle, process, tag);
            // Linking to a dead process kills a caller that does not trap link deaths: now,
            // not at some later preemption point it might never reach.
            end_if_told(state)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "monitor",
        |caller: Caller<'_, ProcessState>, process: u64| {
            let state = caller.data();
            state.deliver_sent();
            let tag = state.runtime.new_tag();
            state.runtime.monitor(&state.handle, process, tag);
            tag
        },
    )?;
    linker.func_wrap(
        MODULE,
        "demonitor",
        |mut caller: Caller<'_, ProcessState>, process: u64, tag: i64| {
            let state = caller.data_mut();
            state.deliver_sent();
            if !state.runtime.demonitor(&state.handle, process, tag) {
                // The notice is queued, or still being pushed by a process that is ending:
                // the tag is the monitor's alone, so it is dropped whenever it comes.
                state.inbox.abandon(state.handle.mailbox(), tag);
            }
        },
    )?;
    linker.func_wrap(
        MODULE,
        "unlink",
        |caller: Caller<'_, ProcessState>, process: u64| {
            let state = caller.data();
            state.deliver_sent();
            state.runtime.unlink(&state.handle, process);
        },
    )?;
    linker.func_wrap(
        MODULE,
        "kill",
        |caller: Caller<'_, ProcessState>, process: u64| {
            caller.data().deliver_sent();
            if let Some(target) = caller.data().runtime.processes().get(process) {
                target.mailbox().kill(EndReason::Killed);
            }
        },
    )?;
    linker.func_wrap(
        MODULE,
        "is_alive",
        |caller: Caller<'_, ProcessState>, process: u64| {
            caller.data().deliver_sent();
            u32::from(caller.data().runtime.processes().get(process).is_some())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "die_when_link_dies",
        |caller: Caller<'_, ProcessState>, enabled: u32| {
            caller.data().set_traps_link_deaths(enabled == 0);
            // A link death already queued as a signal now kills the caller, at once.
            end_if_told(caller.data())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "report_panic",
        |mut caller: Caller<'_, ProcessState>,
         message_ptr: u32,
         message_len: u32,
         location_ptr: u32,
         location_len: u32| {
            const FUNCTION: &str = "lunatic::process::report_panic";
            let mut text = |ptr: u32, len: u32| -> wasmtime::Result<String> {
                let cap = u32::try_from(MAX_REASON_TEXT).unwrap_or(u32::MAX);
                let bytes = memory::read(&mut caller, ptr, len.min(cap), FUNCTION)?;
                Ok(String::from_utf8_lossy(&bytes).into_owned())
            };
            let message = text(message_ptr, message_len)?;
            let location = Some(text(location_ptr, location_len)?).filter(|l| !l.is_empty());
            caller.data_mut().panic = Some(EndReason::Panicked { message, location });
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "end",
        |mut caller: Caller<'_, ProcessState>, ptr: u32, len: u32| -> wasmtime::Result<()> {
            const FUNCTION: &str = "lunatic::process::end";
            if len as usize > MAX_REASON_TEXT + 16 {
                bail!("{FUNCTION}: the reason is longer than {MAX_REASON_TEXT} bytes");
            }
            let bytes = memory::read(&mut caller, ptr, len, FUNCTION)?;
            match EndReason::decode(&bytes) {
                Ok(reason @ (EndReason::Normal | EndReason::Shutdown | EndReason::Error(_))) => {
                    Err(Terminated(reason).into())
                }
                Ok(other) => bail!("{FUNCTION}: a process cannot end itself with {other:?}"),
                Err(bad) => bail!("{FUNCTION}: {bad}"),
            }
        },
    )?;
    Ok(())
}

/// Ends the calling process if it has been told to die (for calls that may tell it so).
fn end_if_told(state: &ProcessState) -> wasmtime::Result<()> {
    match state.handle.mailbox().pending_death() {
        Some(reason) => Err(wasmtime::Error::new(Terminated(reason))),
        None => Ok(()),
    }
}

async fn spawn(
    mut caller: Caller<'_, ProcessState>,
    (link_tag, module_id): (i64, u64),
    (func_ptr, func_len): (u32, u32),
    (params_ptr, params_len): (u32, u32),
    id_ptr: u32,
) -> wasmtime::Result<u32> {
    const FUNCTION: &str = "lunatic::process::spawn";
    caller.data().deliver_sent();
    // Check the output slot before a process exists that nobody could learn the id of.
    memory::write(&mut caller, id_ptr, &[0; 8], FUNCTION)?;
    let name = memory::read(&mut caller, func_ptr, func_len, FUNCTION)?;
    let function = String::from_utf8(name)
        .map_err(|_| format_err!("{FUNCTION}: the function name is not UTF-8"))?;
    let params = decode_params(&memory::read(
        &mut caller,
        params_ptr,
        params_len,
        FUNCTION,
    )?)?;

    let state = caller.data();
    let program = if module_id == THIS_MODULE {
        Some(Arc::clone(&state.program))
    } else {
        state.modules.get(module_id).cloned()
    };
    let Some(program) = program else {
        let error = format!("{FUNCTION}: the process holds no module with id {module_id}");
        let id = caller.data_mut().errors.insert(error)?;
        memory::write(&mut caller, id_ptr, &id.to_le_bytes(), FUNCTION)?;
        return Ok(SpawnStatus::Failed as u32);
    };
    let state = caller.data();
    let runtime = Arc::clone(&state.runtime);
    let parent = Arc::clone(&state.handle);
    let io = state.io.for_child();
    let link = (link_tag != NO_LINK).then(|| Link {
        to: Arc::clone(&parent),
        tag: link_tag,
    });
    let spawned = runtime
        .spawn(
            program,
            Entry { function, params },
            Some(&parent),
            io,
            link,
            None,
        )
        .await;
    let (status, value) = match spawned {
        Ok(child) => (SpawnStatus::Spawned, child.id()),
        Err(error) => (
            SpawnStatus::Failed,
            caller.data_mut().errors.insert(format!("{error:#}"))?,
        ),
    };
    memory::write(&mut caller, id_ptr, &value.to_le_bytes(), FUNCTION)?;
    Ok(status as u32)
}

/// Decodes spawn parameters (see the module docs).
fn decode_params(bytes: &[u8]) -> wasmtime::Result<Vec<Val>> {
    if !bytes.len().is_multiple_of(PARAM_SIZE) {
        bail!(
            "lunatic::process::spawn: the parameters are {} bytes, not a multiple of {PARAM_SIZE}",
            bytes.len()
        );
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
                Err(kind) => bail!("lunatic::process::spawn: unknown parameter type {kind:#04x}"),
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
        assert!(decode_params(&bytes[..5]).is_err());
        bytes[0] = 0x42;
        assert!(decode_params(&bytes).is_err());
    }
}
