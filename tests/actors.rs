//! The actor layer on the VM: calls and casts, init failures, terminate, info, generic
//! actors, names, timers, and supervisors (every strategy and restart type, intensity and
//! its escalation, shutdown order and timeouts, dynamic children, 10,000 restarts). Each
//! test runs a scenario of `tests/guests/actors.rs` and checks what it printed.

mod common;

use std::time::Duration;

use common::{guest, run, run_with};

fn scenario(name: &str) -> common::Run {
    run("test-actors", &[name])
}

/// The lines of stdout that start with one of `prefixes`, in order.
fn lines(run: &common::Run, prefixes: &[&str]) -> Vec<String> {
    run.stdout
        .lines()
        .filter(|line| prefixes.iter().any(|p| line.starts_with(p)))
        .map(str::to_owned)
        .collect()
}

#[test]
fn calls_casts_timeouts_and_dead_actors() {
    let run = scenario("calls");
    run.assert_code(0)
        .assert_stdout("get: Ok(1)\nadd: Ok(42)\nraw call: Ok(43)\n")
        .assert_stdout("from another process: Ok(44)\ntimeout: Err(Timeout)\n")
        .assert_stdout("call self: Ok(\"Err(CallingSelf) within 1 s: true\")\n")
        .assert_stdout(
            "explode: Err(ActorDown(Panicked { message: \"exploded while serving a call\"",
        )
        .assert_stdout("alive after explode: false\n")
        .assert_stdout("call to dead: Err(ActorDown(NoProcess { process: {id} }))\n")
        .assert_stdout("cast to dead: fine\n")
        .assert_stdout("call to killed: Err(ActorDown(Killed))\n");
    assert!(
        run.elapsed < Duration::from_secs(10),
        "calls to dead actors must not hang\n{run}"
    );
}

#[test]
fn init_errors_and_panics_are_start_errors() {
    scenario("init")
        .assert_code(0)
        .assert_stdout("init error: Some(Init(\"unlucky start\"))\n")
        .assert_stdout("init panic: true\n")
        .assert_stdout("failing child: init failed: child `unlucky` did not start: init failed: unlucky start\n")
        // The supervisor's report (SASL): one event naming the supervisor, the child, why.
        .assert_stderr(
            "ERROR lunatic::supervisor: child failed to start supervisor={id} supervisor_names= \
             child=unlucky child_process=0 new_process=0 reason=init failed: unlucky start",
        );
}

#[test]
fn terminate_runs_on_stop_on_normal_exit_and_on_link_death() {
    scenario("terminate")
        .assert_code(0)
        .assert_stdout("counter terminates: shutdown (count 1)\n")
        // The reply goes out before `terminate` runs: the two lines come in either order.
        .assert_stdout("counter terminates: normal (count 2)\n")
        .assert_stdout("finish: Ok(())\n")
        .assert_stdout("info: link died: panicked: doomed")
        .assert_stdout("counter terminates: my link died (count 3)\n")
        .assert_stdout("parent got: my link died");
}

#[test]
fn raw_info_messages_reach_handle_info() {
    scenario("info")
        .assert_code(0)
        .assert_stdout("info: Ok(\"hello\")\ninfo done\n");
}

#[test]
fn generic_actors_work_per_type() {
    scenario("generic")
        .assert_code(0)
        .assert_stdout("strings: Ok(Some(\"b\")) then Ok([\"a\"])\nnumbers: Ok(Some(7))\n");
}

#[test]
fn names_are_typed_unique_and_freed_on_death() {
    scenario("registry").assert_code(0).assert_stdout(
        "register: Ok(())\n\
         duplicate: Err(\"the name `counter` is already registered\")\n\
         lookup: Ok(5)\n\
         wrong type: Err(\"the name `counter` is registered for another message type\")\n\
         missing: true\n\
         released on death: true\n\
         register again: Ok(())\n",
    );
}

#[test]
fn timers_fire_repeat_and_cancel() {
    let run = scenario("timers");
    run.assert_code(0)
        .assert_stdout("cancel before firing: true\ncancelled timer active: false\n")
        .assert_stdout("collector got 1\n")
        .assert_stdout("cancel after firing: false\n")
        .assert_stdout("interval ticked: true\n")
        .assert_stdout("cast_after arrived: Ok(1)\n")
        .assert_stdout("stopped after cancel: true\n");
    assert!(
        !run.stdout.contains("collector got 2"),
        "a cancelled timer fired\n{run}"
    );
}

#[test]
fn one_for_one_restarts_only_the_failed_child() {
    let run = scenario("one-for-one");
    run.assert_code(0);
    assert_eq!(
        lines(&run, &["start", "stop", "--"]),
        [
            "start a",
            "start b",
            "start c",
            "-- crash b",
            "start b",
            "-- restarted: [\"b\"]"
        ],
        "{run}"
    );
}

#[test]
fn one_for_all_stops_the_others_in_reverse_then_restarts_all_in_order() {
    let run = scenario("one-for-all");
    run.assert_code(0);
    assert_eq!(
        lines(&run, &["start", "stop", "--"]),
        [
            "start a",
            "start b",
            "start c",
            "-- crash b",
            "stop c (shutdown)",
            "stop a (shutdown)",
            "start a",
            "start b",
            "start c",
            "-- restarted: [\"a\", \"b\", \"c\"]",
        ],
        "{run}"
    );
}

#[test]
fn rest_for_one_restarts_the_failed_child_and_those_after_it() {
    let run = scenario("rest-for-one");
    run.assert_code(0);
    assert_eq!(
        lines(&run, &["start", "stop", "--"]),
        [
            "start a",
            "start b",
            "start c",
            "-- crash b",
            "stop c (shutdown)",
            "start b",
            "start c",
            "-- restarted: [\"b\", \"c\"]"
        ],
        "{run}"
    );
}

#[test]
fn restart_types_follow_otp() {
    scenario("restart-types")
        .assert_code(0)
        .assert_stdout("Permanent: back after normal exit: true, after crash: true\n")
        .assert_stdout("Transient: back after normal exit: false, after crash: true\n")
        .assert_stdout("Temporary: back after normal exit: false, after crash: false\n");
}

#[test]
fn exceeding_intensity_stops_the_children_and_fails_upward() {
    let run = scenario("intensity");
    run.assert_code(0)
        .assert_stdout("stop a (shutdown)\n")
        .assert_stdout("supervisor failed: reached maximum restart intensity (2 restarts in 10s)");
    assert_eq!(
        lines(&run, &["start", "stop", "--"]),
        [
            "start a",
            "start b",
            "-- crash 0",
            "start b",
            "-- crash 1",
            "start b",
            "-- crash 2",
            "stop a (shutdown)"
        ],
        "two restarts, then the failure stops the rest\n{run}"
    );
}

#[test]
fn a_failed_subtree_is_restarted_by_its_parent_supervisor() {
    let run = scenario("escalation");
    run.assert_code(0)
        .assert_stderr("reached maximum restart intensity (1 restarts in 10s) restarting `leaf`")
        .assert_stdout("top restarts: Ok(1)\nsibling untouched: true\n")
        // Supervisor reports: the inner one reaches its intensity and gives up; the top
        // one restarts it.
        .assert_stderr("ERROR lunatic::supervisor: restart intensity reached supervisor={id} supervisor_names= child=leaf child_process={id} new_process=0 reason=panicked")
        .assert_stderr("ERROR lunatic::supervisor: supervisor gave up supervisor={id} supervisor_names= child= child_process=0 new_process=0 reason=reached maximum restart intensity")
        .assert_stderr("WARN lunatic::supervisor: child restarted supervisor={id} supervisor_names= child=");
    assert_eq!(lines(&run, &["start sibling"]).len(), 1, "{run}");
    assert_eq!(lines(&run, &["start leaf"]).len(), 3, "{run}");
}

#[test]
fn shutdown_is_in_reverse_order_and_kills_after_the_timeout() {
    let run = scenario("shutdown");
    run.assert_code(0);
    // b takes 2 s to stop but has 200 ms: it is killed, so it never prints.
    assert_eq!(
        lines(&run, &["stop", "--"]),
        [
            "-- stop supervisor",
            "stop c (shutdown)",
            "stop a (shutdown)",
            "-- supervisor ended: Ok(Shutdown)"
        ],
        "{run}"
    );
    assert!(run.elapsed < Duration::from_secs(2), "{run}");
}

#[test]
fn dynamic_children_start_and_stop_at_run_time() {
    scenario("dynamic").assert_code(0).assert_stdout(
        "start_child: true\n\
         duplicate: AlreadyExists: a child with id `extra` already exists\n\
         children: [\"static\", \"extra\"]\n\
         extra answers: Ok(\"extra\")\n\
         stop extra (shutdown)\n\
         terminate_child: Ok(true)\n\
         children: [\"static\"]\n",
    );
}

#[test]
fn ten_thousand_restarts_leak_no_process_and_no_memory() {
    // 16 process slots and 16 MiB per process: a leaked process or a growing supervisor
    // would run out long before 10,000 restarts.
    let run = run_with(
        &["--max-processes", "16", "--max-memory", "16"],
        &guest("test-actors"),
        &["many-restarts"],
        Duration::from_secs(120),
    );
    run.assert_code(0)
        .assert_stdout("restarts: Ok(10000)\nstill serving: Ok(1)\n");
}

#[test]
fn counter_example_uses_the_generated_client() {
    run("counter", &[])
        .assert_code(0)
        .assert_stdout("after two increments: 12\nafter adding 5: 17\nseen through a copy: 18\n");
}

#[test]
fn supervision_tree_example_heals_as_otp_would() {
    let run = run("supervision_tree", &[]);
    run.assert_code(0)
        // rest-for-one: the cache, started after the connection, is restarted with it.
        .assert_stdout("* crashing db/connection\n  - app/db/cache stopped (shutdown)\n  + app/db/connection started\n  + app/db/cache started\n")
        // one-for-all: the listener's crash restarts the handlers subtree too.
        .assert_stdout("* crashing web/listener\n  - app/web/handlers/handler-2 stopped (shutdown)\n  - app/web/handlers/handler-1 stopped (shutdown)\n  + app/web/listener started\n")
        // The second crash within 10 s is one too many for `handlers`: `web` restarts it all.
        .assert_stdout("  - app/web/listener stopped (shutdown)\n  + app/web/listener started\n  + app/web/handlers/handler-1 started\n  + app/web/handlers/handler-2 started\n* app restarted")
        // Shutdown: reverse start order, depth first.
        .assert_stdout(
            "* stopping the tree\n  - app/web/handlers/handler-2 stopped (shutdown)\n  - app/web/handlers/handler-1 stopped (shutdown)\n  - app/web/listener stopped (shutdown)\n  - app/db/cache stopped (shutdown)\n  - app/db/connection stopped (shutdown)\n* done\n",
        );
}

#[test]
fn kv_store_example_serves_many_clients() {
    run("kv_store", &[]).assert_code(0).assert_stdout(
        "100 clients wrote and read back their keys\nkeys stored: 10000\nafter one delete: 9999\n",
    );
}

#[test]
fn a_call_can_be_answered_later_and_knows_its_caller() {
    let run = scenario("deferred");
    run.assert_code(0)
        .assert_stdout("who: the caller is main: true\n")
        .assert_stdout("still waiting before the release: true\n")
        .assert_stdout("later: Ok(42)\n");
}

#[test]
fn a_supervisor_hands_out_children_typed_and_checked() {
    let run = scenario("typed-children");
    run.assert_code(0)
        .assert_stdout("as a counter: Ok(2)\n")
        .assert_stdout(
            "as a worker: the child `counter` is an actor of type test_actors::Counter, not test_actors::Worker\n",
        )
        .assert_stdout("missing: Err(NotFound(\"nope\"))\n");
}
