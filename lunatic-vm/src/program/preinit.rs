//! Pre-initialization: a module's set-up runs once, and its memory becomes the image every
//! process of the module starts from.
//!
//! The guest library exports [`PREINIT_EXPORT`], which does what every process would
//! otherwise do first (install the panic hook that reports panics to the host, make
//! standard output's buffer, work out the message type every misread compares with). Done
//! in each process, its writes would copy a page of the memory image and make the kernel
//! allocate a page table for the process's memory: a large share of what a parked process
//! costs. Instead, when a module is loaded:
//!
//! | step | what |
//! |---|---|
//! | 1 | the compiled module is instantiated in a scratch store whose imports all trap, with a time limit |
//! | 2 | its `lunatic_preinit` runs |
//! | 3 | the memory's non-zero bytes become the module's data segments, and the export is removed |
//! | 4 | that module is compiled (and cached) and every process is instantiated from it |
//!
//! The rewrite also exports the module's table as [`TABLE_EXPORT`] when its element 0
//! starts null (as in every Rust module). A process's first indirect call reads its table
//! (on a fresh pool slot the kernel maps the zero page) and then fills the element in, and
//! replacing a mapped page makes the kernel flush it from every core's TLB, an interrupt
//! to each (see docs/performance.md). The runtime writes a null to element 0 when it spawns a process, so the page
//! is written before it is read ([`table_export`]).
//!
//! And when the module exports [`RECEIVE_WAITED_EXPORT`] (the guest library does: a function
//! of no parameters returning `i32`), the rewrite adds a mutable `i32` global, exports it as
//! [`RECEIVE_WAITED_GLOBAL`], and makes that function's body read it. The runtime keeps
//! in it whether the process's last plain receive waited, and the guest's next plain
//! receive suspends at once if so, without first asking for a queued message it would
//! not find: one host call fewer a message in a round trip (`host::message`). The body
//! the guest compiled calls the host for the same answer, so a module left as it was
//! still works, one call slower.
//!
//! When a module cannot be snapshotted (a text module, an imported or second memory, an
//! initial memory over 16 MiB, passive or computed data segments, a set-up that traps,
//! calls the host, grows memory or runs too long), it keeps the export, and the runtime
//! calls it at the start of each process instead: the same state, at the old cost.

use std::time::Instant;

use wasmparser::{BinaryReader, DataKind, ElementKind, Operator, TableInit};
use wasmtime::{Engine, ExternType, Linker, Module, ModuleExport, Mutability, Store};

pub(crate) use lunatic_abi::PREINIT_EXPORT;
use lunatic_abi::RECEIVE_WAITED_EXPORT;

/// Epochs (preemption intervals) the set-up may run before it is given up on.
const SETUP_EPOCHS: u64 = 1_000;
/// Fuel for the set-up on a metered engine (one unit per instruction).
const SETUP_FUEL: u64 = 1 << 32;
/// Largest initial memory snapshotted (a Rust program starts with about 1 MiB): the
/// snapshot copies the whole memory once, and a hostile module must not make loading it
/// cost hundreds of MiB.
const MAX_SNAPSHOT_BYTES: u64 = 16 << 20;
/// Zero bytes between two non-zero runs of memory below which they share a data segment
/// (each segment costs a few bytes of header).
const SEGMENT_GAP: usize = 64;

/// Why a module is not pre-initialized (its processes then set themselves up).
#[derive(Debug, thiserror::Error)]
enum NotSnapshotted {
    #[error("not a binary core module")]
    NotACoreModule,
    #[error("malformed: {0}")]
    Malformed(#[from] wasmparser::BinaryReaderError),
    #[error("no memory is defined")]
    NoMemory,
    #[error("it defines more than one memory")]
    SeveralMemories,
    #[error("its memory is 64-bit or shared")]
    UnusualMemory,
    #[error("it has no data section")]
    NoData,
    #[error("it has passive data segments")]
    PassiveData,
    #[error("a data segment's offset is not a constant")]
    DataOffsetNotConstant,
    #[error("its initial memory is larger than {max} MiB", max = MAX_SNAPSHOT_BYTES >> 20)]
    MemoryTooLarge,
    #[error("its memory is imported")]
    MemoryImported,
    #[error("cannot link: {0}")]
    Link(wasmtime::Error),
    #[error("cannot instantiate: {0}")]
    Instantiate(wasmtime::Error),
    #[error("{export}: {0}", export = PREINIT_EXPORT)]
    NoSetup(wasmtime::Error),
    #[error("{export} failed: {cause}", export = PREINIT_EXPORT, cause = .0.root_cause())]
    SetupFailed(wasmtime::Error),
    #[error("the memory is not exported as `memory`")]
    MemoryNotExported,
    #[error("the memory is not its declared initial size")]
    MemoryResized,
}

/// The export the rewrite adds for the module's table, whose element 0 starts null.
pub(crate) const TABLE_EXPORT: &str = "lunatic_table";

/// The export the rewrite adds for the global [`RECEIVE_WAITED_EXPORT`] reads.
pub(crate) const RECEIVE_WAITED_GLOBAL: &str = "lunatic_receive_waited_global";

/// The export the rewrite adds (another name for the memory) when every process of the
/// module can be reset to its start by rewriting its memory and its mutable globals: it
/// has no start function, imports no global, table or memory, and no instruction of its
/// code writes a table or drops a segment; the rewrite then exports every mutable global
/// (as [`GLOBAL_EXPORT_PREFIX`] and its index). See `program::recycle`.
pub(crate) const RESETTABLE_EXPORT: &str = "lunatic_resettable";

/// The name the rewrite exports a mutable global under, followed by its index.
const GLOBAL_EXPORT_PREFIX: &str = "lunatic_global_";

/// Ids of the module sections this reads or rewrites (the binary format's numbering).
const START_SECTION: u8 = 8;
const GLOBAL_SECTION: u8 = 6;
const CODE_SECTION: u8 = 10;
const TABLE_SECTION: u8 = 4;
const ELEMENT_SECTION: u8 = 9;
const EXPORT_SECTION: u8 = 7;
const DATA_SECTION: u8 = 11;
const DATA_COUNT_SECTION: u8 = 12;
const MEMORY_SECTION: u8 = 5;

/// Whether `module` exports the set-up function (a function of no parameters and results).
pub(crate) fn has_setup(module: &Module) -> bool {
    matches!(
        module.get_export(PREINIT_EXPORT),
        Some(ExternType::Func(ty)) if ty.params().len() == 0 && ty.results().len() == 0
    )
}

/// The table a process's spawn writes element 0 of (a null, which it already is): the
/// [`TABLE_EXPORT`] of `module` when the rewrite added it, that is when `original`, the
/// bytes `module` was made from, does not export that name itself.
pub(crate) fn table_export(module: &Module, original: &[u8]) -> Option<ModuleExport> {
    if !matches!(module.get_export(TABLE_EXPORT), Some(ExternType::Table(_))) {
        return None;
    }
    let sections = Sections::parse(original).ok()?;
    if sections.exports(TABLE_EXPORT) {
        return None;
    }
    module.get_export_index(TABLE_EXPORT)
}

/// The global a process's runtime keeps whether its last plain receive waited in: the
/// [`RECEIVE_WAITED_GLOBAL`] export of `module`, if it is a mutable `i32` global. (A module
/// that exports one under that name itself has it written, as its own business.)
pub(crate) fn receive_waited_export(module: &Module) -> Option<ModuleExport> {
    match module.get_export(RECEIVE_WAITED_GLOBAL) {
        Some(ExternType::Global(global))
            if global.content().is_i32() && global.mutability() == Mutability::Var =>
        {
            module.get_export_index(RECEIVE_WAITED_GLOBAL)
        }
        _ => None,
    }
}

/// Whether the rewrite marked `module` as one whose processes can be reset to its start
/// ([`RESETTABLE_EXPORT`]), that is when `original`, the bytes `module` was made from, does
/// not export that name itself.
pub(crate) fn resettable(module: &Module, original: &[u8]) -> bool {
    matches!(
        module.get_export(RESETTABLE_EXPORT),
        Some(ExternType::Memory(_))
    ) && Sections::parse(original).is_ok_and(|sections| !sections.exports(RESETTABLE_EXPORT))
}

/// The initial sizes of the tables `bytes` (a binary module) defines, in order; `None` when
/// they cannot be read.
pub(crate) fn table_sizes(bytes: &[u8]) -> Option<Vec<u64>> {
    let sections = Sections::parse(bytes).ok()?;
    let Some(tables) = sections.section(TABLE_SECTION) else {
        return Some(Vec::new());
    };
    wasmparser::TableSectionReader::new(BinaryReader::new(tables, 0))
        .ok()?
        .into_iter()
        .map(|table| table.ok().map(|table| table.ty.initial))
        .collect()
}

/// The bytes of `module` (compiled from `bytes` on `engine`) with its memory as the
/// set-up leaves it and without the set-up export; `None` when the module has no set-up
/// or cannot be snapshotted (see the module docs). Never fails: whatever goes wrong leaves
/// the module as it was, and is logged at `debug`.
pub(crate) fn snapshot(engine: &Engine, module: &Module, bytes: &[u8]) -> Option<Vec<u8>> {
    if !has_setup(module) {
        return None;
    }
    let started = Instant::now();
    match try_snapshot(engine, module, bytes) {
        Ok((snapshot, additions)) => {
            tracing::debug!(
                target: "lunatic::preinit",
                "module pre-initialized in {:?} ({} -> {} bytes; its table {}; {})",
                started.elapsed(),
                bytes.len(),
                snapshot.len(),
                if additions.table {
                    "exported, written at each spawn"
                } else {
                    "left unexported"
                },
                if additions.receive_waited.is_some() {
                    "its receive hint reads a global"
                } else {
                    "no receive hint"
                }
            );
            Some(snapshot)
        }
        Err(reason) => {
            tracing::debug!(target: "lunatic::preinit", "module not pre-initialized, each process sets itself up: {reason}");
            None
        }
    }
}

/// What the rewrite adds besides the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Additions {
    /// Export table 0 as [`TABLE_EXPORT`].
    table: bool,
    /// Give [`RECEIVE_WAITED_EXPORT`] a global to read.
    receive_waited: Option<ReceiveWaited>,
    /// When the module is resettable, the indices of its mutable globals, to export (and
    /// [`RESETTABLE_EXPORT`] with them).
    resettable: Option<Vec<u32>>,
}

/// Where [`RECEIVE_WAITED_EXPORT`]'s body and the global it will read are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReceiveWaited {
    /// Index of the function's body in the code section.
    body: u32,
    /// Index the added global gets (after every imported and defined one).
    global: u32,
}

/// Where the rewrite can give [`RECEIVE_WAITED_EXPORT`] a global, if `module` (made from
/// `sections`) exports it as a defined function of no parameters returning `i32`, defines
/// globals, and does not export [`RECEIVE_WAITED_GLOBAL`] itself.
fn receive_waited(module: &Module, sections: &Sections<'_>) -> Option<ReceiveWaited> {
    let Some(ExternType::Func(ty)) = module.get_export(RECEIVE_WAITED_EXPORT) else {
        return None;
    };
    let returns_i32 = ty.params().len() == 0
        && ty.results().len() == 1
        && ty.results().all(|result| result.is_i32());
    if !returns_i32 || sections.exports(RECEIVE_WAITED_GLOBAL) {
        return None;
    }
    let (mut imported_functions, mut imported_globals) = (0, 0);
    for import in module.imports() {
        match import.ty() {
            ExternType::Func(_) => imported_functions += 1,
            ExternType::Global(_) => imported_globals += 1,
            _ => {}
        }
    }
    let function = sections.exported_function(RECEIVE_WAITED_EXPORT)?;
    let globals = sections.section(GLOBAL_SECTION)?;
    let defined_globals = wasmparser::GlobalSectionReader::new(BinaryReader::new(globals, 0))
        .ok()?
        .count();
    Some(ReceiveWaited {
        body: function.checked_sub(imported_functions)?,
        global: imported_globals + defined_globals,
    })
}

/// The snapshot, and what the rewrite added.
fn try_snapshot(
    engine: &Engine,
    module: &Module,
    bytes: &[u8],
) -> Result<(Vec<u8>, Additions), NotSnapshotted> {
    let sections = Sections::parse(bytes)?;
    let layout = sections.memory_layout()?;
    if layout.initial_pages * (64 << 10) > MAX_SNAPSHOT_BYTES {
        return Err(NotSnapshotted::MemoryTooLarge);
    }
    if module
        .imports()
        .any(|import| matches!(import.ty(), ExternType::Memory(_)))
    {
        return Err(NotSnapshotted::MemoryImported);
    }
    let memory = run_setup(engine, module, layout.initial_pages)?;
    let additions = Additions {
        table: !module
            .imports()
            .any(|import| matches!(import.ty(), ExternType::Table(_)))
            && sections.first_element_starts_null()
            && !sections.exports(TABLE_EXPORT),
        receive_waited: receive_waited(module, &sections),
        resettable: sections.mutable_globals_if_resettable(module),
    };
    Ok((sections.rewrite(&memory, &additions)?, additions))
}

/// Instantiates `module` where every import traps, runs its set-up, and returns the whole
/// memory it leaves.
fn run_setup(
    engine: &Engine,
    module: &Module,
    initial_pages: u64,
) -> Result<Vec<u8>, NotSnapshotted> {
    let mut linker = Linker::<InitialSizes>::new(engine);
    linker
        .define_unknown_imports_as_traps(module)
        .map_err(NotSnapshotted::Link)?;
    let mut store = Store::new(engine, InitialSizes);
    store.limiter(|limits| limits);
    store.set_epoch_deadline(SETUP_EPOCHS);
    // Only a metered engine counts fuel; elsewhere this is refused, and not needed.
    let _ = store.set_fuel(SETUP_FUEL);
    let instance = linker
        .instantiate(&mut store, module)
        .map_err(NotSnapshotted::Instantiate)?;
    let setup = instance
        .get_typed_func::<(), ()>(&mut store, PREINIT_EXPORT)
        .map_err(NotSnapshotted::NoSetup)?;
    setup
        .call(&mut store, ())
        .map_err(NotSnapshotted::SetupFailed)?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or(NotSnapshotted::MemoryNotExported)?;
    let data = memory.data(&store);
    if data.len() as u64 != initial_pages * (64 << 10) {
        return Err(NotSnapshotted::MemoryResized);
    }
    Ok(data.to_vec())
}

/// Lets memories and tables be created at their initial sizes and traps any growth: the
/// snapshot records memory contents, not sizes, and the set-up of a hostile module must
/// not take more than its declared memory.
struct InitialSizes;

impl wasmtime::ResourceLimiter for InitialSizes {
    fn memory_growing(
        &mut self,
        current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        initial_only(current, "the memory")
    }

    fn table_growing(
        &mut self,
        current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        initial_only(current, "a table")
    }
}

/// Allows the creation of a memory or table (from size 0) and traps any later growth.
fn initial_only(current: usize, what: &str) -> wasmtime::Result<bool> {
    if current == 0 {
        Ok(true)
    } else {
        wasmtime::bail!("{PREINIT_EXPORT} grew {what}")
    }
}

/// The sections of a binary module, in order, as `(id, content)`.
struct Sections<'a> {
    sections: Vec<(u8, &'a [u8])>,
}

/// What the snapshot needs to know of the module's one memory.
struct MemoryLayout {
    initial_pages: u64,
}

impl<'a> Sections<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, NotSnapshotted> {
        const HEADER: &[u8] = b"\0asm\x01\0\0\0";
        if !bytes.starts_with(HEADER) {
            return Err(NotSnapshotted::NotACoreModule);
        }
        let mut reader = BinaryReader::new(&bytes[HEADER.len()..], HEADER.len());
        let mut sections = Vec::new();
        while !reader.eof() {
            let id = reader.read_u8()?;
            let size = reader.read_var_u32()?;
            sections.push((id, reader.read_bytes(size as usize)?));
        }
        Ok(Self { sections })
    }

    fn section(&self, id: u8) -> Option<&'a [u8]> {
        self.sections
            .iter()
            .find(|(section, _)| *section == id)
            .map(|(_, content)| *content)
    }

    /// Checks that the module defines one 32-bit memory that only constant active data
    /// segments initialize.
    fn memory_layout(&self) -> Result<MemoryLayout, NotSnapshotted> {
        let memories = self
            .section(MEMORY_SECTION)
            .ok_or(NotSnapshotted::NoMemory)?;
        let memories = wasmparser::MemorySectionReader::new(BinaryReader::new(memories, 0))?;
        if memories.count() != 1 {
            return Err(NotSnapshotted::SeveralMemories);
        }
        let memory = memories
            .into_iter()
            .next()
            .ok_or(NotSnapshotted::NoMemory)??;
        if memory.memory64 || memory.shared {
            return Err(NotSnapshotted::UnusualMemory);
        }
        let data = self.section(DATA_SECTION).ok_or(NotSnapshotted::NoData)?;
        let data = wasmparser::DataSectionReader::new(BinaryReader::new(data, 0))?;
        for segment in data {
            let DataKind::Active {
                memory_index: 0,
                offset_expr,
            } = segment?.kind
            else {
                return Err(NotSnapshotted::PassiveData);
            };
            let mut operators = offset_expr.get_operators_reader();
            let constant = matches!(operators.read(), Ok(Operator::I32Const { .. }))
                && matches!(operators.read(), Ok(Operator::End));
            if !constant {
                return Err(NotSnapshotted::DataOffsetNotConstant);
            }
        }
        Ok(MemoryLayout {
            initial_pages: memory.initial,
        })
    }

    /// Whether the export section exports something named `name`.
    fn exports(&self, name: &str) -> bool {
        let Some(content) = self.section(EXPORT_SECTION) else {
            return false;
        };
        wasmparser::ExportSectionReader::new(BinaryReader::new(content, 0))
            .is_ok_and(|reader| reader.into_iter().any(|e| e.is_ok_and(|e| e.name == name)))
    }

    /// The index of the function exported as `name`, if one is.
    fn exported_function(&self, name: &str) -> Option<u32> {
        let content = self.section(EXPORT_SECTION)?;
        wasmparser::ExportSectionReader::new(BinaryReader::new(content, 0))
            .ok()?
            .into_iter()
            .filter_map(Result::ok)
            .find(|export| {
                export.name == name && matches!(export.kind, wasmparser::ExternalKind::Func)
            })
            .map(|export| export.index)
    }

    /// Whether the first table defined here is a funcref table whose element 0 starts null
    /// (table 0, when none is imported): no active element segment with a constant offset
    /// of 0 fills it, and none has an offset computed at instantiation. Anything unexpected
    /// answers no.
    fn first_element_starts_null(&self) -> bool {
        let Some(tables) = self.section(TABLE_SECTION) else {
            return false;
        };
        let first_table = wasmparser::TableSectionReader::new(BinaryReader::new(tables, 0))
            .ok()
            .and_then(|reader| reader.into_iter().next())
            .and_then(Result::ok);
        let nullable_funcs = first_table.is_some_and(|table| {
            table.ty.element_type == wasmparser::RefType::FUNCREF
                && !table.ty.table64
                && table.ty.initial >= 1
                && matches!(table.init, TableInit::RefNull)
        });
        let Some(elements) = self.section(ELEMENT_SECTION) else {
            return nullable_funcs;
        };
        let Ok(reader) = wasmparser::ElementSectionReader::new(BinaryReader::new(elements, 0))
        else {
            return false;
        };
        let leaves_0_null = reader.into_iter().all(|element| {
            let Ok(element) = element else {
                return false;
            };
            match element.kind {
                ElementKind::Active {
                    table_index,
                    offset_expr,
                } if table_index.unwrap_or(0) == 0 => {
                    let mut operators = offset_expr.get_operators_reader();
                    matches!(operators.read(), Ok(Operator::I32Const { value }) if value != 0)
                        && matches!(operators.read(), Ok(Operator::End))
                }
                _ => true,
            }
        });
        nullable_funcs && leaves_0_null
    }

    /// The indices of the module's mutable globals, if its processes can be reset by
    /// rewriting its memory and those (see [`RESETTABLE_EXPORT`]); anything unexpected
    /// answers no.
    fn mutable_globals_if_resettable(&self, module: &Module) -> Option<Vec<u32>> {
        let imports_state = module
            .imports()
            .any(|import| !matches!(import.ty(), ExternType::Func(_)));
        if imports_state || self.section(START_SECTION).is_some() || self.exports(RESETTABLE_EXPORT)
        {
            return None;
        }
        let mut mutable = Vec::new();
        if let Some(globals) = self.section(GLOBAL_SECTION) {
            let reader =
                wasmparser::GlobalSectionReader::new(BinaryReader::new(globals, 0)).ok()?;
            for (index, global) in (0..).zip(reader) {
                if global.ok()?.ty.mutable {
                    if self.exports(&format!("{GLOBAL_EXPORT_PREFIX}{index}")) {
                        return None;
                    }
                    mutable.push(index);
                }
            }
        }
        if let Some(code) = self.section(CODE_SECTION) {
            let reader = wasmparser::CodeSectionReader::new(BinaryReader::new(code, 0)).ok()?;
            for body in reader {
                let mut operators = body.ok()?.get_operators_reader().ok()?;
                while !operators.eof() {
                    if changes_tables_or_segments(&operators.read().ok()?) {
                        return None;
                    }
                }
            }
        }
        Some(mutable)
    }

    /// The module with `memory` as its data, without the set-up export, and with
    /// `additions`.
    fn rewrite(&self, memory: &[u8], additions: &Additions) -> Result<Vec<u8>, NotSnapshotted> {
        let runs = non_zero_runs(memory);
        let mut module = wasm_encoder::Module::new();
        for &(id, data) in &self.sections {
            match id {
                DATA_SECTION => {
                    let mut section = wasm_encoder::DataSection::new();
                    for &(start, end) in &runs {
                        // Offsets are i32 constants holding the bits of a u32.
                        let offset = wasm_encoder::ConstExpr::i32_const(start as u32 as i32);
                        section.active(0, &offset, memory[start..end].iter().copied());
                    }
                    module.section(&section)
                }
                DATA_COUNT_SECTION => module.section(&wasm_encoder::DataCountSection {
                    count: runs.len() as u32,
                }),
                EXPORT_SECTION => module.section(&without_setup(data, additions)?),
                GLOBAL_SECTION if additions.receive_waited.is_some() => {
                    let data = with_receive_waited_global(data)?;
                    module.section(&wasm_encoder::RawSection { id, data: &data })
                }
                CODE_SECTION => match additions.receive_waited {
                    Some(hint) => module.section(&with_receive_waited_body(data, hint)?),
                    None => module.section(&wasm_encoder::RawSection { id, data }),
                },
                _ => module.section(&wasm_encoder::RawSection { id, data }),
            };
        }
        Ok(module.finish())
    }
}

/// Whether `operator` changes a table or drops a segment: state a reset by memory and
/// globals would leave behind.
fn changes_tables_or_segments(operator: &Operator<'_>) -> bool {
    crate::program::table_pages::changes_tables(operator)
        || matches!(
            operator,
            Operator::DataDrop { .. } | Operator::MemoryInit { .. }
        )
}

/// The global section `content` with a mutable `i32` global added last, starting at 0
/// (the last plain receive did not wait).
fn with_receive_waited_global(content: &[u8]) -> Result<Vec<u8>, NotSnapshotted> {
    use wasm_encoder::Encode as _;
    let mut reader = BinaryReader::new(content, 0);
    let count = reader.read_var_u32()?;
    let globals = reader.read_bytes(reader.bytes_remaining())?;
    let mut section = Vec::with_capacity(content.len() + 8);
    (count + 1).encode(&mut section);
    section.extend_from_slice(globals);
    wasm_encoder::GlobalType {
        val_type: wasm_encoder::ValType::I32,
        mutable: true,
        shared: false,
    }
    .encode(&mut section);
    wasm_encoder::ConstExpr::i32_const(0).encode(&mut section);
    Ok(section)
}

/// The code section `content` with body `hint.body` replaced by a read of global
/// `hint.global`, padded with `nop`s to its old size when that was larger (the guest
/// library's is as large): the offsets of the bodies after it, which debug information
/// refers to, stay the same.
fn with_receive_waited_body(
    content: &[u8],
    hint: ReceiveWaited,
) -> Result<wasm_encoder::CodeSection, NotSnapshotted> {
    let reader = wasmparser::CodeSectionReader::new(BinaryReader::new(content, 0))?;
    let mut code = wasm_encoder::CodeSection::new();
    for (index, body) in (0..).zip(reader) {
        let body = body?;
        let old = &content[body.range()];
        if index == hint.body {
            let mut read = wasm_encoder::Function::new([]);
            read.instructions().global_get(hint.global);
            // The `end` takes one more byte.
            while read.byte_len() + 1 < old.len() {
                read.instructions().nop();
            }
            read.instructions().end();
            code.function(&read);
        } else {
            code.raw(old);
        }
    }
    Ok(code)
}

/// The export section `content` without the set-up export, and with [`TABLE_EXPORT`] for
/// table 0 and [`RECEIVE_WAITED_GLOBAL`] as `additions` say.
fn without_setup(
    content: &[u8],
    additions: &Additions,
) -> Result<wasm_encoder::ExportSection, NotSnapshotted> {
    let mut exports = wasm_encoder::ExportSection::new();
    let reader = wasmparser::ExportSectionReader::new(BinaryReader::new(content, 0))?;
    for export in reader {
        let export = export?;
        if export.name == PREINIT_EXPORT {
            continue;
        }
        let kind = match export.kind {
            wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                wasm_encoder::ExportKind::Func
            }
            wasmparser::ExternalKind::Table => wasm_encoder::ExportKind::Table,
            wasmparser::ExternalKind::Memory => wasm_encoder::ExportKind::Memory,
            wasmparser::ExternalKind::Global => wasm_encoder::ExportKind::Global,
            wasmparser::ExternalKind::Tag => wasm_encoder::ExportKind::Tag,
        };
        exports.export(export.name, kind, export.index);
    }
    if additions.table {
        exports.export(TABLE_EXPORT, wasm_encoder::ExportKind::Table, 0);
    }
    if let Some(hint) = additions.receive_waited {
        exports.export(
            RECEIVE_WAITED_GLOBAL,
            wasm_encoder::ExportKind::Global,
            hint.global,
        );
    }
    if let Some(globals) = &additions.resettable {
        for &index in globals {
            let name = format!("{GLOBAL_EXPORT_PREFIX}{index}");
            exports.export(&name, wasm_encoder::ExportKind::Global, index);
        }
        exports.export(RESETTABLE_EXPORT, wasm_encoder::ExportKind::Memory, 0);
    }
    Ok(exports)
}

/// The `(start, end)` ranges of `memory` that hold non-zero bytes, joined across gaps of
/// fewer than [`SEGMENT_GAP`] zeros.
fn non_zero_runs(memory: &[u8]) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut index = 0;
    while index < memory.len() {
        if memory[index] == 0 {
            index += 1;
            continue;
        }
        let start = index;
        while index < memory.len() && memory[index] != 0 {
            index += 1;
        }
        match runs.last_mut() {
            Some(last) if start - last.1 < SEGMENT_GAP => last.1 = index,
            _ => runs.push((start, index)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RuntimeConfig;

    fn engine() -> Engine {
        let config = RuntimeConfig {
            max_processes: 8,
            ..RuntimeConfig::default()
        };
        let engine = crate::program::engine::build_engine(&config, false, false).unwrap();
        crate::program::engine::start_epoch_ticker(&engine, std::time::Duration::from_millis(1))
            .unwrap();
        engine
    }

    /// A module whose set-up is `setup` (a function body), with one page of memory and a
    /// byte of data at 16.
    fn module(setup: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(module
                 (memory (export "memory") 1)
                 (data (i32.const 16) "\01")
                 (func (export "lunatic_preinit") {setup})
                 (func (export "read") (param i32) (result i32) (i32.load8_u (local.get 0))))"#
        ))
        .unwrap()
    }

    fn snapshot_of(engine: &Engine, bytes: &[u8]) -> Option<Vec<u8>> {
        let module = Module::new(engine, bytes).unwrap();
        snapshot(engine, &module, bytes)
    }

    /// Why the module `bytes` is not snapshotted.
    fn why_not(engine: &Engine, bytes: &[u8]) -> NotSnapshotted {
        let module = Module::new(engine, bytes).unwrap();
        match try_snapshot(engine, &module, bytes) {
            Ok(_) => panic!("the module was snapshotted"),
            Err(why) => why,
        }
    }

    /// An instance of `module` in a store of its own, every import a trap.
    fn instantiate(engine: &Engine, module: &Module) -> (Store<()>, wasmtime::Instance) {
        let mut store = Store::new(engine, ());
        store.set_epoch_deadline(1_000);
        let mut linker = Linker::new(engine);
        linker.define_unknown_imports_as_traps(module).unwrap();
        let instance = linker.instantiate(&mut store, module).unwrap();
        (store, instance)
    }

    #[test]
    fn the_snapshot_holds_what_the_setup_wrote_and_drops_the_export() {
        let engine = engine();
        let bytes = module("(i32.store8 (i32.const 100) (i32.const 42))");
        let snapshot = snapshot_of(&engine, &bytes).expect("a snapshot");
        assert!(has_setup(&Module::new(&engine, &bytes).unwrap()));
        let preinitialized = Module::new(&engine, &snapshot).unwrap();
        assert!(!has_setup(&preinitialized));
        let (mut store, instance) = instantiate(&engine, &preinitialized);
        let read = instance
            .get_typed_func::<i32, i32>(&mut store, "read")
            .unwrap();
        assert_eq!(read.call(&mut store, 100).unwrap(), 42, "the setup's write");
        assert_eq!(read.call(&mut store, 16).unwrap(), 1, "the original data");
        assert_eq!(read.call(&mut store, 17).unwrap(), 0);
    }

    #[test]
    fn modules_that_cannot_be_snapshotted_keep_their_setup() {
        let engine = engine();
        for (setup, why) in [
            ("(unreachable)", "it traps"),
            (
                "(i32.store8 (i32.const 70000) (i32.const 42))",
                "it writes past memory",
            ),
            ("(drop (memory.grow (i32.const 1)))", "it grows memory"),
            ("(loop $forever (br $forever))", "it never ends"),
            ("(call 0)", "it recurses until the stack overflows"),
        ] {
            assert!(snapshot_of(&engine, &module(setup)).is_none(), "{why}");
            assert!(
                matches!(
                    why_not(&engine, &module(setup)),
                    NotSnapshotted::SetupFailed(_)
                ),
                "{why}"
            );
        }
        let calls_host = wat::parse_str(
            r#"(module
                 (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                 (memory (export "memory") 1)
                 (data (i32.const 16) "\01")
                 (func (export "lunatic_preinit") (call $exit (i32.const 3))))"#,
        )
        .unwrap();
        assert!(
            snapshot_of(&engine, &calls_host).is_none(),
            "it calls the host"
        );
        assert!(matches!(
            why_not(&engine, &calls_host),
            NotSnapshotted::SetupFailed(_)
        ));
        let passive = wat::parse_str(
            r#"(module
                 (memory (export "memory") 1)
                 (data "\01")
                 (func (export "lunatic_preinit")))"#,
        )
        .unwrap();
        assert!(snapshot_of(&engine, &passive).is_none(), "passive data");
        assert!(matches!(
            why_not(&engine, &passive),
            NotSnapshotted::PassiveData
        ));
        let huge = wat::parse_str(
            r#"(module
                 (memory (export "memory") 300)
                 (data (i32.const 16) "\01")
                 (func (export "lunatic_preinit")))"#,
        )
        .unwrap();
        assert!(
            snapshot_of(&engine, &huge).is_none(),
            "19 MiB of initial memory"
        );
        let too_large = why_not(&engine, &huge);
        assert!(matches!(too_large, NotSnapshotted::MemoryTooLarge));
        assert_eq!(
            too_large.to_string(),
            "its initial memory is larger than 16 MiB"
        );
        let text = r#"(module (memory (export "memory") 1) (func (export "lunatic_preinit")))"#;
        let module = Module::new(&engine, text).unwrap();
        assert!(
            snapshot(&engine, &module, text.as_bytes()).is_none(),
            "text"
        );
        assert!(matches!(
            try_snapshot(&engine, &module, text.as_bytes()),
            Err(NotSnapshotted::NotACoreModule)
        ));
        let no_setup = wat::parse_str(r#"(module (memory (export "memory") 1))"#).unwrap();
        assert!(snapshot_of(&engine, &no_setup).is_none(), "no set-up");
    }

    /// A module that can be snapshotted, with a table of 3 elements, one function placed
    /// at `offset`, and `extra` more fields.
    fn module_with_table(offset: i32, extra: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(module
                 (memory (export "memory") 1)
                 (data (i32.const 16) "\01")
                 (table 3 funcref)
                 (elem (i32.const {offset}) $one)
                 (func $one (result i32) (i32.const 1))
                 (func (export "lunatic_preinit"))
                 (func (export "call") (param i32) (result i32)
                   (call_indirect (result i32) (local.get 0)))
                 {extra})"#
        ))
        .unwrap()
    }

    #[test]
    fn a_table_whose_element_0_starts_null_is_exported_for_the_first_write() {
        let engine = engine();
        let bytes = module_with_table(1, "");
        let snapshot = snapshot_of(&engine, &bytes).expect("a snapshot");
        let preinitialized = Module::new(&engine, &snapshot).unwrap();
        let export = table_export(&preinitialized, &bytes).expect("the table is exported");
        // What a spawn does: null written to element 0, then the table works as before.
        let (mut store, instance) = instantiate(&engine, &preinitialized);
        let table = instance
            .get_module_export(&mut store, &export)
            .and_then(wasmtime::Extern::into_table)
            .unwrap();
        table.set(&mut store, 0, wasmtime::Ref::Func(None)).unwrap();
        let call = instance
            .get_typed_func::<i32, i32>(&mut store, "call")
            .unwrap();
        assert_eq!(call.call(&mut store, 1).unwrap(), 1);
        assert!(call.call(&mut store, 0).is_err(), "element 0 is null");
    }

    #[test]
    fn a_table_is_not_exported_when_element_0_may_be_set_or_the_name_is_taken() {
        let engine = engine();
        for (bytes, why) in [
            (module_with_table(0, ""), "a segment fills element 0"),
            (
                module_with_table(
                    1,
                    r#"(global $g i32 (i32.const 0)) (elem (global.get $g) $one)"#,
                ),
                "a segment's offset is computed",
            ),
            (
                module_with_table(1, r#"(export "lunatic_table" (func $one))"#),
                "the module exports the name itself",
            ),
        ] {
            let snapshot = snapshot_of(&engine, &bytes).expect("a snapshot");
            let preinitialized = Module::new(&engine, &snapshot).unwrap();
            assert!(table_export(&preinitialized, &bytes).is_none(), "{why}");
        }
        // A module that exports a table under the name itself is never written to.
        let own = module_with_table(0, r#"(export "lunatic_table" (table 0))"#);
        let compiled = Module::new(&engine, &own).unwrap();
        assert!(table_export(&compiled, &own).is_none());
    }

    /// A module that can be snapshotted, with `globals`, `waited` (meant to export
    /// `lunatic_receive_waited`) and a function after it; the import it may call traps in
    /// these tests.
    fn module_with_hint(globals: &str, waited: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(module
                 (import "lunatic::message" "receive_waited" (func $host_waited (result i32)))
                 (memory (export "memory") 1)
                 (data (i32.const 16) "\01")
                 {globals}
                 (func (export "lunatic_preinit"))
                 {waited}
                 (func (export "after") (result i32) (i32.const 7)))"#
        ))
        .unwrap()
    }

    /// As the guest library defines it: a call to the host.
    const GUEST_WAITED: &str =
        r#"(func (export "lunatic_receive_waited") (result i32) (call $host_waited))"#;
    const GLOBALS: &str = "(global $sp (mut i32) (i32.const 1024)) (global i64 (i64.const 5))";

    fn code_section(bytes: &[u8]) -> Vec<u8> {
        Sections::parse(bytes)
            .unwrap()
            .section(CODE_SECTION)
            .unwrap()
            .to_vec()
    }

    #[test]
    fn the_receive_hint_reads_a_global_the_runtime_writes() {
        let engine = engine();
        let bytes = module_with_hint(GLOBALS, GUEST_WAITED);
        let snapshot = snapshot_of(&engine, &bytes).expect("a snapshot");
        let preinitialized = Module::new(&engine, &snapshot).unwrap();
        let export = receive_waited_export(&preinitialized).expect("the global is exported");
        assert_eq!(
            code_section(&snapshot).len(),
            code_section(&bytes).len(),
            "every body keeps its offset"
        );
        let (mut store, instance) = instantiate(&engine, &preinitialized);
        let waited = instance
            .get_typed_func::<(), i32>(&mut store, RECEIVE_WAITED_EXPORT)
            .unwrap();
        // The host import traps: an answer means the body no longer calls it.
        assert_eq!(waited.call(&mut store, ()).unwrap(), 0);
        let global = instance
            .get_module_export(&mut store, &export)
            .and_then(wasmtime::Extern::into_global)
            .unwrap();
        global.set(&mut store, wasmtime::Val::I32(1)).unwrap();
        assert_eq!(waited.call(&mut store, ()).unwrap(), 1);
        let after = instance
            .get_typed_func::<(), i32>(&mut store, "after")
            .unwrap();
        assert_eq!(
            after.call(&mut store, ()).unwrap(),
            7,
            "later bodies intact"
        );
    }

    #[test]
    fn the_receive_hint_is_left_alone_when_it_is_not_the_guest_librarys() {
        let engine = engine();
        for (globals, waited, why) in [
            (
                GLOBALS,
                r#"(func (export "lunatic_receive_waited") (param i32) (result i32) (call $host_waited))"#,
                "it takes a parameter",
            ),
            (
                GLOBALS,
                r#"(export "lunatic_receive_waited" (func $host_waited))"#,
                "it is the import itself",
            ),
            ("", GUEST_WAITED, "the module defines no globals"),
            (
                "(global $own (mut i32) (i32.const 0)) (export \"lunatic_receive_waited_global\" (global $own))",
                GUEST_WAITED,
                "the module exports the global's name itself",
            ),
        ] {
            let bytes = module_with_hint(globals, waited);
            let snapshot = snapshot_of(&engine, &bytes).expect("a snapshot");
            assert_eq!(code_section(&snapshot), code_section(&bytes), "{why}");
        }
    }

    #[test]
    fn non_zero_bytes_become_few_segments() {
        let mut memory = vec![0u8; 4096];
        memory[10] = 1;
        memory[12] = 2;
        // 63 zeros after the byte at 12: the same segment.
        memory[13 + SEGMENT_GAP - 1] = 3;
        // 64 zeros: a segment of its own.
        memory[13 + 2 * SEGMENT_GAP] = 4;
        memory[4095] = 5;
        assert_eq!(
            non_zero_runs(&memory),
            vec![
                (10, 13 + SEGMENT_GAP),
                (13 + 2 * SEGMENT_GAP, 14 + 2 * SEGMENT_GAP),
                (4095, 4096)
            ]
        );
        assert!(non_zero_runs(&[0; 100]).is_empty());
    }
}
