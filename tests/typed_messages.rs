//! Messages that know their type: a value sent as one type and read as another is an
//! error naming both, never a value made of garbage; a request of the wrong type is
//! refused at once; an actor never serves a message of another type. Each test runs a
//! scenario of `tests/guests/typed.rs` and checks what it printed.

mod common;

use common::run;

fn scenario(name: &str) -> common::Run {
    run("test-typed", &[name])
}

#[test]
fn a_mailbox_names_both_types_of_a_mistyped_message() {
    scenario("mailbox")
        .assert_code(0)
        .assert_stdout(
            "string: wrong type: expected u64 found alloc::string::String (expected a message of type `u64`, got one of type `alloc::string::String`)\n",
        )
        .assert_stdout("struct: wrong type: expected u64 found test_typed::Point (")
        .assert_stdout("tuple: wrong type: expected u64 found (u64, alloc::string::String) (")
        .assert_stdout("float: wrong type: expected u64 found f64 (")
        .assert_stdout("u64: Ok(5)\n");
}

#[test]
fn a_type_with_a_serde_name_of_its_own_is_named_in_full_by_a_receiver_of_another_type() {
    // The sender records each name as it first sends the type, joining the Rust and serde
    // names (on the stack; on the heap past 512 bytes); the VM keeps 255 bytes of a name.
    let long = "test_typed::Named<(std::collections::hash::map::HashMap<alloc::string::String, alloc::string::String>, std::collections::hash::map::HashMap<alloc::string::String, alloc::string::String>, std::collections::hash::map::HashMap<alloc::string::String, alloc::string::String";
    scenario("named-by-sender")
        .assert_code(0)
        .assert_stdout("handle: found lunatic_core::process::Process<u64> as ProcessId\nhandle is u64: false\n")
        .assert_stdout("order: found test_typed::v2::Order as Order/2\norder is u64: false\n")
        .assert_stdout(&format!("long: found {}\nlong is u64: false\n", &long[..255]));
}

#[test]
fn a_request_of_the_wrong_type_is_refused_at_once() {
    scenario("requests")
        .assert_code(0)
        .assert_stdout(
            "server: expected a message of type `lunatic_core::request::Request<u64, u64>`, got one of type `lunatic_core::request::Request<alloc::string::String, u64>`\n",
        )
        .assert_stdout(
            "wrong request: refused within 1 s: true; server takes lunatic_core::request::Request<u64, u64>\n",
        )
        .assert_stdout("wrong reply type: Err(\"the request was refused: expected a message of type `lunatic_core::request::Request<u64, u64>`, got one of type `lunatic_core::request::Request<u64, alloc::string::String>`\")\n")
        .assert_stdout("right request: Ok(42)\n");
}

#[test]
fn an_actor_never_serves_a_message_of_another_type() {
    let run = scenario("actors");
    run.assert_code(0)
        // A u64 0 does not stop an actor (it was the envelope's `Stop` once).
        .assert_stdout("after a u64 0: alive true, Ok(10)\n")
        .assert_stderr(
            "actor test_typed::Counter did not serve a message of type `u64`: it takes `lunatic_actors::envelope::Envelope<test_typed::CounterMessage>`",
        )
        // A cast through a mistyped handle runs no handler; a call is refused at once.
        .assert_stdout(
            "mistyped call: refused within 1 s: true; counter takes lunatic_actors::envelope::Envelope<test_typed::CounterMessage>\n",
        )
        .assert_stdout("counter after mistyped messages: Ok(11)\n")
        .assert_stdout("supervisor as acceptor: Err(\"the actor refused the call: expected a message of type `lunatic_actors::envelope::Envelope<lunatic_actors::supervisor::SupervisorMessage<test_typed::Tree>>`, got one of type `lunatic_actors::envelope::Envelope<test_typed::AcceptorMessage>`\")\n")
        .assert_stdout("supervisor children: 1 before, 1 after\n")
        .assert_stdout(
            "info as String: Err(\"expected a message of type `alloc::string::String`, got one of type `u64`\")\ninfo as u64: Ok(7)\n",
        )
        .assert_stdout("counter terminates: shutdown\nstopped: Ok(Shutdown)\n");
    assert!(
        !run.stdout.contains("acceptor poked"),
        "a mistyped cast ran a handler\n{run}"
    );
    // 1,000 u64s and two mistyped calls and casts: logged at the 1st, 2nd, 4th, ... 512th.
    run.assert_stdout("after 1,000 u64s: Ok(10)\n")
        .assert_stderr("(512 such so far)");
    let logged = run
        .stderr
        .matches("actor test_typed::Counter did not serve")
        .count();
    // The log goes to a pipe here: no colour codes in it.
    assert!(
        !run.stderr.contains('\x1b'),
        "escape codes in a piped log\n{run}"
    );
    assert_eq!(
        logged, 10,
        "a flood of mistyped messages is logged sparingly\n{run}"
    );
}

#[test]
fn fingerprints_are_stable_and_a_serde_name_versions_a_type() {
    // The FNV-1a hash of "u64": the same in every build.
    scenario("versions")
        .assert_code(0)
        .assert_stdout("u64: 0x4d35d3193e8d66f2\n")
        .assert_stdout("order: test_typed::v2::Order as Order/2 0x")
        .assert_stdout("order is u64: false\n");
}
