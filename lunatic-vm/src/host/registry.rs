//! Import module `lunatic::registry`: VM-wide names for processes.
//!
//! Names and type names are UTF-8 strings of at most [`MAX_NAME`] bytes. The type name is
//! the registrant's message type; a lookup must give the same one.
//!
//! | function | parameters | returns | traps when |
//! |---|---|---|---|
//! | `register` | `name_ptr: u32, name_len: u32, type_ptr: u32, type_len: u32, process: u64` | [`RegistryStatus`]: `Done`, `Taken` (a live process holds the name) or `NotFound` (`process` is not alive) | a range is outside memory; a string is not UTF-8 or too long |
//! | `lookup` | `name_ptr: u32, name_len: u32, type_ptr: u32, type_len: u32, id_ptr: u32` | [`RegistryStatus`]: `Done` (the id is written as `u64` at `id_ptr`), `NotFound` or `WrongType` | as `register`, and `id_ptr` |
//! | `unregister` | `name_ptr: u32, name_len: u32` | [`RegistryStatus`]: `Done` or `NotFound` | as `register` |
//!
//! A name is freed when its process ends.

use lunatic_abi::RegistryStatus;
use wasmtime::{bail, Caller, Linker};

use super::memory;
use crate::registry::{Lookup, Registration};
use crate::state::ProcessState;

const MODULE: &str = "lunatic::registry";

/// Longest name or type name, in bytes.
const MAX_NAME: u32 = 1024;

fn read_string(
    caller: &mut Caller<'_, ProcessState>,
    ptr: u32,
    len: u32,
    function: &str,
) -> wasmtime::Result<String> {
    if len > MAX_NAME {
        bail!("{MODULE}::{function}: a name of {len} bytes is longer than {MAX_NAME}");
    }
    let bytes = memory::read(caller, ptr, len, &format!("{MODULE}::{function}"))?;
    String::from_utf8(bytes)
        .map_err(|_| wasmtime::format_err!("{MODULE}::{function}: a name is not UTF-8"))
}

pub(super) fn register(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        "register",
        |mut caller: Caller<'_, ProcessState>,
         name_ptr: u32,
         name_len: u32,
         type_ptr: u32,
         type_len: u32,
         process: u64| {
            let name = read_string(&mut caller, name_ptr, name_len, "register")?;
            let message_type = read_string(&mut caller, type_ptr, type_len, "register")?;
            let runtime = &caller.data().runtime;
            let Some(owner) = runtime.processes().get(process) else {
                return Ok(RegistryStatus::NotFound as u32);
            };
            if !runtime.registry().register(
                &name,
                Registration {
                    process,
                    message_type,
                },
            ) {
                return Ok(RegistryStatus::Taken as u32);
            }
            owner.add_name(name);
            // The owner may have ended meanwhile, before it could release the name.
            if runtime.processes().get(process).is_none() {
                runtime.registry().release(process, &owner.take_names());
            }
            Ok(RegistryStatus::Done as u32)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "lookup",
        |mut caller: Caller<'_, ProcessState>,
         name_ptr: u32,
         name_len: u32,
         type_ptr: u32,
         type_len: u32,
         id_ptr: u32| {
            let name = read_string(&mut caller, name_ptr, name_len, "lookup")?;
            let message_type = read_string(&mut caller, type_ptr, type_len, "lookup")?;
            let status = match caller
                .data()
                .runtime
                .registry()
                .lookup(&name, &message_type)
            {
                Lookup::Found(process) => {
                    memory::write(
                        &mut caller,
                        id_ptr,
                        &process.to_le_bytes(),
                        "lunatic::registry::lookup",
                    )?;
                    RegistryStatus::Done
                }
                Lookup::NotFound => RegistryStatus::NotFound,
                Lookup::WrongType(_) => RegistryStatus::WrongType,
            };
            Ok(status as u32)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "unregister",
        |mut caller: Caller<'_, ProcessState>, name_ptr: u32, name_len: u32| {
            let name = read_string(&mut caller, name_ptr, name_len, "unregister")?;
            let removed = caller.data().runtime.registry().unregister(&name);
            Ok(if removed {
                RegistryStatus::Done
            } else {
                RegistryStatus::NotFound
            } as u32)
        },
    )?;
    Ok(())
}
