//! Isolation in time: a process outside an environment keeps its latency while processes
//! inside it attack. Its own test binary, so that no other test's VM shares the machine's
//! cores while it measures (cargo runs test binaries one at a time; the tests of one
//! binary at once).

mod common;

fn scenario(name: &str) -> common::Run {
    common::run("test-environments", &[name])
}

#[test]
fn a_bystander_keeps_its_latency_while_two_attackers_run() {
    let run = scenario("bystander");
    run.assert_code(0).assert_stdout("attackers alive: true\n");
    let p99: u64 = run
        .stdout
        .split("bystander p99: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no p99\n{run}"));
    assert!(p99 < 10_000, "p99 {p99} us\n{run}");
    common::assert_vms_stayed_under(common::VM_MEMORY_CEILING);
}
