//! Gives the pages of the engine's table pool back to the kernel while processes live.
//!
//! Every process has its own funcref table in a slot of the pool, and the first indirect
//! call of a Rust program writes one of its pages: 4 KiB of the 24 a parked process held.
//! With wasmtime's lazy table initialization (its default, which the engine keeps), an
//! element is either zero, not initialized yet, or the function reference that the
//! module's element segments give it, which `call_indirect` derives from the module and the
//! instance when it finds a zero. When no module of the engine can change a table
//! ([`tables_are_derived`]: no table imported, no instruction that writes one, every
//! active segment a list of functions at a constant offset, no start function), a table's
//! contents are a cache of what the module says:
//!
//! **Invariant.** Zeroing any page of the pool while no guest code runs leaves every table
//! in a state its instance could be in: a zeroed element is initialized again, to the same
//! reference, at its next use, and a free slot is all zeros anyway, which is what wasmtime
//! leaves it as. So the pool is zeroed whole ([`TablePages::reclaim`], `MADV_DONTNEED` over
//! its mapping) without finding any process, and a parked process then holds no table
//! page; one that runs again pays a page fault and re-initializes the elements it uses.
//! (While guest code runs it is not so: wasmtime reads an element back right after it
//! initialized it, and panics if it finds it zero.)
//!
//! Upholding it:
//! - Guest code runs only under the [`GuestCodeGate`], shared: a worker holds it while
//!   awake and lets a waiting reclaim in between two turns, and a pre-initialization holds
//!   it while it runs a module's set-up (a reclaim does not start while one does). A
//!   reclaim takes it whole, about two milliseconds at a time, or gives up until its next
//!   look. Instantiation also happens off the workers (the main process, remote spawns),
//!   which is why a module with a start function is not admitted.
//! - Every module passes [`TablePages::admit`] before it is compiled, so before any instance
//!   of it exists (pre-initialization instantiates one). The first that fails turns
//!   reclaiming off for good, and waits for a reclaim under way, so none overlaps an
//!   instance of that module.
//! - The pool is the mapping wasmtime made for it when the engine was built, confirmed by a
//!   probe ([`TablePages::find`]), or none is used. The `Runtime` that holds this also
//!   holds the engine, so the mapping outlives every reclaim.
//!
//! When: [`Reclaimer`] decides, from how many processes are alive.
// The unsafe items of this module: the `madvise` of a reclaim, the `mincore` of the probe,
// and the test's own mapping.
#![allow(unsafe_code)]

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use wasmparser::{ElementItems, ElementKind, Operator, Payload, TableInit, TypeRef};

/// The most elements wasmtime precomputes a table's initial contents for.
const PRECOMPUTED_ELEMENTS: u64 = 1 << 20;

/// Bytes of the pool one `madvise` zeroes (400 slots of the default tables).
const RECLAIM_CHUNK: usize = 64 << 20;

/// About the longest a reclaim stops guest code at a time.
const MAX_PAUSE: Duration = Duration::from_millis(2);

/// Whether `operator` changes a table, or a segment a table could be filled from.
pub(crate) fn changes_tables(operator: &Operator<'_>) -> bool {
    matches!(
        operator,
        Operator::TableSet { .. }
            | Operator::TableGrow { .. }
            | Operator::TableFill { .. }
            | Operator::TableCopy { .. }
            | Operator::TableInit { .. }
            | Operator::ElemDrop { .. }
    )
}

/// Whether every table of the module `wasm` (binary or WAT) only ever holds what lazy
/// initialization derives from its element segments: tables of nullable functions that
/// start null, none imported, every active element segment a list of function indices at
/// a constant offset inside its table's initial size (wasmtime precomputes exactly those),
/// no instruction that changes a table, and no start function (the only guest code that
/// runs while an instance is made). Anything unexpected answers no.
pub(crate) fn tables_are_derived(wasm: &[u8]) -> bool {
    let binary;
    let wasm = if wasm.starts_with(b"\0asm") {
        wasm
    } else {
        match wat::parse_bytes(wasm) {
            Ok(parsed) => {
                binary = parsed.into_owned();
                &binary
            }
            Err(_) => return false,
        }
    };
    let mut table_sizes = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let derived = match payload {
            Ok(Payload::ImportSection(imports)) => imports
                .into_imports()
                .all(|import| import.is_ok_and(|import| !matches!(import.ty, TypeRef::Table(_)))),
            Ok(Payload::TableSection(tables)) => tables.into_iter().all(|table| {
                table.is_ok_and(|table| {
                    table_sizes.push(table.ty.initial);
                    table.ty.element_type == wasmparser::RefType::FUNCREF
                        && matches!(table.init, TableInit::RefNull)
                })
            }),
            Ok(Payload::ElementSection(elements)) => elements.into_iter().all(|element| {
                element.is_ok_and(|element| match element.kind {
                    ElementKind::Active {
                        table_index,
                        offset_expr,
                    } => {
                        let mut offset = offset_expr.get_operators_reader();
                        let start = match (offset.read(), offset.read()) {
                            (Ok(Operator::I32Const { value }), Ok(Operator::End)) => {
                                u64::from(value.cast_unsigned())
                            }
                            (Ok(Operator::I64Const { value }), Ok(Operator::End)) => {
                                value.cast_unsigned()
                            }
                            _ => return false,
                        };
                        let ElementItems::Functions(functions) = element.items else {
                            return false;
                        };
                        let size = table_sizes.get(table_index.unwrap_or(0) as usize);
                        size.is_some_and(|&size| {
                            start
                                .checked_add(u64::from(functions.count()))
                                .is_some_and(|end| end <= size && end <= PRECOMPUTED_ELEMENTS)
                        })
                    }
                    ElementKind::Passive | ElementKind::Declared => true,
                })
            }),
            Ok(Payload::CodeSectionEntry(body)) => {
                body.get_operators_reader().is_ok_and(|mut ops| {
                    while !ops.eof() {
                        match ops.read() {
                            Ok(op) if !changes_tables(&op) => {}
                            _ => return false,
                        }
                    }
                    true
                })
            }
            // A start function runs while the module is instantiated, which may happen on a
            // thread that holds no share of the gate.
            Ok(
                Payload::StartSection { .. }
                | Payload::ModuleSection { .. }
                | Payload::ComponentSection { .. },
            )
            | Err(_) => false,
            Ok(_) => true,
        };
        if !derived {
            return false;
        }
    }
    true
}

/// Held shared wherever guest code may run, and whole by a reclaim (see the module docs):
/// a lock for each worker, alone on its cache lines (the worker reads it at every turn,
/// and only a reclaim writes it besides the worker's own sleeps), and one for every other
/// thread.
#[derive(Debug, Default)]
pub(crate) struct GuestCodeGate {
    workers: OnceLock<Box<[WorkerLock]>>,
    elsewhere: RwLock<()>,
    /// Shares of `elsewhere` held (pre-initializations): they may run for a second, and do
    /// not let a reclaim in, so a reclaim does not wait for them (the workers would wait
    /// with it).
    held_elsewhere: AtomicUsize,
}

/// A worker's lock.
#[derive(Debug, Default)]
#[repr(align(128))]
struct WorkerLock(RwLock<()>);

/// A thread's share of the [`GuestCodeGate`]: guest code may run while it is held.
pub(crate) struct Running<'a> {
    share: RwLockReadGuard<'a, ()>,
    /// The count of shares of `elsewhere`, for one of those.
    held_elsewhere: Option<&'a AtomicUsize>,
}

/// Guest code stopped: every lock of the gate, held whole.
struct Stopped<'a>(Vec<RwLockWriteGuard<'a, ()>>);

impl GuestCodeGate {
    /// Makes a lock for each of `count` workers (once; they are numbered from 0).
    pub(crate) fn start_workers(&self, count: usize) {
        self.workers
            .get_or_init(|| (0..count).map(|_| WorkerLock::default()).collect());
    }

    /// Worker `index`'s share, which it lets a reclaim pass between two turns.
    ///
    /// # Panics
    /// If the workers' locks were not made ([`GuestCodeGate::start_workers`]).
    pub(crate) fn worker_share(&self, index: usize) -> Running<'_> {
        let workers = self
            .workers
            .get()
            .expect("the workers' locks are made first");
        Running {
            share: workers[index].0.read(),
            held_elsewhere: None,
        }
    }

    /// A share for a thread that is no worker, for as long as it runs guest code (at once
    /// if this thread holds one already).
    pub(crate) fn running(&self) -> Running<'_> {
        self.held_elsewhere.fetch_add(1, Ordering::SeqCst);
        Running {
            share: self.elsewhere.read_recursive(),
            held_elsewhere: Some(&self.held_elsewhere),
        }
    }

    /// Every lock whole, waiting up to `wait` for each; `None` when a thread that is no
    /// worker holds a share, or a worker did not let the reclaim in in time.
    fn stop(&self, wait: Duration) -> Option<Stopped<'_>> {
        if self.held_elsewhere.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let workers = self.workers.get().map_or(&[][..], |workers| &workers[..]);
        let mut held = Vec::with_capacity(workers.len() + 1);
        held.push(self.elsewhere.try_write_for(wait)?);
        for worker in workers {
            held.push(worker.0.try_write_for(wait)?);
        }
        Some(Stopped(held))
    }
}

impl Stopped<'_> {
    /// Lets guest code run again, handing each lock to the threads that wait for it.
    fn resume(self) {
        for lock in self.0 {
            RwLockWriteGuard::unlock_fair(lock);
        }
    }
}

impl Running<'_> {
    /// Lets a reclaim that waits run now: call it where this thread runs no guest code.
    /// Costs one load when none waits.
    pub(crate) fn let_reclaim_in(&mut self) {
        RwLockReadGuard::bump(&mut self.share);
    }

    /// Runs `idle`, in which this thread runs no guest code, without the share.
    pub(crate) fn set_aside<T>(&mut self, idle: impl FnOnce() -> T) -> T {
        RwLockReadGuard::unlocked(&mut self.share, idle)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Some(held) = self.held_elsewhere {
            held.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// What a reclaim did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reclaimed {
    /// The pool's pages went back to the kernel.
    Done,
    /// Guest code kept running past the wait, or a pre-initialization runs: not done, try
    /// again later.
    Busy,
    /// Reclaiming is off for good (no pool, or a module that changes its tables).
    Off,
}

/// The table pool of one engine, and whether its pages may be zeroed (see the module docs).
#[derive(Debug)]
pub(crate) struct TablePages {
    /// The pool's mapping; `None` when it was not found, and nothing is reclaimed.
    pool: Option<Range<usize>>,
    /// Whether every module admitted so far leaves its tables as lazy initialization
    /// makes them. Once false, false for good.
    derived: AtomicBool,
    gate: Arc<GuestCodeGate>,
}

impl TablePages {
    /// Runs `build_engine`, which makes a pool of `slots` tables of `table_elements`
    /// elements each beside a pool of fiber stacks of `stack_size` bytes, and finds the
    /// table pool's mapping ([`mapping_made_by`]), confirmed by a probe ([`confirmed`]);
    /// without both, the pool's pages are kept.
    pub(crate) fn find(
        slots: u32,
        table_elements: usize,
        stack_size: usize,
        build_engine: impl FnOnce() -> wasmtime::Result<wasmtime::Engine>,
    ) -> wasmtime::Result<(wasmtime::Engine, Self)> {
        let page = rustix::param::page_size();
        let slot = (table_elements * size_of::<usize>()).next_multiple_of(page);
        let stack = stack_size.next_multiple_of(page);
        let (engine, pool) = mapping_made_by(slot * slots as usize, stack, build_engine)?;
        let pool = pool.filter(|pool| confirmed(&engine, pool, slot));
        match &pool {
            Some(pool) => tracing::debug!(
                target: "lunatic::reclaim",
                "the table pool is the mapping at {:#x}, {} bytes",
                pool.start,
                pool.len()
            ),
            None => tracing::debug!(
                target: "lunatic::reclaim",
                "the table pool's mapping was not found: its pages are not reclaimed"
            ),
        }
        let pages = Self {
            pool,
            derived: AtomicBool::new(true),
            gate: Arc::default(),
        };
        Ok((engine, pages))
    }

    /// Nothing to reclaim (an engine without a pool).
    pub(crate) fn none() -> Self {
        Self {
            pool: None,
            derived: AtomicBool::new(false),
            gate: Arc::default(),
        }
    }

    /// The gate every thread that runs guest code of this engine's processes holds.
    pub(crate) fn gate(&self) -> &Arc<GuestCodeGate> {
        &self.gate
    }

    /// Checks the module `wasm` before the engine compiles it: one whose tables are not
    /// all derived ([`tables_are_derived`]) turns reclaiming off for good, once a reclaim
    /// under way is done.
    pub(crate) fn admit(&self, wasm: &[u8]) {
        if !self.reclaims() || tables_are_derived(wasm) {
            return;
        }
        self.derived.store(false, Ordering::SeqCst);
        drop(self.gate.running());
        tracing::debug!(
            target: "lunatic::reclaim",
            "a module changes its tables: table pages are no longer reclaimed"
        );
    }

    /// Whether [`TablePages::reclaim`] may give pages back.
    pub(crate) fn reclaims(&self) -> bool {
        self.pool.is_some() && self.derived.load(Ordering::SeqCst)
    }

    /// Zeroes the whole pool, giving its pages back to the kernel, while no guest code
    /// runs: in pieces of [`RECLAIM_CHUNK`] bytes, stopping guest code for about
    /// [`MAX_PAUSE`] at a time, and waiting up to `wait` each time for the threads that run
    /// it to let the reclaim in (a reclaim that gives up is tried again whole).
    pub(crate) fn reclaim(&self, wait: Duration) -> Reclaimed {
        let Some(pool) = &self.pool else {
            return Reclaimed::Off;
        };
        let mut next = pool.start;
        while next < pool.end {
            let Some(stopped) = self.gate.stop(wait) else {
                return Reclaimed::Busy;
            };
            if !self.derived.load(Ordering::SeqCst) {
                return Reclaimed::Off;
            }
            let paused = Instant::now();
            while next < pool.end && paused.elapsed() < MAX_PAUSE {
                let end = (next + RECLAIM_CHUNK).min(pool.end);
                // SAFETY: `next..end` is part of the table pool's mapping, which lives as
                // long as the engine the owner of `self` holds; with no guest code running
                // and every module's tables derived, zeroing its pages keeps every table
                // valid (module docs).
                let zeroed = unsafe {
                    libc::madvise(next as *mut libc::c_void, end - next, libc::MADV_DONTNEED)
                };
                if zeroed != 0 {
                    return Reclaimed::Off;
                }
                next = end;
            }
            // The workers waiting for the gate run before the next piece.
            stopped.resume();
        }
        Reclaimed::Done
    }
}

/// Runs `build`, which makes the table pool (`len` bytes) right before a pool of fiber
/// stacks of `stack` bytes each, and finds the pool's mapping among the anonymous
/// read-write mappings that were not there before: one of exactly the pool's size, or one
/// a fiber stack's size longer whose page below is inaccessible, less a mapping that was
/// there before and ends where it ends. Linux merges adjacent mappings alike: wasmtime maps
/// the stacks after the tables, each mapping goes below the last, and the topmost stack
/// (its guard page is at its bottom) joins the table pool's mapping, as may a mapping
/// above it. Anything else (two candidates, when another runtime is built at the same
/// time) finds nothing.
fn mapping_made_by<T, E>(
    len: usize,
    stack: usize,
    build: impl FnOnce() -> Result<T, E>,
) -> Result<(T, Option<Range<usize>>), E> {
    let before = anonymous_mappings(0);
    let built = build()?;
    // Only the long ones after: the stack pool adds two maps a slot.
    let pool = before
        .zip(anonymous_mappings(len))
        .and_then(|(before, after)| {
            let mut found = after.iter().filter_map(|new| {
                if !new.writable || before.iter().any(|old| old.range == new.range) {
                    return None;
                }
                // A mapping that was there before, merged in at the top.
                let end = before
                    .iter()
                    .find(|old| {
                        old.writable
                            && old.range.end == new.range.end
                            && old.range.start > new.range.start
                    })
                    .map_or(new.range.end, |old| old.range.start);
                if end - new.range.start == len {
                    Some(new.range.start..end)
                } else if end - new.range.start == len + stack && new.below_inaccessible {
                    Some(new.range.start + stack..end)
                } else {
                    None
                }
            });
            match (found.next(), found.next()) {
                (Some(pool), None) => Some(pool),
                _ => None,
            }
        });
    Ok((built, pool))
}

/// A module of one table and no code (nothing to compile).
const PROBE: &str = r#"(module (table (export "table") 1 funcref))"#;

/// Whether `pool` is the table pool of `engine`, whose slots are `slot` bytes: after an
/// instance of [`PROBE`] has its table's element 0 written, exactly one of the pool's
/// pages is resident, at the start of a slot.
fn confirmed(engine: &wasmtime::Engine, pool: &Range<usize>, slot: usize) -> bool {
    // One look over the pool, after: a pool that had a resident page before has two.
    let probe = || -> wasmtime::Result<Option<Vec<usize>>> {
        let module = wasmtime::Module::new(engine, PROBE)?;
        let mut store = wasmtime::Store::new(engine, ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[])?;
        let table = instance
            .get_table(&mut store, "table")
            .ok_or_else(|| wasmtime::format_err!("the probe exports its table"))?;
        table.set(&mut store, 0, wasmtime::Ref::Func(None))?;
        Ok(resident_pages(pool, 2))
    };
    matches!(probe(), Ok(Some(pages)) if pages.len() == 1 && (pages[0] - pool.start).is_multiple_of(slot))
}

/// The addresses of the first `most` pages of `range` that are resident; `None` when the
/// kernel does not say.
fn resident_pages(range: &Range<usize>, most: usize) -> Option<Vec<usize>> {
    const CHUNK_PAGES: usize = 1 << 16;
    let page = rustix::param::page_size();
    let mut found = Vec::new();
    let mut residency = vec![0u8; CHUNK_PAGES];
    let mut at = range.start;
    while at < range.end && found.len() < most {
        let len = (range.end - at).min(CHUNK_PAGES * page);
        // SAFETY: `at..at + len` lies in a mapping of this process, and `residency` holds a
        // byte for each of its pages.
        let asked = unsafe { libc::mincore(at as *mut libc::c_void, len, residency.as_mut_ptr()) };
        if asked != 0 {
            return None;
        }
        found.extend(
            residency[..len / page]
                .iter()
                .enumerate()
                .filter(|(_, byte)| **byte & 1 != 0)
                .map(|(index, _)| at + index * page),
        );
        at += len;
    }
    found.truncate(most);
    Some(found)
}

/// An anonymous private mapping of this process.
struct Mapping {
    range: Range<usize>,
    /// Readable and writable (else inaccessible, or something between).
    writable: bool,
    /// Whether the mapping right below it is an inaccessible one.
    below_inaccessible: bool,
}

/// The anonymous private mappings of this process at least `min_len` bytes long, in
/// address order; `None` when `/proc/self/maps` cannot be read. Read a line at a time: with
/// a million processes' fiber stacks it has two million lines.
fn anonymous_mappings(min_len: usize) -> Option<Vec<Mapping>> {
    use std::io::BufRead as _;
    let maps = std::io::BufReader::new(std::fs::File::open("/proc/self/maps").ok()?);
    let mut found = Vec::new();
    let mut inaccessible_end = None;
    for line in maps.lines() {
        let line = line.ok()?;
        // start-end perms offset dev inode [path]
        let mut fields = line.split_ascii_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let range = usize::from_str_radix(start, 16).ok()?..usize::from_str_radix(end, 16).ok()?;
        let perms = fields.next()?;
        let anonymous = perms.ends_with('p')
            && fields.next() == Some("00000000")
            && fields.next().is_some()
            && fields.next() == Some("0")
            && fields.next().is_none();
        if anonymous && range.len() >= min_len {
            found.push(Mapping {
                below_inaccessible: inaccessible_end == Some(range.start),
                writable: perms == "rw-p",
                range: range.clone(),
            });
        }
        inaccessible_end = (perms == "---p").then_some(range.end);
    }
    Some(found)
}

/// When to reclaim: when the processes alive grew by [`Reclaimer::GROWTH`] since the
/// fewest seen after the last reclaim (a burst of spawns), and every `period` otherwise.
/// A reclaim costs each process that runs afterwards a page fault and its elements'
/// re-initialization (a few microseconds), and saves 4 KiB for each that does not.
#[derive(Debug)]
pub(crate) struct Reclaimer {
    period: Duration,
    /// When the last reclaim was done (when the runtime started, before the first).
    last: Instant,
    /// Whether one was done yet: the first after a burst need not wait for the gap.
    reclaimed: bool,
    fewest_alive: usize,
}

impl Reclaimer {
    /// Growth in processes alive that reclaims at once...
    pub(crate) const GROWTH: usize = 8_192;
    /// ...if the last reclaim is this long ago (a guest that keeps spawning and ending
    /// processes cannot make reclaims, which pause every worker, come more often).
    pub(crate) const GROWTH_GAP: Duration = Duration::from_secs(2);

    pub(crate) fn new(period: Duration, now: Instant) -> Self {
        Self {
            period,
            last: now,
            reclaimed: false,
            fewest_alive: 0,
        }
    }

    /// Whether to reclaim now, with `alive` processes.
    pub(crate) fn due(&mut self, alive: usize, now: Instant) -> bool {
        self.fewest_alive = self.fewest_alive.min(alive);
        let since = now.duration_since(self.last);
        let gap_kept = !self.reclaimed || since >= Self::GROWTH_GAP;
        (alive >= self.fewest_alive + Self::GROWTH && gap_kept) || since >= self.period
    }

    /// Counts a reclaim done now, with `alive` processes.
    pub(crate) fn done(&mut self, alive: usize, now: Instant) {
        self.last = now;
        self.reclaimed = true;
        self.fewest_alive = alive;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(wat: &str) -> bool {
        tables_are_derived(wat.as_bytes())
    }

    #[test]
    fn tables_filled_by_constant_segments_are_derived() {
        assert!(derived(
            r#"(module (table 4 funcref) (func $f) (elem (i32.const 1) func $f $f)
                 (func (call_indirect (i32.const 1))))"#
        ));
        assert!(derived("(module (memory 1))"));
    }

    #[test]
    fn tables_a_module_changes_or_imports_are_not_derived() {
        for wat in [
            "(module (table 2 funcref) (func (table.set (i32.const 0) (ref.null func))))",
            "(module (table 2 funcref) (func (drop (table.grow (ref.null func) (i32.const 1)))))",
            "(module (table 2 funcref) (func (table.fill (i32.const 0) (ref.null func) (i32.const 1))))",
            "(module (table 2 funcref) (func (table.copy (i32.const 0) (i32.const 1) (i32.const 1))))",
            "(module (table 2 funcref) (func $f) (elem func $f) (func (table.init 0 (i32.const 0) (i32.const 0) (i32.const 1))))",
            r#"(module (import "env" "t" (table 2 funcref)))"#,
            r#"(module (import "env" "g" (global i32)) (table 2 funcref) (func $f) (elem (global.get 0) func $f))"#,
            "(module (table 2 funcref) (func $f) (elem (i32.const 1) func $f $f))",
            "(module (table 2 funcref) (func $f) (elem (i32.const 0) funcref (ref.func $f)))",
            "(module (table 2 externref))",
            "(module (table 1 funcref) (func $f) (elem (i32.const 0) func $f) (start $f))",
            "not wasm",
        ] {
            assert!(!derived(wat), "{wat}");
        }
    }

    #[test]
    fn a_reclaim_is_due_after_growth_or_a_period() {
        let start = Instant::now();
        let mut reclaimer = Reclaimer::new(Duration::from_secs(30), start);
        let mut due = |alive, at| {
            let due = reclaimer.due(alive, at);
            if due {
                reclaimer.done(alive, at);
            }
            due
        };
        let gap = Reclaimer::GROWTH_GAP;
        assert!(!due(Reclaimer::GROWTH - 1, start));
        // The first growth reclaim waits for no gap.
        let first = start + Duration::from_millis(1);
        assert!(due(Reclaimer::GROWTH, first));
        // Growth counts from the fewest alive since, and waits for the gap.
        let later = first + gap;
        assert!(!due(Reclaimer::GROWTH + 10, later));
        assert!(!due(10, later));
        assert!(!due(
            Reclaimer::GROWTH + 10,
            later - Duration::from_millis(1)
        ));
        assert!(due(Reclaimer::GROWTH + 10, later));
        assert!(!due(
            Reclaimer::GROWTH + 10,
            later + Duration::from_secs(29)
        ));
        assert!(due(Reclaimer::GROWTH + 10, later + Duration::from_secs(30)));
    }

    #[test]
    fn a_fresh_anonymous_mapping_is_found_by_its_length() {
        let page = rustix::param::page_size();
        let len = page * 777;
        let (at, pool) = mapping_made_by(len, page, || {
            // A read-write mapping between two inaccessible pages, so that the kernel
            // cannot merge it with a neighbour. SAFETY: a fresh mapping, unmapped below.
            let at = unsafe {
                let at = libc::mmap(
                    std::ptr::null_mut(),
                    len + 2 * page,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                assert_ne!(at, libc::MAP_FAILED);
                let inner = at.cast::<u8>().add(page).cast();
                assert_eq!(
                    libc::mprotect(inner, len, libc::PROT_READ | libc::PROT_WRITE),
                    0
                );
                inner as usize
            };
            Ok::<_, ()>(at)
        })
        .unwrap();
        assert_eq!(pool, Some(at..at + len));
        // SAFETY: the mapping made above, with its two inaccessible pages.
        unsafe { libc::munmap((at - page) as *mut libc::c_void, len + 2 * page) };
    }
}
