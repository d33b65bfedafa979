//! Names for processes, VM-wide: register, look up, unregister. A name is freed when its
//! process ends. Each entry keeps the registrant's message type name, so a typed lookup
//! with another type is refused instead of handing out a handle that would fail later.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::process::ProcessId;

/// One registered name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The process the name points to.
    pub process: ProcessId,
    /// The message type the registrant declared (a Rust type name).
    pub message_type: String,
}

/// What [`Registry::lookup`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The name points to this process.
    Found(ProcessId),
    /// No live process has the name.
    NotFound,
    /// The name is registered for another message type (the registered type).
    WrongType(String),
}

/// The VM's names.
#[derive(Debug, Default)]
pub struct Registry {
    names: Mutex<HashMap<String, Registration>>,
}

impl Registry {
    fn names(&self) -> MutexGuard<'_, HashMap<String, Registration>> {
        // Every critical section is one map operation; a poisoned map is whole.
        self.names.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `name`; returns `false` if a process already holds it.
    pub fn register(&self, name: &str, registration: Registration) -> bool {
        let mut names = self.names();
        if names.contains_key(name) {
            return false;
        }
        names.insert(name.to_owned(), registration);
        true
    }

    /// Looks `name` up for `message_type`.
    #[must_use]
    pub fn lookup(&self, name: &str, message_type: &str) -> Lookup {
        match self.names().get(name) {
            None => Lookup::NotFound,
            Some(entry) if entry.message_type == message_type => Lookup::Found(entry.process),
            Some(entry) => Lookup::WrongType(entry.message_type.clone()),
        }
    }

    /// Removes `name`; returns whether it was registered.
    pub fn unregister(&self, name: &str) -> bool {
        self.names().remove(name).is_some()
    }

    /// Frees `names` if `process` still holds them (called when it ends).
    pub fn release(&self, process: ProcessId, names: &[String]) {
        let mut map = self.names();
        for name in names {
            if map.get(name).is_some_and(|entry| entry.process == process) {
                map.remove(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(process: ProcessId) -> Registration {
        Registration {
            process,
            message_type: "u32".into(),
        }
    }

    #[test]
    fn names_are_unique_typed_and_released() {
        let registry = Registry::default();
        assert!(registry.register("a", entry(1)));
        assert!(!registry.register("a", entry(2)));
        assert_eq!(registry.lookup("a", "u32"), Lookup::Found(1));
        assert_eq!(
            registry.lookup("a", "String"),
            Lookup::WrongType("u32".into())
        );
        registry.release(2, &["a".into()]);
        assert_eq!(registry.lookup("a", "u32"), Lookup::Found(1));
        registry.release(1, &["a".into()]);
        assert_eq!(registry.lookup("a", "u32"), Lookup::NotFound);
        assert!(!registry.unregister("a"));
    }
}
