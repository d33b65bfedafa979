//! Why a process ended.

use std::fmt;

use super::ProcessId;

/// Why a process ended. Every reason but [`DeathReason::Normal`] is abnormal: linked
/// processes are told, and the death is logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeathReason {
    /// The entry function returned, or the process exited with status 0.
    Normal,
    /// The process called `proc_exit` with a non-zero status.
    Exit(i32),
    /// The guest panicked; the panic message as the guest reported it.
    Panic(String),
    /// The guest trapped (for example a bad host call or an `unreachable`).
    Trap(String),
    /// Another process killed it.
    Killed,
    /// A process it was linked to died abnormally.
    LinkDied(ProcessId),
    /// It linked to a process that was no longer alive.
    NoProcess(ProcessId),
    /// It tried to grow its memory past its environment's limit.
    OutOfMemory,
    /// It used up its environment's fuel.
    OutOfFuel,
}

impl DeathReason {
    /// Whether linked processes must be told.
    #[must_use]
    pub fn is_abnormal(&self) -> bool {
        !matches!(self, Self::Normal)
    }

    /// The exit status the VM returns when the main process ends this way.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Normal => 0,
            Self::Exit(code) => *code,
            // The status a native Rust program ends with when `main` panics.
            Self::Panic(_) => 101,
            Self::Trap(_)
            | Self::Killed
            | Self::LinkDied(_)
            | Self::NoProcess(_)
            | Self::OutOfMemory
            | Self::OutOfFuel => 1,
        }
    }
}

impl fmt::Display for DeathReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Normal => f.write_str(lunatic_abi::NORMAL_EXIT_REASON),
            Self::Exit(code) => write!(f, "exited with status {code}"),
            Self::Panic(message) => write!(f, "{}{message}", lunatic_abi::PANIC_REASON_PREFIX),
            Self::Trap(trap) => write!(f, "trapped: {trap}"),
            Self::Killed => f.write_str("killed"),
            Self::LinkDied(id) => write!(f, "linked process {id} died"),
            Self::NoProcess(id) => write!(f, "linked to process {id}, which is not alive"),
            Self::OutOfMemory => {
                f.write_str("out of memory: the environment's memory limit was reached")
            }
            Self::OutOfFuel => {
                f.write_str("out of fuel: the environment's compute limit was reached")
            }
        }
    }
}

/// The error a host call returns to end a process that has been told to die; the
/// process's runner recognises it and reports the original reason.
#[derive(Debug)]
pub(crate) struct Terminated(pub(crate) DeathReason);

impl fmt::Display for Terminated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "process terminated: {}", self.0)
    }
}

impl std::error::Error for Terminated {}
