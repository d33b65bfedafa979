//! Environments: where processes run, with limits on memory, compute and host functions.
//!
//! | limit | set with | a process over it dies with |
//! |---|---|---|
//! | memory | `Config::new(max_memory, _)` (bytes) | `out of memory` |
//! | compute, shared by all its processes | `Config::new(_, Some(fuel))` (units of about 100,000 instructions) | `out of fuel` |
//! | host functions | [`Config::allow_namespace`] (`module::function` prefixes) | `host function m::f is not allowed in this environment` |
//! | file system | [`Config::preopen_dir`] | (WASI refuses other paths) |
//! | memory of all its processes, processes, queued message bytes, message size, handles, descriptors, log rate | [`Config::max_total_memory`] and the methods after it | a spawn, registration, socket or file gets an error; a send, link or monitor over a limit kills the caller (`TrapKind::OverLimit`) |
//!
//! The process model itself (`lunatic::process`, `lunatic::message`, `lunatic::error`, and
//! `lunatic::resource`, which passes sockets on) is always allowed; the network
//! (`lunatic::networking`) is not, until allowed. A process can only create environments
//! within its own: more memory, fuel or any limit, or a namespace or directory its own
//! environment lacks, is an error. What an environment's processes hold counts against the
//! limits of every environment it was made in, so nesting never renews a limit.

use lunatic_abi::Limit;

use crate::error::LunaticError;
use crate::host;
use crate::mailbox::Mailbox;
use crate::process::{IntoLinkMailbox, Process, ProcessId, SpawnLinked, Spawner};
use crate::registry::RegistryError;
use crate::tag::Tag;
use crate::Sendable;

/// The limits of an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    max_memory: u64,
    max_fuel: Option<u64>,
    namespaces: Vec<String>,
    dirs: Vec<String>,
    /// The limits set, as the (limit, value) pairs `create` takes.
    limits: Vec<u64>,
}

impl Config {
    /// At most `max_memory` bytes of memory per process, and `max_fuel` fuel units (about
    /// 100,000 wasm instructions each; `None`: no limit) for the whole environment: every
    /// process spawned into it, and every environment made inside it, burns the same
    /// fuel, so spawning never makes more. The fuel also pays for the host's work on the
    /// processes' behalf: the bytes it copies, spawns and compiles (see the README). No
    /// host function beyond the process model, and no directory, until allowed; the other
    /// limits at their defaults (see [`Config::max_total_memory`] and the methods after it).
    #[must_use]
    pub fn new(max_memory: u64, max_fuel: Option<u64>) -> Self {
        Self {
            max_memory,
            max_fuel,
            namespaces: Vec::new(),
            dirs: Vec::new(),
            limits: Vec::new(),
        }
    }

    fn limit(&mut self, limit: Limit, value: u64) -> &mut Self {
        self.limits.extend([limit as u64, value]);
        self
    }

    /// At most `bytes` of linear memory for all its processes together (default 1 GiB, or
    /// the creating environment's limit if lower); `Config::new`'s `max_memory` is each
    /// process's own. A process that would go over dies with `out of memory`.
    pub fn max_total_memory(&mut self, bytes: u64) -> &mut Self {
        self.limit(Limit::Memory, bytes)
    }

    /// At most `count` processes alive at once (default 1,000, or the creating
    /// environment's limit if lower). A spawn over it is an error.
    pub fn max_processes(&mut self, count: u64) -> &mut Self {
        self.limit(Limit::Processes, count)
    }

    /// At most `bytes` of messages its processes sent that are not received yet, wherever
    /// they wait (default 64 MiB). A send over it kills the sender (`TrapKind::OverLimit`):
    /// a flood is stopped at the sender, never at the bystander it floods.
    pub fn max_queued_bytes(&mut self, bytes: u64) -> &mut Self {
        self.limit(Limit::QueuedBytes, bytes)
    }

    /// At most `bytes` in one message its processes send (default 1 MiB; the VM's own cap
    /// is 64 MiB). The host copies a message on a thread that runs processes, so large
    /// ones delay others. A send over it kills the sender (`TrapKind::OverLimit`).
    pub fn max_message_bytes(&mut self, bytes: u64) -> &mut Self {
        self.limit(Limit::MessageBytes, bytes)
    }

    /// At most `count` handles held at once: links and monitors, registered names, and the
    /// errors, environments, modules and sockets its processes hold ids of (default
    /// 10,000). A call over it fails with an error, or kills the caller when it returns
    /// nothing.
    pub fn max_handles(&mut self, count: u64) -> &mut Self {
        self.limit(Limit::Handles, count)
    }

    /// At most `count` file descriptors open at once: sockets, and files opened in a
    /// granted directory (default 64; sockets count against the VM's `--max-sockets`
    /// too). Opening one over it is an I/O error (`EMFILE` for a file).
    pub fn max_descriptors(&mut self, count: u64) -> &mut Self {
        self.limit(Limit::Descriptors, count)
    }

    /// At most `bytes` per second of what its processes make the VM log (panic and death
    /// reports; default 64 KiB). Lines over it are dropped, and the next line logged says
    /// how many were.
    pub fn max_log_bytes_per_second(&mut self, bytes: u64) -> &mut Self {
        self.limit(Limit::LogBytesPerSecond, bytes)
    }

    /// Allows the host functions whose `module::function` name starts with `namespace`
    /// (for example `wasi_snapshot_preview1::environ`, `wasi_snapshot_preview1::` for all
    /// of WASI, or `lunatic::networking` for TCP, UDP and DNS).
    pub fn allow_namespace(&mut self, namespace: &str) -> &mut Self {
        self.namespaces.push(namespace.to_owned());
        self
    }

    /// Grants the host directory `path` (under the same path); it must be inside one the
    /// creating process's environment has.
    pub fn preopen_dir(&mut self, path: &str) -> &mut Self {
        self.dirs.push(path.to_owned());
        self
    }
}

/// An environment processes can be spawned into. Dropping it does not stop them.
#[derive(Debug)]
pub struct Environment {
    id: u64,
}

impl Environment {
    /// Creates an environment with `config`.
    ///
    /// # Errors
    /// `config` asks for more than the caller's own environment has, or the caller may not
    /// create environments (`lunatic::environment` is not allowed to it).
    pub fn new(config: Config) -> Result<Self, LunaticError> {
        let namespaces = config.namespaces.join("\n");
        let dirs = config.dirs.join("\n");
        host::create_environment(
            config.max_memory,
            config.max_fuel,
            &namespaces,
            &dirs,
            &config.limits,
        )
        .map(|id| Self { id })
    }

    /// The caller's own environment (to load modules into it, or register names in it).
    ///
    /// # Errors
    /// The caller holds too many handles.
    pub fn this() -> Result<Self, LunaticError> {
        host::this_environment().map(|id| Self { id })
    }

    /// Adds the caller's own module, so its functions can be spawned in this environment.
    ///
    /// # Errors
    /// The module cannot be linked for this environment.
    pub fn add_this_module(&mut self) -> Result<ThisModule, LunaticError> {
        host::add_this_module(self.id).map(|id| ThisModule {
            spawner: Spawner::module(id),
        })
    }

    /// Registers `process` under `name` at semver `version` inside this environment, where
    /// its processes find it with [`lookup`](crate::lookup).
    ///
    /// # Errors
    /// The name and version are taken, the version is not semver, or the process is gone.
    pub fn register<M: crate::Sendable>(
        &self,
        name: &str,
        version: &str,
        process: &Process<M>,
    ) -> Result<(), RegistryError> {
        crate::registry::register_in(self.id, name, version, process)
    }

    /// Removes `name` at `version` from this environment; whether it was there.
    ///
    /// # Errors
    /// The version is not semver.
    pub fn unregister(&self, name: &str, version: &str) -> Result<bool, RegistryError> {
        crate::registry::unregister_in(self.id, name, version)
    }

    /// Compiles and adds any wasm module (at most 32 MiB).
    ///
    /// # Errors
    /// The bytes are not a valid module, are too large, or import what the runtime lacks.
    pub fn add_module(&mut self, bytes: &[u8]) -> Result<Module, LunaticError> {
        host::add_module(self.id, bytes).map(|id| Module { id })
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        host::drop_environment(self.id);
    }
}

/// The caller's own module in another environment: spawn its functions there.
#[derive(Debug)]
pub struct ThisModule {
    spawner: Spawner,
}

impl ThisModule {
    /// [`crate::process::spawn`], in this module's environment.
    ///
    /// # Errors
    /// The runtime cannot create the process.
    pub fn spawn<M: Sendable>(&self, entry: fn(Mailbox<M>)) -> Result<Process<M>, LunaticError> {
        self.spawner.spawn(Tag::none(), entry)
    }

    /// [`crate::process::spawn_with`], in this module's environment.
    ///
    /// # Errors
    /// The runtime cannot create the process.
    pub fn spawn_with<C: Sendable, M: Sendable>(
        &self,
        context: C,
        entry: fn(C, Mailbox<M>),
    ) -> Result<Process<M>, LunaticError> {
        self.spawner.spawn_with(Tag::none(), context, entry)
    }

    /// [`crate::process::spawn_link`], in this module's environment.
    ///
    /// # Errors
    /// The runtime cannot create the process.
    pub fn spawn_link<B: IntoLinkMailbox, M: Sendable>(
        &self,
        mailbox: B,
        entry: fn(Mailbox<M>),
    ) -> SpawnLinked<M, B::Message> {
        self.spawner.spawn_link(mailbox, entry)
    }

    /// [`crate::process::spawn_link_with`], in this module's environment.
    ///
    /// # Errors
    /// The runtime cannot create the process.
    pub fn spawn_link_with<B: IntoLinkMailbox, C: Sendable, M: Sendable>(
        &self,
        mailbox: B,
        context: C,
        entry: fn(C, Mailbox<M>),
    ) -> SpawnLinked<M, B::Message> {
        self.spawner.spawn_link_with(mailbox, context, entry)
    }
}

impl Drop for ThisModule {
    fn drop(&mut self) {
        host::drop_module(self.spawner.module_id());
    }
}

/// An argument of an exported function started with [`Module::spawn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// A wasm `i32`.
    I32(i32),
    /// A wasm `i64`.
    I64(i64),
    /// A wasm `v128`.
    V128(u128),
}

/// Any wasm module added to an environment: spawn its exported functions by name.
#[derive(Debug)]
pub struct Module {
    id: u64,
}

impl Module {
    /// Starts exported function `function` with `params` in a new process. The process has
    /// a mailbox (it may use `lunatic::message`), but what it accepts is up to the module.
    ///
    /// # Errors
    /// No such export, parameters of other types, or the process cannot be created.
    pub fn spawn(&self, function: &str, params: &[Param]) -> Result<Process<()>, LunaticError> {
        host::spawn(lunatic_abi::NO_LINK, self.id, function, params)
            .map(|id| Process::from_process_id(ProcessId::local(id)))
    }

    /// [`Module::spawn`], linked to the caller, whose mailbox then traps link deaths.
    ///
    /// # Errors
    /// As [`Module::spawn`].
    pub fn spawn_link<B: IntoLinkMailbox>(
        &self,
        mailbox: B,
        function: &str,
        params: &[Param],
    ) -> SpawnLinked<(), B::Message> {
        let tag = Tag::new();
        let mailbox = mailbox.into_link_mailbox();
        let id = host::spawn(tag.id(), self.id, function, params)?;
        Ok((Process::from_process_id(ProcessId::local(id)), tag, mailbox))
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        host::drop_module(self.id);
    }
}
