//! What WASI shows a process: arguments, environment, standard streams.
//!
//! All of WASI preview 1 comes from `wasmtime-wasi`; this module only decides what each
//! process is given. Every process of a runtime sees the same arguments and environment,
//! shares the host's standard streams, and is granted only its environment's directories.

use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// The WASI view a runtime gives its processes.
#[derive(Debug, Clone, Default)]
pub struct WasiConfig {
    /// `argv`, the program name first.
    pub args: Vec<String>,
    /// Environment variables; none of the host's are passed unless listed here.
    pub envs: Vec<(String, String)>,
    /// Host directories the root environment grants (`--dir`).
    pub preopens: Vec<std::path::PathBuf>,
}

impl WasiConfig {
    /// A fresh WASI context for one process, with `preopens` (its environment's directories)
    /// opened under their own paths. A directory that cannot be opened is left out.
    pub(crate) fn build(&self, preopens: &[std::path::PathBuf]) -> WasiP1Ctx {
        let mut builder = WasiCtxBuilder::new();
        builder.inherit_stdio().args(&self.args).envs(&self.envs);
        for dir in preopens {
            let guest = dir.display().to_string();
            if let Err(error) = builder.preopened_dir(dir, &guest, FsPerms::ReadWrite) {
                tracing::warn!(target: "lunatic::wasi", "cannot open `{guest}` for a process: {error}");
            }
        }
        builder.build_p1()
    }
}
