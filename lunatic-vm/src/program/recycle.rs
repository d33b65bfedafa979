//! Recycled instances: a process that ends leaves its store and instance, reset to the
//! state a fresh instance of its program starts in, for the next process of the same
//! program, which then skips making a store, linking 29 imports into it and allocating an
//! instance, and the ended one skips freeing them (see docs/performance.md, "Recycled
//! instances").
//!
//! Invariants, each argued where it is kept:
//! - **Only the same program.** A pool belongs to one [`Program`] (one module in one
//!   environment): an instance never passes between modules or environments.
//! - **Nothing of the ended process survives.** Its `ProcessState` is dropped at its end
//!   as it was with the store (runtime.rs `retire`), leaving a vacant one; every page of its
//!   memory that is neither the module image's file page nor the zero page is found with
//!   Linux's `PAGEMAP_SCAN` and rewritten to the pristine contents; every mutable global is
//!   set back (the pre-initialization rewrite exports them all, `preinit::RESETTABLE_EXPORT`);
//!   its tables cannot have changed, because the rewrite marks only modules whose code has
//!   no instruction that writes a table or drops a segment, and that have no start
//!   function. Whatever cannot be reset so (memory grown, more than `keep_resident` bytes
//!   resident, the scan unavailable or cut short) is not recycled: the store is dropped, as
//!   before. An instance given back waits unreset, as an [`Ended`], until its worker has
//!   [`RESET_BATCH`] of them, which it resets back to back (faster in paired runs of
//!   programs whose processes end: docs/performance.md), or until a spawn finds no reset
//!   one. Only [`Pristine::reset`] turns an `Ended` into a [`Recycled`], and only a
//!   `Recycled` is handed to a process.
//! - **Bounded.** The VM keeps at most [`Recycler`]'s capacity of recycled instances (each
//!   holds a pool slot, its store's heap and its resident pages); a spawn that finds the
//!   pool full drops one and tries again, so they never cost a spawn its slot. What a
//!   burst leaves does not stay: every [`TRIM_INTERVAL`] a thread drops half (rounded
//!   down) of each worker's kept instances of a program when none was taken or given back
//!   there since the last look. The pristine image holds only the memory's non-zero pages
//!   (at most the module's data), once per module: relinks for other environments share
//!   it.
//!   The recycler also keeps at most [`VACANT_KEPT`] vacant states a worker, for the VM
//!   (a vacant state holds no process's anything: references to the runtime and its main
//!   program, a memory charge of nothing).
//! - **Charged as a fresh one.** A recycled instance's memory and tables are charged to the
//!   new process through the same `ResourceLimiter` calls instantiation makes.
//! - A kept instance's vacant state, and a kept vacant state, hold the runtime, as a live
//!   process's state does: the runtime lives as long as the VM (the CLI never drops it).
#![allow(unsafe_code)]

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use wasmtime::{Extern, Instance, Memory, ModuleExport, Mutability, ResourceLimiter, Store, Val};

use super::Program;
use crate::process::state::ProcessState;

/// Most recycled instances the VM keeps (at most its pool's slots: a spawn that finds the
/// pool full drops one): each holds about 15 KiB of its store's heap and the pages its
/// last process wrote, and a program whose pool of workers is larger than what is kept
/// spawns at several times the cost.
pub(crate) const MAX_RECYCLED: usize = 16_384;

/// How often kept instances that went unused are halved ([`Recycler::trim_unused`]).
const TRIM_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// A store whose process ended, with its instance, reset to the program's pristine state.
pub(crate) struct Recycled {
    pub(crate) store: Store<ProcessState>,
    pub(crate) instance: Instance,
    pub(crate) memory: Memory,
    /// What the ended process found of the instance, for the next one.
    pub(crate) exports: StartExports,
}

/// The exports a process's start and an instance's reset look up in it, kept with a
/// recycled instance (they stay valid with its store): finding an export again goes through
/// the store's module registry (docs/performance.md).
#[derive(Debug, Clone, Default)]
pub(crate) struct StartExports {
    /// The guest library's spawn entry (`lunatic_abi::SPAWN_ENTRY`), if a process ran it.
    pub(crate) spawn_entry: Option<wasmtime::Func>,
    /// The global that says whether the last plain receive waited.
    pub(crate) receive_waited: Option<wasmtime::Global>,
    /// Its mutable globals, in the order of [`Pristine`]'s values, once a reset found them.
    pub(crate) resettable: Option<Box<[wasmtime::Global]>>,
}

/// What every process of a module starts from, read from its first fresh instance before
/// any of its code ran.
struct Pristine {
    /// The memory's pages that hold a non-zero byte, by offset, in order (the rest is
    /// zeros).
    pages: Vec<(usize, Box<[u8]>)>,
    /// The memory's size in bytes.
    memory_bytes: usize,
    /// Elements of each of its tables, charged to each process as instantiation charges
    /// them.
    table_elements: Vec<usize>,
    /// Every mutable global, and its value.
    globals: Vec<(ModuleExport, Val)>,
}

/// A module's pristine state, once read (`None` inside: it cannot be reset); shared by the
/// programs of one module.
type PristineCell = Arc<OnceLock<Option<Pristine>>>;

/// Shards of what is kept per worker: a worker keeps the instances of the processes that
/// ended on it, and takes from its own shard first, so two workers do not contend for one
/// lock at every spawn and end, and an instance's pages stay in the cache of the core that
/// last reset them.
const SHARDS: usize = 8;

/// Ended instances a worker gathers before it resets them, one after another.
const RESET_BATCH: usize = 8;

/// Vacant states the recycler keeps a worker, for the next ended processes (see
/// [`Recycler::vacant_state`]).
const VACANT_KEPT: usize = 16;

/// One worker's share of something kept (modulo [`SHARDS`]), on a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
struct Shard<T>(Mutex<T>);

impl<T> Shard<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The shard of the worker this runs on (the first on other threads).
fn own_shard() -> usize {
    crate::scheduler::current_worker().unwrap_or(0) % SHARDS
}

/// An instance whose process ended, not reset yet: nothing may run in it.
struct Ended(Recycled);

/// One worker's kept instances of a program.
#[derive(Default)]
struct Kept {
    /// Reset, ready for a process.
    idle: Vec<Recycled>,
    /// Given back, not reset yet: fewer than [`RESET_BATCH`].
    ended: Vec<Ended>,
    /// Whether one was taken or given back since the last trim.
    used: bool,
}

/// The recycled instances of one program.
pub(crate) struct Pool {
    recycler: Arc<Recycler>,
    pristine: PristineCell,
    /// Kept instances, by the worker they were kept on.
    kept: [Shard<Kept>; SHARDS],
    /// Whether the recycler knows this pool (to take an instance from it when the
    /// instance pool is full).
    known: AtomicBool,
}

/// The VM's bound on recycled instances, and the way to all of them.
pub(crate) struct Recycler {
    capacity: usize,
    /// Bytes of a memory that may be resident to reset it (the VM's `keep_resident`).
    keep_resident: usize,
    /// Instances kept, or about to be.
    kept: AtomicUsize,
    programs: Mutex<Vec<Weak<Program>>>,
    /// Vacant states that recycled instances held until a process started in them, by
    /// worker, for the stores of processes that end next: making one takes and drops
    /// references that every worker shares (the runtime's, its main program's), at each
    /// process's end. They belong to no program, so any store may take one.
    vacant: [Shard<Vec<ProcessState>>; SHARDS],
}

impl Recycler {
    /// A recycler keeping at most `capacity` instances, each reset by rewriting at most
    /// `keep_resident` bytes; none when `PAGEMAP_SCAN` is not available.
    pub(crate) fn new(capacity: usize, keep_resident: usize) -> Arc<Self> {
        let capacity = if keep_resident > 0 && pagemap().is_some() {
            capacity
        } else {
            0
        };
        let recycler = Arc::new(Self {
            capacity,
            keep_resident,
            kept: AtomicUsize::new(0),
            programs: Mutex::default(),
            vacant: Default::default(),
        });
        if capacity > 0 {
            let weak = Arc::downgrade(&recycler);
            // Without it, a burst's instances stay kept (bounded still): not worth failing.
            let _ = std::thread::Builder::new()
                .name("lunatic-trim".into())
                .spawn(move || loop {
                    std::thread::sleep(TRIM_INTERVAL);
                    let Some(recycler) = weak.upgrade() else {
                        return;
                    };
                    recycler.trim_unused();
                });
        }
        recycler
    }

    /// Drops half (rounded down) of each worker's kept instances of each program where
    /// none was taken or given back since the last call.
    fn trim_unused(&self) {
        let programs: Vec<Arc<Program>> =
            self.programs().iter().filter_map(Weak::upgrade).collect();
        for pool in programs.iter().filter_map(|program| program.recycling()) {
            for shard in &pool.kept {
                let unused = {
                    let mut kept = shard.lock();
                    if std::mem::take(&mut kept.used) {
                        continue;
                    }
                    let (idle, ended) = (kept.idle.len() / 2, kept.ended.len() / 2);
                    // The oldest first: both are taken from the back.
                    let idle: Vec<Recycled> = kept.idle.drain(..idle).collect();
                    let ended: Vec<Ended> = kept.ended.drain(..ended).collect();
                    (idle, ended)
                };
                let dropped = unused.0.len() + unused.1.len();
                if dropped == 0 {
                    continue;
                }
                // Dropped outside the lock.
                drop(unused);
                self.kept.fetch_sub(dropped, Ordering::Relaxed);
                tracing::debug!(
                    target: "lunatic::recycle",
                    "dropped {dropped} kept instances unused for {TRIM_INTERVAL:?}"
                );
            }
        }
    }

    /// Most instances kept.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Instances kept now (or about to be).
    pub(crate) fn kept(&self) -> usize {
        self.kept.load(Ordering::Relaxed)
    }

    /// Takes a place for one more kept instance, if there is room.
    fn reserve(&self) -> bool {
        self.kept
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |kept| {
                (kept < self.capacity).then_some(kept + 1)
            })
            .is_ok()
    }

    /// The programs that have kept instances, those since dropped left out.
    fn programs(&self) -> std::sync::MutexGuard<'_, Vec<Weak<Program>>> {
        let mut programs = self.programs.lock().unwrap_or_else(|e| e.into_inner());
        programs.retain(|program| program.strong_count() > 0);
        programs
    }

    /// A vacant state for the store of a process that ended: one a recycled instance held,
    /// when this worker has one, else a new one.
    pub(crate) fn vacant_state(&self, runtime: &Arc<crate::runtime::Runtime>) -> ProcessState {
        let kept = self.vacant[own_shard()].lock().pop();
        kept.unwrap_or_else(|| ProcessState::vacant(runtime))
    }

    /// Keeps `vacant` for [`Recycler::vacant_state`], if this worker's shard has room.
    fn keep_vacant(&self, vacant: ProcessState) {
        let mut kept = self.vacant[own_shard()].lock();
        if kept.len() < VACANT_KEPT {
            kept.push(vacant);
            return;
        }
        drop(kept);
        // Dropped outside the lock.
        drop(vacant);
    }

    /// Drops one recycled instance, of any program (its pool slot is wanted). Returns
    /// whether there was one.
    pub(crate) fn drop_one(&self) -> bool {
        let programs: Vec<Arc<Program>> =
            self.programs().iter().filter_map(Weak::upgrade).collect();
        for program in programs {
            let Some(pool) = program.recycling() else {
                continue;
            };
            if pool.drop_one() {
                self.kept.fetch_sub(1, Ordering::Relaxed);
                return true;
            }
        }
        false
    }
}

impl Pool {
    pub(crate) fn new(recycler: &Arc<Recycler>) -> Self {
        Self {
            recycler: Arc::clone(recycler),
            pristine: PristineCell::default(),
            kept: Default::default(),
            known: AtomicBool::new(false),
        }
    }

    /// Shares `other`'s pristine state: both programs run the same module.
    pub(crate) fn share_pristine(&mut self, other: &Pool) {
        self.pristine = Arc::clone(&other.pristine);
    }

    /// The shards, this worker's first.
    fn shards(&self) -> impl Iterator<Item = &Shard<Kept>> {
        let own = own_shard();
        (0..SHARDS).map(move |offset| &self.kept[(own + offset) % SHARDS])
    }

    /// A reset instance: a kept one (this worker's first), else one of a batch of ended
    /// ones this resets now, keeping the rest.
    fn pop_kept(&self, pristine: &Pristine) -> Option<Recycled> {
        let idle = self.shards().find_map(|shard| {
            let mut kept = shard.lock();
            let idle = kept.idle.pop()?;
            kept.used = true;
            Some(idle)
        });
        if idle.is_some() {
            return idle;
        }
        let batch = self.shards().find_map(|shard| {
            let mut kept = shard.lock();
            if kept.ended.is_empty() {
                return None;
            }
            kept.used = true;
            Some(std::mem::take(&mut kept.ended))
        })?;
        let mut reset = self.reset(pristine, batch);
        let first = reset.pop();
        let mut own = self.kept[own_shard()].lock();
        own.used = true;
        own.idle.append(&mut reset);
        first
    }

    /// Resets `batch`; those that cannot be reset are dropped.
    fn reset(&self, pristine: &Pristine, batch: Vec<Ended>) -> Vec<Recycled> {
        let keep_resident = self.recycler.keep_resident;
        let before = batch.len();
        let reset: Vec<Recycled> = batch
            .into_iter()
            .filter_map(|ended| pristine.reset(ended, keep_resident))
            .collect();
        self.recycler
            .kept
            .fetch_sub(before - reset.len(), Ordering::Relaxed);
        reset
    }

    /// Drops one kept instance, an ended one first (it needs no reset). Returns whether
    /// there was one.
    fn drop_one(&self) -> bool {
        let ended = self.shards().find_map(|shard| shard.lock().ended.pop());
        if let Some(ended) = ended {
            drop(ended);
            return true;
        }
        let idle = self.shards().find_map(|shard| shard.lock().idle.pop());
        idle.is_some()
    }

    /// Notes what a fresh instance of the program holds, once per module, before any of
    /// its code runs.
    pub(crate) fn observe_fresh(
        &self,
        store: &mut Store<ProcessState>,
        instance: Instance,
        memory: Memory,
    ) {
        if self.recycler.capacity == 0 || self.pristine.get().is_some() {
            return;
        }
        let pristine = Pristine::read(store, instance, memory);
        let _ = self.pristine.set(pristine);
    }

    /// A recycled instance for a new process whose state is `state`, charged to it; `Err`
    /// gives `state` back when there is none (or it cannot be charged).
    // The state is given back by move: boxing it would allocate at every spawn that finds
    // no recycled instance.
    #[allow(clippy::result_large_err)]
    pub(crate) fn take(&self, state: ProcessState) -> Result<Recycled, ProcessState> {
        let Some(Some(pristine)) = self.pristine.get() else {
            return Err(state);
        };
        // Nothing kept by any program (a tree of spawns growing before any process ends):
        // no shard to lock. A place taken a moment ago may be missed; the spawn then makes
        // an instance, as it would have had it come first.
        if self.recycler.kept() == 0 {
            return Err(state);
        }
        let Some(mut recycled) = self.pop_kept(pristine) else {
            return Err(state);
        };
        self.recycler.kept.fetch_sub(1, Ordering::Relaxed);
        let vacant = std::mem::replace(recycled.store.data_mut(), state);
        // The charges instantiation makes, through the same limiter.
        let limits = &mut recycled.store.data_mut().limits;
        let charged = limits
            .memory_growing(0, pristine.memory_bytes, None)
            .unwrap_or(false)
            && pristine
                .table_elements
                .iter()
                .all(|&elements| limits.table_growing(0, elements, None).unwrap_or(false));
        if !charged {
            // A fresh instantiation is refused the same way, with its error; the instance
            // goes with the vacant state.
            limits.refund();
            return Err(std::mem::replace(recycled.store.data_mut(), vacant));
        }
        self.recycler.keep_vacant(vacant);
        tracing::debug!(
            target: "lunatic::recycle",
            "process {} starts in a recycled instance",
            recycled.store.data().handle.id()
        );
        Ok(recycled)
    }

    /// Whether an instance given back now could be kept: the pristine state is known, and
    /// there is room (which this takes, for [`Pool::give_back`]).
    pub(crate) fn reserve(&self) -> bool {
        matches!(self.pristine.get(), Some(Some(_))) && self.recycler.reserve()
    }

    /// Keeps `recycled` (its process ended, its state is vacant, and [`Pool::reserve`]
    /// took its place) for the next process, to be reset with this worker's batch; resets
    /// the batch when it is full. One that cannot be reset is dropped.
    pub(crate) fn give_back(&self, program: &Arc<Program>, recycled: Recycled) {
        let Some(Some(pristine)) = self.pristine.get() else {
            self.recycler.kept.fetch_sub(1, Ordering::Relaxed);
            return;
        };
        if !self.known.swap(true, Ordering::Relaxed) {
            self.recycler.programs().push(Arc::downgrade(program));
        }
        let own = &self.kept[own_shard()];
        let batch = {
            let mut kept = own.lock();
            kept.used = true;
            kept.ended.push(Ended(recycled));
            if kept.ended.len() < RESET_BATCH {
                return;
            }
            std::mem::take(&mut kept.ended)
        };
        let mut reset = self.reset(pristine, batch);
        own.lock().idle.append(&mut reset);
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        for shard in &mut self.kept {
            let kept = shard.0.get_mut().unwrap_or_else(|e| e.into_inner());
            let count = kept.idle.len() + kept.ended.len();
            self.recycler.kept.fetch_sub(count, Ordering::Relaxed);
        }
    }
}

impl Pristine {
    /// What `instance` (fresh, none of its code run) holds; `None` when it cannot be reset
    /// (a global of a type that cannot be written back, tables that cannot be counted).
    fn read(store: &mut Store<ProcessState>, instance: Instance, memory: Memory) -> Option<Self> {
        let program = Arc::clone(&store.data().program);
        let module = program.module();
        let mut globals = Vec::new();
        for export in module.exports() {
            let wasmtime::ExternType::Global(ty) = export.ty() else {
                continue;
            };
            if ty.mutability() != Mutability::Var {
                continue;
            }
            let index = module.get_export_index(export.name())?;
            let Some(Extern::Global(global)) = instance.get_module_export(&mut *store, &index)
            else {
                return None;
            };
            let value = global.get(&mut *store);
            if !matches!(value, Val::I32(_) | Val::I64(_) | Val::F32(_) | Val::F64(_)) {
                return None;
            }
            globals.push((index, value));
        }
        let table_elements = super::preinit::table_sizes(program.bytes())?
            .into_iter()
            .map(usize::try_from)
            .collect::<Result<_, _>>()
            .ok()?;
        let page = page_size();
        let data = memory.data(&*store);
        let pages = (0..)
            .step_by(page)
            .zip(data.chunks(page))
            .filter(|(_, bytes)| bytes.iter().any(|&byte| byte != 0))
            .map(|(offset, bytes)| (offset, Box::from(bytes)))
            .collect();
        Some(Self {
            pages,
            memory_bytes: data.len(),
            table_elements,
            globals,
        })
    }

    /// `ended` set back to this state; `None` when it cannot be (its memory grew, more than
    /// `keep_resident` bytes of it are resident, or the scan failed).
    fn reset(&self, Ended(mut recycled): Ended, keep_resident: usize) -> Option<Recycled> {
        let Recycled {
            store,
            instance,
            memory,
            exports,
        } = &mut recycled;
        if memory.data_size(&*store) != self.memory_bytes {
            return None;
        }
        let written = written_pages(memory.data(&*store), keep_resident)?;
        let page = page_size();
        let data = memory.data_mut(&mut *store);
        for range in written {
            for offset in range.step_by(page) {
                let target = &mut data[offset..offset + page];
                match self.pages.binary_search_by_key(&offset, |(at, _)| *at) {
                    Ok(found) => target.copy_from_slice(&self.pages[found].1),
                    Err(_) => target.fill(0),
                }
            }
        }
        if exports.resettable.is_none() {
            let found = self
                .globals
                .iter()
                .map(|(export, _)| {
                    instance
                        .get_module_export(&mut *store, export)
                        .and_then(Extern::into_global)
                })
                .collect::<Option<_>>()?;
            exports.resettable = Some(found);
        }
        let globals = exports.resettable.as_deref().unwrap_or_default();
        for (global, (_, value)) in globals.iter().zip(&self.globals) {
            global.set(&mut *store, *value).ok()?;
        }
        Some(recycled)
    }
}

// What Linux's `PAGEMAP_SCAN` ioctl (6.7) takes and gives, from `linux/fs.h`.
const PAGEMAP_SCAN: libc::c_ulong = 0xC060_6610;
const PAGE_IS_FILE: u64 = 1 << 2;
const PAGE_IS_PRESENT: u64 = 1 << 3;
const PAGE_IS_SWAPPED: u64 = 1 << 4;
const PAGE_IS_PFNZERO: u64 = 1 << 5;

#[repr(C)]
struct PmScanArg {
    size: u64,
    flags: u64,
    start: u64,
    end: u64,
    walk_end: u64,
    vec: u64,
    vec_len: u64,
    max_pages: u64,
    category_inverted: u64,
    category_mask: u64,
    category_anyof_mask: u64,
    return_mask: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct PageRegion {
    start: u64,
    end: u64,
    categories: u64,
}

/// The host's page size. (Not rustix's: it reads the auxiliary vector in a way valgrind
/// does not survive, and the performance log's method runs the VM under callgrind.)
fn page_size() -> usize {
    static PAGE_SIZE: OnceLock<usize> = OnceLock::new();
    *PAGE_SIZE.get_or_init(|| {
        // SAFETY: `sysconf` reads a constant of the system.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(size).unwrap_or(4096)
    })
}

/// `/proc/self/pagemap`, opened once; `None` when it cannot be opened or does not take
/// `PAGEMAP_SCAN`.
fn pagemap() -> Option<&'static std::fs::File> {
    static PAGEMAP: OnceLock<Option<std::fs::File>> = OnceLock::new();
    PAGEMAP
        .get_or_init(|| {
            let file = std::fs::File::open("/proc/self/pagemap").ok()?;
            // An empty scan tells whether the kernel knows the ioctl.
            scan(&file, 0..0, &mut [], 0).ok()?;
            Some(file)
        })
        .as_ref()
}

/// One `PAGEMAP_SCAN` of `range` for pages holding memory of their own (present or
/// swapped out, neither a file's page nor the shared zero page), at most `max_pages` of
/// them, into `regions`. Returns how many regions it filled and where the walk ended.
fn scan(
    pagemap: &std::fs::File,
    range: Range<usize>,
    regions: &mut [PageRegion],
    max_pages: u64,
) -> std::io::Result<(usize, usize)> {
    use std::os::fd::AsRawFd as _;
    let mut arg = PmScanArg {
        size: std::mem::size_of::<PmScanArg>() as u64,
        flags: 0,
        start: range.start as u64,
        end: range.end as u64,
        walk_end: 0,
        vec: regions.as_mut_ptr() as u64,
        vec_len: regions.len() as u64,
        max_pages,
        category_inverted: PAGE_IS_FILE | PAGE_IS_PFNZERO,
        category_mask: PAGE_IS_FILE | PAGE_IS_PFNZERO,
        category_anyof_mask: PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
        return_mask: PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
    };
    // SAFETY: `arg` is a valid `pm_scan_arg` of the size it states, and `vec` points to
    // `vec_len` writable `page_region`s that outlive the call; the kernel only reads the
    // page tables of the range, it does not touch its memory.
    let filled = unsafe { libc::ioctl(pagemap.as_raw_fd(), PAGEMAP_SCAN, &mut arg) };
    if filled < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((filled as usize, arg.walk_end as usize))
}

/// The page ranges of `memory` (offsets into it) that hold memory of their own: every page
/// written since it was mapped, and those a reset before left resident. `None` when the
/// scan fails or they come to more than `limit` bytes.
fn written_pages(memory: &[u8], limit: usize) -> Option<Vec<Range<usize>>> {
    let pagemap = pagemap()?;
    let page = page_size();
    let base = memory.as_ptr() as usize;
    let end = base + memory.len();
    let max_pages = (limit / page) as u64 + 1;
    let mut regions = [PageRegion::default(); 32];
    let mut written = Vec::new();
    let (mut start, mut pages) = (base, 0u64);
    while start < end {
        let (filled, walk_end) = scan(pagemap, start..end, &mut regions, max_pages - pages).ok()?;
        for region in &regions[..filled] {
            let (from, to) = (region.start as usize, region.end as usize);
            pages += ((to - from) / page) as u64;
            written.push(from - base..to - base);
        }
        if pages >= max_pages || walk_end <= start {
            // Over the limit, or a walk that went nowhere: the rest is unknown.
            return None;
        }
        start = walk_end;
    }
    Some(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_finds_written_pages_and_not_read_ones() {
        if pagemap().is_none() {
            eprintln!("no PAGEMAP_SCAN here: skipped");
            return;
        }
        let page = page_size();
        let len = 32 * page;
        // SAFETY: a new private anonymous mapping, used only as the slice below and
        // unmapped after it.
        let memory = unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(base, libc::MAP_FAILED);
            std::slice::from_raw_parts_mut(base.cast::<u8>(), len)
        };
        std::hint::black_box(memory[5 * page]);
        memory[3 * page + 7] = 1;
        memory[9 * page] = 1;
        memory[10 * page] = 1;
        let written = written_pages(memory, 16 * page).unwrap();
        assert_eq!(written, vec![3 * page..4 * page, 9 * page..11 * page]);
        assert!(written_pages(memory, page).is_none(), "over the limit");
        // SAFETY: the mapping made above, no longer used.
        unsafe { libc::munmap(memory.as_mut_ptr().cast(), len) };
    }
}
