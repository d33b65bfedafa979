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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use lunatic_abi::{cut_type_name, fingerprint, MAX_TYPE_NAMES};

/// Slots of [`TypeNames::recorded`].
const RECORDED_SLOTS: usize = 64;

/// The VM's table of message type names.
#[derive(Debug)]
pub(crate) struct TypeNames {
    names: Mutex<HashMap<u64, Arc<str>>>,
    /// Fingerprints whose names are in `names`, each in slot `fingerprint % RECORDED_SLOTS`
    /// (a later one takes the slot): a first look without the lock, since every process
    /// of a program names the same few types, and workers taking one lock at each
    /// process's start contend for it.
    recorded: [AtomicU64; RECORDED_SLOTS],
}

impl Default for TypeNames {
    fn default() -> Self {
        Self {
            names: Mutex::default(),
            recorded: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl TypeNames {
    /// Records `name` for `message_type`, if it is that type's name and not known yet.
    pub(crate) fn record(&self, message_type: u64, name: &[u8]) {
        if self.knows(message_type) {
            return;
        }
        if fingerprint(name) != message_type {
            return;
        }
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        if !names.contains_key(&message_type) {
            if names.len() >= MAX_TYPE_NAMES {
                return;
            }
            let name = String::from_utf8_lossy(name);
            names.insert(message_type, Arc::from(cut_type_name(&name)));
        }
        self.slot(message_type)
            .store(message_type, Ordering::Relaxed);
    }

    /// Whether `message_type`'s name is recorded, as far as a look without the lock tells
    /// (`false` may be wrong, `true` never is).
    fn knows(&self, message_type: u64) -> bool {
        // The slot only ever holds a fingerprint whose name is recorded (0 is no one's
        // here: `record` checks its name).
        message_type != 0 && self.slot(message_type).load(Ordering::Relaxed) == message_type
    }

    fn slot(&self, message_type: u64) -> &AtomicU64 {
        &self.recorded[(message_type % RECORDED_SLOTS as u64) as usize]
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

    #[test]
    fn a_type_whose_slot_another_took_is_still_checked_and_recorded() {
        let names = TypeNames::default();
        let first = b"u64".to_vec();
        let slot = fingerprint(&first) % RECORDED_SLOTS as u64;
        let second = (0..)
            .map(|n| format!("T{n}").into_bytes())
            .find(|name| fingerprint(name) % RECORDED_SLOTS as u64 == slot)
            .unwrap();
        names.record(fingerprint(&first), &first);
        // The slot holds the first's fingerprint: the second's is checked as ever.
        names.record(fingerprint(&second), b"evil");
        assert_eq!(names.get(fingerprint(&second)), None);
        names.record(fingerprint(&second), &second);
        names.record(fingerprint(&first), b"i64");
        assert_eq!(names.get(fingerprint(&first)).as_deref(), Some("u64"));
        assert_eq!(
            names.get(fingerprint(&second)).as_deref(),
            Some(std::str::from_utf8(&second).unwrap())
        );
    }
}
