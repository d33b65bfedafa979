//! Imports of `lunatic::resource`: handles to sockets, and moving them in messages.

use lunatic_abi::{ResourceKind, ResourceStatus};

use super::imports::resource;

/// Closes this process's handle `id` to a resource.
pub(crate) fn drop_resource(id: u64) {
    resource::drop(id);
}

/// A second handle to resource `id`.
pub(crate) fn clone_resource(id: u64) -> u64 {
    resource::clone(id)
}

/// Moves resource `id` into the outgoing message; its index there.
pub(crate) fn push_resource(id: u64) -> u32 {
    resource::push_to_message(id)
}

/// Takes resource `index` of the incoming message, if it is a `kind`; its new id.
pub(crate) fn take_resource(index: u32, kind: ResourceKind) -> Result<u64, ResourceStatus> {
    let mut id = 0u64;
    let status = resource::take_from_message(index, kind as u32, &mut id);
    match ResourceStatus::try_from(status) {
        Ok(ResourceStatus::Taken) => Ok(id),
        Ok(other) => Err(other),
        Err(other) => {
            panic!("lunatic::resource::take_from_message returned unknown status {other}")
        }
    }
}
