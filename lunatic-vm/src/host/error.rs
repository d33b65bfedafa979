//! Import module `lunatic::error`: errors handed to the guest by id.
//!
//! Calls that can fail for reasons the guest should see (a spawn, say) return a status and
//! write an error id; the guest reads the message with these functions and drops the id.
//!
//! | function | parameters | returns | traps when |
//! |---|---|---|---|
//! | `string_size` | `id: u64` | `u32`: bytes of the message (UTF-8) | `id` is unknown |
//! | `to_string` | `id: u64, ptr: u32` | nothing: writes the message at `ptr` | `id` is unknown; the range is outside memory |
//! | `drop` | `id: u64` | nothing: forgets the error | `id` is unknown |

use wasmtime::format_err;
use wasmtime::{Caller, Linker};

use super::memory;
use crate::state::ProcessState;

const MODULE: &str = "lunatic::error";

fn message(caller: &Caller<'_, ProcessState>, id: u64, function: &str) -> wasmtime::Result<String> {
    caller
        .data()
        .errors
        .get(id)
        .cloned()
        .ok_or_else(|| format_err!("{MODULE}::{function}: no error with id {id}"))
}

pub(super) fn register(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        "string_size",
        |caller: Caller<'_, ProcessState>, id: u64| {
            let text = message(&caller, id, "string_size")?;
            u32::try_from(text.len()).map_err(|_| format_err!("error message too long"))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "to_string",
        |mut caller: Caller<'_, ProcessState>, id: u64, ptr: u32| {
            let text = message(&caller, id, "to_string")?;
            memory::write(
                &mut caller,
                ptr,
                text.as_bytes(),
                "lunatic::error::to_string",
            )
        },
    )?;
    linker.func_wrap(
        MODULE,
        "drop",
        |mut caller: Caller<'_, ProcessState>, id: u64| {
            if caller.data_mut().errors.remove(id) {
                Ok(())
            } else {
                Err(format_err!("{MODULE}::drop: no error with id {id}"))
            }
        },
    )?;
    Ok(())
}
