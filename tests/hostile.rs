//! A hostile guest cannot hurt the host or other processes.
//!
//! `tests/wat/hostile.wat` imports every host function (so any drift in the ABI fails to
//! link) and spawns one linked child per bad call; the main process traps link deaths and
//! prints each child's death reason. Bad inputs tried: out-of-bounds pointers for every
//! pointer argument (0xfffffff0, 0xffffff00, 0xffffffff; a receive's tags, buffer and info
//! record each, and a bad buffer after good calls, whose arguments the host remembers),
//! lengths past the end of memory,
//! 100,000 receive tags, a 64 MiB+ message built 64 KiB at a time, unknown error ids for
//! every error call, unknown process ids for kill/unlink/monitor/demonitor/is_alive/send/link,
//! unknown monitor tags, registry names out of bounds or too long, bad versions and
//! queries, unknown environment ids for names, calls out of
//! order (write/send before create, read/tag/size/signal before any receive), malformed
//! spawn parameters (wrong length, unknown type byte), a non-UTF-8 function name, an unknown
//! export and wrong parameter types; unknown environment and module ids, an environment
//! larger than the caller's, garbage module bytes; unknown resource ids for every resource
//! call, resources pushed with no message, taken before any receive or as an unknown kind;
//! an unknown stream id, a UDP socket used as a listener, out-of-bounds address, output,
//! data and resolve-buffer pointers, an address record with an unknown kind byte, an unknown
//! shutdown; a role or supervisor report too long, out of bounds, or of an unknown kind.
//! Bad input that is data rather than a broken call gives an I/O status, not a
//! trap: a name over 1024 bytes, a datagram over 64 KiB, a send without a peer, a receive
//! that times out, a resource taken from a signal.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use common::{run_with, workspace};
use lunatic_vm::{Runtime, RuntimeConfig};

fn hostile() -> PathBuf {
    workspace().join("tests/wat/hostile.wat")
}

#[test]
fn bad_calls_kill_only_the_caller_with_a_clear_reason() {
    let run = run_with(&[], &hostile(), &[], Duration::from_secs(60));
    run.assert_code(0).assert_stdout("main still alive\n");
    for reason in [
        "spawn error: the module has no exported function `nope`",
        "spawn error: function `bad_error_id` takes (), not (i32)",
        "spawn error: the environment asks for 18446744073709551615 bytes of memory, more than the",
        "spawn error: not a valid WebAssembly module",
        "spawn error: lunatic::process::spawn: the process holds no module with id 77",
        "lunatic::environment::drop: no environment with id 999",
        "lunatic::environment::drop_module: no module with id 999",
        "lunatic::environment::create: the range of 64 bytes at 0xfffffff0 is outside",
        "lunatic::environment::create: 99 is not a limit",
        "write_data: the range of 100 bytes at 0xfffffff0 is outside the guest's memory of 65536 bytes",
        "write_data: no message was created",
        "send: no message was created",
        "receive: the range of 32 bytes at 0xfffffff0 is outside",
        "receive: 100000 tags given, at most 1024 are allowed",
        "try_receive: the range of 32 bytes at 0xfffffff0 is outside",
        "receive: the range of 100 bytes at 0xfffffff0 is outside",
        "try_receive: the range of 16 bytes at 0xfffffffc is outside",
        "try_receive: the range of 4096 bytes at 0xffffff00 is outside",
        "send_data: the range of 100 bytes at 0xfffffff0 is outside",
        "read_data: no message has been received",
        "get_tag: no message has been received",
        "data_size: no message has been received",
        "signal_process: no message has been received",
        "string_size: no error with id 12345",
        "to_string: no error with id 777",
        "drop: no error with id 778",
        "spawn: the parameters are 5 bytes, not a multiple of 17",
        "spawn: unknown parameter type 0x42",
        "spawn: the range of 8 bytes at 0xffffffff is outside",
        "spawn: the range of 4096 bytes at 0xffffff00 is outside",
        "spawn: the function name is not UTF-8",
        "report_panic: the range of 4096 bytes at 0xffffff00 is outside",
        "lunatic::process::end: a process cannot end itself with Killed",
        "lunatic::process::end: malformed end reason",
        "lunatic::process::end: the reason is longer than 65536 bytes",
        "write_data: the message would exceed the limit of 67108864 bytes",
        "lunatic::registry::register: the range of 100 bytes at 0xfffffff0 is outside",
        "lunatic::registry::lookup: a string of 5000 bytes is longer than 1024",
        "lunatic::registry::lookup: the range of 8 bytes at 0xfffffffc is outside",
        // Unknown ids for kill, unlink, monitor, demonitor, is_alive and send are harmless: the child got past
        // them to its final `unreachable`.
        "wasm trap: wasm `unreachable` instruction executed",
        "lunatic::resource::drop: no resource with id 999",
        "lunatic::resource::clone: no resource with id 999",
        "lunatic::resource::push_to_message: no message was created",
        "lunatic::resource::push_to_message: no resource with id 999",
        "lunatic::resource::take_from_message: no message has been received",
        "lunatic::resource::take_from_message: unknown resource kind 99",
        "lunatic::networking::tcp_read: no TCP stream with id 999",
        "lunatic::networking::tcp_bind: the range of 27 bytes at 0xfffffff0 is outside",
        "lunatic::networking::tcp_connect: malformed socket address (kind byte 9)",
        "lunatic::networking::udp_bind: the range of 8 bytes at 0xfffffffc is outside",
        "lunatic::networking::tcp_read: the range of 4096 bytes at 0xffffff00 is outside",
        "lunatic::networking::tcp_accept: no TCP listener with id 1",
        "lunatic::networking::tcp_shutdown: unknown shutdown 7",
        "lunatic::networking::set_read_timeout: no TCP stream or UDP socket with id 999",
        "lunatic::networking::resolve: the range of 864 bytes at 0xfffffff0 is outside",
        "lunatic::networking::local_addr: no socket with id 999",
        "lunatic::process::log: the range of 4096 bytes at 0xffffff00 is outside",
        "lunatic::process::log: unknown log level 9",
        "lunatic::process::describe: the record is 2147483647 bytes, more than 40960",
        "lunatic::process::describe: bad role: unknown kind 7",
        "lunatic::process::supervisor_report: the range of 256 bytes at 0xffffff00 is outside",
        "lunatic::process::supervisor_report: bad supervisor report: unknown kind 7",
        "lunatic::message::sender: no message has been received",
        "lunatic::message::reply_tag: no message has been received",
        "lunatic::message::name_type: the range of 100 bytes at 0xfffffff0 is outside",
        "lunatic::message::type_name: the range of 3 bytes at 0xfffffffe is outside",
        "lunatic::distributed::nodes: the range of 32 bytes at 0xfffffff0 is outside",
        "lunatic::distributed::node_name: the range of 64 bytes at 0xfffffffe is outside",
        "lunatic::distributed::send_data: the range of 100 bytes at 0xfffffff0 is outside",
        "lunatic::distributed::send_data: a message started for a resource cannot travel",
        "lunatic::distributed::spawn: the parameters are 5 bytes, not a multiple of 17",
        "lunatic::distributed::spawn: the range of 8 bytes at 0xffffffff is outside",
        "lunatic::distributed::register: a name of 300 bytes is longer than 255",
        "lunatic::distributed::lookup: the range of 100 bytes at 0xfffffff0 is outside",
        "lunatic::message::sender_node: no message has been received",
        "lunatic::message::signal_node: no message has been received",
    ] {
        run.assert_stdout(reason);
    }
    // The WAT main prints each signal's bytes as they are: an encoded reason, mostly text.
    let no_process = lunatic_abi::EndReason::NoProcess {
        process: 0xFF_FFFF_FFFF,
    };
    run.assert_stdout(&String::from_utf8_lossy(&no_process.to_bytes()));
    let no_connection = lunatic_abi::EndReason::NoConnection { node: 5 };
    run.assert_stdout(&String::from_utf8_lossy(&no_connection.to_bytes()));
    assert_eq!(run.stdout.matches("child died: ").count(), 74, "{run}");
    // Each death is logged with the process id and the reason.
    run.assert_stderr("died: trapped: lunatic::message::write_data: no message was created");
}

#[test]
fn hostile_module_imports_every_host_function() {
    let wat = std::fs::read(hostile()).expect("the WAT file is there");
    let config = RuntimeConfig {
        max_processes: 4,
        ..RuntimeConfig::default()
    };
    let runtime =
        Runtime::new(&config, &wat, Default::default()).expect("the hostile module links");
    let module = wasmtime::Module::new(&wasmtime::Engine::default(), &wat).expect("valid WAT");
    let imported: BTreeSet<_> = module
        .imports()
        .map(|i| (i.module().to_owned(), i.name().to_owned()))
        .collect();
    let missing: Vec<_> = runtime
        .host_functions()
        .into_iter()
        .filter(|(module, name)| {
            module.starts_with("lunatic::") && !imported.contains(&(module.clone(), name.clone()))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "host functions the WAT test module does not import: {missing:?}"
    );
}

#[test]
fn broken_modules_are_one_clear_error() {
    let dir = std::env::temp_dir().join(format!("lunatic-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, &[u8], &str); 5] = [
        ("binary.wasm", b"\x01\x02\xff", "lacks the `\\0asm` header"),
        (
            "garbage.wasm",
            b"\0asm\x01\0\0\0garbage",
            "not a valid WebAssembly module",
        ),
        (
            "unknown-import.wat",
            br#"(module (import "evil" "syscall" (func)) (func (export "_start")))"#,
            "evil",
        ),
        (
            "no-start.wat",
            br#"(module (memory (export "memory") 1))"#,
            "no exported function `_start`",
        ),
        ("empty.wasm", b"", "the file is empty"),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let run = run_with(&[], &path, &[], Duration::from_secs(30));
        run.assert_code(1).assert_stderr(expected);
        assert!(!run.stderr.contains("panicked"), "{run}");
        assert_eq!(run.stderr.lines().count(), 1, "one line:\n{run}");
    }
    let run = run_with(
        &[],
        &dir.join("does-not-exist.wasm"),
        &[],
        Duration::from_secs(30),
    );
    run.assert_code(1).assert_stderr("cannot read");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A program that grows its memory to `--max-memory 2` (32 pages), writes and reads its
/// last byte, prints `grown`, then runs `access`.
fn memory_program(access: &str) -> String {
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "grown\n")
  (func (export "_start")
    (if (i32.ne (memory.grow (i32.const 31)) (i32.const 1)) (then unreachable))
    (i32.store8 (i32.const 0x1fffff) (i32.const 7))
    (if (i32.ne (i32.load8_u (i32.const 0x1fffff)) (i32.const 7)) (then unreachable))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    {access}))"#
    )
}

/// Host calls find guest memory where it is after the guest grew it: a message sent from
/// and received into the new pages arrives whole, and a range past the new end is refused
/// with the new length (the VM keeps where a process's memory is between calls, and must
/// see every growth).
#[test]
fn host_calls_see_the_memory_a_guest_grew() {
    let dir = std::env::temp_dir().join(format!("lunatic-grown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("grown.wat");
    std::fs::write(
        &path,
        r#"(module
  (import "lunatic::message" "send_data" (func $send_data (param i64 i64 i64 i64 i32 i32)))
  (import "lunatic::message" "receive" (func $receive (param i32 i32 i64 i32 i32 i32) (result i32)))
  (import "lunatic::process" "this" (func $this (result i64)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "grown memory seen\n")
  ;; Sends itself the 8 bytes at $from, receives them at $to and compares.
  (func $round_trip (param $from i32) (param $to i32)
    (call $send_data (call $this) (i64.const 0) (i64.const 0) (i64.const 0) (local.get $from) (i32.const 8))
    (if (i32.ne (call $receive (i32.const 0) (i32.const 0) (i64.const -1) (local.get $to) (i32.const 8) (i32.const 64)) (i32.const 0)) (then unreachable))
    (if (i64.ne (i64.load (local.get $from)) (i64.load (local.get $to))) (then unreachable)))
  (func (export "_start")
    (i64.store (i32.const 100) (i64.const 0x0102030405060708))
    (call $round_trip (i32.const 100) (i32.const 200))
    (if (i32.ne (memory.grow (i32.const 31)) (i32.const 1)) (then unreachable))
    (i64.store (i32.const 0x1fffe0) (i64.const 0x1112131415161718))
    (call $round_trip (i32.const 0x1fffe0) (i32.const 0x1ffff8))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 18))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $send_data (call $this) (i64.const 0) (i64.const 0) (i64.const 0) (i32.const 0x1ffffc) (i32.const 8))))"#,
    )
    .unwrap();
    for pool in ["64", "16384"] {
        let run = run_with(
            &["--max-processes", pool, "--max-memory", "2"],
            &path,
            &[],
            Duration::from_secs(30),
        );
        run.assert_stdout("grown memory seen\n")
            .assert_code(1)
            .assert_stderr(
                "send_data: the range of 8 bytes at 0x1ffffc is outside the guest's memory of \
             2097152 bytes",
            );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A pool that fits in the address space gives each slot all 4 GiB a memory can address, and
/// its compiled code checks no access against the memory's bounds; a larger pool's slots
/// hold `--max-memory`, and its code checks every access. In both, a memory grows no
/// further than `--max-memory`, and an access past its end traps, whether it lands in the
/// slot's unused reserve, its guard or, by a static offset, gigabytes beyond.
#[test]
fn accesses_past_the_memory_trap_in_either_slot_layout() {
    let dir = std::env::temp_dir().join(format!("lunatic-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_of_bounds = "trapped: wasm trap: out of bounds memory access";
    let cases = [
        ("in-bounds", "(drop (i32.load (i32.const 0x1ffffc)))", None),
        (
            "grow-refused",
            "(if (i32.ne (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))",
            None,
        ),
        (
            "next-byte",
            "(drop (i32.load8_u (i32.const 0x200000)))",
            Some(out_of_bounds),
        ),
        (
            "straddling",
            "(drop (i64.load (i32.const 0x1ffffc)))",
            Some(out_of_bounds),
        ),
        (
            "top-of-4-gib",
            "(i32.store (i32.const 0xfffffffc) (i32.const 1))",
            Some(out_of_bounds),
        ),
        (
            "in-the-guard",
            "(drop (i32.load offset=0xff00 (i32.const 0xfffffff0)))",
            Some(out_of_bounds),
        ),
        (
            "far-offset",
            "(i64.store offset=0xfffffff0 (i32.const 0xfffffff0) (i64.const 1))",
            Some(out_of_bounds),
        ),
    ];
    // A pool small enough for 4 GiB slots, and one slot too many for them.
    for pool in [
        &["--max-processes", "64"][..],
        &["--max-processes", "16384"],
    ] {
        for (name, access, death) in cases {
            let path = dir.join(format!("{name}.wat"));
            std::fs::write(&path, memory_program(access)).unwrap();
            let vm_args = [pool, &["--max-memory", "2"]].concat();
            let run = run_with(&vm_args, &path, &[], Duration::from_secs(30));
            run.assert_stdout("grown\n");
            match death {
                None => run.assert_code(0),
                Some(reason) => run.assert_code(1).assert_stderr(reason),
            };
            assert!(!run.stderr.contains("panicked"), "{name} {pool:?}\n{run}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
