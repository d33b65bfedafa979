//! Import module `lunatic::resource`: handles to host resources (sockets), and moving them
//! between processes inside messages.
//!
//! Resource ids are the caller's own (capabilities): another process cannot use them. A
//! resource leaves a process only inside a message it sends, and arrives only when the
//! receiver takes it out of the message it received; resources nobody takes are closed
//! with the message. Always allowed (like `lunatic::message`): a process may pass on or
//! close a socket it was given even where it may not use the network.
//!
//! | function | parameters | returns | traps when |
//! |---|---|---|---|
//! | `drop` | `id: u64` | nothing: forgets the handle; the socket closes with its last handle | `id` is unknown |
//! | `clone` | `id: u64` | `u64`: a second handle to the same socket (std's `try_clone`) | `id` is unknown; the caller holds 10,000 handles |
//! | `push_to_message` | `id: u64` | `u32`: the resource's index in the outgoing message, which now owns it (`id` is gone) | `id` is unknown; no outgoing message; the message carries 1024 resources already |
//! | `take_from_message` | `index: u32, kind: u32, id_ptr: u32` | [`ResourceStatus`]; when taken, writes its new id as `u64` at `id_ptr` | no incoming message; `kind` is not a [`ResourceKind`]; `id_ptr` is outside memory; the caller holds 10,000 handles |
//!
//! `take_from_message` does not trap on an index that holds nothing (or was taken) or a
//! resource of another kind: the sender wrote those bytes, so for the receiver they are a
//! message that does not deserialize ([`ResourceStatus::NotFound`],
//! [`ResourceStatus::WrongKind`]). A signal or down notice carries no resources.

use lunatic_abi::{ResourceKind, ResourceStatus};
use wasmtime::{format_err, Caller, Linker};

use super::memory;
use crate::process::MessageKind;
use crate::resource::TakeError;
use crate::state::ProcessState;

const MODULE: &str = "lunatic::resource";

/// Most resources one message may carry: the sender's handle table is capped, and this
/// keeps a message (built outside that table) from holding more sockets than it could.
const MAX_MESSAGE_RESOURCES: usize = 1024;

pub(super) fn register(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        "drop",
        |mut caller: Caller<'_, ProcessState>, id: u64| {
            if caller.data_mut().resources.remove(id) {
                Ok(())
            } else {
                Err(format_err!("{MODULE}::drop: no resource with id {id}"))
            }
        },
    )?;
    linker.func_wrap(
        MODULE,
        "clone",
        |mut caller: Caller<'_, ProcessState>, id: u64| {
            let resources = &mut caller.data_mut().resources;
            let resource = resources
                .get(id)
                .cloned()
                .ok_or_else(|| format_err!("{MODULE}::clone: no resource with id {id}"))?;
            resources.insert(resource)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "push_to_message",
        |mut caller: Caller<'_, ProcessState>, id: u64| {
            const FUNCTION: &str = "lunatic::resource::push_to_message";
            let state = caller.data_mut();
            let outgoing = state
                .outgoing
                .as_mut()
                .ok_or_else(|| format_err!("{FUNCTION}: no message was created"))?;
            if outgoing.resources.len() >= MAX_MESSAGE_RESOURCES {
                return Err(format_err!(
                    "{FUNCTION}: a message carries at most {MAX_MESSAGE_RESOURCES} resources"
                ));
            }
            let resource = state
                .resources
                .take(id)
                .ok_or_else(|| format_err!("{FUNCTION}: no resource with id {id}"))?;
            Ok(outgoing.resources.push(resource))
        },
    )?;
    linker.func_wrap(MODULE, "take_from_message", take_from_message)?;
    Ok(())
}

fn take_from_message(
    mut caller: Caller<'_, ProcessState>,
    index: u32,
    kind: u32,
    id_ptr: u32,
) -> wasmtime::Result<u32> {
    const FUNCTION: &str = "lunatic::resource::take_from_message";
    let kind = ResourceKind::try_from(kind)
        .map_err(|kind| format_err!("{FUNCTION}: unknown resource kind {kind}"))?;
    memory::write(&mut caller, id_ptr, &0u64.to_le_bytes(), FUNCTION)?;
    let state = caller.data_mut();
    let incoming = state
        .incoming
        .as_mut()
        .ok_or_else(|| format_err!("{FUNCTION}: no message has been received"))?;
    let taken = match &mut incoming.kind {
        MessageKind::Data(data) => data.resources.take(index, kind),
        MessageKind::LinkDied { .. } | MessageKind::ProcessDown { .. } => Err(TakeError::NotFound),
    };
    let status = match taken {
        Ok(resource) => {
            let id = state.resources.insert(resource)?;
            memory::write(&mut caller, id_ptr, &id.to_le_bytes(), FUNCTION)?;
            ResourceStatus::Taken
        }
        Err(TakeError::NotFound) => ResourceStatus::NotFound,
        Err(TakeError::WrongKind) => ResourceStatus::WrongKind,
    };
    Ok(status as u32)
}
