//! Imports of `lunatic::error`: errors other calls handed over by id.

use super::imports::error;

/// Takes the error `id` a host call returned: its text.
pub(super) fn take_error(id: u64) -> String {
    let mut message = vec![0u8; error::string_size(id) as usize];
    error::to_string(id, &mut message);
    error::drop(id);
    String::from_utf8_lossy(&message).into_owned()
}
