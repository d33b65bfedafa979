//! Environments on the VM: memory, fuel and host-function limits and their failure reasons,
//! no privilege escalation, loading modules (good, garbage, unknown imports, too large,
//! unknown exports, wrong parameters), the versioned registry scoped to environments, the
//! file system granted only through directories, the spec's environment sample and the
//! plugin example. Each test runs a guest and checks what it printed.

mod common;

use std::time::Duration;

use common::{guest, run, run_with};

fn scenario(name: &str) -> common::Run {
    run("test-environments", &[name])
}

#[test]
fn spec_environment_sample_fails_three_ways() {
    let run = run("environment", &[]);
    run.assert_code(0)
        .assert_stdout("std i/o: child failed: trapped: host function wasi_snapshot_preview1::fd_write is not allowed in this environment\n")
        .assert_stdout("memory: child failed: out of memory: the environment's memory limit was reached\n")
        .assert_stdout("compute: child failed: out of fuel: the environment's compute limit was reached\n")
        // Each failure is logged with its process and reason.
        .assert_stderr("process {id} died: trapped: host function wasi_snapshot_preview1::fd_write is not allowed")
        .assert_stderr("process {id} died: out of memory")
        .assert_stderr("process {id} died: out of fuel");
    assert!(!run.stdout.contains("Hi from different env"), "{run}");
}

#[test]
fn memory_and_fuel_bombs_are_contained() {
    let run = scenario("limits");
    run.assert_code(0)
        .assert_stdout(
            "memory bomb: died: out of memory: the environment's memory limit was reached\n",
        )
        .assert_stdout(
            "fuel bomb: died: out of fuel: the environment's compute limit was reached\n",
        )
        .assert_stdout("within limits: done\n")
        .assert_stdout("too small: cannot create the process's instance");
    assert!(!run.stdout.contains("--max-processes"), "{run}");
}

#[test]
fn host_functions_need_their_namespace() {
    let run = run_with(
        &["--env", "LUNATIC_TEST=yes"],
        &guest("test-environments"),
        &["namespaces"],
        Duration::from_secs(60),
    );
    run.assert_code(0)
        .assert_stdout("no stdout: died: trapped: host function wasi_snapshot_preview1::fd_write is not allowed in this environment\n")
        .assert_stdout("allowed: stdout, and env Ok(\"yes\")\nstdout allowed: done\n")
        .assert_stdout("no environments: died: trapped: host function lunatic::environment::create is not allowed in this environment\n");
    assert!(!run.stdout.contains("should not print"), "{run}");
}

#[test]
fn environments_cannot_escalate() {
    scenario("escalation").assert_code(0).assert_stdout(
        "more memory: refused: the environment asks for 8388608 bytes of memory, more than the 4194304 of the caller's\n\
         unlimited fuel: refused: the environment asks for unlimited fuel; the caller's has 1000 units\n\
         more fuel: refused: the environment asks for 2000 fuel units, more than the 1000 of the caller's\n\
         another namespace: refused: the namespace `lunatic::registry` is not allowed in the caller's environment\n\
         a directory: refused: the directory `/etc` is not granted to the caller's environment\n\
         within: allowed\n",
    );
}

#[test]
fn bad_modules_are_errors_not_crashes() {
    scenario("modules")
        .assert_code(0)
        .assert_stdout("garbage: not a valid WebAssembly module")
        .assert_stdout("unknown import: the module's imports do not match this runtime's host functions: unknown import: `evil::syscall` has not been defined\n")
        .assert_stdout("too large: the module is 34603008 bytes, more than the limit of 33554432\n")
        .assert_stdout("empty: the file is empty, not a WebAssembly module\n")
        .assert_stdout("unknown export: the module has no exported function `nope`\n")
        .assert_stdout("wrong params: function `run` takes (i32, i64), not (i64, i64)\n")
        .assert_stdout("right params: true\n");
}

#[test]
fn registry_finds_the_highest_matching_version_in_the_callers_environment() {
    scenario("registry").assert_code(0).assert_stdout(
        "^1.2 -> Some(1)\n\
         =1.2.3 -> Some(0)\n\
         * -> Some(2)\n\
         ^3 -> None\n\
         nothing -> None\n\
         bad query -> Err(BadVersion(\"not a version\"))\n\
         wrong type -> Err(WrongType(\"db\"))\n\
         duplicate -> Err(\"the name `db` is already registered\")\n\
         inner seen from here: false\n\
         inner seen inside: true\n\
         db seen inside: false\n\
         unregister -> Ok(true)\n\
         own env -> Some(0)\n",
    );
}

#[test]
fn the_file_system_is_reachable_only_through_granted_directories() {
    let dir = std::env::temp_dir().join(format!("lunatic-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_text = dir.display().to_string();
    let mapped = format!("{dir_text}:/data");
    // A symlink inside the granted directory that points out of it.
    let _ = std::os::unix::fs::symlink("..", dir.join("escape"));
    // The same directory under its own path, then under a guest path of its own. Outside
    // the granted directories the file system does not exist for the guest (WASI gives it
    // nothing to open it through); `..` out of a granted one is refused, and so is a child
    // environment's directory that a symlink leads out of.
    for (grant, guest_dir) in [(&dir_text, dir_text.as_str()), (&mapped, "/data")] {
        let _ = std::fs::remove_file(dir.join("note.txt"));
        let run = run_with(
            &["--dir", grant],
            &guest("test-environments"),
            &["filesystem", guest_dir],
            Duration::from_secs(60),
        );
        run.assert_code(0).assert_stdout(&format!(
            "root reads: Ok(\"granted\")\n\
             root outside: refused: No such file or directory (os error 44)\n\
             climbing out: refused: Operation not permitted (os error 63)\n\
             symlink out: refused: the directory `{guest_dir}/escape` is not granted to the caller's environment\n\
             without a preopen: true\n\
             with the preopen: Ok(\"granted\")\n",
        ));
        // The guest wrote the host's file.
        assert_eq!(
            std::fs::read_to_string(dir.join("note.txt")).unwrap(),
            "granted"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plugin_example_talks_to_a_module_loaded_at_run_time() {
    run("plugin", &[]).assert_code(0).assert_stdout(
        "plugin doubled 1 into 2\n\
         plugin doubled 21 into 42\n\
         plugin doubled 1000 into 2000\n\
         unknown export: the module has no exported function `missing`\n\
         wrong parameters: function `serve` takes (i64), not (i32)\n\
         garbage module: not a valid WebAssembly module",
    );
}

#[test]
fn host_side_copies_are_charged_to_fuel() {
    scenario("copy-bomb")
        .assert_code(0)
        .assert_stdout(
            "copy bomb: died: out of fuel: the environment's compute limit was reached\n",
        )
        .assert_stdout("copy bomb: stopped within 10 s: true\n");
}

#[test]
fn the_memory_limit_holds_for_all_of_a_process_memories() {
    let run = scenario("memories");
    run.assert_code(0)
        .assert_stdout("one 8 MiB memory: ran\n")
        .assert_stdout("three 8 MiB memories: refused: ");
    assert!(!run.stdout.contains("RAN"), "{run}");
}

#[test]
fn fuel_limited_environments_cannot_spawn_past_the_process_limit() {
    let run = common::run_with(
        &["--max-processes", "64"],
        &common::guest("test-environments"),
        &["spawn-flood"],
        std::time::Duration::from_secs(60),
    );
    run.assert_code(0)
        .assert_stdout("spawn flood: refused after ")
        .assert_stdout("start lunatic with a larger --max-processes")
        .assert_stdout("spawn flood: refused as NoRoom: true\n")
        .assert_stdout("spawn flood: at most 64 alive: true\n");
}

#[test]
fn a_kill_ends_a_spawn_whose_start_function_never_returns() {
    let run = scenario("start-loop");
    run.assert_code(0)
        .assert_stdout("start loop: spawner ended: killed within 2 s: true\n");
    assert!(!run.stdout.contains("wrong"), "{run}");
}

#[test]
fn error_texts_quoting_guest_input_are_cut() {
    scenario("long-errors")
        .assert_code(0)
        .assert_stdout("long errors: 200 kept")
        .assert_stdout("long errors: at most 5000 bytes each: true\n");
}

#[test]
fn ids_and_reply_tags_cannot_be_guessed() {
    let run = scenario("forged-ids");
    run.assert_code(0)
        .assert_stdout("scanner: died: panicked: scan: 0 processes found")
        .assert_stdout("bystander alive after the scan: true\n")
        .assert_stdout("request answered with: Ok(42)\n");
    common::assert_vms_stayed_under(common::VM_MEMORY_CEILING);
}

#[test]
fn every_environment_limit_holds_and_names_itself() {
    let run = scenario("budgets");
    run.assert_code(0)
        .assert_stdout("processes: panicked: 4 spawned, then: over the environment's limit of processes")
        .assert_stdout("queued bytes: trapped (OverLimit): over the environment's limit of 1048576 queued message bytes")
        .assert_stdout("large message: trapped (OverLimit): over the environment's limit of 1048576 bytes in one message")
        .assert_stdout("monitors: trapped (OverLimit): over the environment's limit of 100 handles")
        .assert_stdout("monitors of the gone: trapped (OverLimit): over the environment's limit of 100 handles")
        .assert_stdout("links to the gone: trapped (OverLimit): over the environment's limit of 100 handles")
        .assert_stdout("monitor churn: panicked: 50 monitors after 300 watchers ended")
        .assert_stdout("nesting: 7 levels made below the first\n")
        .assert_stdout("names: panicked: 100 registered, then: the environment is over its limit of handles")
        .assert_stdout("sockets: panicked: 3 opened, then: over the environment's limit of 3 open sockets and files")
        .assert_stdout("budgets: main alive\n");
    let fit: u32 = run
        .stdout
        .split("memory: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no memory count\n{run}"));
    assert!((2..=5).contains(&fit), "{fit} processes fit\n{run}");
    run.assert_stderr("died: out of memory");
    // 30 units of fuel (3,000,000 instructions) pay for a few dozen steps of about
    // 150,000, not 30 units per process.
    let steps: u32 = run
        .stdout
        .split("fuel chain: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no step count\n{run}"));
    assert!((1..=60).contains(&steps), "{steps} steps\n{run}");
    // 200 reports of about 150 bytes at 2,000 bytes a second: most are dropped, and counted.
    let logged = run.stderr.matches("died: panicked: log flood").count();
    assert!((1..=30).contains(&logged), "{logged} reports logged\n{run}");
    run.assert_stderr("died: panicked: flood over")
        .assert_stderr("earlier lines of its environment dropped: over its log rate");
    common::assert_vms_stayed_under(common::VM_MEMORY_CEILING);
}

#[test]
fn modules_too_costly_to_compile_are_refused_before_compiling() {
    let run = scenario("compile-bombs");
    run.assert_code(0)
        .assert_stdout("many functions: the module defines 60000 functions, more than the limit of 50000\n")
        .assert_stdout("long function: a function of the module is 1200002 bytes, more than the limit of 1048576\n")
        .assert_stdout("a thousand functions: true\n");
    common::assert_vms_stayed_under(common::VM_MEMORY_CEILING);
}

#[test]
fn files_count_against_the_descriptor_limit() {
    let dir = std::env::temp_dir().join(format!("lunatic-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_text = dir.display().to_string();
    let run = run_with(
        &["--dir", &dir_text],
        &guest("test-environments"),
        &["open-files", &dir_text],
        Duration::from_secs(60),
    );
    let _ = std::fs::remove_dir_all(&dir);
    run.assert_code(0)
        .assert_stdout("files: 3 opened, then: No file descriptors available (os error 33)\n")
        .assert_stdout("after renumbering onto themselves: 0 more opened\n")
        .assert_stdout("after closing one: true\n")
        .assert_stdout("root still opens: true\n");
    common::assert_vms_stayed_under(common::VM_MEMORY_CEILING);
}

#[test]
fn a_recycled_instance_is_charged_to_its_environment_as_a_fresh_one() {
    let run = common::run_logged(
        Some("lunatic::recycle=debug"),
        &[],
        &common::guest("test-environments"),
        &["recycled-charges"],
        std::time::Duration::from_secs(60),
    );
    run.assert_code(0).assert_stdout("refused alike: true\n");
    let counts: Vec<usize> = run
        .stdout
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    // "8 MiB: N, ... 50 ...: M": N == M, and the limit, not the count, stopped both.
    assert!(
        matches!(counts[..], [8, before, 50, after] if before == after && (1..100).contains(&before)),
        "{run}"
    );
    let recycled = run.stderr.matches("starts in a recycled instance").count();
    assert!(recycled >= 50, "{recycled} recycled\n{run}");
}

#[test]
fn a_start_function_runs_on_its_environments_fuel() {
    scenario("metered-start")
        .assert_code(0)
        .assert_stdout("started and ran\n");
}

#[test]
fn kept_instances_give_their_pool_slots_to_another_program() {
    common::run_with(
        &["--max-processes", "4"],
        &common::guest("test-environments"),
        &["recycled-room"],
        std::time::Duration::from_secs(60),
    )
    .assert_code(0)
    .assert_stdout("parked 3 beside main, then: no room, 4 alive\n");
}
