//! Process behaviour on the VM: links and their cascades, kills, exits, timeouts, selective
//! receive, handles in messages, fairness. Each test runs a scenario of
//! `tests/guests/behaviour.rs` (or `fairness.rs`) and checks what it printed and how it ended.

mod common;

use std::time::Duration;

use common::background::Background;
use common::{guest, run, run_env, run_logged, run_with};

fn scenario(name: &str) -> common::Run {
    run("test-behaviour", &[name])
}

#[test]
fn link_deaths_cascade_and_reach_trapping_processes() {
    scenario("cascade")
        .assert_code(0)
        .assert_stdout("signal from A: true\n")
        .assert_stdout("signal: linked process {id} died: panicked: B fails at ")
        .assert_stderr("process {id} died: panicked: B fails");
    assert!(!scenario("cascade").stdout.contains("A survived"));
}

#[test]
fn end_reasons_are_typed_variants() {
    scenario("end-reasons")
        .assert_code(0)
        .assert_stdout("return: Normal / normal exit\n")
        .assert_stdout("exit code: ExitCode(3) / exited with status 3\n")
        .assert_stdout("panic: Panicked { message: \"boom\", located: true } / panicked: boom at tests/guests/behaviour.rs:")
        .assert_stdout("trap: Trapped { kind: Unreachable, message: \"wasm trap: wasm `unreachable` instruction executed\" } / trapped: wasm trap")
        .assert_stdout("killed: Killed / killed\n")
        .assert_stdout("shutdown: Shutdown / shutdown\n")
        .assert_stdout("error: Error(\"bad state\") / bad state\n")
        .assert_stdout("normal: Normal / normal exit\n")
        .assert_stdout("link died: LinkedDied { reason: Panicked { message: \"root cause\", location: Some(\"tests/guests/behaviour.rs:");
}

#[test]
fn a_panic_inside_the_vm_still_ends_the_process_properly() {
    let run = run_env(
        "test-behaviour",
        &["vm-panic"],
        &[("LUNATIC_INJECT_PANIC", "lunatic::process::is_alive")],
    );
    run.assert_code(1)
        .assert_stdout("child ready: true\n")
        .assert_stdout("link: VmFailed(\"injected panic in lunatic::process::is_alive (LUNATIC_INJECT_PANIC)\")\n")
        .assert_stdout("monitor (tag matches: true): VmFailed(")
        .assert_stdout("name still registered: false\n")
        .assert_stderr("process {id} died: the VM failed: injected panic");
    assert!(!run.stdout.contains("survived"), "{run}");
}

#[test]
fn guest_text_cannot_forge_log_lines() {
    let run = scenario("forged-log");
    run.assert_code(0)
        .assert_stdout("done\n")
        .assert_stderr("process {id} died: panicked: evil\\nprocess 1 died: forged\\u{1b}[2J at ");
    for line in run.stderr.lines() {
        assert!(
            !line.contains("forged") || line.contains("evil"),
            "a forged line: {line:?}\n{run}"
        );
    }
    assert!(
        !run.stderr.contains("\u{1b}[2J"),
        "the guest's escape sequence reached the log"
    );
}

#[test]
fn normal_return_notifies_nobody() {
    scenario("normal-exit")
        .assert_code(0)
        .assert_stdout("child done\nno signal\nchild alive: false\n");
}

#[test]
fn kill_is_reported_to_links_with_their_tag() {
    scenario("kill")
        .assert_code(0)
        .assert_stdout("tag matches: true\nsignal: killed\n");
}

#[test]
fn a_recycled_instance_shows_nothing_of_the_process_that_ended_in_it() {
    let run = common::run_logged(
        Some("lunatic::recycle=debug"),
        &[],
        &common::guest("test-behaviour"),
        &["recycled"],
        std::time::Duration::from_secs(60),
    );
    run.assert_code(0).assert_stdout(
        "after a writer returns: its secrets seen: false, stack starts as fresh: true\n\
         after a writer panics: its secrets seen: false, stack starts as fresh: true\n\
         after a writer traps: its secrets seen: false, stack starts as fresh: true\n\
         after a writer is killed: its secrets seen: false, stack starts as fresh: true\n\
         after 24 writers end together: readers that saw a secret: 0\n",
    );
    // Every process spawned after the one before it ended ran in an instance an ended one
    // left: the 4 writers and 4 readers after the first reader, the first of the 24
    // writers (the others run at once, most in fresh instances) and the 24 readers.
    let recycled = run.stderr.matches("starts in a recycled instance").count();
    assert!(recycled >= 33, "{recycled} recycled\n{run}");
}

#[test]
fn the_vm_keeps_its_memory_in_small_pages() {
    // A huge page is zeroed whole at its first touch (a burst of spawns on fresh pool slots
    // was several times slower), and a page a process touches would cost 2 MiB.
    let mut vm = Background::start(&guest("test-behaviour"), &["park"]);
    vm.wait_for("parked", Duration::from_secs(30));
    let status = vm.status();
    vm.stop();
    assert!(status.contains("THP_enabled:\t0"), "{status}");
}

#[test]
fn instances_kept_after_a_burst_are_dropped_when_unused() {
    let run = common::run_logged(
        Some("lunatic::recycle=debug"),
        &[],
        &common::guest("test-behaviour"),
        &["burst-then-idle"],
        std::time::Duration::from_secs(60),
    );
    run.assert_code(0)
        .assert_stdout("burst ended\nsecond burst ended\n");
    // The burst's 64 instances are kept when it ends; at least one second later, while
    // nothing uses them, half of those of each worker go (and half the rest a second on).
    let dropped: usize = run
        .stderr
        .lines()
        .filter(|line| line.contains(" kept instances unused"))
        .filter_map(|line| {
            line.split(" kept instances unused")
                .next()?
                .rsplit(' ')
                .next()
        })
        .map(|count| count.parse::<usize>().expect("a count"))
        .sum();
    assert!(dropped >= 31, "{dropped} dropped\n{run}");
}

#[test]
fn a_burst_larger_than_half_the_pool_starts_again_in_what_it_left() {
    // 48 of 64 slots: every instance the first burst leaves is kept (up to the pool's
    // size, not half of it), so every process of the second starts in one.
    let run = common::run_logged(
        Some("lunatic::recycle=debug"),
        &["--max-processes", "64"],
        &common::guest("test-behaviour"),
        &["burst-twice"],
        std::time::Duration::from_secs(60),
    );
    run.assert_code(0).assert_stdout("bursts ended\n");
    let recycled = run
        .stderr
        .lines()
        .filter(|line| line.contains("starts in a recycled instance"))
        .count();
    assert_eq!(recycled, 48, "{run}");
}

#[test]
fn output_without_a_line_end_is_written_when_a_process_ends() {
    scenario("partial-lines")
        .assert_code(0)
        .assert_stdout("[a child returns][a child panics][main returns]");
}

#[test]
fn trap_is_reported_to_links() {
    scenario("trap")
        .assert_code(0)
        .assert_stdout("signal: trapped: wasm trap: wasm `unreachable` instruction executed\n")
        .assert_stderr("process {id} died: trapped");
}

#[test]
fn spawn_link_unwrap_parent_dies_with_child() {
    let run = scenario("unwrap");
    run.assert_code(1)
        .assert_stderr("process {id} died: panicked: child fails")
        .assert_stderr("process {id} died: linked process {id} died: panicked: child fails");
    assert!(!run.stdout.contains("parent survived"), "{run}");
}

#[test]
fn linking_to_a_dead_process_reports_it() {
    scenario("link-dead")
        .assert_code(0)
        .assert_stdout("signal: process {id} is not alive\n");
}

#[test]
fn unlinked_process_dies_alone() {
    scenario("unlink")
        .assert_code(0)
        .assert_stdout("no signal\n");
}

#[test]
fn messages_to_dead_processes_are_dropped() {
    scenario("send-to-dead")
        .assert_code(0)
        .assert_stdout("sending to a dead process is fine\n");
}

#[test]
fn exit_status_is_the_main_process_status() {
    scenario("exit-code").assert_code(3);
    scenario("main-panics")
        .assert_code(101)
        .assert_stderr("process {id} died: panicked: main gives up");
}

#[test]
fn main_return_ends_the_vm_and_kills_the_rest() {
    let run = scenario("main-ends");
    run.assert_code(0).assert_stdout("main returns\n");
    assert!(run.elapsed < Duration::from_secs(10), "{run}");
}

#[test]
fn receive_and_request_time_out() {
    scenario("timeouts")
        .assert_code(0)
        .assert_stdout("receive: Err(Timeout)\nrequest: Err(Timeout)\n");
}

#[test]
fn selective_receive_by_tag() {
    scenario("selective")
        .assert_code(0)
        .assert_stdout("second: Ok(2)\nany: Ok((1, true))\nany: Ok(3)\nnone left: Err(Timeout)\n");
}

#[test]
fn process_handles_travel_in_messages() {
    scenario("handles")
        .assert_code(0)
        .assert_stdout("echo: HELLO\n");
}

#[test]
fn wrong_message_type_is_a_receive_error() {
    scenario("bad-message")
        .assert_code(0)
        .assert_stdout("wrong type: expected a message of type `u64`, got one of type `u8`\n");
}

#[test]
fn a_tree_of_spawns_fits_in_a_small_pool() {
    // 11,111 processes, each parent spawning its ten children before any ends: grown
    // breadth first, thousands would be alive at once.
    run_with(
        &["--max-processes", "400", "--workers", "2"],
        &guest("test-behaviour"),
        &["spawn-tree"],
        Duration::from_secs(60),
    )
    .assert_code(0)
    .assert_stdout("sum 49995000\n");
}

#[test]
fn full_pool_is_a_spawn_error() {
    let run = run_with(
        &["--max-processes", "20"],
        &guest("test-behaviour"),
        &["pool-full"],
        Duration::from_secs(60),
    );
    run.assert_code(0)
        .assert_stdout("spawned 19 then: ")
        .assert_stdout("--max-processes")
        .assert_stdout("no room, 20 alive\n");
}

#[test]
fn busy_loops_do_not_starve_others_on_one_worker() {
    let run = run_with(
        &["--workers", "1"],
        &guest("test-fairness"),
        &[],
        Duration::from_secs(30),
    );
    run.assert_code(0)
        .assert_stdout("tick 0\ntick 1\ntick 2\ntick 3\ntick 4\n")
        .assert_stdout("spinner killed; others alive: true\n");
}

#[test]
fn panic_if_link_panics_makes_link_deaths_fatal_again() {
    let run = scenario("panic-if-link-panics");
    run.assert_code(1)
        .assert_stderr("process {id} died: linked process {id} died");
    assert!(!run.stdout.contains("survived"), "{run}");
    let run = scenario("queued-signal");
    run.assert_code(1)
        .assert_stderr("process {id} died: linked process {id} died");
    assert!(!run.stdout.contains("survived"), "{run}");
}

#[test]
fn wasi_args_env_clocks_and_random_reach_processes() {
    let run = run_with(
        &["--env", "LUNATIC_TEST=hello"],
        &guest("test-behaviour"),
        &["wasi", "--flag", "two words"],
        Duration::from_secs(60),
    );
    run.assert_code(0)
        .assert_stdout("args: [\"wasi\", \"--flag\", \"two words\"]\n")
        .assert_stdout("env: Ok(\"hello\")\n")
        .assert_stdout("host env hidden: true\n")
        .assert_stdout("monotonic clock: true\n")
        .assert_stdout("wall clock: true\n")
        .assert_stdout("random: true\n")
        .assert_stdout("child env: Ok(\"hello\")\n");
}

#[test]
fn debug_log_adds_the_wasm_backtrace() {
    let quiet = scenario("trap");
    assert!(!quiet.stderr.contains("backtrace"), "{quiet}");
    let run = run_logged(
        Some("lunatic=debug"),
        &[],
        &guest("test-behaviour"),
        &["trap"],
        Duration::from_secs(60),
    );
    run.assert_code(0)
        .assert_stderr("process {id} died: trapped")
        .assert_stderr("process {id} backtrace:");
    // Symbolized: the frames name the guest's functions.
    run.assert_stderr("behaviour::trap");
}

#[test]
fn monitors_report_every_end_without_killing_the_watcher() {
    let run = scenario("monitor");
    run.assert_code(0)
        .assert_stdout("down: normal exit (tag matches: true, id matches: true)\n")
        .assert_stdout("down: panicked: monitored failure")
        .assert_stdout("down: process {id} is not alive\n")
        .assert_stdout("after demonitor: Err(Timeout)\n")
        .assert_stdout("link mailbox down: true\n");
}

#[test]
fn request_to_a_dead_server_fails_at_once() {
    let run = scenario("request-dead-server");
    run.assert_code(0)
        .assert_stdout("request: server down: panicked: server crashed")
        .assert_stdout("request: process {id} is not alive\n");
    assert!(run.elapsed < Duration::from_secs(20), "{run}");
}

#[test]
fn replies_after_a_timeout_are_dropped_not_left_in_the_mailbox() {
    scenario("late-reply").assert_code(0).assert_stdout(
        "first request: timed out\n\
         no late reply in the mailbox\n\
         in time: Ok(42)\n",
    );
}

/// A receive copies a message's first 256 bytes itself and reads a larger one with a
/// second call; sizes on both sides of the line (a number written across the encoder's
/// stack buffer's end too), bursts found queued between waits, and a down notice whose
/// reason is longer than the buffer all arrive whole.
#[test]
fn messages_of_any_size_arrive_whole() {
    let run = scenario("sizes");
    run.assert_code(0);
    for len in [0, 1, 247, 248, 249, 255, 256, 257, 1000, 100_000] {
        run.assert_stdout(&format!("size {len}: intact\n"));
    }
    for len in [30, 31, 32, 1000] {
        run.assert_stdout(&format!("numbers {len}: intact\n"));
    }
    for burst in 0..3 {
        run.assert_stdout(&format!("burst {burst}: in order\n"));
    }
    run.assert_stdout("long reason: whole\n");
}

/// The outbox (consecutive sends to a busy process travel in batches) never loses,
/// reorders or holds back a message: the sender then waits, computes forever without a
/// host call, or panics (its messages arrive before its link death signal).
#[test]
fn messages_to_a_busy_process_all_arrive_in_order() {
    scenario("outbox")
        .assert_code(0)
        .assert_stdout("wait: 150 messages in order, signal after None\n")
        .assert_stdout("spin: 150 messages in order, signal after None\n")
        .assert_stdout("panic: 150 messages in order, signal after Some(150)\n");
}

#[test]
fn process_groups_join_list_send_and_lose_members_that_die() {
    let run = scenario("groups");
    run.assert_code(0)
        .assert_stdout("members: 3\n")
        .assert_stdout("sent to: Ok(3)\n")
        .assert_stdout("after a member died: 2\n")
        .assert_stdout("leave: Ok(true)\n")
        .assert_stdout("leave again: Ok(false)\n")
        .assert_stdout("members now: 1\n")
        .assert_stdout("as numbers: the group `workers` is of processes taking alloc::string::String, not u64\n")
        .assert_stdout("nobody: Ok(0)\n");
    assert_eq!(run.stdout.matches("member got: hello").count(), 3, "{run}");
}

/// The resident kilobytes of the table pool's mapping in `smaps` (the pool of
/// `--max-processes 4000`: 4,000 slots of 160 KiB, and up to a few MiB more when the kernel
/// merged a neighbour into it, such as the topmost fiber stack).
fn table_pool_resident_kib(pid: u32) -> u64 {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).expect("smaps readable");
    let mut size = 0;
    for line in smaps.lines() {
        if let Some(kib) = line.strip_prefix("Size:") {
            size = kib.trim().trim_end_matches(" kB").parse::<u64>().unwrap();
        } else if let Some(kib) = line.strip_prefix("Rss:") {
            if (4_000 * 160..4_000 * 160 + 8_192).contains(&size) {
                return kib.trim().trim_end_matches(" kB").parse().unwrap();
            }
        }
    }
    panic!("no mapping of the table pool's size in smaps");
}

#[test]
fn parked_processes_give_their_table_pages_back() {
    // 3,000 processes formatted a number, so each wrote a page of its table; after a
    // reclaim (every 50 ms here) those pages are back with the kernel, and the processes
    // still format and answer correctly once woken. With reclaiming off they keep them.
    let resident = |period: &str| {
        let mut vm = Background::start_with(
            &["--max-processes", "4000", "--table-reclaim-period", period],
            &guest("test-behaviour"),
            &["park-then-answer"],
        );
        vm.wait_for("parked 3000", Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(300));
        let kib = table_pool_resident_kib(vm.pid());
        let run = vm.finish(Duration::from_secs(60));
        run.assert_code(0)
            .assert_stdout("parked 3000\nanswered 3000\n");
        kib
    };
    let kept = resident("0");
    let reclaimed = resident("50");
    assert!(kept >= 3_000 * 4, "{kept} KiB kept");
    assert!(reclaimed < 1_000, "{reclaimed} KiB left after reclaims");
}

#[test]
fn table_pages_are_reclaimed_only_while_no_guest_code_runs() {
    // A reclaim every millisecond while thousands of processes start, make their first
    // indirect calls (each initializes a table element, then wasmtime reads it back) and
    // end. A reclaim between the two would abort the VM: it did in 3 of 5 such runs
    // when reclaims did not wait for the workers.
    for _ in 0..3 {
        let run = run_with(
            &["--table-reclaim-period", "1"],
            &guest("bench-fanout"),
            &[],
            Duration::from_secs(120),
        );
        run.assert_code(0);
        assert!(run.stdout.contains("RESULT fanout_us"), "{}", run.stdout);
    }
}

#[test]
fn a_module_that_changes_its_table_keeps_its_pages() {
    // Element 1 is set at run time, so zeroing the table would lose it (lazy initialization
    // would make it the segment's $first again): loading this module turns reclaiming off,
    // and the call through element 1 after the sleep still reaches $answer.
    let dir = std::env::temp_dir().join(format!("lunatic-table-set-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("table_set.wat");
    std::fs::write(
        &path,
        r#"(module
  (import "lunatic::process" "sleep_ms" (func $sleep_ms (param i64)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 1) func $first)
  (elem declare func $answer)
  (data (i32.const 16) "called through the table\n")
  (data (i32.const 48) "first\n")
  (type $print (func))
  (func $print (param $at i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $at))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $first (call $print (i32.const 48) (i32.const 6)))
  (func $answer (call $print (i32.const 16) (i32.const 25)))
  (func (export "_start")
    (call_indirect (type $print) (i32.const 1))
    (table.set (i32.const 1) (ref.func $answer))
    (call $sleep_ms (i64.const 200))
    (call_indirect (type $print) (i32.const 1))))"#,
    )
    .unwrap();
    let run = common::run_logged(
        Some("lunatic::reclaim=debug"),
        &["--max-processes", "64", "--table-reclaim-period", "1"],
        &path,
        &[],
        Duration::from_secs(30),
    );
    let _ = std::fs::remove_dir_all(&dir);
    run.assert_code(0)
        .assert_stdout("first\ncalled through the table\n");
    assert!(
        run.stderr.contains("a module changes its tables"),
        "{}",
        run.stderr
    );
}
