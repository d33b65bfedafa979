//! The runtime: its engines, the main program, the process table, and the life of each
//! process from spawn to the death notices it sends.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use lunatic_abi::{Limit, LogLevel, TrapKind};
use tokio::sync::oneshot;
use wasmtime::error::Context as _;
use wasmtime::{
    AsContextMut, Engine, Extern, Func, Instance, Linker, Memory, Module, Ref, Store,
    StoreContextMut, Trap, UpdateDeadline, Val, WasmBacktrace,
};
use wasmtime_wasi::I32Exit;

use crate::config::RuntimeConfig;
use crate::program::cache::ModuleCache;
use crate::sandbox::environment::{EnvConfig, Environment, NotWithin, MAX_DEPTH};

use crate::messaging::registry::Registry;
use crate::messaging::type_names::TypeNames;
use crate::messaging::{Message, MessageKind};
use crate::process::state::ProcessState;
use crate::process::{
    EncodedReason, EndReason, Monitor, ProcessHandle, ProcessId, ProcessTable, Profile,
};
use crate::program::recycle::{Recycled, Recycler, StartExports, MAX_RECYCLED};
use crate::program::table_pages::{Reclaimed, Reclaimer, TablePages};
use crate::program::{val_matches, EntryFunction, NotAllowed, Program};
use crate::sandbox::budget::{Budget, Held, LogVerdict, OverLimit};
use crate::sandbox::wasi::{OutputSink, ProcessIo, WasiConfig};
use crate::scheduler::Scheduler;

/// How to start a process: which exported function, with which arguments.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The exported function the process runs.
    pub(crate) function: EntryFunction,
    /// Its arguments.
    pub(crate) params: Vec<Val>,
}

/// Who a new process is linked to, if anyone.
#[derive(Debug, Clone)]
pub(crate) enum Link {
    /// A process of this node (its spawner).
    Local { to: Arc<ProcessHandle>, tag: i64 },
    /// A process of another node that spawned it here.
    Remote {
        node: crate::distributed::NodeId,
        process: ProcessId,
        tag: i64,
    },
}

/// Wasm instructions per fuel unit of an environment's `max_fuel`.
pub(crate) const FUEL_UNIT: u64 = 100_000;

/// Longest a reclaim of table pages waits for the workers to let it in (each does between
/// two turns, and a turn is at most a time slice) before it tries again later: the
/// workers that already let it in wait as long.
const RECLAIM_WAIT: std::time::Duration = std::time::Duration::from_millis(5);

/// An engine and the linker with every host function for it.
struct Backend {
    engine: Engine,
    linker: Linker<ProcessState>,
    /// The pages of the engine's table pool, given back while processes live.
    table_pages: TablePages,
}

impl Backend {
    fn new(engine: Engine, table_pages: TablePages) -> wasmtime::Result<Self> {
        let linker = crate::host::linker(&engine)?;
        Ok(Self {
            engine,
            linker,
            table_pages,
        })
    }
}

/// One compile at a time for the root environment, and one for all the others.
struct CompileTurns {
    root: Arc<tokio::sync::Semaphore>,
    sandboxes: Arc<tokio::sync::Semaphore>,
}

impl Default for CompileTurns {
    fn default() -> Self {
        Self {
            root: Arc::new(tokio::sync::Semaphore::new(1)),
            sandboxes: Arc::new(tokio::sync::Semaphore::new(1)),
        }
    }
}

/// A running lunatic VM.
pub struct Runtime {
    config: RuntimeConfig,
    /// Runs processes without a compute limit (no fuel metering, pooled instances).
    fast: Backend,
    /// Runs processes of environments with a fuel limit; made on first use.
    metered: OnceLock<Backend>,
    program: Arc<Program>,
    next_environment: AtomicU64,
    processes: ProcessTable,
    registry: Registry,
    /// The names of message types, by fingerprint.
    type_names: TypeNames,
    wasi: WasiConfig,
    sockets: Arc<crate::resources::net::SocketBudget>,
    /// Turns to compile a module at run time (see [`Runtime::compile_off_thread`]).
    compiles: CompileTurns,
    /// Runs the processes; started with the first one.
    scheduler: OnceLock<Scheduler>,
    /// Counts for the observer.
    pub(crate) stats: Stats,
    /// The cluster this VM is a node of (`--node`), set before main starts.
    cluster: OnceLock<Arc<crate::distributed::Cluster>>,
    /// Bounds the instances ended processes leave for the next ones (see
    /// [`crate::program::recycle`]).
    recycler: Arc<Recycler>,
    /// The handle a recycled instance's vacant state holds between processes.
    vacant: Arc<ProcessHandle>,
}

/// What the runtime counts, beyond what its live processes show: a few atomic adds per
/// spawn and per death, none per message. The observer reads them; a loaded module's name
/// comes from `modules_loaded`.
#[derive(Debug)]
pub(crate) struct Stats {
    pub(crate) started: std::time::Instant,
    pub(crate) spawned: AtomicU64,
    /// Spawns that ran in an instance an ended process left (see
    /// [`crate::program::recycle`]).
    pub(crate) spawned_recycled: AtomicU64,
    /// Ended processes, by [`EndReason::variant_index`].
    pub(crate) died: [AtomicU64; EndReason::VARIANT_NAMES.len()],
    /// Messages that arrived in the mailboxes of processes that ended.
    pub(crate) messages_of_ended: AtomicU64,
    /// The most messages the observer reported as sent: it never reports fewer (a process
    /// leaves the table a moment before its count joins `messages_of_ended`).
    pub(crate) messages_reported: AtomicU64,
    /// Modules loaded at run time, which names the next one.
    modules_loaded: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            started: std::time::Instant::now(),
            spawned: AtomicU64::new(0),
            spawned_recycled: AtomicU64::new(0),
            died: std::array::from_fn(|_| AtomicU64::new(0)),
            messages_of_ended: AtomicU64::new(0),
            messages_reported: AtomicU64::new(0),
            modules_loaded: AtomicU64::new(0),
        }
    }
}

impl Runtime {
    /// Builds the engine for `config` and compiles `wasm` (binary or WAT) into the program
    /// every process runs. Starts the preemption ticker.
    ///
    /// # Errors
    /// The engine cannot be created with these settings, or the module does not compile or
    /// link.
    pub fn new(
        config: &RuntimeConfig,
        wasm: &[u8],
        wasi: WasiConfig,
    ) -> wasmtime::Result<Arc<Self>> {
        let backtraces = tracing::enabled!(target: "lunatic::process", tracing::Level::DEBUG);
        let build_engine = || crate::program::engine::build_engine(config, backtraces, false);
        let (engine, table_pages) = match config.table_reclaim_period {
            Some(_) => TablePages::find(
                config.max_processes,
                crate::sandbox::limits::MAX_TABLE_ELEMENTS,
                config.stack_size,
                build_engine,
            )?,
            None => (build_engine()?, TablePages::none()),
        };
        crate::program::engine::start_epoch_ticker(&engine, config.preemption_interval)?;
        let fast = Backend::new(engine, table_pages)?;
        let root = Arc::new(Environment::root(EnvConfig {
            max_memory: config.max_memory,
            max_fuel: None,
            namespaces: vec![String::new()],
            preopens: wasi.preopens.clone(),
            limits: lunatic_abi::Limits::UNLIMITED,
        }));
        let module = Self::compile_cached(config, &fast, wasm)?;
        let recycler = Recycler::new(
            MAX_RECYCLED.min(config.max_processes as usize),
            config.keep_resident,
        );
        let program = Arc::new(Program::link(
            module,
            wasm.into(),
            &fast.linker,
            root,
            Arc::from("main"),
            &recycler,
        )?);
        let runtime = Arc::new(Self {
            config: config.clone(),
            fast,
            metered: OnceLock::new(),
            program,
            next_environment: AtomicU64::new(1),
            processes: ProcessTable::default(),
            registry: Registry::default(),
            type_names: TypeNames::default(),
            wasi,
            sockets: crate::resources::net::SocketBudget::new(config.max_sockets),
            compiles: CompileTurns::default(),
            scheduler: OnceLock::new(),
            stats: Stats::default(),
            cluster: OnceLock::new(),
            recycler,
            vacant: Arc::new(ProcessHandle::with_profile(0, Profile::default())),
        });
        if let Some(period) = config.table_reclaim_period {
            runtime
                .start_table_reclaim(period)
                .context("cannot start the thread that reclaims table pages")?;
        }
        Ok(runtime)
    }

    /// Gives the table pool's pages back whenever the [`Reclaimer`] says, on a thread of its
    /// own that looks every second (or `period`, if shorter) and ends with the runtime.
    fn start_table_reclaim(self: &Arc<Self>, period: std::time::Duration) -> std::io::Result<()> {
        if !self.fast.table_pages.reclaims() {
            return Ok(());
        }
        let runtime = Arc::downgrade(self);
        let look = period.min(std::time::Duration::from_secs(1));
        std::thread::Builder::new()
            .name("lunatic-reclaim".into())
            .spawn(move || {
                let mut reclaimer = Reclaimer::new(period, std::time::Instant::now());
                loop {
                    std::thread::sleep(look);
                    let Some(runtime) = runtime.upgrade() else {
                        return;
                    };
                    let alive = runtime.processes.len();
                    if !reclaimer.due(alive, std::time::Instant::now()) {
                        continue;
                    }
                    let start = std::time::Instant::now();
                    let reclaimed = runtime.fast.table_pages.reclaim(RECLAIM_WAIT);
                    tracing::debug!(
                        target: "lunatic::reclaim",
                        "table pages with {alive} processes alive: {reclaimed:?} in {:?}",
                        start.elapsed()
                    );
                    match reclaimed {
                        Reclaimed::Done => reclaimer.done(alive, std::time::Instant::now()),
                        Reclaimed::Busy => {}
                        Reclaimed::Off => return,
                    }
                }
            })
            .map(drop)
    }

    /// The worker threads that run processes, started on first use.
    ///
    /// # Errors
    /// A thread cannot be started.
    fn scheduler(&self) -> wasmtime::Result<&Scheduler> {
        if let Some(scheduler) = self.scheduler.get() {
            return Ok(scheduler);
        }
        let started = Scheduler::start(
            self.config.worker_threads,
            Arc::clone(self.fast.table_pages.gate()),
        )
        .context("cannot start the worker threads")?;
        // Should two spawns race here, the loser's threads stop as it is dropped.
        Ok(self.scheduler.get_or_init(|| started))
    }

    /// The cluster this VM is a node of, if any.
    pub(crate) fn cluster(&self) -> Option<&Arc<crate::distributed::Cluster>> {
        self.cluster.get()
    }

    /// Makes this VM a node of `cluster` (once, before main starts).
    pub(crate) fn join_cluster(&self, cluster: Arc<crate::distributed::Cluster>) {
        let _ = self.cluster.set(cluster);
    }

    /// This node's id: 0 when the VM is not a node.
    pub(crate) fn node_id(&self) -> crate::distributed::NodeId {
        self.cluster.get().map_or(0, |cluster| cluster.id())
    }

    /// `node` as a guest sees it: a notice or message marked 0 (this node) names this
    /// node's id.
    pub(crate) fn node_or_this(&self, node: crate::distributed::NodeId) -> u64 {
        if node == 0 {
            self.node_id()
        } else {
            node
        }
    }

    /// The root environment (the main program's).
    pub(crate) fn root_environment(&self) -> &Arc<Environment> {
        self.program.env()
    }

    /// The handle a recycled instance's vacant state holds (see
    /// [`ProcessState::vacant`]).
    pub(crate) fn vacant(&self) -> &Arc<ProcessHandle> {
        &self.vacant
    }

    /// Bounds and finds the instances ended processes left (see
    /// [`crate::program::recycle`]).
    pub(crate) fn recycler(&self) -> &Recycler {
        &self.recycler
    }

    /// The main program.
    pub(crate) fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// The settings it runs with.
    #[must_use]
    pub(crate) fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The live processes.
    #[must_use]
    pub(crate) fn processes(&self) -> &ProcessTable {
        &self.processes
    }

    /// The VM's process names.
    #[must_use]
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The names of message types, by fingerprint.
    pub(crate) fn type_names(&self) -> &TypeNames {
        &self.type_names
    }

    /// The sockets all processes may still open.
    pub(crate) fn sockets(&self) -> &Arc<crate::resources::net::SocketBudget> {
        &self.sockets
    }

    /// The WASI view of this runtime's processes.
    pub(crate) fn wasi(&self) -> &WasiConfig {
        &self.wasi
    }

    /// Every host function a guest may import, as `(module, name)`, WASI included.
    #[must_use]
    pub fn host_functions(self: &Arc<Self>) -> Vec<(String, String)> {
        let probe = ProcessState::new(
            Arc::clone(self),
            Arc::new(ProcessHandle::with_profile(0, Profile::default())),
            Arc::clone(&self.program),
            ProcessIo::default(),
        );
        let mut store = Store::new(&self.fast.engine, probe);
        self.fast
            .linker
            .iter(&mut store)
            .map(|(module, name, _)| (module.to_owned(), name.to_owned()))
            .collect()
    }

    /// Compiles `bytes` on `backend`'s engine (once its table pages admitted them) into the
    /// module processes start from, pre-initialized where it can be (see
    /// [`crate::program::preinit`]), through the module cache if there is one: a cached
    /// entry is the pre-initialized module, so a second run neither compiles nor runs the
    /// set-up.
    ///
    /// # Errors
    /// `bytes` are not a valid module.
    fn compile_cached(
        config: &RuntimeConfig,
        backend: &Backend,
        bytes: &[u8],
    ) -> wasmtime::Result<wasmtime::Module> {
        let engine = &backend.engine;
        // Before any instance of the module exists (pre-initialization makes one).
        backend.table_pages.admit(bytes);
        let compile = || {
            let module = Program::compile(engine, bytes)?;
            let snapshot = {
                // The set-up runs guest code.
                let _running = backend.table_pages.gate().running();
                crate::program::preinit::snapshot(engine, &module, bytes)
            };
            let Some(snapshot) = snapshot else {
                return Ok(module);
            };
            backend.table_pages.admit(&snapshot);
            match Program::compile(engine, &snapshot) {
                Ok(preinitialized) => Ok(preinitialized),
                Err(error) => {
                    tracing::debug!(
                        target: "lunatic::preinit",
                        "the pre-initialized module does not compile: {error:#}"
                    );
                    Ok(module)
                }
            }
        };
        match &config.cache_dir {
            Some(dir) => ModuleCache::new(dir.clone(), config.cache_max_bytes)
                .load_or_compile(engine, bytes, compile),
            None => compile(),
        }
    }

    /// The engine and linker for processes of `env`.
    ///
    /// # Errors
    /// The metered engine cannot be created.
    fn backend(&self, env: &Environment) -> wasmtime::Result<&Backend> {
        if !env.is_metered() {
            return Ok(&self.fast);
        }
        if let Some(backend) = self.metered.get() {
            return Ok(backend);
        }
        let engine = crate::program::engine::build_engine(&self.config, false, true)?;
        crate::program::engine::start_epoch_ticker(&engine, self.config.preemption_interval)?;
        let backend = Backend::new(engine, TablePages::none())?;
        Ok(self.metered.get_or_init(|| backend))
    }

    /// A new environment with `config`, which `parent` must cover.
    ///
    /// # Errors
    /// `config` asks for more than `parent` has.
    pub(crate) fn create_environment(
        &self,
        parent: &Environment,
        config: EnvConfig,
    ) -> Result<Arc<Environment>, EnvironmentRefused> {
        parent.config().check_within(&config)?;
        if parent.depth() >= MAX_DEPTH {
            return Err(EnvironmentRefused::TooDeep);
        }
        let id = self.next_environment.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(Environment::new(id, config, parent)))
    }

    /// Whether [`Runtime::relink`] of `program` for `env` compiles it again (the
    /// environment runs on the other engine).
    ///
    /// # Errors
    /// The metered engine cannot be created.
    pub(crate) fn relink_compiles(
        &self,
        program: &Program,
        env: &Environment,
    ) -> wasmtime::Result<bool> {
        Ok(!Engine::same(
            program.module().engine(),
            &self.backend(env)?.engine,
        ))
    }

    /// Links `program`'s module again for `env`, compiling it anew only if `env` runs on
    /// the other engine.
    ///
    /// # Errors
    /// The module does not compile or link for `env`.
    pub(crate) fn relink(
        &self,
        program: &Program,
        env: Arc<Environment>,
    ) -> wasmtime::Result<Arc<Program>> {
        let backend = self.backend(&env)?;
        let module = if Engine::same(program.module().engine(), &backend.engine) {
            program.module().clone()
        } else {
            Self::compile_cached(&self.config, backend, program.bytes())?
        };
        let same_module = Module::same(&module, program.module());
        let mut relinked = Program::link(
            module,
            Arc::clone(program.bytes()),
            &backend.linker,
            env,
            Arc::clone(program.name()),
            &self.recycler,
        )?;
        if same_module {
            relinked.share_pristine(program);
        }
        Ok(Arc::new(relinked))
    }

    /// Compiles and links `bytes` for `env`.
    ///
    /// # Errors
    /// The bytes are not a valid module, are too large, or import what the runtime lacks.
    /// `charge` is what the module costs its loader's environment (`None` in the root).
    pub(crate) fn load_module(
        &self,
        bytes: &[u8],
        env: Arc<Environment>,
        charge: Option<Held>,
    ) -> wasmtime::Result<Arc<Program>> {
        // The caller refused more than `MAX_MODULE_SIZE` bytes before copying them, and
        // `Program::compile` checks the binary the text became.
        let bytes = crate::program::check_runtime_module(bytes)?;
        let backend = self.backend(&env)?;
        let module = Self::compile_cached(&self.config, backend, &bytes)?;
        let name = format!(
            "module {}",
            self.stats.modules_loaded.fetch_add(1, Ordering::Relaxed) + 1
        );
        let mut program = Program::link(
            module,
            bytes.as_ref().into(),
            &backend.linker,
            env,
            Arc::from(name),
            &self.recycler,
        )?;
        program.charge = charge;
        Ok(Arc::new(program))
    }

    /// Runs `compile` (a compile or a relink) for a process of `caller` on a blocking
    /// thread, one at a time: a compile holds hundreds of megabytes for seconds, and
    /// guests may ask for many. The root environment has a turn of its own, so sandboxes
    /// cannot hold up its compiles. The turn goes with the compile: a caller killed while
    /// it compiles does not let another start before it is done.
    ///
    /// # Errors
    /// The thread running `compile` panicked.
    pub(crate) async fn compile_off_thread<T: Send + 'static>(
        self: &Arc<Self>,
        caller: &Environment,
        compile: impl FnOnce(&Runtime) -> T + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        let turns = match caller.budget() {
            None => &self.compiles.root,
            Some(_) => &self.compiles.sandboxes,
        };
        // The semaphores are never closed, so acquiring fails never.
        let turn = Arc::clone(turns).acquire_owned().await;
        let runtime = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            compile(&runtime)
        })
        .await
    }

    /// A fresh tag: positive and unguessable (see `sandbox::unguessable`).
    pub(crate) fn new_tag(&self) -> i64 {
        crate::sandbox::unguessable::random_tag()
    }

    /// Runs the program's `_start` as a new top-level process with `io` (its own arguments
    /// and output, say) and waits for it to end.
    ///
    /// # Errors
    /// The module is not a WASI command (no `_start`) or no instance can be made.
    pub(crate) async fn run_start(self: &Arc<Self>, io: ProcessIo) -> wasmtime::Result<EndReason> {
        let (_, ended) = self.start(io).await?;
        ended.await.context("the process vanished")
    }

    /// Starts the program's `_start` as a new top-level process with `io`; returns it, and
    /// what hears why it ended.
    ///
    /// # Errors
    /// The module is not a WASI command (no `_start`) or no instance can be made.
    pub(crate) async fn start(
        self: &Arc<Self>,
        io: ProcessIo,
    ) -> wasmtime::Result<(Arc<ProcessHandle>, oneshot::Receiver<EndReason>)> {
        let (exit_tx, exit_rx) = oneshot::channel();
        let entry = Entry {
            function: EntryFunction::Export("_start".into()),
            params: Vec::new(),
        };
        let main = self
            .spawn(
                Arc::clone(&self.program),
                entry,
                io,
                None,
                None,
                Some(exit_tx),
            )
            .await
            .context("cannot start the main process (is this a wasm32-wasip1 program?)")?;
        Ok((main, exit_rx))
    }

    /// Creates a process running `entry` with `io`, spawned by `parent` (`None` for a
    /// top-level process), optionally linked, and starts it. `on_exit` hears the reason
    /// the process ended.
    ///
    /// # Errors
    /// The entry function does not exist or takes other parameters, or no instance can be
    /// allocated (the pool is full: see `--max-processes`).
    pub(crate) async fn spawn(
        self: &Arc<Self>,
        program: Arc<Program>,
        entry: Entry,
        io: ProcessIo,
        parent: Option<&ProcessHandle>,
        link: Option<Link>,
        on_exit: Option<oneshot::Sender<EndReason>>,
    ) -> wasmtime::Result<Arc<ProcessHandle>> {
        let entry_point = program.entry_point(&entry.function)?;
        let expected = &entry_point.params;
        if expected.len() != entry.params.len()
            || !entry
                .params
                .iter()
                .zip(expected)
                .all(|(value, ty)| val_matches(value, ty))
        {
            let given: Vec<_> = entry.params.iter().map(describe_param).collect();
            let wanted: Vec<_> = expected.iter().map(|ty| format!("{ty:?}")).collect();
            wasmtime::bail!(
                "function `{}` takes ({}), not ({})",
                entry.function,
                wanted.join(", "),
                given.join(", ")
            );
        }
        let max_fuel = program.env().config().max_fuel;
        // The pool bounds the processes of the unmetered engine; the metered one allocates
        // on demand, so its spawns are counted against the same bound here.
        if max_fuel.is_some() {
            let alive = self.processes.len();
            if alive >= self.config.max_processes as usize {
                return Err(NoRoom { alive }.into());
            }
        }
        // Counted against its environment's limit for as long as its state lives.
        let charge = program
            .env()
            .budget()
            .map(|budget| budget.hold(Limit::Processes, 1))
            .transpose()?;
        let scheduler = self.scheduler()?;
        let id = self.processes.next_id();
        let profile = Profile::new(
            id,
            parent,
            Arc::clone(program.env()),
            Arc::clone(program.name()),
        );
        let handle = Arc::new(ProcessHandle::with_profile(id, profile));
        let mut state = ProcessState::new(
            Arc::clone(self),
            Arc::clone(&handle),
            Arc::clone(&program),
            io,
        );
        state.charge = charge;
        let (mut store, instance, memory, known) = self.instantiate(&program, state).await?;
        let receive_waited = known.receive_waited.or_else(|| {
            program
                .receive_waited()
                .and_then(|export| instance.get_module_export(&mut store, export))
                .and_then(Extern::into_global)
        });
        let state = store.data_mut();
        state.set_memory(memory);
        state.receive_waited_global = receive_waited;
        let spawn_entry = entry.function == EntryFunction::Spawn;
        let func = match known.spawn_entry.filter(|_| spawn_entry) {
            Some(func) => func,
            None => instance
                .get_module_export(&mut store, &entry_point.export)
                .and_then(Extern::into_func)
                .context("the entry function disappeared after instantiation")?,
        };
        let setup = if program.setup_per_process() {
            instance.get_func(&mut store, crate::program::preinit::PREINIT_EXPORT)
        } else {
            None
        };

        self.processes.insert(Arc::clone(&handle));
        self.stats.spawned.fetch_add(1, Ordering::Relaxed);
        match link {
            // Uncharged: the spawn is counted already, and a child has one parent.
            Some(Link::Local { to, tag }) => {
                to.links().insert(id, tag, None);
                handle.links().insert(to.id(), tag, None);
            }
            Some(Link::Remote { node, process, tag }) => {
                if let Some(cluster) = self.cluster() {
                    cluster.insert_spawn_link(
                        id,
                        crate::distributed::Remote { node, process },
                        tag,
                    );
                }
            }
            None => {}
        }
        let calls = Calls {
            instance,
            setup,
            spawn_entry,
            resettable: known.resettable,
            entry: func,
            params: entry.params,
            results: entry_point.results.clone(),
        };
        handle.set_task(scheduler.spawn(run(store, calls, on_exit)));
        Ok(handle)
    }

    /// A store holding `state` with an instance of `program`, its memory, and what an
    /// ended process found of it: an instance a process of `program` left, when there is
    /// one, else a new one. Either way nothing of the program's code has run in it, and it
    /// runs on its environment's fuel.
    ///
    /// # Errors
    /// No instance can be allocated (the pool is full), or the environment has no fuel.
    async fn instantiate(
        &self,
        program: &Program,
        state: ProcessState,
    ) -> wasmtime::Result<(Store<ProcessState>, Instance, Option<Memory>, StartExports)> {
        let recycled = match program.recycling() {
            Some(pool) => pool.take(state),
            None => Err(state),
        };
        // Set before instantiation, which runs the module's start function if it has one.
        let ready_to_run = |store: &mut Store<ProcessState>| -> wasmtime::Result<()> {
            if program.env().config().max_fuel.is_some() {
                // It runs on what its environment has left (see `sandbox::budget`).
                store.set_fuel(0)?;
                draw_fuel(&mut store.as_context_mut())?;
            }
            store.set_epoch_deadline(1);
            Ok(())
        };
        let (store, instance, memory, known) = match recycled {
            Ok(Recycled {
                mut store,
                instance,
                memory,
                exports,
            }) => {
                self.stats.spawned_recycled.fetch_add(1, Ordering::Relaxed);
                ready_to_run(&mut store)?;
                (store, instance, Some(memory), exports)
            }
            Err(state) => {
                let mut store = Store::new(program.module().engine(), state);
                store.limiter(|state| &mut state.limits);
                store.epoch_deadline_callback(preempt);
                ready_to_run(&mut store)?;
                let instance = match program.instance_pre().instantiate_async(&mut store).await {
                    Err(error)
                        if error.is::<wasmtime::PoolConcurrencyLimitError>()
                            && self.recycler.drop_one() =>
                    {
                        // The pool's slots went to recycled instances: one is dropped now.
                        program.instance_pre().instantiate_async(&mut store).await
                    }
                    instance => instance,
                }
                .map_err(|e| pool_hint(e, self.processes.len()))?;
                if let Some(table) = program
                    .table()
                    .and_then(|export| instance.get_module_export(&mut store, export))
                    .and_then(Extern::into_table)
                {
                    // Element 0 is null already; writing it first spares the kernel a TLB
                    // flush on every core when the process's first indirect call fills in
                    // an element.
                    table.set(&mut store, 0, Ref::Func(None))?;
                }
                let memory = program
                    .memory()
                    .and_then(|export| instance.get_module_export(&mut store, export))
                    .and_then(Extern::into_memory);
                if let (Some(pool), Some(memory)) = (program.recycling(), memory) {
                    pool.observe_fresh(&mut store, instance, memory);
                }
                (store, instance, memory, StartExports::default())
            }
        };
        Ok((store, instance, memory, known))
    }

    /// Links `process` to the process with id `other`. If `other` is not alive, `process`
    /// is told at once, as if `other` had died.
    ///
    /// The link counts against `budget` (the caller's environment's) handle limit until
    /// it goes; when `other` is not alive, the notice carries the charge instead.
    ///
    /// # Errors
    /// The caller's environment is over its handle limit.
    pub(crate) fn link(
        &self,
        process: &Arc<ProcessHandle>,
        budget: Option<&Arc<Budget>>,
        other: u64,
        tag: i64,
    ) -> Result<(), OverLimit> {
        if other == process.id() {
            return Ok(());
        }
        let charge = budget
            .map(|budget| budget.hold(Limit::Handles, 1))
            .transpose()?;
        // Insert on our side first: if `other` dies meanwhile, its death notice finds us.
        process.links().insert(other, tag, charge);
        let linked = self
            .processes
            .get(other)
            .is_some_and(|o| o.links().insert(process.id(), tag, None));
        if !linked {
            if let Some(end) = process.links().remove(other) {
                let reason = EncodedReason::new(EndReason::NoProcess { process: other });
                process.notify_link_death(0, other, tag, &reason, end.charge);
            }
        }
        Ok(())
    }

    /// Removes the link between `process` and `other`, if any.
    pub(crate) fn unlink(&self, process: &ProcessHandle, other: u64) {
        process.links().remove(other);
        if let Some(other) = self.processes.get(other) {
            other.links().remove(process.id());
        }
    }

    /// Makes `watcher` hear, with `tag`, when process `process` ends. If it is not alive,
    /// the down notice is queued at once. The monitor counts against the watcher's
    /// environment's handle limit until it goes.
    ///
    /// # Errors
    /// The watcher's environment is over that limit.
    pub(crate) fn monitor(
        &self,
        watcher: &ProcessHandle,
        budget: Option<&Arc<Budget>>,
        process: u64,
        tag: i64,
    ) -> Result<(), OverLimit> {
        let charge = budget
            .map(|budget| budget.hold(Limit::Handles, 1))
            .transpose()?;
        // A charged monitor is listed with its watcher first, so the target's end finds
        // it to remove, and the watcher's end removes it from the target (giving the
        // charge back). The root's monitors are not listed: a request monitors its server,
        // and the list would cost two locks a request.
        let listed = charge.is_some();
        let monitor = Monitor {
            watcher: watcher.id(),
            charge,
        };
        if listed {
            watcher.monitors().watch(tag, process);
        }
        let refused = match self.processes.get(process) {
            Some(target) => target.monitors().insert(tag, monitor).err(),
            None => Some(monitor),
        };
        if let Some(monitor) = refused {
            if listed {
                watcher.monitors().unwatch(tag, process);
            }
            watcher.mailbox().push(Message {
                tag,
                kind: MessageKind::ProcessDown {
                    node: 0,
                    process,
                    reason: EncodedReason::new(EndReason::NoProcess { process }),
                },
                charge: monitor.charge.map(Box::new),
            });
        }
        Ok(())
    }

    /// Removes `watcher`'s monitor `tag` of `process`; `true` if it was still registered,
    /// so no down notice will come. Otherwise one is queued, or on its way from a process
    /// that is ending, and the watcher must drop it.
    /// `sandboxed`: the watcher is not in the root environment, so its monitors are
    /// listed (see [`Runtime::monitor`]).
    pub(crate) fn demonitor(
        &self,
        watcher: &ProcessHandle,
        sandboxed: bool,
        process: u64,
        tag: i64,
    ) -> bool {
        if sandboxed {
            watcher.monitors().unwatch(tag, process);
        }
        self.processes
            .get(process)
            .is_some_and(|process| process.monitors().remove(tag, watcher.id()))
    }

    /// Kills every process of `group` (a top-level process's descendants: a test's) and
    /// waits up to `limit` until they are gone, so their names are free again.
    pub(crate) async fn end_group(&self, group: ProcessId, limit: std::time::Duration) {
        let members = || {
            self.processes
                .all()
                .into_iter()
                .filter(|process| process.profile().group == group)
        };
        for process in members() {
            process.mailbox().kill(EndReason::Killed);
        }
        let deadline = tokio::time::Instant::now() + limit;
        while members().next().is_some() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    /// Ends `process`'s life: removes it, closes its mailbox, tells linked processes.
    fn finish(&self, process: &ProcessHandle, reason: EndReason) {
        let reason = EncodedReason::new(reason);
        let id = process.id();
        self.processes.remove(id);
        self.stats.died[reason.reason().variant_index()].fetch_add(1, Ordering::Relaxed);
        let arrived = process.mailbox().close();
        self.stats
            .messages_of_ended
            .fetch_add(arrived, Ordering::Relaxed);
        let links = process.links().close();
        for other_id in links.into_keys() {
            let Some(other) = self.processes.get(other_id) else {
                continue;
            };
            // The tag the other side holds; none if it unlinked meanwhile.
            let Some(end) = other.links().remove(id) else {
                continue;
            };
            if reason.reason().is_abnormal() {
                other.notify_link_death(0, id, end.tag, &reason, end.charge);
            }
        }
        self.registry.release(id, &process.take_names());
        if let Some(cluster) = self.cluster.get() {
            // After its messages on its streams to other nodes: its links there, its
            // watchers there, its cluster-wide names.
            cluster.process_ended(id, &reason);
        }
        // Its own monitors of others go (one lock at a time: never two sets at once).
        let watching = process.monitors().take_watching();
        for (tag, target) in watching {
            if let Some(target) = self.processes.get(target) {
                target.monitors().remove(tag, id);
            }
        }
        let monitors = process.monitors().close();
        for (tag, monitor) in monitors {
            if let Some(watcher) = self.processes.get(monitor.watcher) {
                if monitor.charge.is_some() {
                    watcher.monitors().unwatch(tag, id);
                }
                let kind = MessageKind::ProcessDown {
                    node: 0,
                    process: id,
                    reason: reason.clone(),
                };
                watcher.mailbox().push(Message {
                    tag,
                    kind,
                    charge: monitor.charge.map(Box::new),
                });
            }
        }
    }
}

/// The wasm type of a spawn parameter, as the error messages spell it.
fn describe_param(value: &Val) -> &'static str {
    match value {
        Val::I32(_) => "i32",
        Val::I64(_) => "i64",
        Val::V128(_) => "v128",
        _ => "other",
    }
}

/// Runs at a process's epoch deadline: ends a process that must die, otherwise yields so
/// others run (a `loop {}` cannot hold a worker thread) when it used up its time slice.
fn preempt(mut ctx: StoreContextMut<'_, ProcessState>) -> wasmtime::Result<UpdateDeadline> {
    ctx.data().deliver_sent();
    draw_fuel(&mut ctx)?;
    if let Some(reason) = ctx.data().handle.mailbox().pending_death() {
        return Err(crate::process::Terminated(reason).into());
    }
    if !crate::scheduler::slice_used() {
        // The deadline was set in an earlier turn: this one's slice goes on.
        return Ok(UpdateDeadline::Continue(1));
    }
    Ok(UpdateDeadline::YieldCustom(
        1,
        Box::pin(crate::scheduler::yield_now()),
    ))
}

/// Charges what a metered process burned since its last draw to its environment's fuel,
/// and refills it with what the environment has left; nothing for an unmetered one.
pub(crate) fn draw_fuel(ctx: &mut StoreContextMut<'_, ProcessState>) -> wasmtime::Result<()> {
    if !ctx.data().metered {
        return Ok(());
    }
    let Some(budget) = ctx.data().env().budget().cloned() else {
        return Ok(());
    };
    let burned = ctx.data().fuel_drawn.saturating_sub(ctx.get_fuel()?);
    let left = budget.burn(burned).unwrap_or(0);
    ctx.set_fuel(left)?;
    ctx.data_mut().fuel_drawn = left;
    Ok(())
}

/// Why a new environment was refused ([`Runtime::create_environment`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EnvironmentRefused {
    /// It asks for more than its creator's environment has.
    #[error(transparent)]
    NotWithin(#[from] NotWithin),
    /// Its creator's environment is nested as deep as environments go.
    #[error("environments nest at most {MAX_DEPTH} deep, and the caller's is that deep")]
    TooDeep,
}

/// The VM runs as many processes as it may: a spawn's error, which the guest learns as
/// `SpawnStatus::NoRoom` (a program that spawns in bursts waits and tries again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no room for another process ({alive} alive): start lunatic with a larger --max-processes")]
pub(crate) struct NoRoom {
    pub(crate) alive: usize,
}

/// What a failed spawn was, as its spawner learns it (`SpawnStatus`): the failures a
/// program can act on, or the text of any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpawnFailure {
    /// The VM's pool is full ([`NoRoom`]).
    NoRoom { alive: u64 },
    /// An environment's limit ([`OverLimit`]).
    OverLimit(Limit),
    /// Anything else.
    Other(String),
}

impl SpawnFailure {
    /// The failure `error` of [`Runtime::spawn`] is.
    pub(crate) fn of(error: &wasmtime::Error) -> Self {
        if let Some(NoRoom { alive }) = error.downcast_ref::<NoRoom>() {
            Self::NoRoom {
                alive: *alive as u64,
            }
        } else if let Some(over) = error.downcast_ref::<OverLimit>() {
            Self::OverLimit(over.limit)
        } else {
            Self::Other(format!("{error:#}"))
        }
    }
}

/// Explains a failed instantiation, with what to change when the pool is full.
fn pool_hint(error: wasmtime::Error, alive: usize) -> wasmtime::Error {
    let text = format!("{error:#}");
    if error.is::<wasmtime::PoolConcurrencyLimitError>() {
        error.context(NoRoom { alive })
    } else if text.contains("mmap") || text.contains("Cannot allocate memory") {
        error.context(format!(
            "the system refused memory for another process ({alive} alive); if \
             vm.max_map_count is the limit, raise it: sysctl -w vm.max_map_count=1048576"
        ))
    } else {
        error.context("cannot create the process's instance")
    }
}

/// The guest functions a process runs, in order, and the instance they are of.
struct Calls {
    instance: Instance,
    /// The module's set-up, when it could not be pre-initialized.
    setup: Option<Func>,
    /// Whether `entry` is the guest library's spawn entry (kept for the instance's next
    /// process).
    spawn_entry: bool,
    /// What a reset found of the instance, kept for the next (see [`StartExports`]).
    resettable: Option<Box<[wasmtime::Global]>>,
    entry: Func,
    params: Vec<Val>,
    results: Vec<Val>,
}

/// The body of a process's task: runs the process, then reports its end. A panic inside
/// the VM while it runs (a bug of ours, not the guest's) still ends it properly: its links,
/// monitors, names and `on_exit` hear [`EndReason::VmFailed`].
async fn run(
    store: Store<ProcessState>,
    calls: Calls,
    on_exit: Option<oneshot::Sender<EndReason>>,
) {
    let runtime = Arc::clone(&store.data().runtime);
    let handle = Arc::clone(&store.data().handle);
    let watched = on_exit.is_some();
    let running = CatchUnwind {
        inner: execute(store, calls, watched),
    };
    let reason = match running.await {
        Ok(reason) => reason,
        Err(panic) => {
            let reason = EndReason::VmFailed(panic_text(&*panic));
            tracing::error!(target: "lunatic::process", "process {} died: {reason}", handle.id());
            reason
        }
    };
    runtime.finish(&handle, reason.clone());
    if let Some(on_exit) = on_exit {
        let _ = on_exit.send(reason);
    }
}

/// Runs the set-up (if any) and the entry function, frees the instance and logs an abnormal
/// end; returns why the process ended.
async fn execute(mut store: Store<ProcessState>, mut calls: Calls, watched: bool) -> EndReason {
    let set_up = match calls.setup {
        Some(setup) => setup.call_async(&mut store, &[], &mut []).await,
        None => Ok(()),
    };
    let outcome = match set_up {
        Ok(()) => {
            let (params, results) = (&calls.params, &mut calls.results);
            calls.entry.call_async(&mut store, params, results).await
        }
        Err(error) => Err(error),
    };
    // What it burned since its last draw is its environment's too.
    let _ = draw_fuel(&mut store.as_context_mut());
    let state = store.data_mut();
    // What it sent reaches its receivers before its death notices do.
    state.close_outbox();
    let (reason, backtrace) = match outcome {
        Ok(()) => (EndReason::Normal, None),
        Err(error) => classify(&error, state),
    };
    let handle = Arc::clone(&state.handle);
    let (output, report) = (state.io.output.clone(), state.io.report_death);
    let budget = state.env().budget().cloned();
    // Free the instance (back to the pool, or to its program for the next process) before
    // telling anyone.
    let exports = StartExports {
        spawn_entry: calls.spawn_entry.then_some(calls.entry),
        receive_waited: store.data().receive_waited_global,
        resettable: calls.resettable,
    };
    retire(store, calls.instance, exports);
    // Log first: a linked or watching process (main, say) may end the VM on the notice.
    if report {
        let death = Death {
            process: &handle,
            reason: &reason,
            backtrace: backtrace.as_deref(),
            watched,
        };
        log_death(&death, &output, budget.as_deref());
    }
    reason
}

/// Drops the state of the process `store` ran, and the store with it, or, when its
/// program recycles instances, keeps the store and `instance` (and the `exports` found in
/// it) for the next process.
fn retire(mut store: Store<ProcessState>, instance: Instance, exports: StartExports) {
    let program = Arc::clone(&store.data().program);
    let (Some(pool), Some(memory)) = (program.recycling(), store.data().memory()) else {
        return;
    };
    if !pool.reserve() {
        return;
    }
    let runtime = &store.data().runtime;
    let vacant = runtime.recycler().vacant_state(runtime);
    drop(std::mem::replace(store.data_mut(), vacant));
    pool.give_back(
        &program,
        Recycled {
            store,
            instance,
            memory,
            exports,
        },
    );
}

pin_project_lite::pin_project! {
    /// A future that turns a panic of the future it wraps into an `Err` (the panic's
    /// payload).
    struct CatchUnwind<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// The text of a panic's payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Turns the error a process ended with into a reason, plus the wasm backtrace if any.
fn classify(error: &wasmtime::Error, state: &mut ProcessState) -> (EndReason, Option<String>) {
    // Only an engine built for the `debug` log captures backtraces (see `engine`).
    let backtrace = error
        .downcast_ref::<WasmBacktrace>()
        .map(ToString::to_string);
    let reason = if let Some(exit) = error.downcast_ref::<I32Exit>() {
        if exit.0 == 0 {
            EndReason::Normal
        } else {
            EndReason::ExitCode(exit.0)
        }
    } else if let Some(terminated) = error.downcast_ref::<crate::process::Terminated>() {
        terminated.0.clone()
    } else if state.limits.exceeded {
        // Whatever the guest did after its allocation failed (abort, a forbidden write to
        // stderr), the cause is the memory limit.
        EndReason::OutOfMemory
    } else if error.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        EndReason::OutOfFuel
    } else if let Some(panic) = state.panic.take() {
        panic
    } else {
        EndReason::Trapped {
            kind: trap_kind(error),
            message: error.root_cause().to_string(),
        }
    };
    (reason, backtrace)
}

/// `text` with its control characters (newlines, escape sequences) written as Rust escapes.
fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    /// Control characters, and the invisible ones that change how a terminal shows the
    /// rest of a line (bidirectional overrides, line and paragraph separators, zero-width
    /// marks).
    fn hides(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
    }
    if !text.chars().any(hides) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hides(c) {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    std::borrow::Cow::Owned(escaped)
}

/// What kind of trap `error` is.
fn trap_kind(error: &wasmtime::Error) -> TrapKind {
    if error.downcast_ref::<NotAllowed>().is_some() {
        return TrapKind::NotAllowed;
    }
    if error.downcast_ref::<OverLimit>().is_some() {
        return TrapKind::OverLimit;
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::UnreachableCodeReached) => TrapKind::Unreachable,
        Some(Trap::MemoryOutOfBounds | Trap::HeapMisaligned) => TrapKind::MemoryOutOfBounds,
        Some(Trap::TableOutOfBounds) => TrapKind::TableOutOfBounds,
        Some(Trap::IndirectCallToNull) => TrapKind::IndirectCallToNull,
        Some(Trap::BadSignature) => TrapKind::BadSignature,
        Some(Trap::IntegerOverflow) => TrapKind::IntegerOverflow,
        Some(Trap::IntegerDivisionByZero) => TrapKind::IntegerDivisionByZero,
        Some(Trap::BadConversionToInteger) => TrapKind::BadConversionToInteger,
        Some(Trap::StackOverflow) => TrapKind::StackOverflow,
        Some(_) => TrapKind::Other,
        // Not a wasm trap: a host function refused the call.
        None => TrapKind::HostCall,
    }
}

/// Reports an abnormal death as `process <id> [names] died: <reason>`: into the process's
/// capture buffer if its output is captured (a test's), otherwise to the log, at `warn` for
/// failures and for any end of a `watched` process (main), at `info` for deaths other
/// processes caused (kills, link deaths). The wasm backtrace goes to the `debug` log.
fn log_death(death: &Death<'_>, output: &OutputSink, budget: Option<&Budget>) {
    let Death {
        process,
        reason,
        backtrace,
        watched,
    } = *death;
    let id = process.id();
    if !reason.is_abnormal() {
        tracing::trace!(target: "lunatic::process", "process {id} ended");
        return;
    }
    let level = match reason {
        EndReason::Killed | EndReason::LinkedDied { .. } | EndReason::NoProcess { .. }
            if !watched =>
        {
            LogLevel::Info
        }
        _ => LogLevel::Warn,
    };
    // A kill is logged at `info`, which nobody sees by default: its line is not made.
    if !line_is_seen(output, "lunatic::process", level) && backtrace.is_none() {
        return;
    }
    let names = logged_names(process);
    let who = if names.is_empty() {
        format!("process {id}")
    } else {
        format!("process {id} [{names}]")
    };
    log_for_process(
        &format!("{who} died: {reason}"),
        level,
        "lunatic::process",
        output,
        budget,
    );
    if let Some(backtrace) = backtrace {
        tracing::debug!(target: "lunatic::process", "{who} backtrace:\n{backtrace}");
    }
}

/// Writes a line about, or on behalf of, a process: into its capture buffer if its output
/// is captured (a test's), otherwise to the log at `level` under `target`. The line may
/// carry guest text: escaped, it cannot forge a line of its own (a newline) or reach the
/// terminal (an escape sequence). A sandboxed environment's lines are rate-limited: the
/// next line written says how many were dropped.
pub(crate) fn log_for_process(
    line: &str,
    level: LogLevel,
    target: &'static str,
    output: &OutputSink,
    budget: Option<&Budget>,
) {
    // A line nobody would see costs its environment nothing.
    if !line_is_seen(output, target, level) {
        return;
    }
    let mut line = escape_controls(line).into_owned();
    let Some(dropped) = admit(budget, line.len()) else {
        return;
    };
    line.push_str(&dropped);
    if output.write_line(&line) {
        return;
    }
    // `tracing`'s macros take a constant target and level.
    macro_rules! at_level {
        ($($target:literal),*) => {
            match (target, level) {
                $(
                    ($target, LogLevel::Error) => tracing::error!(target: $target, "{line}"),
                    ($target, LogLevel::Warn) => tracing::warn!(target: $target, "{line}"),
                    ($target, LogLevel::Info) => tracing::info!(target: $target, "{line}"),
                    ($target, LogLevel::Debug) => tracing::debug!(target: $target, "{line}"),
                    ($target, LogLevel::Trace) => tracing::trace!(target: $target, "{line}"),
                )*
                (other, _) => tracing::warn!(target: "lunatic", "{other}: {line}"),
            }
        };
    }
    at_level!("lunatic::process", "lunatic::guest");
}

/// Whether a line at `level` under `target` for a process whose output is `output` would be
/// seen: captured (a test's), or enabled in the log.
fn line_is_seen(output: &OutputSink, target: &'static str, level: LogLevel) -> bool {
    output.is_captured() || log_enabled(target, level)
}

/// Whether a sandboxed environment (its `budget`) may log a line of `len` bytes now: `None`
/// when it is over its log rate, else what to add to the line (a note of the lines dropped
/// before it, or nothing).
fn admit(budget: Option<&Budget>, len: usize) -> Option<String> {
    match budget.map(|budget| budget.may_log(len as u64)) {
        Some(LogVerdict::Drop) => None,
        None | Some(LogVerdict::Log { suppressed: 0 }) => Some(String::new()),
        Some(LogVerdict::Log { suppressed }) => Some(format!(
            " ({suppressed} earlier lines of its environment dropped: over its log rate)"
        )),
    }
}

/// Logs a supervisor's report (Erlang's SASL supervisor reports) as one event under the
/// target `lunatic::supervisor`, with the supervisor, the child and the reason as fields:
/// at `warn` for a restart, at `error` otherwise. Guest text is escaped; a sandboxed
/// environment's reports count against its log rate, as its lines do.
pub(crate) fn log_supervisor_report(
    supervisor: &ProcessHandle,
    report: &lunatic_abi::SupervisorReport,
    output: &OutputSink,
    budget: Option<&Budget>,
) {
    use lunatic_abi::SupervisorEvent;
    const TARGET: &str = "lunatic::supervisor";
    let level = match report.event {
        SupervisorEvent::ChildRestarted => LogLevel::Warn,
        _ => LogLevel::Error,
    };
    if !output.is_captured() && !log_enabled(TARGET, level) {
        return;
    }
    let what = match report.event {
        SupervisorEvent::ChildRestarted => "child restarted",
        SupervisorEvent::StartFailed => "child failed to start",
        SupervisorEvent::IntensityReached => "restart intensity reached",
        SupervisorEvent::GaveUp => "supervisor gave up",
    };
    let id = supervisor.id();
    let names = escape_controls(&logged_names(supervisor)).into_owned();
    let child = escape_controls(&report.child).into_owned();
    let reason = escape_controls(&report.reason).into_owned();
    let (process, new_process) = (report.process, report.new_process);
    let Some(dropped) = admit(budget, names.len() + child.len() + reason.len() + 64) else {
        return;
    };
    let line = format!(
        "{what}{dropped}: supervisor={id} supervisor_names={names} child={child} \
         child_process={process} new_process={new_process} reason={reason}"
    );
    if output.write_line(&line) {
        return;
    }
    macro_rules! event {
        ($level:expr) => {
            tracing::event!(
                target: TARGET,
                $level,
                supervisor = id,
                supervisor_names = %names,
                child = %child,
                child_process = process,
                new_process,
                reason = %reason,
                "{what}{dropped}"
            )
        };
    }
    if level == LogLevel::Warn {
        event!(tracing::Level::WARN);
    } else {
        event!(tracing::Level::ERROR);
    }
}

/// Whether the log shows lines of `target` at `level`.
fn log_enabled(target: &'static str, level: LogLevel) -> bool {
    macro_rules! enabled {
        ($($target:literal),*) => {
            match (target, level) {
                $(
                    ($target, LogLevel::Error) => tracing::enabled!(target: $target, tracing::Level::ERROR),
                    ($target, LogLevel::Warn) => tracing::enabled!(target: $target, tracing::Level::WARN),
                    ($target, LogLevel::Info) => tracing::enabled!(target: $target, tracing::Level::INFO),
                    ($target, LogLevel::Debug) => tracing::enabled!(target: $target, tracing::Level::DEBUG),
                    ($target, LogLevel::Trace) => tracing::enabled!(target: $target, tracing::Level::TRACE),
                )*
                _ => true,
            }
        };
    }
    enabled!("lunatic::process", "lunatic::guest", "lunatic::supervisor")
}

/// The most names a log line lists for a process; the rest are counted.
const MAX_LOGGED_NAMES: usize = 8;

/// `process`'s registered names for a log line: at most [`MAX_LOGGED_NAMES`], then how
/// many more.
fn logged_names(process: &ProcessHandle) -> String {
    let (names, count) = process.first_names(MAX_LOGGED_NAMES);
    if count <= MAX_LOGGED_NAMES {
        names.join(", ")
    } else {
        format!(
            "{}, and {} more",
            names.join(", "),
            count - MAX_LOGGED_NAMES
        )
    }
}

/// A process's end, as [`log_death`] reports it.
struct Death<'a> {
    process: &'a ProcessHandle,
    reason: &'a EndReason,
    /// The wasm backtrace, for the `debug` log.
    backtrace: Option<&'a str>,
    /// Whether someone waits on its end (main): then even a kill is a warning.
    watched: bool,
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn guest_text_cannot_forge_log_lines_or_reach_the_terminal() {
        assert_eq!(escape_controls("plain: ünïcode"), "plain: ünïcode");
        assert_eq!(
            escape_controls("evil\nprocess 1 died: forged\u{1b}[31m\r"),
            "evil\\nprocess 1 died: forged\\u{1b}[31m\\r"
        );
    }
}
