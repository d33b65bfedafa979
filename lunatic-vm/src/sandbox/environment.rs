//! Environments: what processes spawned into them may use. Memory, compute (fuel) and host
//! functions are limited; a process can only make environments within its own limits.
//!
//! | limit | enforced by | a process over it |
//! |---|---|---|
//! | `max_memory` (bytes) | a `ResourceLimiter` on every store | fails to grow memory, dies with "out of memory" |
//! | `max_fuel` (units of about 100,000 instructions) | wasmtime fuel, on the metered engine | dies with "out of fuel" |
//! | namespaces (`module::name` prefixes) | import stubs that trap | dies with "host function `m::n` is not allowed in this environment" |
//! | preopened directories | WASI | sees only those |
//! | [`Limits`] (memory of all processes, processes, queued message bytes, message size, handles, descriptors, log rate) | a [`Budget`] per environment, counted up the chain of parents | gets an error, or dies with `TrapKind::OverLimit` |
//!
//! `lunatic::error`, `lunatic::message`, `lunatic::process` and `lunatic::resource` are the
//! process model itself and always allowed (a process may pass on or close a socket it was
//! given); everything else (WASI, `lunatic::registry`, `lunatic::environment`,
//! `lunatic::networking`) must be allowed by a namespace.

use std::path::{Component, Path};
use std::sync::Arc;

use lunatic_abi::{Limit, Limits};

use crate::sandbox::budget::Budget;
use crate::sandbox::wasi::Preopen;

/// Host modules every environment allows: without them a process cannot even start.
const ALWAYS_ALLOWED: [&str; 4] = [
    "lunatic::error::",
    "lunatic::message::",
    "lunatic::process::",
    "lunatic::resource::",
];

/// The limits of an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvConfig {
    /// Most bytes of linear memory a process may have.
    pub(crate) max_memory: u64,
    /// Fuel units (about 100,000 wasm instructions each) a process may burn; `None`: no limit.
    pub(crate) max_fuel: Option<u64>,
    /// Allowed host functions, as `module::name` prefixes (`""` allows everything).
    pub(crate) namespaces: Vec<String>,
    /// Directories processes may open (through WASI), each a host directory and the
    /// path the guest sees it under.
    pub(crate) preopens: Vec<Preopen>,
    /// What all its processes together may make the host hold ([`Limits::UNLIMITED`] for
    /// the root).
    pub(crate) limits: Limits,
}

impl EnvConfig {
    /// Whether host function `module::name` may be called.
    #[must_use]
    pub(crate) fn allows(&self, module: &str, name: &str) -> bool {
        let full = format!("{module}::{name}");
        ALWAYS_ALLOWED.iter().any(|prefix| full.starts_with(prefix))
            || self
                .namespaces
                .iter()
                .any(|prefix| full.starts_with(prefix.as_str()))
    }

    /// Checks that `child` asks for nothing this environment does not have.
    ///
    /// # Errors
    /// The first thing `child` asks for beyond this environment.
    pub(crate) fn check_within(&self, child: &EnvConfig) -> Result<(), NotWithin> {
        if child.max_memory > self.max_memory {
            return Err(NotWithin::Memory {
                asked: child.max_memory,
                own: self.max_memory,
            });
        }
        if let Some(own) = self.max_fuel {
            match child.max_fuel {
                None => return Err(NotWithin::UnlimitedFuel { own }),
                Some(asked) if asked > own => return Err(NotWithin::Fuel { asked, own }),
                Some(_) => {}
            }
        }
        for limit in Limit::ALL {
            let (own, asked) = (self.limits.get(limit), child.limits.get(limit));
            if asked > own {
                return Err(NotWithin::Limit { limit, asked, own });
            }
        }
        for namespace in &child.namespaces {
            let covered = self
                .namespaces
                .iter()
                .any(|own| namespace.starts_with(own.as_str()));
            if !covered {
                return Err(NotWithin::Namespace(namespace.clone()));
            }
        }
        for dir in &child.preopens {
            // Only `resolve_dir` opens a directory for a child, and only beneath one of
            // this environment's own.
            let covered = dir.is_open()
                && self
                    .preopens
                    .iter()
                    .any(|own| Path::new(&dir.guest).starts_with(&own.guest));
            if !covered || !is_plain(Path::new(&dir.guest)) {
                return Err(NotWithin::Directory(dir.guest.clone()));
            }
        }
        Ok(())
    }
}

/// What a new environment asks for beyond its creator's ([`EnvConfig::check_within`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NotWithin {
    #[error(
        "the environment asks for {asked} bytes of memory, more than the {own} of the caller's"
    )]
    Memory { asked: u64, own: u64 },
    #[error("the environment asks for unlimited fuel; the caller's has {own} units")]
    UnlimitedFuel { own: u64 },
    #[error("the environment asks for {asked} fuel units, more than the {own} of the caller's")]
    Fuel { asked: u64, own: u64 },
    #[error(
        "the environment asks for a limit of {asked} {limit}, more than the {own} of the caller's"
    )]
    Limit { limit: Limit, asked: u64, own: u64 },
    #[error("the namespace `{0}` is not allowed in the caller's environment")]
    Namespace(String),
    #[error("the directory `{0}` is not granted to the caller's environment")]
    Directory(String),
}

impl EnvConfig {
    /// The directory the guest calls `guest`, as this environment grants it: opened beneath
    /// the granted directory that contains it, so neither `..` nor a symlink can lead out.
    /// A path outside them, or one that cannot be opened that way, comes back unopened,
    /// which [`EnvConfig::check_within`] then refuses.
    #[must_use]
    pub(crate) fn resolve_dir(&self, guest: &str) -> Preopen {
        let path = Path::new(guest);
        let granted = is_plain(path)
            .then(|| {
                self.preopens.iter().find_map(|own| {
                    let rest = path.strip_prefix(&own.guest).ok()?;
                    own.open_below(rest, guest)
                })
            })
            .flatten();
        granted.unwrap_or_else(|| Preopen::parse(guest))
    }
}

/// Whether `path` names a directory without stepping out of one (`..`), which could
/// otherwise reach past a granted directory.
fn is_plain(path: &Path) -> bool {
    path.components()
        .all(|c| !matches!(c, Component::ParentDir))
}

/// How deep environments may nest (the root is at depth 0). Every charge walks the chain
/// of an environment's ancestors, so the chain is kept short.
pub(crate) const MAX_DEPTH: u32 = 8;

/// A live environment.
#[derive(Debug)]
pub(crate) struct Environment {
    id: u64,
    config: EnvConfig,
    /// How many environments it was made in.
    depth: u32,
    /// What its processes hold and burn; `None` for the root, which is not counted.
    budget: Option<Arc<Budget>>,
}

impl Environment {
    /// The root environment: no budget.
    #[must_use]
    pub(crate) fn root(config: EnvConfig) -> Self {
        Self {
            id: 0,
            config,
            depth: 0,
            budget: None,
        }
    }

    /// An environment with `config`, made inside `parent`: its budget counts against the
    /// parent's too.
    #[must_use]
    pub(crate) fn new(id: u64, config: EnvConfig, parent: &Environment) -> Self {
        let fuel = config
            .max_fuel
            .map(|units| units.saturating_mul(crate::runtime::FUEL_UNIT));
        let budget = Budget::new(config.limits, fuel, parent.budget.clone());
        Self {
            id,
            config,
            depth: parent.depth + 1,
            budget: Some(budget),
        }
    }

    /// How many environments it was made in (0: the root).
    #[must_use]
    pub(crate) fn depth(&self) -> u32 {
        self.depth
    }

    /// What its processes hold and burn; `None` for the root.
    #[must_use]
    pub(crate) fn budget(&self) -> Option<&Arc<Budget>> {
        self.budget.as_ref()
    }

    /// The environment's id (unique in the VM).
    #[must_use]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Its limits.
    #[must_use]
    pub(crate) fn config(&self) -> &EnvConfig {
        &self.config
    }

    /// Whether processes here burn fuel (and so run on the metered engine).
    #[must_use]
    pub(crate) fn is_metered(&self) -> bool {
        self.config.max_fuel.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max_memory: u64, max_fuel: Option<u64>, namespaces: &[&str]) -> EnvConfig {
        EnvConfig {
            max_memory,
            max_fuel,
            namespaces: namespaces.iter().map(|s| (*s).to_owned()).collect(),
            preopens: Vec::new(),
            limits: Limits::default(),
        }
    }

    #[test]
    fn namespaces_are_prefixes_and_the_process_model_is_always_allowed() {
        let env = config(1 << 20, None, &["wasi_snapshot_preview1::environ"]);
        assert!(env.allows("wasi_snapshot_preview1", "environ_get"));
        assert!(!env.allows("wasi_snapshot_preview1", "fd_write"));
        assert!(env.allows("lunatic::process", "spawn"));
        assert!(!env.allows("lunatic::registry", "lookup"));
        assert!(!env.allows("lunatic::networking", "tcp_bind"));
        assert!(env.allows("lunatic::resource", "drop"));
        let net = config(1 << 20, None, &["lunatic::networking"]);
        assert!(net.allows("lunatic::networking", "tcp_connect"));
    }

    #[test]
    fn children_cannot_escalate() {
        let parent = config(1 << 20, Some(10), &["wasi_snapshot_preview1::"]);
        assert!(parent
            .check_within(&config(1 << 19, Some(5), &["wasi_snapshot_preview1::fd_"]))
            .is_ok());
        assert!(matches!(
            parent.check_within(&config(1 << 21, Some(5), &[])),
            Err(NotWithin::Memory { .. })
        ));
        assert_eq!(
            parent.check_within(&config(1 << 19, None, &[])),
            Err(NotWithin::UnlimitedFuel { own: 10 })
        );
        assert_eq!(
            parent.check_within(&config(1 << 19, Some(11), &[])),
            Err(NotWithin::Fuel { asked: 11, own: 10 })
        );
        assert_eq!(
            parent.check_within(&config(1 << 19, Some(1), &["lunatic::registry"])),
            Err(NotWithin::Namespace("lunatic::registry".into()))
        );
        let mut greedy = config(1, Some(1), &[]);
        greedy.limits.set(Limit::Descriptors, 1_000);
        let refused = parent.check_within(&greedy).unwrap_err();
        assert!(
            matches!(
                refused,
                NotWithin::Limit {
                    limit: Limit::Descriptors,
                    asked: 1_000,
                    ..
                }
            ),
            "{refused:?}"
        );
        assert!(
            refused.to_string().contains("1000 open sockets"),
            "{refused}"
        );
        let mut dir = config(1, Some(1), &[]);
        dir.preopens.push(Preopen::parse("/etc"));
        assert_eq!(
            parent.check_within(&dir),
            Err(NotWithin::Directory("/etc".into()))
        );
    }

    #[test]
    fn directories_are_opened_beneath_and_never_climb_out() {
        let root = std::env::temp_dir().join(format!("lunatic-env-unit-{}", std::process::id()));
        std::fs::create_dir_all(root.join("app/logs")).unwrap();
        std::fs::create_dir_all(root.join("secret")).unwrap();
        // A symlink inside the granted directory that points out of it.
        let _ = std::os::unix::fs::symlink("../secret", root.join("app/escape"));
        let mut parent = config(1 << 20, None, &[]);
        let granted = format!("{}:/data", root.join("app").display());
        parent
            .preopens
            .push(Preopen::parse(&granted).open().unwrap());
        let inner = parent.resolve_dir("/data/logs");
        assert_eq!(inner.host, root.join("app/logs"));
        let mut child = config(1, None, &[]);
        child.preopens.push(inner);
        assert!(parent.check_within(&child).is_ok());
        for escape in ["/data/../secret", "/data/escape", "/etc", "/database"] {
            child.preopens = vec![parent.resolve_dir(escape)];
            assert!(parent.check_within(&child).is_err(), "{escape}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
