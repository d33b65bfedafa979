//! Import module `lunatic::resource`: handles to host resources (sockets), and moving them
//! between processes inside messages.
//!
//! Resource ids are the caller's own (capabilities): another process cannot use them. A
//! resource leaves a process only inside a message it sends, and arrives only when the
//! receiver takes it out of the message it received; resources nobody takes are closed
//! with the message. Always allowed (like `lunatic::message`): a process may pass on or
//! close a socket it was given even where it may not use the network.
//!
//! `take_from_message` does not trap on an index that holds nothing (or was taken) or a
//! resource of another kind: the sender wrote those bytes, so for the receiver they are a
//! message that does not deserialize ([`ResourceStatus::NotFound`],
//! [`ResourceStatus::WrongKind`]). A signal or down notice carries no resources.

use lunatic_abi::{ResourceKind, ResourceStatus};

use super::call::HostCall;
use crate::messaging::MessageKind;
use crate::resources::TakeError;

/// Most resources one message may carry: the sender's handle table is capped, and this
/// keeps a message (built outside that table) from holding more sockets than it could.
const MAX_MESSAGE_RESOURCES: usize = 1024;

pub(super) fn drop(call: &mut HostCall<'_>, id: u64) -> wasmtime::Result<()> {
    if call.state_mut().resources.remove(id) {
        Ok(())
    } else {
        Err(call.fail(format_args!("no resource with id {id}")))
    }
}

pub(super) fn clone(call: &mut HostCall<'_>, id: u64) -> wasmtime::Result<u64> {
    let resource = call.state().resources.get(id).cloned();
    let resource = resource.ok_or_else(|| call.fail(format_args!("no resource with id {id}")))?;
    call.state_mut().resources.insert(resource)
}

pub(super) fn push_to_message(call: &mut HostCall<'_>, id: u64) -> wasmtime::Result<u32> {
    let state = call.state();
    let Some(outgoing) = &state.outgoing else {
        return Err(call.fail("no message was created"));
    };
    if outgoing.resources.len() >= MAX_MESSAGE_RESOURCES {
        return Err(call.fail(format_args!(
            "a message carries at most {MAX_MESSAGE_RESOURCES} resources"
        )));
    }
    let Some(resource) = call.state_mut().resources.take(id) else {
        return Err(call.fail(format_args!("no resource with id {id}")));
    };
    let outgoing = call.state_mut().outgoing.as_mut();
    Ok(outgoing.map_or(0, |outgoing| outgoing.resources.push(resource)))
}

pub(super) fn take_from_message(
    call: &mut HostCall<'_>,
    index: u32,
    kind: u32,
    id_ptr: u32,
) -> wasmtime::Result<ResourceStatus> {
    let kind = ResourceKind::try_from(kind)
        .map_err(|kind| call.fail(format_args!("unknown resource kind {kind}")))?;
    call.write_u64(id_ptr, 0)?;
    let state = call.state_mut();
    let Some(incoming) = state.incoming.as_mut() else {
        return Err(call.fail("no message has been received"));
    };
    let taken = match &mut incoming.kind {
        MessageKind::Data(data) => match data.extra.resources_mut() {
            Some(resources) => resources.take(index, kind),
            None => Err(TakeError::NotFound),
        },
        MessageKind::LinkDied { .. } | MessageKind::ProcessDown { .. } => Err(TakeError::NotFound),
    };
    Ok(match taken {
        Ok(resource) => {
            let id = call.state_mut().resources.insert(resource)?;
            call.write_u64(id_ptr, id)?;
            ResourceStatus::Taken
        }
        Err(TakeError::NotFound) => ResourceStatus::NotFound,
        Err(TakeError::WrongKind) => ResourceStatus::WrongKind,
    })
}
