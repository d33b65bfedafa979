//! The names of message types, by fingerprint: the guest library records each type's name
//! at its first use in a process (`lunatic::message::name_type`), so that a receiver of a
//! message of another type can name it (`type_name`) while messages carry only the
//! fingerprint.
//!
//! A name is recorded only if its fingerprint is the one given (so no process can give a
//! type another's name), once, cut to `MAX_TYPE_NAME` bytes; the table holds at most
//! [`MAX_TYPE_NAMES`] names (about 4 MiB), after which new names are not recorded and
//! errors give the fingerprint alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use lunatic_abi::{cut_type_name, fingerprint, MAX_TYPE_NAMES};

/// The VM's table of message type names.
#[derive(Debug, Default)]
pub(crate) struct TypeNames {
    names: Mutex<HashMap<u64, Arc<str>>>,
}

impl TypeNames {
    /// Records `name` for `message_type`, if it is that type's name and not known yet.
    pub(crate) fn record(&self, message_type: u64, name: &[u8]) {
        if fingerprint(name) != message_type {
            return;
        }
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        if names.len() >= MAX_TYPE_NAMES || names.contains_key(&message_type) {
            return;
        }
        let name = String::from_utf8_lossy(name);
        names.insert(message_type, Arc::from(cut_type_name(&name)));
    }

    /// The name recorded for `message_type`.
    pub(crate) fn get(&self, message_type: u64) -> Option<Arc<str>> {
        let names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        names.get(&message_type).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_types_own_name_is_recorded_once_and_cut() {
        let names = TypeNames::default();
        names.record(fingerprint(b"u64"), b"u64");
        assert_eq!(names.get(fingerprint(b"u64")).as_deref(), Some("u64"));
        // Another name for the same fingerprint is refused; so is a name that is not it.
        names.record(fingerprint(b"u64"), b"i64");
        names.record(fingerprint(b"u8"), b"evil");
        assert_eq!(names.get(fingerprint(b"u64")).as_deref(), Some("u64"));
        assert_eq!(names.get(fingerprint(b"u8")), None);
        let long = "é".repeat(300);
        names.record(fingerprint(long.as_bytes()), long.as_bytes());
        let kept = names.get(fingerprint(long.as_bytes())).unwrap();
        assert!(kept.len() <= lunatic_abi::MAX_TYPE_NAME && long.starts_with(&*kept));
    }
}
