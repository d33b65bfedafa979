//! The test runner: runs a test program's tests in parallel, each as its own process.
//!
//! A program built by `cargo test` is a libtest binary; on `wasm32-wasip1` libtest runs
//! tests one after another in one instance, and with `panic = abort` the first panic ends
//! them all. A program with `#[lunatic::test]`s carries the [`TEST_SECTION`] custom section,
//! and for such a program the VM drives libtest from outside instead, as
//! `-Z panic-abort-tests` does natively:
//!
//! 1. libtest lists the tests (`--list`, with the user's filters, so selection is its own);
//! 2. each selected test runs in a fresh instance of the program as its own top-level
//!    process (`<name> --exact`), up to `--test-threads` at once; a panic, trap or kill
//!    ends that test only;
//! 3. each test's output, and every process it spawns, goes to its own buffer (see
//!    `ProcessIo`), shown only if it fails; the report is libtest's (see the `report` module).
//!
//! `#[lunatic::test]` itself runs the test's body in a child process of that instance and
//! judges how it ended (`should_panic`, `Result`); see `lunatic-core`'s `testing` module.

mod args;
mod report;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lunatic_abi::TEST_SECTION;
use tokio::sync::{mpsc, Semaphore};

use crate::process::EndReason;
use crate::runtime::Runtime;
use crate::sandbox::wasi::{OutputSink, ProcessIo};
use args::{IgnoredTests, TestArgs};
use report::{Outcome, Report};

/// What libtest prints before running the one test it was given.
const RUNNING_ONE: &str = "\nrunning 1 test\n";

/// Whether `wasm` is a test program: built with `#[lunatic::test]` (it carries
/// [`TEST_SECTION`]), or a libtest harness of plain `#[test]`s (its name section names
/// libtest's entry, `test_main_static`), so both get one runner and one report.
#[must_use]
pub(crate) fn is_test_program(wasm: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .any(|payload| match payload {
            Ok(wasmparser::Payload::CustomSection(section)) => {
                section.name() == TEST_SECTION
                    || (section.name() == "name" && contains(section.data(), b"test_main_static"))
            }
            _ => false,
        })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Runs the tests of the runtime's program with `args` (the program's own, after its name)
/// and returns the exit status: 0 if all passed, 101 if any failed (libtest's).
///
/// # Errors
/// The program cannot be started.
pub(crate) async fn run(
    runtime: &Arc<Runtime>,
    program: &str,
    args: &[String],
) -> wasmtime::Result<i32> {
    let options = match TestArgs::parse(args, |key| std::env::var(key).ok()) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(101);
        }
    };
    if options.passthrough {
        let reason = runtime.run_start(ProcessIo::default()).await?;
        return Ok(reason.exit_code());
    }
    let started = Instant::now();
    let listing = async |selection: &[String]| list(runtime, program, selection).await;
    let all = match listing(&[]).await? {
        Ok(tests) => tests,
        Err(status) => return Ok(status),
    };
    let selected = match listing(&options.selection).await? {
        Ok(tests) => tests,
        Err(status) => return Ok(status),
    };
    let ignored: HashSet<String> = if options.ignored == IgnoredTests::Skip {
        let mut only_ignored = options.selection.clone();
        only_ignored.push("--ignored".into());
        match listing(&only_ignored).await? {
            Ok(tests) => tests.into_iter().collect(),
            Err(status) => return Ok(status),
        }
    } else {
        HashSet::new()
    };

    let mut report = Report::start(selected.len(), options.terse, options.show_output);
    let permits = Arc::new(Semaphore::new(options.threads.get()));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    for name in selected.iter().cloned() {
        if ignored.contains(&name) {
            // Reported in order with the others, as libtest does.
            let _ = done_tx.send((name, Outcome::Ignored));
            continue;
        }
        let permit = Arc::clone(&permits).acquire_owned().await?;
        let (runtime, program, done) = (Arc::clone(runtime), program.to_owned(), done_tx.clone());
        let (capture, slow_after) = (options.capture, options.slow_after);
        tokio::spawn(async move {
            let outcome = run_one(&runtime, &program, &name, capture, slow_after).await;
            drop(permit);
            let _ = done.send((name, outcome));
        });
        while let Ok((name, outcome)) = done_rx.try_recv() {
            report.record(name, outcome);
        }
    }
    drop(done_tx);
    while let Some((name, outcome)) = done_rx.recv().await {
        report.record(name, outcome);
    }
    let passed = report.finish(all.len().saturating_sub(selected.len()), started.elapsed());
    Ok(if passed { 0 } else { 101 })
}

/// The names libtest lists for `selection`, or the exit status to end with if it refused
/// (it printed why).
async fn list(
    runtime: &Arc<Runtime>,
    program: &str,
    selection: &[String],
) -> wasmtime::Result<Result<Vec<String>, i32>> {
    let mut args = vec![program.to_owned(), "--list".into(), "--format=terse".into()];
    args.extend_from_slice(selection);
    let output = OutputSink::capture();
    let io = ProcessIo {
        args: Some(args.into()),
        output: output.clone(),
        children: output.clone(),
        report_death: false,
    };
    let reason = runtime.run_start(io).await?;
    let text = output.contents();
    if reason != EndReason::Normal {
        print!("{text}");
        eprintln!("error: listing the tests failed: {reason}");
        return Ok(Err(reason.exit_code().max(1)));
    }
    Ok(Ok(text
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_owned)
        .collect()))
}

/// Most time a finished test's processes get to die before the next test's result.
const GROUP_END: Duration = Duration::from_secs(10);

/// Runs test `name` in a fresh instance of the program and judges it. Notes it once when it
/// runs longer than `slow_after`. When it ends, every process it spawned (its group) is
/// killed and gone before its outcome is reported, so no process or name of one test lives
/// on into another.
async fn run_one(
    runtime: &Arc<Runtime>,
    program: &str,
    name: &str,
    capture: bool,
    slow_after: Duration,
) -> Outcome {
    let args: Vec<String> = [
        program,
        name,
        "--exact",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
        "--format=terse",
    ]
    .map(str::to_owned)
    .into();
    // The instance runs libtest, whose own lines are dropped; the test's processes write to
    // `children`, the test's output.
    let framing = OutputSink::capture();
    let children = if capture {
        OutputSink::capture()
    } else {
        OutputSink::Host
    };
    let io = ProcessIo {
        args: Some(args.into()),
        output: framing.clone(),
        children: children.clone(),
        report_death: false,
    };
    let (test, mut ended) = match runtime.start(io).await {
        Ok(started) => started,
        Err(error) => return Outcome::Failed(format!("the test could not start: {error:#}\n")),
    };
    let ended = tokio::select! {
        ended = &mut ended => ended,
        () = tokio::time::sleep(slow_after) => {
            println!("test {name} has been running for over {} seconds", slow_after.as_secs());
            ended.await
        }
    };
    runtime.end_group(test.id(), GROUP_END).await;
    let reason =
        ended.unwrap_or_else(|_| EndReason::VmFailed("the test's process vanished".into()));
    let mut output = children.contents();
    let own = strip_libtest_lines(&framing.contents(), name);
    if capture {
        output.push_str(&own);
    } else if !own.is_empty() {
        print!("{own}");
    }
    match reason {
        EndReason::Normal => Outcome::Passed(output),
        // libtest's failure status (a `#[test]` that returned an error, or the verdict of
        // `#[lunatic::test]`): the reason is in the output already.
        EndReason::ExitCode(_) => Outcome::Failed(output),
        other => {
            output.push_str(&format!("the test's process died: {other}\n"));
            Outcome::Failed(output)
        }
    }
}

/// What a test instance printed, without libtest's own lines around it (`running 1 test`,
/// the result marks and summary).
fn strip_libtest_lines(text: &str, name: &str) -> String {
    let text = text.strip_prefix(RUNNING_ONE).unwrap_or(text);
    let end = text
        .rfind(&format!("{name} --- FAILED"))
        .or_else(|| {
            text.rfind("\ntest result: ").map(|at| {
                if text[..at].ends_with('.') {
                    at - 1
                } else {
                    at
                }
            })
        })
        .unwrap_or(text.len());
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_are_dropped() {
        let passed = "\nrunning 1 test\nhello\n.\ntest result: ok. 1 passed; 0 failed\n\n";
        assert_eq!(strip_libtest_lines(passed, "t"), "hello\n");
        let failed = "\nrunning 1 test\nout\nError: \"bad\"\nt --- FAILED\n\nfailures:\n";
        assert_eq!(strip_libtest_lines(failed, "t"), "out\nError: \"bad\"\n");
        let panicked = "\nrunning 1 test\nnote: test did not panic as expected\n";
        assert_eq!(
            strip_libtest_lines(panicked, "t"),
            "note: test did not panic as expected\n"
        );
    }

    #[test]
    fn only_marked_programs_are_test_programs() {
        let plain = b"\0asm\x01\0\0\0".to_vec();
        assert!(!is_test_program(&plain));
        let mut marked = plain.clone();
        let name = TEST_SECTION.as_bytes();
        marked.extend([0, name.len() as u8 + 2, name.len() as u8]);
        marked.extend(name);
        marked.push(b'x');
        assert!(is_test_program(&marked));
        assert!(!is_test_program(b"not wasm"));
        // A libtest harness of plain `#[test]`s, found by the name of its entry.
        let section = |content: &[u8]| {
            let mut module = plain.clone();
            module.extend([0, content.len() as u8 + 5, 4]);
            module.extend(b"name");
            module.extend(content);
            module
        };
        assert!(is_test_program(&section(b"_ZN4test16test_main_static17h")));
        assert!(!is_test_program(&section(b"_ZN4main4main17h")));
    }
}
