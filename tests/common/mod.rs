//! Shared by the end-to-end tests: builds the guest programs once and runs them on the real
//! `lunatic` binary, with a time limit, capturing what they print.
#![allow(dead_code, unreachable_pub)]

pub(crate) mod background;
pub(crate) mod guests;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("lunatic-vm sits in the workspace")
}

/// The `.wasm` of an example or test guest, building all of them on first use. The build
/// uses its own target directory, so it never waits on the lock of the `cargo test` that
/// runs this.
pub fn guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT
        .get_or_init(|| guests::build(workspace(), &workspace().join("target").join("e2e-guests")));
    let path = dir.join(format!("{name}.wasm"));
    assert!(path.exists(), "no guest program {}", path.display());
    path
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    /// The exit status; `None` if it was killed by a signal.
    pub code: Option<i32>,
    pub elapsed: Duration,
}

impl Run {
    /// Panics with the whole output unless the run exited with `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "exit status\n{self}");
        self
    }

    /// Panics with the whole output unless stdout contains `text` (where `{id}` stands for
    /// any process id: ids are unguessable numbers).
    #[track_caller]
    pub fn assert_stdout(&self, text: &str) -> &Self {
        assert!(
            contains(&self.stdout, text),
            "stdout lacks {text:?}\n{self}"
        );
        self
    }

    /// Panics with the whole output unless stderr contains `text` (`{id}`: any process id).
    #[track_caller]
    pub fn assert_stderr(&self, text: &str) -> &Self {
        assert!(
            contains(&self.stderr, text),
            "stderr lacks {text:?}\n{self}"
        );
        self
    }
}

/// The hostile tests' memory ceiling for a whole VM: an attacker is stopped by its
/// environment's limits long before.
pub const VM_MEMORY_CEILING: u64 = 3 << 30;

/// Panics unless every VM this test binary has run so far (this test's and the others')
/// stayed under `ceiling` bytes resident at its peak.
#[track_caller]
#[allow(unsafe_code)] // one `getrusage` call: std has no way to ask for children's usage
pub fn assert_vms_stayed_under(ceiling: u64) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` fills the whole `rusage` it is given, and a zeroed one is valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    let peak = u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
    assert!(
        peak < ceiling,
        "a VM peaked at {peak} bytes, over {ceiling}"
    );
}

/// Whether `haystack` contains `pattern`, each `{id}` in it matching one or more digits.
pub fn contains(haystack: &str, pattern: &str) -> bool {
    fn matches_at(rest: &str, parts: &[&str]) -> bool {
        let Some((first, others)) = parts.split_first() else {
            return true;
        };
        let Some(rest) = rest.strip_prefix(first) else {
            return false;
        };
        if others.is_empty() {
            return true;
        }
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        digits > 0 && matches_at(&rest[digits..], others)
    }
    let parts: Vec<&str> = pattern.split("{id}").collect();
    (0..=haystack.len())
        .filter(|&start| haystack.is_char_boundary(start))
        .any(|start| matches_at(&haystack[start..], &parts))
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- status {:?} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Runs `lunatic [vm_args] <guest> [args]`, killing it after `limit`.
pub fn run_with(vm_args: &[&str], guest_path: &Path, args: &[&str], limit: Duration) -> Run {
    run_logged(None, vm_args, guest_path, args, limit)
}

/// [`run_with`], with `RUST_LOG` set to `log` (unset when `None`).
pub fn run_logged(
    log: Option<&str>,
    vm_args: &[&str],
    guest_path: &Path,
    args: &[&str],
    limit: Duration,
) -> Run {
    let mut command = lunatic(vm_args, guest_path, args);
    if let Some(filter) = log {
        command.env("RUST_LOG", filter);
    }
    run_command(command, guest_path, limit)
}

/// Runs `command` (a `lunatic` command running `guest_path`), killing it after `limit`.
fn run_command(mut command: Command, guest_path: &Path, limit: Duration) -> Run {
    let start = Instant::now();
    let mut child = command.spawn().expect("the lunatic binary starts");
    let stdout = drain(child.stdout.take().expect("piped"));
    let stderr = drain(child.stderr.take().expect("piped"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait works") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "lunatic {} did not finish within {limit:?}\n--- stdout\n{}\n--- stderr\n{}",
                guest_path.display(),
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        stdout: stdout.join().expect("reader thread"),
        stderr: stderr.join().expect("reader thread"),
        code: status.code(),
        elapsed: start.elapsed(),
    }
}

/// `lunatic [vm_args] <guest> [args]`, not started: no stdin, output piped, no `RUST_LOG`.
pub fn lunatic(vm_args: &[&str], guest_path: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lunatic"));
    command
        .env_remove("RUST_LOG")
        .args(vm_args)
        .arg(guest_path)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// [`run`], with environment variables `env` set for the VM.
pub fn run_env(name: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = lunatic(&[], &guest(name), args);
    command.envs(env.iter().copied());
    run_command(command, &guest(name), Duration::from_secs(60))
}

/// Runs guest `name` with `args` on default settings, with a 60 s limit.
pub fn run(name: &str, args: &[&str]) -> Run {
    run_with(&[], &guest(name), args, Duration::from_secs(60))
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
