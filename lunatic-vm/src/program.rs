//! A wasm program compiled and linked once, from which every process is instantiated.

use wasmtime::error::Context as _;
use wasmtime::{bail, format_err};
use wasmtime::{Engine, ExternType, FuncType, InstancePre, Linker, Module, ValType};

use crate::state::ProcessState;

/// A compiled, pre-linked module. Instantiating it costs a few microseconds: imports were
/// resolved once, and memory comes copy-on-write from the pool.
pub struct Program {
    module: Module,
    pre: InstancePre<ProcessState>,
}

impl Program {
    /// Compiles `bytes` (binary wasm or WAT) and links it against `linker`.
    ///
    /// # Errors
    /// The bytes are not a valid module, or it imports a function the runtime lacks.
    pub fn new(
        engine: &Engine,
        linker: &Linker<ProcessState>,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        let module = if bytes.is_empty() {
            bail!("the file is empty, not a WebAssembly module");
        } else if bytes.starts_with(b"\0asm") || std::str::from_utf8(bytes).is_ok() {
            // Binary wasm, or WAT text (handy for tests and small programs).
            Module::new(engine, bytes)
                .map_err(|e| format_err!("not a valid WebAssembly module: {}", one_line(&e)))?
        } else {
            bail!("not a WebAssembly module (it lacks the `\\0asm` header)");
        };
        let pre = linker
            .instantiate_pre(&module)
            .context("the module's imports do not match this runtime's host functions")?;
        Ok(Self { module, pre })
    }

    /// The pre-linked module.
    pub(crate) fn instance_pre(&self) -> &InstancePre<ProcessState> {
        &self.pre
    }

    /// The type of exported function `name`.
    ///
    /// # Errors
    /// There is no such export, or it is not a function.
    pub fn entry_type(&self, name: &str) -> wasmtime::Result<FuncType> {
        match self.module.get_export(name) {
            Some(ExternType::Func(ty)) => Ok(ty),
            Some(_) => wasmtime::bail!("export `{name}` is not a function"),
            None => wasmtime::bail!("the module has no exported function `{name}`"),
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
