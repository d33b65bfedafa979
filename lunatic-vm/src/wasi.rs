//! What WASI shows a process: arguments, environment, standard streams.
//!
//! All of WASI preview 1 comes from `wasmtime-wasi`; this module only decides what each
//! process is given:
//!
//! | part | where it comes from |
//! |---|---|
//! | arguments | the command line (`lunatic prog.wasm ARGS`), inherited by every spawned process |
//! | environment variables | only `--env KEY=VALUE`; none of the host's |
//! | stdin | the host's |
//! | stdout, stderr | the host's, or a capture buffer ([`ProcessIo`]), inherited by children |
//! | directories | the environment's (`--dir` for the root one), nothing else |

use std::sync::Arc;

use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// Bytes one capture buffer holds at most; a process writing past it traps (it is a
/// runaway test, not output anyone reads).
pub const CAPTURE_LIMIT: usize = 64 << 20;

/// The WASI view a runtime gives its processes.
#[derive(Debug, Clone, Default)]
pub struct WasiConfig {
    /// `argv`, the program name first.
    pub args: Vec<String>,
    /// Environment variables; none of the host's are passed unless listed here.
    pub envs: Vec<(String, String)>,
    /// Host directories the root environment grants (`--dir`), each as `(host, guest)`
    /// path: the guest sees `host` under `guest`.
    pub preopens: Vec<Preopen>,
}

/// A host directory a process may use, and the path it sees it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    /// The directory on the host.
    pub host: std::path::PathBuf,
    /// Its path inside the guest.
    pub guest: String,
}

impl Preopen {
    /// Parses `--dir` syntax: `HOST` (seen under the same path) or `HOST:GUEST`.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        match text.split_once(':') {
            Some((host, guest)) if !host.is_empty() && !guest.is_empty() => Self {
                host: host.into(),
                guest: guest.to_owned(),
            },
            _ => Self {
                host: text.into(),
                guest: text.to_owned(),
            },
        }
    }
}

/// Where a process's standard output and error go.
#[derive(Debug, Clone, Default)]
pub enum OutputSink {
    /// The host's own stdout and stderr.
    #[default]
    Host,
    /// One in-memory buffer for both streams, in the order they were written (the test
    /// runner shows it only when a test fails).
    Capture(MemoryOutputPipe),
}

impl OutputSink {
    /// A new, empty capture buffer.
    #[must_use]
    pub fn capture() -> Self {
        Self::Capture(MemoryOutputPipe::new(CAPTURE_LIMIT))
    }

    /// What was captured so far (empty for [`OutputSink::Host`]).
    #[must_use]
    pub fn contents(&self) -> String {
        match self {
            Self::Host => String::new(),
            Self::Capture(pipe) => String::from_utf8_lossy(&pipe.contents()).into_owned(),
        }
    }

    /// Appends a line the runtime writes on the process's behalf (its death notice, say).
    /// `false` when the output goes to the host, where the caller logs instead.
    pub(crate) fn write_line(&self, line: &str) -> bool {
        use wasmtime_wasi::p2::OutputStream as _;
        match self {
            Self::Host => false,
            Self::Capture(pipe) => {
                // A full buffer loses the line, which is what it does to the guest's own.
                let _ = pipe.clone().write(format!("{line}\n").into());
                true
            }
        }
    }
}

/// A process's arguments and output routing. A spawned process gets its parent's
/// arguments, and `children` for both its own output and its children's: so everything a
/// test's processes print lands in that test's buffer.
#[derive(Debug, Clone)]
pub struct ProcessIo {
    /// `argv`; `None`: the runtime's.
    pub args: Option<Arc<[String]>>,
    /// Where this process writes.
    pub output: OutputSink,
    /// Where the processes it spawns write.
    pub children: OutputSink,
    /// Whether the runtime reports this process's abnormal death (see `log_death`); off
    /// when whoever started it reports it in its own way (the test runner).
    pub report_death: bool,
}

impl Default for ProcessIo {
    fn default() -> Self {
        Self {
            args: None,
            output: OutputSink::Host,
            children: OutputSink::Host,
            report_death: true,
        }
    }
}

impl ProcessIo {
    /// What a process spawned by this one gets.
    #[must_use]
    pub fn for_child(&self) -> Self {
        Self {
            args: self.args.clone(),
            output: self.children.clone(),
            children: self.children.clone(),
            report_death: true,
        }
    }
}

impl WasiConfig {
    /// A fresh WASI context for one process with `io`, and `preopens` (its environment's
    /// directories). A directory that cannot be opened is left out, with a warning.
    pub(crate) fn build(&self, io: &ProcessIo, preopens: &[Preopen]) -> WasiP1Ctx {
        let mut builder = WasiCtxBuilder::new();
        builder.inherit_stdin().envs(&self.envs);
        match &io.args {
            Some(args) => builder.args(args),
            None => builder.args(&self.args),
        };
        match &io.output {
            OutputSink::Host => builder.inherit_stdout().inherit_stderr(),
            OutputSink::Capture(pipe) => builder.stdout(pipe.clone()).stderr(pipe.clone()),
        };
        for dir in preopens {
            if let Err(error) = builder.preopened_dir(&dir.host, &dir.guest, FsPerms::ReadWrite) {
                tracing::warn!(target: "lunatic::wasi", "cannot open `{}` for a process: {error}", dir.host.display());
            }
        }
        builder.build_p1()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_syntax() {
        assert_eq!(
            Preopen::parse("/srv/data:/data"),
            Preopen {
                host: "/srv/data".into(),
                guest: "/data".into()
            }
        );
        assert_eq!(Preopen::parse("data").guest, "data");
        assert_eq!(Preopen::parse("odd:").guest, "odd:");
    }

    #[test]
    fn children_inherit_the_children_sink() {
        let test = ProcessIo {
            output: OutputSink::capture(),
            children: OutputSink::capture(),
            ..ProcessIo::default()
        };
        let child = test.for_child();
        assert!(child.output.write_line("hello"));
        assert_eq!(test.children.contents(), "hello\n");
        assert_eq!(test.output.contents(), "");
        assert!(!ProcessIo::default().output.write_line("to the log instead"));
    }
}
