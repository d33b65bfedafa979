//! The data of one process's wasmtime `Store`: what its host calls work on.

use std::cell::{Cell, RefCell, RefMut};
use std::sync::Arc;

use lunatic_abi::Limit;

use wasmtime::{Global, Memory};
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::messaging::outbox::Outbox;
use crate::messaging::{Inbox, Message};
use crate::process::{EndReason, ProcessHandle};
use crate::program::Program;
use crate::resources::{MessageResources, ResourceTable};
use crate::runtime::Runtime;
use crate::sandbox::budget::{Budget, Held};
use crate::sandbox::environment::Environment;
use crate::sandbox::limits::MemoryLimit;
use crate::sandbox::wasi::ProcessIo;

/// Most errors (or environments, or modules) a process may hold undropped; past it, the host
/// call that makes one traps (a guest that never drops them would otherwise grow host memory
/// without bound).
const MAX_HANDLES: usize = 10_000;

/// Most bytes of one error text a process is handed (more is cut).
pub(crate) const MAX_ERROR_TEXT: usize = 4 << 10;

/// A message being written by the guest, not sent yet. Resources moved into it are closed
/// if it is never sent (dropped with it).
#[derive(Debug, Default)]
pub(crate) struct Outgoing {
    pub(crate) tag: i64,
    pub(crate) data: crate::messaging::MessageBytes,
    pub(crate) resources: MessageResources,
}

/// Where a process's linear memory is and how long, kept so a host call need not look it
/// up through wasmtime's store, instance and offsets (a chain of dependent loads on every
/// send and receive).
///
/// Invariant: a view is current while its process's [`MemoryLimit`] holds it. It is taken
/// from the state's own `memory`, a memory of the store that owns the state, and kept in
/// the state's limiter, which wasmtime asks before every growth of every memory of the
/// store; the limiter forgets the view at each ask. Nothing else moves or lengthens a
/// memory: the engine's memories never move (`memory_may_move(false)`,
/// `program/engine.rs`) and never shrink, and a slot is reset only once its store holds a
/// vacant state or none. A state that ran a process is dropped with its store's process,
/// never moved to another store (recycling moves only vacant states, which never have a
/// memory), and setting `memory` forgets the view.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemoryView {
    base: *mut u8,
    len: usize,
}

// SAFETY: a view is an address inside the store whose state keeps it; it is read only
// through that store (`guest_memory`), and moves between threads with it.
#[allow(unsafe_code)]
unsafe impl Send for MemoryView {}

/// The caller's linear memory and its state, borrowed together; `None` if the module
/// exports no memory.
#[allow(unsafe_code)]
#[inline]
pub(crate) fn guest_memory<'a>(
    caller: &'a mut wasmtime::Caller<'_, ProcessState>,
) -> Option<(&'a mut [u8], &'a mut ProcessState)> {
    let view = match caller.data().limits.memory_view {
        Some(view) => view,
        None => look_up_memory(caller)?,
    };
    debug_assert!(caller.data().memory.is_some_and(|memory| {
        memory.data_ptr(&*caller) == view.base && memory.data_size(&*caller) == view.len
    }));
    // SAFETY: the view is current (its invariant), so `base..base + len` is the memory's
    // accessible range, and `base` came from wasmtime's own pointer to it; the memory
    // belongs to the caller's store, borrowed mutably for `'a`, so no other reference to it
    // exists, and the guest does not run during a host call.
    let bytes = unsafe { std::slice::from_raw_parts_mut(view.base, view.len) };
    Some((bytes, caller.data_mut()))
}

/// The view of the caller's memory, looked up through wasmtime and kept.
#[inline(never)]
fn look_up_memory(caller: &mut wasmtime::Caller<'_, ProcessState>) -> Option<MemoryView> {
    let memory = caller.data().memory?;
    let view = MemoryView {
        base: memory.data_ptr(&*caller),
        len: memory.data_size(&*caller),
    };
    caller.data_mut().limits.memory_view = Some(view);
    Some(view)
}

/// A process's outbox, borrowed to send a message (see [`ProcessState::outbox`]).
pub(crate) struct OutboxRef<'a> {
    outbox: RefMut<'a, Outbox>,
    processes: &'a crate::process::ProcessTable,
}

impl OutboxRef<'_> {
    /// Sends `message` to process `id`; a process that is not alive drops it.
    #[inline(always)]
    pub(crate) fn send(mut self, id: u64, message: Message) {
        let processes = self.processes;
        self.outbox.send(id, message, |id| processes.get(id));
    }
}

/// Things handed to the guest by id: errors, environments, modules, resources. Ids are local to the
/// process (a capability: another process cannot use them), and everything is dropped with
/// the process. Each item counts against the process's environment's handle limit while
/// it is held.
#[derive(Debug)]
pub(crate) struct HandleTable<T> {
    next_id: u64,
    items: crate::process::IdMap<u64, (T, Option<Held>)>,
    budget: Option<Arc<Budget>>,
}

impl<T> Default for HandleTable<T> {
    fn default() -> Self {
        Self::charged_to(None)
    }
}

impl<T> HandleTable<T> {
    /// An empty table whose items count against `budget`.
    pub(crate) fn charged_to(budget: Option<Arc<Budget>>) -> Self {
        Self {
            next_id: 0,
            items: crate::process::IdMap::default(),
            budget,
        }
    }

    /// Stores `item` and returns its id.
    ///
    /// # Errors
    /// Fails when the process already holds [`MAX_HANDLES`] undropped items, or its
    /// environment is over its handle limit (`OverLimit`).
    pub(crate) fn insert(&mut self, item: T) -> wasmtime::Result<u64> {
        if self.items.len() >= MAX_HANDLES {
            wasmtime::bail!("the process holds {MAX_HANDLES} handles it never dropped");
        }
        let charge = match &self.budget {
            None => None,
            Some(budget) => Some(budget.hold(Limit::Handles, 1)?),
        };
        self.next_id += 1;
        self.items.insert(self.next_id, (item, charge));
        Ok(self.next_id)
    }

    /// Item `id`.
    pub(crate) fn get(&self, id: u64) -> Option<&T> {
        self.items.get(&id).map(|(item, _)| item)
    }

    /// Forgets item `id`; `false` if there was none.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        self.items.remove(&id).is_some()
    }

    /// Takes item `id` out of the table.
    pub(crate) fn take(&mut self, id: u64) -> Option<T> {
        self.items.remove(&id).map(|(item, _)| item)
    }
}

/// Everything a process's host calls need; owned by its `Store`.
pub(crate) struct ProcessState {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) handle: Arc<ProcessHandle>,
    /// Built on the first WASI call: most processes never make one. Boxed: it is 384
    /// bytes, a sixth of a parked process's store.
    wasi: Option<Box<WasiP1Ctx>>,
    /// The instance's exported `memory`, set right after instantiation.
    memory: Option<Memory>,
    pub(crate) outgoing: Option<Outgoing>,
    pub(crate) incoming: Option<Message>,
    /// The last receive arguments found inside memory (see `host::message`).
    pub(crate) checked_receive: Cell<Option<crate::host::message::CheckedReceive>>,
    /// The messages this process moved out of its mailbox's shared queue.
    pub(crate) inbox: Inbox,
    /// Whether its last plain receive waited, and the global of its instance the guest
    /// reads that from, when the module was rewritten to have one (see `host::message`).
    pub(crate) receive_waited: bool,
    pub(crate) receive_waited_global: Option<Global>,
    /// Error texts handed to the guest by id (`lunatic::error`); add them with
    /// [`ProcessState::keep_error`].
    pub(crate) errors: HandleTable<String>,
    pub(crate) environments: HandleTable<Arc<Environment>>,
    pub(crate) modules: HandleTable<Arc<Program>>,
    /// Sockets the process holds (closed when it ends: they are dropped with the state).
    pub(crate) resources: ResourceTable,
    /// The files it opened through WASI, by descriptor, each with its share of the VM's
    /// descriptors and of its environment's limit (see `sandbox::wasi::count_open_files`).
    pub(crate) open_files: crate::process::IdMap<u32, crate::resources::net::SocketPermit>,
    /// The program this process runs (its module, in its environment).
    pub(crate) program: Arc<Program>,
    pub(crate) limits: MemoryLimit,
    /// Whether the process runs with a fuel limit: then the host-side work of its host
    /// calls is charged to its fuel too (see `host::call`).
    pub(crate) metered: bool,
    /// Most bytes of one message it may send: the VM's `MAX_MESSAGE_SIZE`, or its
    /// environment's lower `Limit::MessageBytes`.
    pub(crate) max_message_size: usize,
    /// Its fuel at its last draw on its environment's (`runtime::draw_fuel`).
    pub(crate) fuel_drawn: u64,
    /// Its place in its environment's process limit, given back with the state.
    pub(crate) charge: Option<Held>,
    /// What the guest reported just before it panicked ([`EndReason::Panicked`]).
    pub(crate) panic: Option<EndReason>,
    /// Its arguments and where its output goes.
    pub(crate) io: ProcessIo,
    /// Messages sent and not delivered yet, and the process they are for: a stream of
    /// sends to one process takes no lock of the process table and no reference count
    /// (both shared by every sender), and reaches a busy receiver a batch at a time.
    outbox: RefCell<Outbox>,
}

impl ProcessState {
    pub(crate) fn new(
        runtime: Arc<Runtime>,
        handle: Arc<ProcessHandle>,
        program: Arc<Program>,
        io: ProcessIo,
    ) -> Self {
        let budget = program.env().budget().cloned();
        // A charge of nothing yet, which grows with the process's memory.
        let memory_charge = budget
            .as_ref()
            .and_then(|budget| budget.hold(Limit::Memory, 0).ok());
        let limits = MemoryLimit::new(
            program.env().config().max_memory,
            memory_charge,
            Some(Arc::clone(&handle)),
        );
        let metered = program.env().config().max_fuel.is_some();
        let max_message_size =
            usize::try_from(program.env().config().limits.get(Limit::MessageBytes))
                .unwrap_or(usize::MAX)
                .min(lunatic_abi::MAX_MESSAGE_SIZE);
        Self {
            runtime,
            handle,
            wasi: None,
            memory: None,
            outgoing: None,
            incoming: None,
            checked_receive: Cell::new(None),
            inbox: Inbox::default(),
            receive_waited: false,
            receive_waited_global: None,
            errors: HandleTable::charged_to(budget.clone()),
            environments: HandleTable::charged_to(budget.clone()),
            modules: HandleTable::charged_to(budget.clone()),
            resources: ResourceTable::charged_to(budget),
            open_files: crate::process::IdMap::default(),
            program,
            limits,
            metered,
            max_message_size,
            fuel_drawn: 0,
            charge: None,
            panic: None,
            io,
            outbox: RefCell::default(),
        }
    }

    /// The state a recycled instance's store holds between two processes: nothing of
    /// either (see [`crate::program::recycle`]).
    pub(crate) fn vacant(runtime: &Arc<Runtime>) -> Self {
        Self::new(
            Arc::clone(runtime),
            Arc::clone(runtime.vacant()),
            Arc::clone(runtime.program()),
            ProcessIo::default(),
        )
    }

    /// Keeps error `text` for the guest to read by the returned id, cut to
    /// [`MAX_ERROR_TEXT`] bytes (errors quote guest input, a function name say, and a
    /// process may hold thousands).
    ///
    /// # Errors
    /// The process holds too many handles already.
    pub(crate) fn keep_error(&mut self, mut text: String) -> wasmtime::Result<u64> {
        if text.len() > MAX_ERROR_TEXT {
            let mut end = MAX_ERROR_TEXT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str("...");
        }
        self.errors.insert(text)
    }

    /// The process's WASI context, built on first use.
    pub(crate) fn wasi(&mut self) -> &mut WasiP1Ctx {
        // Every WASI call comes through here; output and sleeps are seen or waited on.
        self.deliver_sent();
        let (runtime, io) = (&self.runtime, &self.io);
        let preopens = &self.program.env().config().preopens;
        self.wasi
            .get_or_insert_with(|| Box::new(runtime.wasi().build(io, preopens)))
    }

    /// The instance's exported `memory`.
    #[inline]
    pub(crate) fn memory(&self) -> Option<Memory> {
        self.memory
    }

    /// Sets the instance's exported `memory` (right after instantiation).
    pub(crate) fn set_memory(&mut self, memory: Option<Memory>) {
        self.memory = memory;
        self.limits.memory_view = None;
    }

    /// The outbox, borrowed for one send (see [`crate::messaging::outbox`]). A send
    /// borrows it before it builds its message, so the message is built where the send
    /// takes it from, not copied there once more.
    ///
    /// # Panics
    /// The outbox is borrowed already: nothing may deliver or send while an [`OutboxRef`]
    /// lives.
    #[inline]
    pub(crate) fn outbox(&self) -> OutboxRef<'_> {
        OutboxRef {
            outbox: self.outbox.borrow_mut(),
            processes: self.runtime.processes(),
        }
    }

    /// Delivers what this process sent and the outbox still holds: called before anything
    /// another process could see, or that could make this one wait.
    #[inline]
    pub(crate) fn deliver_sent(&self) {
        self.outbox.borrow_mut().flush();
    }

    /// Delivers what the outbox holds and forgets its target (the process ends).
    pub(crate) fn close_outbox(&self) {
        self.outbox.borrow_mut().close();
    }

    /// Chooses whether link deaths arrive as signals (`true`) or kill this process.
    /// Switching to dying while a signal is already queued kills the process at once.
    pub(crate) fn set_traps_link_deaths(&self, traps: bool) {
        self.handle.set_traps_link_deaths(traps);
        if !traps {
            let mailbox = self.handle.mailbox();
            if let Some((process, reason)) = self.inbox.has_signal(mailbox) {
                mailbox.kill(EndReason::linked_died(process, reason.reason()));
            }
        }
    }

    /// The environment this process runs in.
    pub(crate) fn env(&self) -> &Arc<Environment> {
        self.program.env()
    }
}
