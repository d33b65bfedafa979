//! Every sample of the spec page's process, message, request/reply and linking sections,
//! run on the VM, plus the showcase.

mod common;

use common::run;

#[test]
fn hello_child_process_prints_and_notifies_parent() {
    run("hello", &[])
        .assert_code(0)
        .assert_stdout("Hi! I'm a process.\n");
}

#[test]
fn spawn_with_passes_the_context() {
    run("spawn_with_context", &[])
        .assert_code(0)
        .assert_stdout("Hello Process!\n");
}

#[test]
fn messages_reach_the_child() {
    run("messages", &[])
        .assert_code(0)
        .assert_stdout("Hello World\n");
}

#[test]
fn request_reply_adds() {
    run("request_reply", &[])
        .assert_code(0)
        .assert_stdout("1 + 1 = 2, 1 + 2 = 3\n");
}

#[test]
fn linked_child_panic_is_a_signal() {
    let run = run("linking", &[]);
    run.assert_code(0)
        .assert_stdout("linked process died: panicked: Error at examples/linking.rs")
        // The failure is logged with the process id and the panic message.
        .assert_stderr("process {id} died: panicked: Error");
}

#[test]
fn showcase_ten_thousand_processes_answer() {
    let run = run("showcase", &[]);
    run.assert_code(0)
        .assert_stdout("10000 processes answered, sum = 99990000\n");
}
