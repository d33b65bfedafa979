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

use wasmtime::{Caller, Extern, Linker};
use wiggle::GuestMemory;

use crate::process::state::ProcessState;

use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// Bytes one capture buffer holds at most; past it a process's writes fail (so a
/// `println!` panics: a runaway test, not output anyone reads).
pub(crate) const CAPTURE_LIMIT: usize = 64 << 20;

/// The WASI view a runtime gives its processes.
#[derive(Debug, Clone, Default)]
pub struct WasiConfig {
    /// `argv`, the program name first.
    pub(crate) args: Vec<String>,
    /// Environment variables; none of the host's are passed unless listed here.
    pub(crate) envs: Vec<(String, String)>,
    /// Host directories the root environment grants (`--dir`), each as `(host, guest)`
    /// path: the guest sees `host` under `guest`.
    pub(crate) preopens: Vec<Preopen>,
}

/// A host directory a process may use, and the path it sees it under.
///
/// A grant is an open directory handle, not a path: a child environment's directory is
/// opened *beneath* its parent's handle (symlinks and `..` cannot climb out of it), and WASI
/// later opens that very directory through `/proc/self/fd`, so renaming or replacing path
/// components afterwards (a symlink swapped in, say) changes nothing.
#[derive(Debug, Clone)]
pub(crate) struct Preopen {
    /// The directory on the host, for messages (what is granted is `dir`).
    pub(crate) host: std::path::PathBuf,
    /// Its path inside the guest.
    pub(crate) guest: String,
    /// The open directory; `None` until opened (and for a refused request).
    dir: Option<Arc<std::fs::File>>,
}

impl PartialEq for Preopen {
    fn eq(&self, other: &Self) -> bool {
        self.host == other.host && self.guest == other.guest
    }
}

impl Eq for Preopen {}

impl Preopen {
    /// Parses `--dir` syntax: `HOST` (seen under the same path) or `HOST:GUEST`. The
    /// directory is not opened yet (see [`Preopen::open`]).
    #[must_use]
    pub(crate) fn parse(text: &str) -> Self {
        let (host, guest) = match text.split_once(':') {
            Some((host, guest)) if !host.is_empty() && !guest.is_empty() => (host, guest),
            _ => (text, text),
        };
        Self {
            host: host.into(),
            guest: guest.to_owned(),
            dir: None,
        }
    }

    /// Opens the host directory (for the root environment's `--dir`s).
    ///
    /// # Errors
    /// The directory cannot be opened.
    pub(crate) fn open(mut self) -> std::io::Result<Self> {
        self.dir = Some(Arc::new(std::fs::File::open(&self.host)?));
        Ok(self)
    }

    /// The directory `rest` below this one, seen by the guest as `guest`, opened beneath
    /// this directory's handle; `None` if it escapes (through `..` or a symlink), is not a
    /// directory, or this one is not open.
    pub(crate) fn open_below(&self, rest: &std::path::Path, guest: &str) -> Option<Self> {
        let dir = self.dir.as_ref()?;
        let dir = if rest.as_os_str().is_empty() {
            Arc::clone(dir)
        } else {
            Arc::new(cap_primitives::fs::open_dir(dir, rest).ok()?)
        };
        Some(Self {
            host: self.host.join(rest),
            guest: guest.to_owned(),
            dir: Some(dir),
        })
    }

    /// Whether the directory is open, so granted.
    pub(crate) fn is_open(&self) -> bool {
        self.dir.is_some()
    }

    /// A path that opens exactly the directory held, whatever happened to its name since.
    fn held_path(&self) -> Option<String> {
        use std::os::fd::AsRawFd as _;
        let dir = self.dir.as_ref()?;
        Some(format!("/proc/self/fd/{}", dir.as_raw_fd()))
    }
}

/// Where a process's standard output and error go.
#[derive(Debug, Clone, Default)]
pub(crate) enum OutputSink {
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
    pub(crate) fn capture() -> Self {
        Self::Capture(MemoryOutputPipe::new(CAPTURE_LIMIT))
    }

    /// What was captured so far (empty for [`OutputSink::Host`]).
    #[must_use]
    pub(crate) fn contents(&self) -> String {
        match self {
            Self::Host => String::new(),
            Self::Capture(pipe) => String::from_utf8_lossy(&pipe.contents()).into_owned(),
        }
    }

    /// Whether the output is captured (a test's), rather than the host's.
    pub(crate) fn is_captured(&self) -> bool {
        matches!(self, Self::Capture(_))
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
pub(crate) struct ProcessIo {
    /// `argv`; `None`: the runtime's.
    pub(crate) args: Option<Arc<[String]>>,
    /// Where this process writes.
    pub(crate) output: OutputSink,
    /// Where the processes it spawns write.
    pub(crate) children: OutputSink,
    /// Whether the runtime reports this process's abnormal death (see `log_death`); off
    /// when whoever started it reports it in its own way (the test runner).
    pub(crate) report_death: bool,
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
    pub(crate) fn for_child(&self) -> Self {
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
            let Some(held) = dir.held_path() else {
                continue;
            };
            if let Err(error) = builder.preopened_dir(&held, &dir.guest, FsPerms::ReadWrite) {
                tracing::warn!(target: "lunatic::wasi", "cannot open `{}` for a process: {error}", dir.host.display());
            }
        }
        builder.build_p1()
    }
}

/// WASI's "too many open files".
const ERRNO_MFILE: i32 = wasmtime_wasi::p1::types::Errno::Mfile as i32;

/// Shadows WASI's `path_open`, `fd_close` and `fd_renumber` in `linker` (which holds WASI
/// already), so the files a process opens take a share of the VM's descriptors (the
/// budget `--max-sockets` sets) and count against its environment's descriptor limit
/// (`Limit::Descriptors`): a guest given a directory cannot take the VM's file
/// descriptors. Each open file's permit is kept by its descriptor number
/// (`ProcessState::open_files`) and given back when it is closed, renumbered over, or the
/// process ends.
///
/// # Errors
/// Only if a definition clashes, which is a bug in this crate.
pub(crate) fn count_open_files(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::p1::wasi_snapshot_preview1 as p1;
    const MODULE: &str = "wasi_snapshot_preview1";
    linker.allow_shadowing(true);
    linker.func_wrap_async(
        MODULE,
        "path_open",
        |mut caller: Caller<'_, ProcessState>,
         (fd, dirflags, path, path_len, oflags, base, inheriting, fdflags, opened): (
            i32,
            i32,
            i32,
            i32,
            i32,
            i64,
            i64,
            i32,
            i32,
        )| {
            Box::new(async move {
                // A share of the VM's descriptors, and of the environment's limit.
                let state = caller.data();
                let Ok(permit) = state.runtime.sockets().acquire(state.env().budget()) else {
                    return Ok(ERRNO_MFILE);
                };
                let (memory, state) = guest_memory(&mut caller)?;
                let errno = p1::path_open(
                    state.wasi(),
                    &mut GuestMemory::Unshared(memory),
                    fd,
                    dirflags,
                    path,
                    path_len,
                    oflags,
                    base,
                    inheriting,
                    fdflags,
                    opened,
                )
                .await?;
                if errno == 0 {
                    // The new descriptor, just written at `opened` (so inside memory).
                    let (memory, state) = guest_memory(&mut caller)?;
                    let at = opened as u32 as usize;
                    if let Some(bytes) = memory.get(at..at.saturating_add(4)) {
                        let new_fd = u32::from_le_bytes(bytes.try_into().unwrap_or_default());
                        state.open_files.insert(new_fd, permit);
                    }
                }
                Ok(errno)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "fd_close",
        |mut caller: Caller<'_, ProcessState>, (fd,): (i32,)| {
            Box::new(async move {
                let (memory, state) = guest_memory(&mut caller)?;
                let errno =
                    p1::fd_close(state.wasi(), &mut GuestMemory::Unshared(memory), fd).await?;
                if errno == 0 {
                    state.open_files.remove(&(fd as u32));
                }
                Ok(errno)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "fd_renumber",
        |mut caller: Caller<'_, ProcessState>, (from, to): (i32, i32)| {
            Box::new(async move {
                let (memory, state) = guest_memory(&mut caller)?;
                let errno =
                    p1::fd_renumber(state.wasi(), &mut GuestMemory::Unshared(memory), from, to)
                        .await?;
                if errno == 0 {
                    // `to` was closed and `from` now goes by `to` (nothing changed if they
                    // are one): the charge moves with the file.
                    let moved = state.open_files.remove(&(from as u32));
                    state.open_files.remove(&(to as u32));
                    if let Some(permit) = moved {
                        state.open_files.insert(to as u32, permit);
                    }
                }
                Ok(errno)
            })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The caller's exported memory and its state, as the WASI functions take them.
fn guest_memory<'a>(
    caller: &'a mut Caller<'_, ProcessState>,
) -> wasmtime::Result<(&'a mut [u8], &'a mut ProcessState)> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory.data_and_store_mut(caller)),
        _ => wasmtime::bail!("a WASI call needs an exported memory named `memory`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_syntax() {
        let dir = Preopen::parse("/srv/data:/data");
        assert_eq!(
            (dir.host.to_str(), dir.guest.as_str()),
            (Some("/srv/data"), "/data")
        );
        assert!(!dir.is_open());
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
