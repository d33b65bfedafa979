//! What WASI shows a process: arguments, environment, standard streams.
//!
//! All of WASI preview 1 comes from `wasmtime-wasi`; this module only decides what each
//! process is given. Every process of a runtime sees the same arguments and environment,
//! shares the host's standard streams, and is granted no directory.

use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::WasiCtxBuilder;

/// The WASI view a runtime gives its processes.
#[derive(Debug, Clone, Default)]
pub struct WasiConfig {
    /// `argv`, the program name first.
    pub args: Vec<String>,
    /// Environment variables; none of the host's are passed unless listed here.
    pub envs: Vec<(String, String)>,
}

impl WasiConfig {
    /// A fresh WASI context for one process.
    pub(crate) fn build(&self) -> WasiP1Ctx {
        WasiCtxBuilder::new()
            .inherit_stdio()
            .args(&self.args)
            .envs(&self.envs)
            .build_p1()
    }
}
