//! Pre-initialization: the VM runs a module's `lunatic_preinit` once and starts every
//! process from the memory it leaves; a module it cannot snapshot gets the set-up run at
//! the start of each process instead. Either way each process starts set up exactly once.
//!
//! Bad set-ups tried: one that traps (every process then dies of it at start, with the
//! trap as its reason), one that grows memory, one that calls a host function; and a text
//! (WAT) module, which is never rewritten.
//!
//! The rewrite also gives the guest library's `lunatic_receive_waited` a global to read;
//! the same program, rewritten and as text, must see the same answers.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{guest, run_logged, Run};

/// Writes `wat` as a module file: binary wasm, or the text itself.
fn module_file(name: &str, wat: &str, binary: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lunatic-preinit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (path, bytes) = if binary {
        (
            dir.join(format!("{name}.wasm")),
            wat::parse_str(wat).unwrap(),
        )
    } else {
        (dir.join(format!("{name}.wat")), wat.as_bytes().to_vec())
    };
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs `wat` (as binary or as text) with the pre-initialization log on.
fn run_module(name: &str, wat: &str, binary: bool) -> Run {
    let path = module_file(name, wat, binary);
    run_logged(
        Some("lunatic=info,lunatic::preinit=debug"),
        &["--no-cache"],
        &path,
        &[],
        Duration::from_secs(60),
    )
}

/// A module whose set-up is `setup` and whose `_start` exits with `exit_with` (an i32
/// expression). Memory holds 1 at address 16 from the start.
fn program(setup: &str, exit_with: &str) -> String {
    format!(
        r#"(module
             (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
             (memory (export "memory") 1)
             (data (i32.const 16) "\01")
             (func (export "lunatic_preinit") {setup})
             (func (export "_start") (call $exit {exit_with})))"#
    )
}

/// Adds 42 to the byte at 100; `_start` exits with it plus the data byte at 16, so 43 means
/// the set-up ran exactly once and the module's own data survived.
const ADD_42: &str =
    "(i32.store8 (i32.const 100) (i32.add (i32.load8_u (i32.const 100)) (i32.const 42)))";
const BYTE_100_PLUS_16: &str =
    "(i32.add (i32.load8_u (i32.const 100)) (i32.load8_u (i32.const 16)))";

#[test]
fn a_binary_module_starts_from_its_snapshot() {
    let run = run_module("snapshot", &program(ADD_42, BYTE_100_PLUS_16), true);
    run.assert_code(43).assert_stderr("module pre-initialized");
}

#[test]
fn a_rust_guests_table_is_written_at_each_spawn_before_it_is_read() {
    // Every Rust module leaves its table's element 0 null, so a spawn can write it first
    // (see `preinit`); this guest spawns and calls through its table in each process.
    let run = run_logged(
        Some("lunatic=info,lunatic::preinit=debug"),
        &["--no-cache"],
        &guest("hello"),
        &[],
        Duration::from_secs(60),
    );
    run.assert_code(0)
        .assert_stderr("its table exported, written at each spawn");
    // A table whose element 0 a segment fills is left alone.
    let filled = r#"(module
         (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
         (memory (export "memory") 1)
         (data (i32.const 16) "\01")
         (table 2 funcref)
         (elem (i32.const 0) $seven)
         (func $seven (result i32) (i32.const 7))
         (func (export "lunatic_preinit"))
         (func (export "_start") (call $exit (call_indirect (result i32) (i32.const 0)))))"#;
    run_module("filled", filled, true)
        .assert_code(7)
        .assert_stderr("its table left unexported");
}

#[test]
fn a_text_module_runs_its_setup_in_each_process() {
    let run = run_module("text", &program(ADD_42, BYTE_100_PLUS_16), false);
    run.assert_code(43).assert_stderr(
        "module not pre-initialized, each process sets itself up: not a binary core module",
    );
}

#[test]
fn a_setup_that_grows_memory_runs_in_each_process() {
    let grow = "(drop (memory.grow (i32.const 1))) (i32.store8 (i32.const 65536) (i32.const 7))";
    let run = run_module(
        "grow",
        &program(grow, "(i32.load8_u (i32.const 65536))"),
        true,
    );
    run.assert_code(7)
        .assert_stderr("lunatic_preinit grew the memory");
}

#[test]
fn a_setup_that_calls_the_host_runs_in_each_process() {
    let run = run_module(
        "host",
        &program("(call $exit (i32.const 3))", "(i32.const 0)"),
        true,
    );
    run.assert_code(3).assert_stderr("lunatic_preinit failed");
}

#[test]
fn a_setup_that_traps_kills_each_process_with_the_trap() {
    let run = run_module("trap", &program("(unreachable)", "(i32.const 0)"), true);
    run.assert_code(1)
        .assert_stderr("lunatic_preinit failed")
        .assert_stderr("process {id} died")
        .assert_stderr("unreachable");
}

#[test]
fn rust_programs_are_pre_initialized_and_children_still_report_panics() {
    // The guest library's set-up installs the panic hook: a child's panic message still
    // reaches the log although no process installs the hook itself.
    let run = run_logged(
        Some("lunatic=info,lunatic::preinit=debug"),
        &["--no-cache"],
        &guest("test-behaviour"),
        &["unwrap"],
        Duration::from_secs(60),
    );
    run.assert_stderr("module pre-initialized")
        .assert_stderr("its receive hint reads a global")
        .assert_stderr("process {id} died: panicked: child fails");
}

/// Receives in every way that matters to the hint, and exits with bit `n` set when the
/// hint said "waited" after step `n`: expected 0b001010.
const RECEIVE_HINT: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "lunatic::message" "receive" (func $receive (param i32 i32 i64 i32 i32 i32) (result i32)))
  (import "lunatic::message" "try_receive" (func $try_receive (param i32 i32 i32 i32 i32) (result i32)))
  (import "lunatic::message" "send_data" (func $send_data (param i64 i64 i64 i64 i32 i32)))
  (import "lunatic::message" "receive_waited" (func $host_waited (result i32)))
  (import "lunatic::process" "this" (func $this (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\01")
  (global $sp (mut i32) (i32.const 1024))
  (global $seen (mut i32) (i32.const 0))
  (func (export "lunatic_preinit"))
  (func $waited (export "lunatic_receive_waited") (result i32) (call $host_waited))
  (func $note (param $step i32)
    (global.set $seen (i32.or (global.get $seen) (i32.shl (call $waited) (local.get $step)))))
  (func $send_to_self (call $send_data (call $this) (i64.const 1) (i64.const 0) (i64.const 0) (i32.const 16) (i32.const 1)))
  ;; A plain receive (no tags) waiting up to `ms`.
  (func $plain (param $ms i64)
    (drop (call $receive (i32.const 0) (i32.const 0) (local.get $ms) (i32.const 64) (i32.const 16) (i32.const 128))))
  (func (export "_start")
    (call $note (i32.const 0))        ;; nothing received yet: 0
    (call $plain (i64.const 10))      ;; waits and times out
    (call $note (i32.const 1))        ;; 1
    (call $send_to_self)
    (drop (call $try_receive (i32.const 0) (i32.const 0) (i32.const 64) (i32.const 16) (i32.const 128)))
    (call $note (i32.const 2))        ;; a plain call took a queued message: 0
    (call $plain (i64.const 10))
    (call $note (i32.const 3))        ;; waited again: 1
    (call $send_to_self)
    (call $plain (i64.const -1))      ;; forever, but a message is queued
    (call $note (i32.const 4))        ;; 0
    ;; A selective receive (tag 0, at 200) that waits and times out is not a plain one.
    (drop (call $receive (i32.const 200) (i32.const 1) (i64.const 10) (i32.const 64) (i32.const 16) (i32.const 128)))
    (call $note (i32.const 5))        ;; still 0
    (call $exit (global.get $seen))))"#;

#[test]
fn the_receive_hint_follows_plain_receives_rewritten_or_not() {
    run_module("hint", RECEIVE_HINT, true)
        .assert_code(0b001010)
        .assert_stderr("its receive hint reads a global");
    // A text module is not rewritten: its body asks the host, which answers the same.
    run_module("hint-text", RECEIVE_HINT, false)
        .assert_code(0b001010)
        .assert_stderr("module not pre-initialized");
}
