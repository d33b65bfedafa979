//! The on-disk cache of compiled modules, so a second run of the same program skips
//! compilation.
//!
//! | property | how |
//! |---|---|
//! | key | SHA-256 of the module's bytes and wasmtime's compatibility hash of the engine's settings (so a change of version, CPU features or fuel metering is another entry) |
//! | integrity | every entry starts with the SHA-256 of the rest; an entry that does not match is deleted and rebuilt, never deserialized |
//! | concurrency | entries are written to a temporary file and renamed into place, so concurrent runs see either no entry or a whole one |
//! | location | `--cache-dir`, else `$LUNATIC_CACHE_DIR`, else `$XDG_CACHE_HOME/lunatic`, else `~/.cache/lunatic`; `--no-cache` turns it off |
//! | size | at most `--cache-max-bytes` (1 GiB by default) of entries: after each store, the entries used least recently (a load refreshes an entry's time) are deleted until the rest fit, so a guest that compiles module after module cannot fill the disk |
//!
//! A cache that cannot be read or written is skipped (logged at `debug`), never an error.
#![allow(unsafe_code)]

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// Bytes of the checksum that starts every entry.
const CHECKSUM_LEN: usize = 32;

/// Why an entry cannot be read or written (the module is then compiled, or not cached).
#[derive(Debug, thiserror::Error)]
enum EntryError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the entry is truncated")]
    Truncated,
    #[error("the entry's checksum does not match (corrupt)")]
    Corrupt,
    /// wasmtime refused to deserialize it (another version, or damaged in its own header),
    /// or to serialize the module.
    #[error("{0}")]
    Wasmtime(wasmtime::Error),
}

/// What an entry holds, part of its name, so entries an older VM wrote are never read:
/// 2 is the module as pre-initialization leaves it (see `crate::program::preinit`), 3 that module
/// with its table exported, 4 with its receive hint reading a global, 5 with its mutable
/// globals exported when it is resettable.
const ENTRY_VERSION: u32 = 5;

/// The most bytes of entries a cache keeps unless configured otherwise.
pub(crate) const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// A directory of compiled modules.
#[derive(Debug, Clone)]
pub(crate) struct ModuleCache {
    dir: PathBuf,
    /// Most bytes of entries kept (see the module docs).
    max_bytes: u64,
}

impl ModuleCache {
    /// A cache in `dir` (created on first write) of at most `max_bytes` of entries.
    #[must_use]
    pub(crate) fn new(dir: PathBuf, max_bytes: u64) -> Self {
        Self { dir, max_bytes }
    }

    /// The default location: `$LUNATIC_CACHE_DIR`, `$XDG_CACHE_HOME/lunatic` or
    /// `~/.cache/lunatic`; `None` if none can be named.
    #[must_use]
    pub(crate) fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("LUNATIC_CACHE_DIR") {
            return Some(dir.into());
        }
        if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
            return Some(Path::new(&dir).join("lunatic"));
        }
        std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache").join("lunatic"))
    }

    /// The module compiled from `bytes` on `engine`: from the cache when a whole entry is
    /// there, otherwise compiled by `compile` and stored.
    ///
    /// # Errors
    /// Only `compile`'s errors: cache failures fall back to compiling.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        compile: impl FnOnce() -> wasmtime::Result<Module>,
    ) -> wasmtime::Result<Module> {
        let path = self.entry_path(engine, bytes);
        let started = Instant::now();
        match self.load(engine, &path) {
            Ok(Some(module)) => {
                tracing::debug!(target: "lunatic::cache", "loaded {} from the cache in {:?}", path.display(), started.elapsed());
                // Used now: the last entry to go when the cache is trimmed.
                let _ = std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|file| file.set_modified(std::time::SystemTime::now()));
                return Ok(module);
            }
            Ok(None) => {}
            Err(why) => {
                tracing::debug!(target: "lunatic::cache", "rebuilding {}: {why}", path.display());
                let _ = std::fs::remove_file(&path);
            }
        }
        let module = compile()?;
        tracing::debug!(target: "lunatic::cache", "compiled in {:?}", started.elapsed());
        if let Err(why) = self.store(&module, &path) {
            tracing::debug!(target: "lunatic::cache", "cannot cache {}: {why}", path.display());
        }
        self.trim();
        Ok(module)
    }

    /// Deletes the entries used least recently until the others fit in `max_bytes`.
    fn trim(&self) {
        let Ok(listing) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = listing
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "cwasm"))
            .filter_map(|entry| {
                let metadata = entry.metadata().ok()?;
                Some((metadata.modified().ok()?, metadata.len(), entry.path()))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                tracing::debug!(target: "lunatic::cache", "evicted {}", path.display());
                total -= len;
            }
        }
    }

    fn entry_path(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut settings = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut settings);
        ENTRY_VERSION.hash(&mut settings);
        let digest = Sha256::digest(bytes);
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir
            .join(format!("{name}-{:016x}.cwasm", settings.finish()))
    }

    /// The cached module; `Ok(None)` if there is no entry, `Err` if the entry is damaged.
    fn load(&self, engine: &Engine, path: &Path) -> Result<Option<Module>, EntryError> {
        let entry = match std::fs::read(path) {
            Ok(entry) => entry,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        if entry.len() < CHECKSUM_LEN {
            return Err(EntryError::Truncated);
        }
        let (checksum, serialized) = entry.split_at(CHECKSUM_LEN);
        if Sha256::digest(serialized).as_slice() != checksum {
            return Err(EntryError::Corrupt);
        }
        // SAFETY: `serialized` is exactly what `Module::serialize` produced for an engine with
        // these settings (the key includes them), written by this cache and verified by the
        // checksum above; wasmtime checks its own header and version too.
        unsafe { Module::deserialize(engine, serialized) }
            .map(Some)
            .map_err(EntryError::Wasmtime)
    }

    fn store(&self, module: &Module, path: &Path) -> Result<(), EntryError> {
        let serialized = module.serialize().map_err(EntryError::Wasmtime)?;
        std::fs::create_dir_all(&self.dir)?;
        let mut entry = Sha256::digest(&serialized).to_vec();
        entry.extend_from_slice(&serialized);
        let temporary = path.with_extension(format!(
            "tmp{}.{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&temporary, &entry)?;
        std::fs::rename(&temporary, path).map_err(|error| {
            let _ = std::fs::remove_file(&temporary);
            error.into()
        })
    }
}
