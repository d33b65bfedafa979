//! Checked access to a guest's linear memory: the only place host calls touch it.

use wasmtime::format_err;
use wasmtime::{Caller, Memory};

use crate::state::ProcessState;

/// The caller's exported memory.
///
/// # Errors
/// The module exports no `memory`.
#[inline]
pub(super) fn memory(
    caller: &Caller<'_, ProcessState>,
    function: &str,
) -> wasmtime::Result<Memory> {
    match caller.data().memory {
        Some(memory) => Ok(memory),
        None => Err(no_memory(function)),
    }
}

#[cold]
fn no_memory(function: &str) -> wasmtime::Error {
    format_err!("{function}: the module exports no memory named `memory`")
}

/// The `len` bytes at `ptr` in `memory`.
///
/// # Errors
/// The range is not inside the memory.
pub(super) fn slice<'m>(
    memory: &'m [u8],
    ptr: u32,
    len: u32,
    function: &str,
) -> wasmtime::Result<&'m [u8]> {
    let start = ptr as usize;
    start
        .checked_add(len as usize)
        .and_then(|end| memory.get(start..end))
        .ok_or_else(|| out_of_bounds(function, ptr, len, memory.len()))
}

/// The `len` bytes at `ptr` in `memory`, writable.
///
/// # Errors
/// The range is not inside the memory.
pub(super) fn slice_mut<'m>(
    memory: &'m mut [u8],
    ptr: u32,
    len: u32,
    function: &str,
) -> wasmtime::Result<&'m mut [u8]> {
    let size = memory.len();
    let start = ptr as usize;
    start
        .checked_add(len as usize)
        .and_then(|end| memory.get_mut(start..end))
        .ok_or_else(|| out_of_bounds(function, ptr, len, size))
}

/// Copies `bytes` into guest memory at `ptr`.
///
/// # Errors
/// The range is not inside the memory.
pub(super) fn write(
    caller: &mut Caller<'_, ProcessState>,
    ptr: u32,
    bytes: &[u8],
    function: &str,
) -> wasmtime::Result<()> {
    let memory = memory(caller, function)?;
    let len = u32::try_from(bytes.len()).map_err(|_| format_err!("{function}: value too large"))?;
    slice_mut(memory.data_mut(caller), ptr, len, function)?.copy_from_slice(bytes);
    Ok(())
}

/// Copies `len` bytes at `ptr` out of guest memory.
///
/// # Errors
/// The range is not inside the memory.
pub(super) fn read(
    caller: &mut Caller<'_, ProcessState>,
    ptr: u32,
    len: u32,
    function: &str,
) -> wasmtime::Result<Vec<u8>> {
    let memory = memory(caller, function)?;
    Ok(slice(memory.data(caller), ptr, len, function)?.to_vec())
}

#[cold]
#[inline(never)]
fn out_of_bounds(function: &str, ptr: u32, len: u32, size: usize) -> wasmtime::Error {
    format_err!("{function}: the range of {len} bytes at {ptr:#x} is outside the guest's memory of {size} bytes")
}
