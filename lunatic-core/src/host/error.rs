//! Imports of `lunatic::error`: errors other calls handed over by id.

use crate::error::LunaticError;

use super::imports::error;

/// Takes the error `id` a host call returned.
pub(super) fn take_error(id: u64) -> LunaticError {
    // SAFETY: the host gives the size of error `id`, then writes exactly that many bytes.
    let message = unsafe {
        let size = error::string_size(id) as usize;
        let mut bytes = vec![0u8; size];
        error::to_string(id, bytes.as_mut_ptr());
        error::drop(id);
        bytes
    };
    LunaticError::Host(String::from_utf8_lossy(&message).into_owned())
}
