//! Import module `lunatic::error`: errors handed to the guest by id.

use super::call::HostCall;

/// The message of error `id`.
fn message(call: &HostCall<'_>, id: u64) -> wasmtime::Result<String> {
    call.state()
        .errors
        .get(id)
        .cloned()
        .ok_or_else(|| call.fail(format_args!("no error with id {id}")))
}

pub(super) fn string_size(call: &mut HostCall<'_>, id: u64) -> wasmtime::Result<u32> {
    let text = message(call, id)?;
    u32::try_from(text.len()).map_err(|_| call.fail("error message too long"))
}

pub(super) fn to_string(
    call: &mut HostCall<'_>,
    id: u64,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<()> {
    let text = message(call, id)?;
    let count = text.len().min(len as usize);
    call.write(ptr, &text.as_bytes()[..count])
}

pub(super) fn drop(call: &mut HostCall<'_>, id: u64) -> wasmtime::Result<()> {
    if call.state_mut().errors.remove(id) {
        Ok(())
    } else {
        Err(call.fail(format_args!("no error with id {id}")))
    }
}
