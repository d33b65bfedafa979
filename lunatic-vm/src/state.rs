//! The data of one process's wasmtime `Store`: what its host calls work on.

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::Memory;
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::process::{Message, ProcessHandle};
use crate::runtime::Runtime;

/// Most errors a process may hold undropped; past it, the host call that makes one traps
/// (a guest that never drops errors would otherwise grow host memory without bound).
const MAX_ERRORS: usize = 10_000;

/// A message being written by the guest, not sent yet.
#[derive(Debug, Default)]
pub(crate) struct Outgoing {
    pub(crate) tag: i64,
    pub(crate) data: Vec<u8>,
}

/// Errors handed to the guest by id (see the `lunatic::error` host module).
#[derive(Debug, Default)]
pub(crate) struct ErrorTable {
    next_id: u64,
    errors: HashMap<u64, String>,
}

impl ErrorTable {
    /// Stores `message` and returns its id.
    ///
    /// # Errors
    /// Fails when the guest already holds [`MAX_ERRORS`] undropped errors.
    pub(crate) fn insert(&mut self, message: String) -> wasmtime::Result<u64> {
        if self.errors.len() >= MAX_ERRORS {
            wasmtime::bail!("the process holds {MAX_ERRORS} errors it never dropped");
        }
        self.next_id += 1;
        self.errors.insert(self.next_id, message);
        Ok(self.next_id)
    }

    /// The message of error `id`.
    pub(crate) fn get(&self, id: u64) -> Option<&str> {
        self.errors.get(&id).map(String::as_str)
    }

    /// Forgets error `id`; `false` if there was none.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        self.errors.remove(&id).is_some()
    }
}

/// Everything a process's host calls need; owned by its `Store`.
pub struct ProcessState {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) handle: Arc<ProcessHandle>,
    /// Built on the first WASI call: most processes never make one.
    wasi: Option<WasiP1Ctx>,
    /// The instance's exported `memory`, set right after instantiation.
    pub(crate) memory: Option<Memory>,
    pub(crate) outgoing: Option<Outgoing>,
    pub(crate) incoming: Option<Message>,
    pub(crate) errors: ErrorTable,
    /// What the guest reported just before it panicked.
    pub(crate) panic_message: Option<String>,
}

impl ProcessState {
    pub(crate) fn new(runtime: Arc<Runtime>, handle: Arc<ProcessHandle>) -> Self {
        Self {
            runtime,
            handle,
            wasi: None,
            memory: None,
            outgoing: None,
            incoming: None,
            errors: ErrorTable::default(),
            panic_message: None,
        }
    }

    /// The process's WASI context, built on first use.
    pub(crate) fn wasi(&mut self) -> &mut WasiP1Ctx {
        let runtime = &self.runtime;
        self.wasi.get_or_insert_with(|| runtime.wasi().build())
    }
}
