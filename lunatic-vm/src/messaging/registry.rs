//! Names for processes, per environment and versioned: register, look up with a semver
//! query (the highest matching version wins), unregister. A name is freed when its process
//! ends. Each entry keeps the registrant's message type (its fingerprint), so a typed lookup
//! with another type is refused instead of handing out a handle that would fail later.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use semver::{Version, VersionReq};

use crate::process::ProcessId;
use crate::sandbox::budget::Held;

/// One registered name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Registration {
    /// The process the name points to.
    pub(crate) process: ProcessId,
    /// The message type the registrant declared: its fingerprint.
    pub(crate) message_type: u64,
    /// Its charge on the registrant's environment's handle limit, held for its `Drop`.
    pub(crate) _charge: Option<Held>,
}

/// Where a registration lives: an environment, a name and a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameKey {
    /// The environment the name is visible in.
    pub(crate) env: u64,
    /// The name.
    pub(crate) name: String,
    /// The version.
    pub(crate) version: Version,
}

/// What [`Registry::lookup`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The name points to this process.
    Found(ProcessId),
    /// No version of the name matches.
    NotFound,
    /// The best match is registered for another message type (the registered type).
    WrongType(u64),
}

/// Every version registered under one name in one environment.
type Versions = Vec<(Version, Registration)>;

/// The names of all environments: `(environment, name)` to its versions.
type NameMap = HashMap<(u64, String), Versions>;

/// The VM's names, by environment and name; each name may have several versions.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    names: Mutex<NameMap>,
}

impl Registry {
    fn names(&self) -> MutexGuard<'_, NameMap> {
        // Every critical section is one map operation; a poisoned map is whole.
        self.names.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `key`; returns `false` if that name and version are already held.
    pub(crate) fn register(&self, key: &NameKey, registration: Registration) -> bool {
        let mut names = self.names();
        let versions = names.entry((key.env, key.name.clone())).or_default();
        if versions.iter().any(|(version, _)| *version == key.version) {
            return false;
        }
        versions.push((key.version.clone(), registration));
        true
    }

    /// The highest version of `name` in `env` matching `query`, for `message_type`.
    #[must_use]
    pub(crate) fn lookup(
        &self,
        env: u64,
        name: &str,
        query: &VersionReq,
        message_type: u64,
    ) -> Lookup {
        let names = self.names();
        let best = names.get(&(env, name.to_owned())).and_then(|versions| {
            versions
                .iter()
                .filter(|(v, _)| query.matches(v))
                .max_by(|a, b| a.0.cmp(&b.0))
        });
        match best {
            None => Lookup::NotFound,
            Some((_, entry)) if entry.message_type == message_type => Lookup::Found(entry.process),
            Some((_, entry)) => Lookup::WrongType(entry.message_type),
        }
    }

    /// Removes `key`; returns the process it named, if it was registered.
    pub(crate) fn unregister(&self, key: &NameKey) -> Option<ProcessId> {
        let mut named = None;
        self.remove_if(key, |entry| {
            named = Some(entry.process);
            true
        });
        named
    }

    /// Frees `keys` if `process` still holds them (called when it ends).
    pub(crate) fn release(&self, process: ProcessId, keys: &[NameKey]) {
        for key in keys {
            self.remove_if(key, |entry| entry.process == process);
        }
    }

    fn remove_if(&self, key: &NameKey, mut holds: impl FnMut(&Registration) -> bool) -> bool {
        let mut names = self.names();
        let slot = (key.env, key.name.clone());
        let Some(versions) = names.get_mut(&slot) else {
            return false;
        };
        let before = versions.len();
        versions.retain(|(version, entry)| !(*version == key.version && holds(entry)));
        let removed = versions.len() < before;
        if versions.is_empty() {
            names.remove(&slot);
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(env: u64, name: &str, version: &str) -> NameKey {
        NameKey {
            env,
            name: name.into(),
            version: Version::parse(version).unwrap(),
        }
    }

    /// Fingerprints standing for two message types.
    const U32: u64 = 0x3232;
    const STRING: u64 = 0x5757;

    fn entry(process: ProcessId) -> Registration {
        Registration {
            process,
            message_type: U32,
            _charge: None,
        }
    }

    fn query(text: &str) -> VersionReq {
        VersionReq::parse(text).unwrap()
    }

    #[test]
    fn highest_matching_version_wins_within_one_environment() {
        let registry = Registry::default();
        assert!(registry.register(&key(1, "db", "1.2.3"), entry(10)));
        assert!(registry.register(&key(1, "db", "1.4.0"), entry(11)));
        assert!(registry.register(&key(1, "db", "2.0.0"), entry(12)));
        assert!(!registry.register(&key(1, "db", "1.4.0"), entry(13)));
        assert_eq!(
            registry.lookup(1, "db", &query("^1.2"), U32),
            Lookup::Found(11)
        );
        assert_eq!(
            registry.lookup(1, "db", &query("=1.2.3"), U32),
            Lookup::Found(10)
        );
        assert_eq!(
            registry.lookup(1, "db", &query("^3"), U32),
            Lookup::NotFound
        );
        assert_eq!(registry.lookup(2, "db", &query("*"), U32), Lookup::NotFound);
        assert_eq!(
            registry.lookup(1, "db", &query("*"), STRING),
            Lookup::WrongType(U32)
        );
    }

    #[test]
    fn names_are_released_only_by_their_holder() {
        let registry = Registry::default();
        registry.register(&key(0, "a", "1.0.0"), entry(1));
        registry.release(2, &[key(0, "a", "1.0.0")]);
        assert_eq!(registry.lookup(0, "a", &query("*"), U32), Lookup::Found(1));
        registry.release(1, &[key(0, "a", "1.0.0")]);
        assert_eq!(registry.lookup(0, "a", &query("*"), U32), Lookup::NotFound);
        assert_eq!(registry.unregister(&key(0, "a", "1.0.0")), None);
    }
}
