//! A wasm module compiled once and linked once for one environment, from which every
//! process of that module in that environment is instantiated.

pub(crate) mod cache;
pub(crate) mod engine;
pub(crate) mod preinit;
pub(crate) mod recycle;
pub(crate) mod table_pages;

use std::borrow::Cow;
use std::sync::Arc;

use wasmtime::error::Context as _;
use wasmtime::{bail, format_err};
use wasmtime::{Engine, ExternType, InstancePre, Linker, Module, ModuleExport, ValType};

use crate::process::state::ProcessState;
use crate::sandbox::budget::Held;
use crate::sandbox::environment::Environment;

/// Largest module `add_module` compiles, in bytes.
pub(crate) const MAX_MODULE_SIZE: usize = 32 << 20;

/// Most functions a module loaded at run time (`add_module`) may define. Compiling costs the
/// host about 7 KiB a function however small, so a module of a million empty functions
/// would take gigabytes; large Rust programs define a few tens of thousands.
pub(crate) const MAX_RUNTIME_FUNCTIONS: u32 = 50_000;

/// Largest function body, in bytes, of a module loaded at run time: the compiler's memory
/// grows with a function's size.
pub(crate) const MAX_RUNTIME_FUNCTION_BODY: usize = 1 << 20;

/// `bytes` (binary wasm or WAT) as binary wasm, if a module loaded at run time may be this
/// large: at most [`MAX_RUNTIME_FUNCTIONS`] functions, none over
/// [`MAX_RUNTIME_FUNCTION_BODY`] bytes. Sections that do not parse are left to the
/// compiler, which says what is wrong with them.
///
/// # Errors
/// The text is not valid WAT, or the module is over one of the limits.
pub(crate) fn check_runtime_module(bytes: &[u8]) -> wasmtime::Result<Cow<'_, [u8]>> {
    let text =
        !bytes.is_empty() && !bytes.starts_with(b"\0asm") && std::str::from_utf8(bytes).is_ok();
    let binary = if !text {
        // Binary wasm, or bytes `Program::compile` refuses with the reason.
        Cow::Borrowed(bytes)
    } else {
        Cow::Owned(
            wat::parse_bytes(bytes)
                .map_err(|e| {
                    let text = e.to_string().replace('\n', " ");
                    format_err!("not a valid WebAssembly module: {text}")
                })?
                .into_owned(),
        )
    };
    for payload in wasmparser::Parser::new(0).parse_all(&binary) {
        match payload {
            Ok(wasmparser::Payload::FunctionSection(functions))
                if functions.count() > MAX_RUNTIME_FUNCTIONS =>
            {
                bail!(
                    "the module defines {} functions, more than the limit of {MAX_RUNTIME_FUNCTIONS}",
                    functions.count()
                );
            }
            Ok(wasmparser::Payload::CodeSectionEntry(body))
                if body.range().len() > MAX_RUNTIME_FUNCTION_BODY =>
            {
                bail!(
                    "a function of the module is {} bytes, more than the limit of {MAX_RUNTIME_FUNCTION_BODY}",
                    body.range().len()
                );
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(binary)
}

/// A compiled module, pre-linked for one environment. Instantiating it costs a few
/// microseconds: imports were resolved once, and memory comes copy-on-write from the pool.
pub(crate) struct Program {
    /// What the observer calls it: the module's own name (its name section's), else the
    /// name its loader gave.
    name: Arc<str>,
    bytes: Arc<[u8]>,
    module: Module,
    pre: InstancePre<ProcessState>,
    env: Arc<Environment>,
    /// Whether each process must run the module's set-up first (it could not be
    /// pre-initialized: see [`crate::program::preinit`]).
    setup_per_process: bool,
    /// The table whose element 0 a spawn writes first (see [`crate::program::preinit`]).
    table: Option<ModuleExport>,
    /// The global the guest reads whether its last plain receive waited from (see
    /// [`crate::program::preinit`]).
    receive_waited: Option<ModuleExport>,
    /// The exported `memory`, and the guest library's spawn entry, found once, so a spawn
    /// looks neither up by name nor takes the engine's shared type registry's lock (see
    /// docs/performance.md).
    memory: Option<ModuleExport>,
    spawn_entry: Option<EntryPoint>,
    /// For a module a sandboxed process loaded: what its bytes and code cost, counted
    /// against that process's environment's memory until the last process of it ends.
    pub(crate) charge: Option<Held>,
    /// The SHA-256 of `bytes`, by which other nodes know the module (made on first use).
    hash: std::sync::OnceLock<[u8; 32]>,
    /// Instances its ended processes left for the next ones, when its processes can be
    /// reset (see [`recycle`]).
    recycling: Option<recycle::Pool>,
}

/// The exported function a process starts in, as a spawn names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryFunction {
    /// The guest library's entry for a spawned closure ([`lunatic_abi::SPAWN_ENTRY`]),
    /// found once, when the module is linked.
    Spawn,
    /// Any other export, by name (`_start` for a main process).
    Export(String),
}

impl EntryFunction {
    /// The function named `name`.
    pub(crate) fn named(name: String) -> Self {
        if Self::is_spawn_entry(name.as_bytes()) {
            Self::Spawn
        } else {
            Self::Export(name)
        }
    }

    /// The function named by the UTF-8 bytes `name` (compared with the spawn entry's name
    /// before they are checked: a spawn's name is that one almost always).
    ///
    /// # Errors
    /// `name` is not UTF-8.
    pub(crate) fn from_utf8(name: &[u8]) -> Result<Self, std::str::Utf8Error> {
        if Self::is_spawn_entry(name) {
            return Ok(Self::Spawn);
        }
        std::str::from_utf8(name).map(|name| Self::Export(name.to_owned()))
    }

    fn is_spawn_entry(name: &[u8]) -> bool {
        name == lunatic_abi::SPAWN_ENTRY.as_bytes()
    }

    /// Its export's name.
    pub(crate) fn name(&self) -> &str {
        match self {
            Self::Spawn => lunatic_abi::SPAWN_ENTRY,
            Self::Export(name) => name,
        }
    }

    /// Its export's name, owned (as a spawn on another node carries it).
    pub(crate) fn into_name(self) -> String {
        match self {
            Self::Spawn => lunatic_abi::SPAWN_ENTRY.to_owned(),
            Self::Export(name) => name,
        }
    }
}

impl std::fmt::Display for EntryFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An exported function a process can start in: where it is, and its signature.
#[derive(Clone)]
pub(crate) struct EntryPoint {
    /// Its index among the module's exports.
    pub(crate) export: ModuleExport,
    pub(crate) params: Vec<ValType>,
    /// A value of each result's type, for the call to write its results over.
    pub(crate) results: Vec<wasmtime::Val>,
}

impl EntryPoint {
    /// Exported function `name` of `module`.
    ///
    /// # Errors
    /// There is no such export, or it is not a function.
    fn find(module: &Module, name: &str) -> wasmtime::Result<Self> {
        let ty = match module.get_export(name) {
            Some(ExternType::Func(ty)) => ty,
            Some(_) => bail!("export `{name}` is not a function"),
            None => bail!("the module has no exported function `{name}`"),
        };
        let export = module
            .get_export_index(name)
            .ok_or_else(|| format_err!("the module has no exported function `{name}`"))?;
        Ok(Self {
            export,
            params: ty.params().collect(),
            results: ty
                .results()
                .map(|ty| wasmtime::Val::default_for_ty(&ty).unwrap_or(wasmtime::Val::I32(0)))
                .collect(),
        })
    }
}

impl Program {
    /// Compiles `bytes` (binary wasm or WAT) on `engine`.
    ///
    /// # Errors
    /// The bytes are empty, too large, or not a valid module.
    pub(crate) fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Module> {
        if bytes.is_empty() {
            bail!("the file is empty, not a WebAssembly module");
        }
        if bytes.len() > MAX_MODULE_SIZE {
            bail!(
                "the module is {} bytes, more than the limit of {MAX_MODULE_SIZE}",
                bytes.len()
            );
        }
        if bytes.starts_with(b"\0asm") || std::str::from_utf8(bytes).is_ok() {
            // Binary wasm, or WAT text (handy for tests and small programs).
            Module::new(engine, bytes)
                .map_err(|e| format_err!("not a valid WebAssembly module: {}", one_line(&e)))
        } else {
            bail!("not a WebAssembly module (it lacks the `\\0asm` header)");
        }
    }

    /// Links `module` (compiled from `bytes`) for `env`: imports the environment does not
    /// allow are linked to stubs that kill the caller with a clear reason. `name` is used
    /// when the module names itself not.
    ///
    /// # Errors
    /// The module imports something the runtime does not provide at all (allowed or not).
    pub(crate) fn link(
        module: Module,
        bytes: Arc<[u8]>,
        base: &Linker<ProcessState>,
        env: Arc<Environment>,
        name: Arc<str>,
        recycler: &Arc<recycle::Recycler>,
    ) -> wasmtime::Result<Self> {
        // An import the runtime lacks altogether is an error, whatever the environment allows.
        base.instantiate_pre(&module)
            .context("the module's imports do not match this runtime's host functions")?;
        let mut linker = base.clone();
        linker.allow_shadowing(true);
        let inject_panic = std::env::var(INJECT_PANIC_VAR).ok();
        for import in module.imports() {
            let (module_name, name) = (import.module().to_owned(), import.name().to_owned());
            let ExternType::Func(ty) = import.ty() else {
                continue;
            };
            let function = format!("{module_name}::{name}");
            if inject_panic.as_deref() == Some(function.as_str()) {
                linker.func_new(&module_name, &name, ty, move |_, _, _| {
                    panic!("injected panic in {function} ({INJECT_PANIC_VAR})")
                })?;
                continue;
            }
            if env.config().allows(&module_name, &name) {
                continue;
            }
            let refusal = NotAllowed { function };
            linker.func_new(&module_name, &name, ty, move |_, _, _| {
                Err(refusal.clone().into())
            })?;
        }
        let pre = linker
            .instantiate_pre(&module)
            .context("the module's imports do not match this runtime's host functions")?;
        Ok(Self {
            setup_per_process: crate::program::preinit::has_setup(&module),
            table: crate::program::preinit::table_export(&module, &bytes),
            receive_waited: crate::program::preinit::receive_waited_export(&module),
            memory: match module.get_export("memory") {
                Some(ExternType::Memory(_)) => module.get_export_index("memory"),
                _ => None,
            },
            spawn_entry: EntryPoint::find(&module, lunatic_abi::SPAWN_ENTRY).ok(),
            recycling: (recycler.capacity() > 0
                && crate::program::preinit::resettable(&module, &bytes))
            .then(|| recycle::Pool::new(recycler)),
            name: module.name().map_or(name, Arc::from),
            bytes,
            module,
            pre,
            env,
            charge: None,
            hash: std::sync::OnceLock::new(),
        })
    }

    /// What the observer calls the module.
    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// Whether each process runs the module's set-up export before its entry function.
    pub(crate) fn setup_per_process(&self) -> bool {
        self.setup_per_process
    }

    /// The table whose first page a spawn writes before the process reads it, if the
    /// module's element 0 starts null (see [`crate::program::preinit`]).
    pub(crate) fn table(&self) -> Option<&ModuleExport> {
        self.table.as_ref()
    }

    /// The mutable `i32` global a process's runtime keeps whether its last plain receive
    /// waited in, if the module has one (see [`crate::program::preinit`]).
    pub(crate) fn receive_waited(&self) -> Option<&ModuleExport> {
        self.receive_waited.as_ref()
    }

    /// The module's exported `memory`, if it has one.
    pub(crate) fn memory(&self) -> Option<&ModuleExport> {
        self.memory.as_ref()
    }

    /// Where `function` is, to start a process in (the guest library's spawn entry was
    /// found when the module was linked).
    ///
    /// # Errors
    /// There is no such export, or it is not a function.
    pub(crate) fn entry_point(
        &self,
        function: &EntryFunction,
    ) -> wasmtime::Result<Cow<'_, EntryPoint>> {
        match (function, &self.spawn_entry) {
            (EntryFunction::Spawn, Some(entry)) => Ok(Cow::Borrowed(entry)),
            _ => EntryPoint::find(&self.module, function.name()).map(Cow::Owned),
        }
    }

    /// The pre-linked module.
    pub(crate) fn instance_pre(&self) -> &InstancePre<ProcessState> {
        &self.pre
    }

    /// The compiled module.
    #[must_use]
    pub(crate) fn module(&self) -> &Module {
        &self.module
    }

    /// The bytes it was compiled from.
    #[must_use]
    pub(crate) fn bytes(&self) -> &Arc<[u8]> {
        &self.bytes
    }

    /// The SHA-256 of its bytes: its name on other nodes.
    pub(crate) fn hash(&self) -> &[u8; 32] {
        use sha2::Digest as _;
        self.hash
            .get_or_init(|| sha2::Sha256::digest(&self.bytes).into())
    }

    /// The environment its processes run in.
    #[must_use]
    pub(crate) fn env(&self) -> &Arc<Environment> {
        &self.env
    }

    /// The instances its ended processes left, if its processes can be reset.
    pub(crate) fn recycling(&self) -> Option<&recycle::Pool> {
        self.recycling.as_ref()
    }

    /// Shares `other`'s pristine state for recycled instances: both run the same module.
    pub(crate) fn share_pristine(&mut self, other: &Program) {
        if let (Some(pool), Some(theirs)) = (&mut self.recycling, &other.recycling) {
            pool.share_pristine(theirs);
        }
    }
}

/// Whether `value` has type `ty` (for checking spawn parameters).
pub(crate) fn val_matches(value: &wasmtime::Val, ty: &ValType) -> bool {
    matches!(
        (value, ty),
        (wasmtime::Val::I32(_), ValType::I32)
            | (wasmtime::Val::I64(_), ValType::I64)
            | (wasmtime::Val::V128(_), ValType::V128)
    )
}

/// The first line of an error's chain: wasmtime's WAT errors quote the source below it.
fn one_line(error: &wasmtime::Error) -> String {
    let text = format!("{error:#}");
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// The environment variable that names a host function (`module::name`) the VM panics in
/// when a guest calls it: fault injection, for the tests that check a VM failure inside a
/// process still ends the process properly.
pub(crate) const INJECT_PANIC_VAR: &str = "LUNATIC_INJECT_PANIC";

/// The trap of a call to a host function the caller's environment does not allow.
#[derive(Debug, Clone)]
pub(crate) struct NotAllowed {
    /// `module::name` of the function.
    function: String,
}

impl std::fmt::Display for NotAllowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "host function {} is not allowed in this environment",
            self.function
        )
    }
}

impl std::error::Error for NotAllowed {}

#[cfg(test)]
mod tests {
    use super::EntryFunction;

    #[test]
    fn the_spawn_entry_is_known_by_its_name_and_other_exports_keep_theirs() {
        let spawn = lunatic_abi::SPAWN_ENTRY;
        assert_eq!(
            EntryFunction::from_utf8(spawn.as_bytes()),
            Ok(EntryFunction::Spawn)
        );
        assert_eq!(EntryFunction::named(spawn.to_owned()), EntryFunction::Spawn);
        let start = EntryFunction::from_utf8(b"_start").expect("UTF-8");
        assert_eq!(start, EntryFunction::Export("_start".into()));
        assert_eq!(EntryFunction::named("_start".into()), start);
        assert!(EntryFunction::from_utf8(b"\xff_start").is_err());
        for function in [EntryFunction::Spawn, start] {
            assert_eq!(EntryFunction::named(function.name().to_owned()), function);
            assert_eq!(function.to_string(), function.clone().into_name());
        }
    }
}
