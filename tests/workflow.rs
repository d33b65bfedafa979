//! The user's workflow end to end: a crate of the user's own (tests/fixtures/user-crate,
//! copied outside this workspace) runs with `cargo run` and `cargo test` on the `lunatic`
//! binary; `#[lunatic::test]` reports exactly as libtest does; WASI stdin reaches the
//! program; deaths name the process; command-line mistakes are one clear line; `--perf-map`
//! names guest functions for `perf`.
//!
//! Bad inputs tried on the command line: a `--dir` that does not exist, an `--env KEY`
//! that is not set, an unknown flag, a zero `--test-threads`.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::{guest, run_logged, run_with, workspace, Run};

/// The fixture crate, copied once into a temporary folder (outside this workspace, so
/// nothing of the workspace's cargo configuration applies) with its dependency on
/// `lunatic` pointing here.
fn user_crate() -> &'static Path {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    COPY.get_or_init(|| {
        let from = workspace().join("tests/fixtures/user-crate");
        let to = std::env::temp_dir().join(format!("lunatic-user-crate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&to);
        for file in [
            "Cargo.toml",
            "Cargo.lock",
            ".cargo/config.toml",
            "src/main.rs",
            "tests/behaviour.rs",
            "tests/plain.rs",
        ] {
            let target = to.join(file);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(from.join(file), &target).unwrap();
        }
        let manifest = std::fs::read_to_string(to.join("Cargo.toml"))
            .unwrap()
            .replace(
                "path = \"../../..\"",
                &format!("path = {:?}", workspace().display().to_string()),
            );
        std::fs::write(to.join("Cargo.toml"), manifest).unwrap();
        // The workspace's toolchain, which has the wasm32-wasip1 target.
        std::fs::copy(
            workspace().join("rust-toolchain.toml"),
            to.join("rust-toolchain.toml"),
        )
        .unwrap();
        common::guests::ensure_target(workspace());
        to
    })
}

/// Runs `cargo <args>` in the user's crate, with the `lunatic` under test first on `PATH`
/// (as `cargo install --path lunatic-vm` would put it).
fn cargo(args: &[&str]) -> Run {
    cargo_env(args, &[])
}

/// [`cargo`], with environment variables `env` set.
fn cargo_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_lunatic")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let started = std::time::Instant::now();
    let output = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .args(args)
        .current_dir(user_crate())
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", workspace().join("target/user-crate"))
        .env_remove("RUST_LOG")
        .env_remove("RUST_TEST_THREADS")
        .env_remove("RUST_TEST_NOCAPTURE")
        .envs(env.iter().copied())
        .output()
        .expect("cargo starts");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code(),
        elapsed: started.elapsed(),
    }
}

/// `cargo test --test behaviour -- <args>`.
fn behaviour(args: &[&str]) -> Run {
    let mut all = vec!["test", "--test", "behaviour", "--"];
    all.extend_from_slice(args);
    cargo(&all)
}

#[test]
fn a_user_crate_runs_with_cargo_run() {
    cargo(&["run", "--", "ann", "bob"])
        .assert_code(0)
        .assert_stdout("hello, ann\nhello, bob\n");
}

#[test]
fn cargo_test_reports_every_outcome_with_exact_counts() {
    let run = behaviour(&[]);
    run.assert_code(101).assert_stdout(
        "test result: FAILED. 6 passed; 6 failed; 8 ignored; 0 measured; 0 filtered out;",
    );
    for passed in [
        "math_adds",
        "math_multiplies",
        "returns_ok",
        "should_panic_with_the_message",
        "talks_to_a_process",
        "plain_test_too",
    ] {
        run.assert_stdout(&format!("test {passed} ... ok\n"));
    }
    for failed in [
        "fails_an_assertion",
        "panics",
        "dies_with_a_linked_child",
        "should_panic_with_another_message",
        "should_panic_but_returns",
        "returns_err",
    ] {
        run.assert_stdout(&format!("test {failed} ... FAILED\n"))
            .assert_stdout(&format!("\n    {failed}\n"));
    }
    run.assert_stdout("test ignored_and_passes ... ignored\n")
        // Each failure shows its own output and how its processes died.
        .assert_stdout("---- panics stdout ----\nabout to panic\n")
        .assert_stdout("died: panicked: this test panics at tests/behaviour.rs:")
        .assert_stdout("died: panicked: assertion `left == right` failed: arithmetic is broken")
        .assert_stdout("died: panicked: the child fails")
        .assert_stdout("died: linked process")
        .assert_stdout("Error: \"the error it returned\"\n")
        .assert_stdout("note: test did not panic as expected\n")
        .assert_stdout(" expected substring: \"out of range\"\n");
    // A passing test's output is not shown, and a killed test stops where it died.
    assert!(!run.stdout.contains("SECRET-OUTPUT"), "{run}");
    assert!(!run.stdout.contains("should not get here"), "{run}");
    // cargo reads the status as a failure of that test binary.
    run.assert_stderr("test failed, to rerun pass `--test behaviour`");
}

#[test]
fn filters_select_as_libtest_does() {
    behaviour(&["math"])
        .assert_code(0)
        .assert_stdout("running 2 tests\n")
        .assert_stdout(
            "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 18 filtered out;",
        );
    behaviour(&["math_adds", "--exact"])
        .assert_code(0)
        .assert_stdout(
            "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 19 filtered out;",
        );
    behaviour(&["math", "--skip", "multiplies"])
        .assert_code(0)
        .assert_stdout(
            "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 19 filtered out;",
        );
    let ignored = behaviour(&["--ignored", "ignored_and_passes"]);
    ignored
        .assert_code(0)
        .assert_stdout("test ignored_and_passes ... ok\n")
        .assert_stdout(
            "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 19 filtered out;",
        );
    assert!(
        !ignored.stdout.contains("the ignored test ran"),
        "{ignored}"
    );
    behaviour(&["--list"])
        .assert_code(0)
        .assert_stdout("math_adds: test\n")
        .assert_stdout("20 tests, 0 benchmarks");
}

#[test]
fn output_options_behave_like_libtest() {
    let shown = behaviour(&["--ignored", "ignored_and_passes", "--nocapture"]);
    shown.assert_code(0).assert_stdout("the ignored test ran\n");
    behaviour(&["math_adds", "--exact", "--show-output"])
        .assert_code(0)
        .assert_stdout(
            "successes:\n\n---- math_adds stdout ----\nSECRET-OUTPUT-OF-A-PASSING-TEST\n",
        );
    behaviour(&["math", "-q"])
        .assert_code(0)
        .assert_stdout("running 2 tests\n..\n");
    behaviour(&["--test-threads", "0"])
        .assert_code(101)
        .assert_stderr("argument for --test-threads must be a number > 0");
}

#[test]
fn tests_run_at_the_same_time_as_processes() {
    // Each barrier test passes only once it has seen all four running.
    behaviour(&["--ignored", "barrier", "--test-threads", "4"])
        .assert_code(0)
        .assert_stdout("test result: ok. 4 passed; 0 failed;");
    let one_at_a_time = behaviour(&["--ignored", "barrier", "--test-threads", "1"]);
    one_at_a_time
        .assert_code(101)
        .assert_stdout("never saw the other tests running");
}

#[test]
fn a_test_s_processes_and_names_end_with_it() {
    // One at a time: each leaves a process registered under one name, and finds none.
    let run = behaviour(&["--ignored", "leaks", "--test-threads", "1", "--nocapture"]);
    run.assert_code(0)
        .assert_stdout(
            "leaks_1 left a process behind
",
        )
        .assert_stdout(
            "leaks_2 left a process behind
",
        )
        .assert_stdout("test result: ok. 2 passed; 0 failed;");
}

#[test]
fn a_long_test_is_noted_as_libtest_does() {
    let run = cargo_env(
        &["test", "--test", "behaviour", "--", "--ignored", "slow_one"],
        &[("LUNATIC_TEST_SLOW_SECS", "1")],
    );
    run.assert_code(0)
        .assert_stdout(
            "test slow_one has been running for over 1 seconds
",
        )
        .assert_stdout(
            "test slow_one ... ok
",
        );
}

#[test]
fn plain_tests_get_the_same_runner_and_report() {
    let run = cargo(&["test", "--test", "plain"]);
    run.assert_code(101)
        .assert_stdout(
            "running 3 tests
",
        )
        .assert_stdout(
            "test plain_passes ... ok
",
        )
        .assert_stdout(
            "test plain_fails ... FAILED
",
        )
        .assert_stdout(
            "test plain_passes_after_a_failure ... ok
",
        )
        .assert_stdout(
            "---- plain_fails stdout ----
plain output
",
        )
        .assert_stdout("plain arithmetic is broken")
        .assert_stdout("\n    plain_fails\n")
        .assert_stdout(
            "test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out;",
        );
}

#[test]
fn stdin_reaches_the_program() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lunatic"))
        .arg(guest("test-behaviour"))
        .arg("stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"typed by the user\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "stdin: typed by the user\n"
    );
}

#[test]
fn a_dead_process_is_reported_with_its_name() {
    let run = run_logged(
        None,
        &[],
        &guest("test-behaviour"),
        &["named-death"],
        Duration::from_secs(60),
    );
    run.assert_code(0)
        .assert_stderr("process {id} [worker] died: panicked: named failure at ");
}

#[test]
fn command_line_mistakes_are_one_clear_line() {
    let hello = guest("hello");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--dir", "/no/such/dir"],
            "`/no/such/dir` is not a directory",
        ),
        (
            &["--env", "LUNATIC_SURELY_UNSET_VARIABLE"],
            "`LUNATIC_SURELY_UNSET_VARIABLE` is not set in lunatic's environment",
        ),
        (&["--no-such-flag"], "unexpected argument '--no-such-flag'"),
    ];
    for (flags, expected) in cases {
        let run = run_with(flags, &hello, &[], Duration::from_secs(30));
        run.assert_code(2).assert_stderr(expected);
        assert!(!run.stderr.contains("panicked"), "{run}");
    }
    let help = Command::new(env!("CARGO_BIN_EXE_lunatic"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--dir <HOST[:GUEST]>",
        "--env <KEY[=VALUE]>",
        "--max-processes",
        "--no-cache",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    let version = Command::new(env!("CARGO_BIN_EXE_lunatic"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("lunatic {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn environment_variables_are_given_or_passed_on_by_name() {
    let run = Command::new(env!("CARGO_BIN_EXE_lunatic"))
        .args(["--env", "LUNATIC_TEST"])
        .arg(guest("test-behaviour"))
        .arg("wasi")
        .env("LUNATIC_TEST", "from the host")
        .output()
        .unwrap();
    assert!(run.status.success());
    assert!(String::from_utf8_lossy(&run.stdout).contains("env: Ok(\"from the host\")\n"));
}

/// `--perf-map` lists the guest's compiled functions, by name, where `perf` looks for them.
#[test]
fn perf_map_names_guest_functions() {
    let mut child = common::lunatic(&["--perf-map"], &guest("test-behaviour"), &["normal-exit"])
        .spawn()
        .expect("the lunatic binary starts");
    let map = PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
    let status = child.wait().expect("wait works");
    let listed = std::fs::read_to_string(&map).unwrap_or_default();
    let _ = std::fs::remove_file(&map);
    assert!(status.success(), "{status}");
    // Each line: start address, size, name (hex, hex, text).
    let named = listed
        .lines()
        .filter(|line| line.contains("lunatic_spawn_entry") || line.contains("lunatic_core::"))
        .count();
    assert!(
        named > 0,
        "no guest function in {}:\n{listed:.2000}",
        map.display()
    );
}
