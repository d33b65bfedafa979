//! What `#[lunatic::test]` expands to: the test's body runs as its own process, and the
//! test judges how that process ended. Not a public API; see `lunatic-derive`.
//!
//! | step | process | what happens |
//! |---|---|---|
//! | [`run`] | the test's instance (libtest called the `#[test]` wrapper) | spawns the body, watches it, lets it start, waits for its end |
//! | [`start`] | the body's | waits until it is watched, then hands the body its mailbox |
//! | [`finish`] | the body's | a returned `Err` is printed and ends the process with status 1 |
//! | verdict | the test's instance | a wrong ending prints libtest's note and exits with status 101 |
//!
//! The VM's test runner (`lunatic-vm/src/testing`) runs each test in its own instance and
//! shows everything its processes printed, their death notices included, if it fails.

use std::fmt::Debug;

use crate::codec::Sendable;
use crate::mailbox::Mailbox;
use crate::process;
use crate::EndReason;

/// How a test's body must end to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// By returning (`Ok` for a `Result`).
    Return,
    /// By panicking, with a message containing the text if one is given
    /// (`#[should_panic(expected = "...")]`).
    Panic(Option<&'static str>),
}

/// What a test body may return: `()`, or a `Result` whose `Err` fails the test.
pub trait TestResult {
    /// `Err` with the text to print if the test failed.
    ///
    /// # Errors
    /// The body returned an error.
    fn into_result(self) -> Result<(), String>;
}

impl TestResult for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Debug> TestResult for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|error| format!("Error: {error:?}"))
    }
}

/// Runs a test: `body` in a new process, judged by `expect`. Returns if the test passed;
/// otherwise prints why and exits the test's instance with libtest's failure status.
pub fn run(body: fn(Mailbox<()>), expect: Expect) {
    process::install_panic_hook();
    let child = match process::spawn(body) {
        Ok(child) => child,
        Err(error) => fail(&format!("the test's process could not be spawned: {error}")),
    };
    // The body waits for this message, so it cannot end before it is watched.
    let monitor = child.monitor();
    child.send(());
    let reason = match child.wait_down(monitor, None) {
        Ok(down) => down.reason().clone(),
        Err(error) => fail(&format!("the test's process was lost: {error}")),
    };
    if let Some(note) = verdict(&reason, expect) {
        fail(&note);
    }
}

/// Waits, in the body's process, until the test watches it; returns the body's mailbox.
#[must_use]
pub fn start<M: Sendable>(mailbox: Mailbox<()>) -> Mailbox<M> {
    let _ = mailbox.receive();
    Mailbox::new()
}

/// Ends the body's process: an `Err` is printed (as libtest prints it) and ends the
/// process with status 1, which fails the test.
pub fn finish(result: impl TestResult) {
    if let Err(text) = result.into_result() {
        eprintln!("{text}");
        std::process::exit(1);
    }
}

/// Why a body that ended with `reason` fails `expect` (libtest's wording), or `None` if
/// the test passed.
fn verdict(reason: &EndReason, expect: Expect) -> Option<String> {
    let normal = *reason == EndReason::Normal;
    // The panic's own message, without where it happened: `expected` is matched against
    // what the test panicked with, as libtest does.
    let panic = match reason {
        EndReason::Panicked { message, .. } => Some(message),
        _ => None,
    };
    match (expect, panic) {
        (Expect::Return, _) if normal => None,
        // The process's death notice, in the test's output, says why.
        (Expect::Return, _) => Some(String::new()),
        (Expect::Panic(_), None) if normal => {
            Some("note: test did not panic as expected".to_owned())
        }
        (Expect::Panic(_), None) => Some(format!(
            "note: test did not panic as expected: its process ended another way: {reason}"
        )),
        (Expect::Panic(None), Some(_)) => None,
        (Expect::Panic(Some(expected)), Some(message)) if message.contains(expected) => None,
        (Expect::Panic(Some(expected)), Some(message)) => Some(format!(
            "panic did not contain expected string\n      panic message: {message:?}\n expected substring: {expected:?}"
        )),
    }
}

fn fail(note: &str) -> ! {
    if !note.is_empty() {
        eprintln!("{note}");
    }
    std::process::exit(101)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panicked(message: &str, location: Option<&str>) -> EndReason {
        EndReason::Panicked {
            message: message.into(),
            location: location.map(Into::into),
        }
    }

    #[test]
    fn verdicts_follow_libtest() {
        let boom_at = panicked("boom", Some("a.rs:1:1"));
        let boom = panicked("boom", None);
        assert_eq!(verdict(&EndReason::Normal, Expect::Return), None);
        assert_eq!(verdict(&boom_at, Expect::Return), Some(String::new()));
        assert_eq!(verdict(&boom_at, Expect::Panic(None)), None);
        assert_eq!(verdict(&boom, Expect::Panic(Some("boo"))), None);
        // The location is not part of the message.
        assert!(verdict(&boom_at, Expect::Panic(Some("a.rs"))).is_some());
        assert!(verdict(&boom, Expect::Panic(Some("bang")))
            .unwrap()
            .contains("expected substring: \"bang\""));
        assert!(verdict(&EndReason::Normal, Expect::Panic(None))
            .unwrap()
            .contains("did not panic"));
        assert!(verdict(&EndReason::ExitCode(1), Expect::Panic(None))
            .unwrap()
            .contains("exited with status 1"));
    }
}
