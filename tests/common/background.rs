//! A guest that runs in the background while the test talks to it (a server): its stdout is
//! read line by line as it comes, so the test can learn the address it listens on.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Child;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{drain, Run};

/// A running `lunatic` with its output being collected. Killed when dropped.
pub struct Background {
    child: Child,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: Option<JoinHandle<String>>,
    start: Instant,
}

impl Background {
    /// Starts `lunatic <guest> [args]`.
    pub fn start(guest_path: &Path, args: &[&str]) -> Self {
        Self::start_with(&[], guest_path, args)
    }

    /// Starts `lunatic [vm_args] <guest> [args]`.
    pub fn start_with(vm_args: &[&str], guest_path: &Path, args: &[&str]) -> Self {
        let mut child = super::lunatic(vm_args, guest_path, args)
            .spawn()
            .expect("the lunatic binary starts");
        let stdout = child.stdout.take().expect("piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Some(drain(child.stderr.take().expect("piped")));
        Self {
            child,
            lines,
            stdout: Vec::new(),
            stderr,
            start: Instant::now(),
        }
    }

    /// Waits up to `limit` for a stdout line starting with `prefix`; returns the rest of it.
    ///
    /// # Panics
    /// If no such line comes in time (with everything printed so far).
    pub fn wait_for(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_owned();
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!(
                        "no line starting with {prefix:?} within {limit:?}; stdout so far:\n{}",
                        self.stdout.join("\n")
                    )
                }
            }
        }
    }

    /// Like [`Background::wait_for`], but a line that came before (passed over by an
    /// earlier wait) counts too: for lines that other processes' output may precede.
    pub fn seen_or_wait_for(&mut self, prefix: &str, limit: Duration) -> String {
        let earlier = self
            .stdout
            .iter()
            .find_map(|line| line.strip_prefix(prefix).map(str::to_owned));
        match earlier {
            Some(rest) => rest,
            None => self.wait_for(prefix, limit),
        }
    }

    /// The address in the `listening on ADDR` line the servers print.
    pub fn listening_on(&mut self) -> SocketAddr {
        let addr = self.wait_for("listening on ", Duration::from_secs(60));
        addr.parse().expect("a socket address")
    }

    /// Waits up to `limit` for the program to end by itself; what it printed and how it
    /// ended.
    ///
    /// # Panics
    /// If it is still running after `limit` (it is killed).
    pub fn finish(mut self, limit: Duration) -> Run {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "lunatic did not finish within {limit:?}\n{}",
                    self.collect(None)
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        self.collect(status.code())
    }

    /// The VM's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The VM's `/proc/<pid>/status`.
    pub fn status(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the VM's status is readable")
    }

    /// Sends the VM signal `signo` (`libc::SIGTERM`, say).
    pub fn signal(&self, signo: i32) {
        let pid = i32::try_from(self.child.id()).expect("a pid");
        // SAFETY: `kill` only sends a signal to our own child process.
        #[allow(unsafe_code)]
        let sent = unsafe { libc::kill(pid, signo) };
        assert_eq!(sent, 0, "the signal was sent");
    }

    /// Kills the program (a server that never ends) and returns what it printed.
    pub fn stop(mut self) -> Run {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.collect(None)
    }

    fn collect(&mut self, code: Option<i32>) -> Run {
        let _ = self.child.wait();
        // The reader thread ends at end of file, which the exit brings.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.stdout.push(line);
        }
        let mut stdout = self.stdout.join("\n");
        stdout.push('\n');
        Run {
            stdout,
            stderr: self
                .stderr
                .take()
                .map(|reader| reader.join().unwrap_or_default())
                .unwrap_or_default(),
            code,
            elapsed: self.start.elapsed(),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
