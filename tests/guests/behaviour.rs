//! Scenarios of process behaviour, chosen by the first argument; each prints what it saw.
use std::time::Duration;

use lunatic::{
    process, EndReason, ExitReason, LunaticError, Mailbox, Message, Process, ReceiveError, Request,
    Tag,
};

#[lunatic::main]
fn main(mailbox: Mailbox<()>) {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        "cascade" => cascade(mailbox),
        "normal-exit" => normal_exit(mailbox),
        "kill" => kill(mailbox),
        "trap" => trap(mailbox),
        "unwrap" => unwrap(mailbox),
        "link-dead" => link_dead(mailbox),
        "unlink" => unlink(mailbox),
        "send-to-dead" => send_to_dead(),
        "exit-code" => std::process::exit(3),
        "main-panics" => panic!("main gives up"),
        "main-ends" => main_ends(),
        "timeouts" => timeouts(mailbox),
        "selective" => selective(),
        "handles" => handles(),
        "bad-message" => bad_message(),
        "pool-full" => pool_full(),
        "spawn-tree" => {
            let root = process::spawn(spawn_tree).unwrap();
            while root.is_alive() {
                process::sleep_ms(1);
            }
        }
        "panic-if-link-panics" => panic_if_link_panics(mailbox),
        "queued-signal" => queued_signal(mailbox),
        "wasi" => wasi(),
        "monitor" => monitor(mailbox),
        "request-dead-server" => request_dead_server(),
        "named-death" => named_death(),
        "late-reply" => late_reply(mailbox),
        "outbox" => outbox(mailbox),
        "sizes" => sizes(mailbox),
        "end-reasons" => end_reasons(),
        "forged-log" => forged_log(),
        "vm-panic" => vm_panic(mailbox),
        "stdin" => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
            println!("stdin: {}", line.trim_end());
        }
        "groups" => groups(),
        "burst-then-idle" => burst_then_idle(),
        "burst-twice" => burst_twice(),
        "partial-lines" => partial_lines(),
        "park" => {
            println!("parked");
            let _ = mailbox.receive();
        }
        "park-then-answer" => park_then_answer(),
        "recycled" => {
            let watcher = process::spawn(recycled).unwrap();
            while watcher.is_alive() {
                process::sleep_ms(1);
            }
        }
        other => panic!("unknown scenario {other:?}"),
    }
}

fn print_signal(message: Message<()>) {
    match message {
        Message::Signal(signal) => println!("signal: {}", signal.reason()),
        Message::Normal(Err(ReceiveError::Timeout)) => println!("no signal"),
        Message::Normal(Err(ReceiveError::ProcessDown(down))) => {
            println!("unexpected down: {}", down.reason())
        }
        Message::Normal(other) => println!("unexpected message: {other:?}"),
    }
}

/// main (traps) <- A (dies with its links) <- B (panics): A dies too, main hears of A.
fn cascade(mailbox: Mailbox<()>) {
    let (a, _, links) = process::spawn_link(mailbox, |m: Mailbox<()>| {
        let (_b, m) = process::spawn_link_unwrap(m, |_: Mailbox<()>| panic!("B fails")).unwrap();
        let _ = m.receive();
        println!("A survived B (wrong)");
    })
    .unwrap();
    let message = links.receive();
    if let Message::Signal(signal) = &message {
        println!("signal from A: {}", signal.id() == a.id());
    }
    print_signal(message);
}

/// A linked child that returns normally notifies nobody.
fn normal_exit(mailbox: Mailbox<()>) {
    let (child, _, links) =
        process::spawn_link(mailbox, |_: Mailbox<()>| println!("child done")).unwrap();
    join(child);
    // Its links are told nothing: no signal arrives, even after it is gone.
    print_signal(links.receive_timeout(Duration::from_millis(100)));
    println!("child alive: {}", child.is_alive());
}

fn kill(mailbox: Mailbox<()>) {
    let (child, tag, links) = process::spawn_link(mailbox, |m: Mailbox<()>| {
        let _ = m.receive();
    })
    .unwrap();
    child.kill();
    let message = links.receive();
    if let Message::Signal(signal) = &message {
        println!("tag matches: {}", signal.tag() == tag);
    }
    print_signal(message);
}

fn trap(mailbox: Mailbox<()>) {
    let (_, _, links) =
        process::spawn_link(mailbox, |_: Mailbox<()>| std::process::abort()).unwrap();
    print_signal(links.receive());
}

/// spawn_link_unwrap: the parent dies with the child.
fn unwrap(mailbox: Mailbox<()>) {
    let (_child, mailbox) =
        process::spawn_link_unwrap(mailbox, |_: Mailbox<()>| panic!("child fails")).unwrap();
    let _ = mailbox.receive();
    println!("parent survived (wrong)");
}

/// After `panic_if_link_panics`, a linked failure kills the parent again.
fn panic_if_link_panics(mailbox: Mailbox<()>) {
    let (child, _, links) = process::spawn_link(mailbox, |m: Mailbox<()>| {
        let _ = m.receive();
        panic!("late failure");
    })
    .unwrap();
    let mailbox = links.panic_if_link_panics();
    child.send(());
    let _ = mailbox.receive();
    println!("parent survived (wrong)");
}

/// A signal already queued when the parent stops trapping kills it at once.
fn queued_signal(mailbox: Mailbox<()>) {
    let (child, _, links) =
        process::spawn_link(mailbox, |_: Mailbox<()>| panic!("early failure")).unwrap();
    join(child);
    process::sleep_ms(20);
    let _mailbox = links.panic_if_link_panics();
    println!("parent survived (wrong)");
}

/// Monitors: one-way, fire on any end, never kill the watcher; demonitor flushes.
fn monitor(mailbox: Mailbox<()>) {
    // The child waits for a go, so the monitor is in place before it ends.
    let normal = process::spawn(|m: Mailbox<()>| {
        let _ = m.receive();
    })
    .unwrap();
    let tag = normal.monitor();
    normal.send(());
    match mailbox.receive() {
        Err(ReceiveError::ProcessDown(down)) => {
            println!(
                "down: {} (tag matches: {}, id matches: {})",
                down.reason(),
                down.tag() == tag,
                down.id() == normal.id()
            )
        }
        other => println!("unexpected: {other:?}"),
    }
    let failing = process::spawn(|m: Mailbox<()>| {
        let _ = m.receive();
        panic!("monitored failure");
    })
    .unwrap();
    let _tag = failing.monitor();
    failing.send(());
    match mailbox.receive() {
        Err(ReceiveError::ProcessDown(down)) => println!("down: {}", down.reason()),
        other => println!("unexpected: {other:?}"),
    }
    let _tag = normal.monitor();
    match mailbox.receive_timeout(Duration::from_millis(500)) {
        Err(ReceiveError::ProcessDown(down)) => println!("down: {}", down.reason()),
        other => println!("unexpected: {other:?}"),
    }
    let flushed = process::spawn(|_: Mailbox<()>| {}).unwrap();
    let tag = flushed.monitor();
    join(flushed);
    process::sleep_ms(10);
    flushed.demonitor(tag);
    println!(
        "after demonitor: {:?}",
        mailbox.receive_timeout(Duration::from_millis(50))
    );
    // A process that traps link deaths gets a monitor's notice as a `Mailbox` does: as
    // `Normal(Err(ProcessDown))`, so the seed's two variants still match exhaustively.
    let (_, _, links) = process::spawn_link(mailbox, |m: Mailbox<()>| {
        let _ = m.receive();
    })
    .unwrap();
    let watched = process::spawn(|_: Mailbox<()>| {}).unwrap();
    let _tag = watched.monitor();
    println!(
        "link mailbox down: {}",
        matches!(
            links.receive(),
            Message::Normal(Err(ReceiveError::ProcessDown(_)))
        )
    );
}

/// A request to a server that dies, or is already dead, fails at once.
fn request_dead_server() {
    let server = process::spawn(|m: Mailbox<Request<u32, u32>>| {
        let _request = m.receive().unwrap();
        panic!("server crashed");
    })
    .unwrap();
    match server.request(1) {
        Err(ReceiveError::ProcessDown(down)) => println!("request: server down: {}", down.reason()),
        other => println!("unexpected: {other:?}"),
    }
    match server.request_timeout(2, Duration::from_secs(30)) {
        Err(ReceiveError::ProcessDown(down)) => println!("request: {}", down.reason()),
        other => println!("unexpected: {other:?}"),
    }
}

/// WASI: arguments, environment, clocks and randomness reach the program.
fn wasi() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args: {args:?}");
    println!("env: {:?}", std::env::var("LUNATIC_TEST"));
    println!("host env hidden: {}", std::env::var("PATH").is_err());
    let start = std::time::Instant::now();
    process::sleep_ms(20);
    println!(
        "monotonic clock: {}",
        start.elapsed() >= Duration::from_millis(20)
    );
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    println!("wall clock: {}", since_epoch.as_secs() > 1_700_000_000);
    use std::hash::BuildHasher;
    let (a, b) = (
        std::collections::hash_map::RandomState::new(),
        std::collections::hash_map::RandomState::new(),
    );
    println!("random: {}", a.hash_one(1u8) != b.hash_one(1u8));
    // A child process sees the same WASI view.
    join(
        process::spawn(|_: Mailbox<()>| println!("child env: {:?}", std::env::var("LUNATIC_TEST")))
            .unwrap(),
    );
}

/// Linking to a process that already ended reports it at once.
fn link_dead(mailbox: Mailbox<()>) {
    let (_, _, links) = process::spawn_link(mailbox, |m: Mailbox<()>| {
        let _ = m.receive();
    })
    .unwrap();
    let gone = process::spawn(|_: Mailbox<()>| {}).unwrap();
    while gone.is_alive() {
        process::sleep_ms(1);
    }
    let _tag = gone.link();
    print_signal(links.receive());
}

fn unlink(mailbox: Mailbox<()>) {
    let (child, _, links) = process::spawn_link(mailbox, |m: Mailbox<()>| {
        let _ = m.receive();
        panic!("child fails after unlink");
    })
    .unwrap();
    child.unlink();
    child.send(());
    print_signal(links.receive_timeout(Duration::from_millis(300)));
}

fn send_to_dead() {
    let child = process::spawn(|_: Mailbox<u32>| {}).unwrap();
    while child.is_alive() {
        process::sleep_ms(1);
    }
    for n in 0..100 {
        child.send(n);
    }
    child.kill();
    println!("sending to a dead process is fine");
}

fn main_ends() {
    for _ in 0..10 {
        process::spawn(|_: Mailbox<()>| loop {
            process::sleep_ms(1);
        })
        .unwrap();
    }
    println!("main returns");
}

fn timeouts(mailbox: Mailbox<()>) {
    println!(
        "receive: {:?}",
        mailbox.receive_timeout(Duration::from_millis(50))
    );
    let silent = process::spawn(|m: Mailbox<Request<u8, u8>>| {
        let _kept_waiting = m.receive();
        process::sleep_ms(10_000);
    })
    .unwrap();
    println!(
        "request: {:?}",
        silent.request_timeout(1, Duration::from_millis(50))
    );
}

/// Waits until `process` has ended.
fn join<M>(process: Process<M>) {
    while process.is_alive() {
        process::sleep_ms(1);
    }
}

fn selective() {
    let child = process::spawn(|numbers: Mailbox<u32>| {
        let (first, second) = numbers
            .receive()
            .map(|_| (Tag::from_id(1_000_001), Tag::from_id(1_000_002)))
            .unwrap();
        println!("second: {:?}", numbers.tag_receive(&[second]));
        println!(
            "any: {:?}",
            numbers.receive_with_tag().map(|(n, t)| (n, t == first))
        );
        println!("any: {:?}", numbers.receive());
        println!(
            "none left: {:?}",
            numbers.tag_receive_timeout(&[second], Duration::from_millis(20))
        );
    })
    .unwrap();
    child.send(0);
    child.tag_send(Tag::from_id(1_000_001), 1);
    child.tag_send(Tag::from_id(1_000_002), 2);
    child.send(3);
    join(child);
}

/// A handle sent inside a message is usable by the receiver.
fn handles() {
    let echo = process::spawn(|m: Mailbox<(Process<String>, String)>| {
        let (reply_to, text) = m.receive().unwrap();
        reply_to.send(text.to_uppercase());
    })
    .unwrap();
    let client = process::spawn_with(echo, |echo, strings: Mailbox<String>| {
        echo.send((process::this(&strings), "hello".into()));
        println!("echo: {}", strings.receive().unwrap());
    })
    .unwrap();
    join(client);
}

/// A message of the wrong type is an error to the receiver naming both types, not a
/// crash and not a value made of its bytes.
fn bad_message() {
    let child = process::spawn(|numbers: Mailbox<u64>| match numbers.receive() {
        Err(ReceiveError::WrongType(why)) => println!("wrong type: {why}"),
        other => println!("unexpected: {other:?}"),
    })
    .unwrap();
    // One byte where eight are expected.
    let as_bytes: Process<u8> = retype(child);
    as_bytes.send(7);
    join(child);
}

/// Spawning past the pool's size is an error the caller sees.
fn pool_full() {
    let mut alive = Vec::new();
    loop {
        match process::spawn(|m: Mailbox<()>| {
            let _ = m.receive();
        }) {
            Ok(child) => alive.push(child),
            Err(error) => {
                println!("spawned {} then: {error}", alive.len());
                if let LunaticError::NoRoom { alive: count } = error {
                    println!("no room, {count} alive");
                }
                break;
            }
        }
    }
}

/// One node of a tree of spawns: `(parent, first number, leaves under it)`.
type TreeNode = (Process<u64>, u64, u64);

/// A node sends its number up when it is a leaf, else the sum of its ten children's.
fn tree_node((parent, number, size): TreeNode, mailbox: Mailbox<u64>) {
    if size > 1 {
        let this = process::this(&mailbox);
        let step = size / 10;
        for child in 0..10 {
            if let Err(error) = process::spawn_with((this, number + child * step, step), tree_node)
            {
                println!("spawn failed: {error}");
                std::process::exit(1);
            }
        }
        parent.send((0..10).map(|_| mailbox.receive().unwrap()).sum());
    } else {
        parent.send(number);
    }
}

/// A tree of 11,111 processes (10,000 leaves) built without waiting for room in the pool:
/// it fits in a small pool only if it grows depth first.
fn spawn_tree(mailbox: Mailbox<u64>) {
    let this = process::this(&mailbox);
    process::spawn_with((this, 0, 10_000), tree_node).unwrap();
    println!("sum {}", mailbox.receive().unwrap());
}

/// Retypes a handle through its serialized form (handles are plain data).
fn retype<A, B>(process: Process<A>) -> Process<B> {
    bincode::deserialize(&bincode::serialize(&process).unwrap()).unwrap()
}

/// A registered process that panics: its death names it.
fn named_death() {
    // It waits for a go, so the monitor is in place before it ends.
    let worker = process::spawn(|mailbox: Mailbox<()>| {
        lunatic::registry::register("worker", &process::this(&mailbox)).unwrap();
        let _ = mailbox.receive();
        panic!("named failure");
    })
    .unwrap();
    let monitor = worker.monitor();
    worker.send(());
    let down = worker.wait_down(monitor, None).unwrap();
    println!("down: {}", down.reason());
}

/// A reply that comes after the request gave up is dropped, not left in the mailbox: after
/// a timeout, and after a `PendingReply` dropped without waiting.
fn late_reply(mailbox: Mailbox<()>) {
    let slow = process::spawn(|m: Mailbox<Request<u64, u64>>| loop {
        let request = m.receive().unwrap();
        process::sleep(Duration::from_millis(200));
        let n = *request.data();
        request.reply(n);
    })
    .unwrap();
    match slow.request_timeout(1, Duration::from_millis(20)) {
        Err(ReceiveError::Timeout) => println!("first request: timed out"),
        other => println!("unexpected: {other:?}"),
    }
    process::sleep(Duration::from_millis(400));
    // Whatever is queued now is a stray message (any bytes read as `()`).
    match mailbox.receive_timeout(Duration::from_millis(50)) {
        Err(ReceiveError::Timeout) => println!("no late reply in the mailbox"),
        other => println!("stray message: {other:?}"),
    }
    // A request still answered in time gets its reply.
    let fast = process::spawn(|m: Mailbox<Request<u64, u64>>| loop {
        let request = m.receive().unwrap();
        let n = *request.data();
        request.reply(n + 1);
    })
    .unwrap();
    println!(
        "in time: {:?}",
        fast.request_timeout(41, Duration::from_secs(5))
    );
}

/// Messages to a busy process are held by the sender and delivered in batches (the VM's
/// outbox); none may be lost, reordered or held back for good. Each sender sends 150
/// numbers to a receiver that sleeps meanwhile (busy, not waiting in a receive), then:
/// `wait` waits in a receive, `spin` computes forever without a host call (only the end
/// of its time slice can deliver), `panic` panics (its messages come before its link
/// death signal).
fn outbox(mailbox: Mailbox<()>) {
    let this = process::this(&mailbox);
    for kind in ["wait", "spin", "panic"] {
        process::spawn_with((this, kind.to_string()), outbox_receiver).unwrap();
        if mailbox.receive_timeout(Duration::from_secs(20)).is_err() {
            println!("{kind}: the receiver never reported");
        }
    }
}

const OUTBOX_COUNT: u64 = 150;

fn outbox_receiver((main, kind): (Process<()>, String), mailbox: Mailbox<u64>) {
    let this = process::this(&mailbox);
    let (_, _, links) =
        process::spawn_link_with(mailbox, (this, kind.clone()), outbox_sender).unwrap();
    process::sleep_ms(100);
    let (mut next, mut signal_after) = (0, None);
    while next < OUTBOX_COUNT || (kind == "panic" && signal_after.is_none()) {
        match links.receive_timeout(Duration::from_secs(2)) {
            Message::Normal(Ok(n)) => {
                if n != next {
                    println!("{kind}: got {n}, expected {next}");
                }
                next = n + 1;
            }
            Message::Signal(_) => signal_after = Some(next),
            _ => break,
        }
    }
    println!("{kind}: {next} messages in order, signal after {signal_after:?}");
    main.send(());
}

fn outbox_sender((receiver, kind): (Process<u64>, String), mailbox: Mailbox<()>) {
    for n in 0..OUTBOX_COUNT {
        receiver.send(n);
    }
    match kind.as_str() {
        "wait" => {
            let _ = mailbox.receive();
        }
        "spin" => {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        _ => panic!("sender fails"),
    }
}

/// Messages of every size around the receive call's own 256-byte buffer (bincode adds 8
/// bytes of length to a `Vec<u8>`) come back intact, and so does a down notice whose reason
/// is longer than the buffer; a receiver that alternates between finding messages queued
/// and waiting for them loses none.
fn sizes(mailbox: Mailbox<()>) {
    let this = process::this(&mailbox);
    process::spawn_with(this, sizes_tester).unwrap();
    if mailbox.receive_timeout(Duration::from_secs(20)).is_err() {
        println!("sizes: the tester never reported");
    }
}

fn sizes_tester(main: Process<()>, inbox: Mailbox<Vec<u8>>) {
    let this = process::this(&inbox);
    let echo = process::spawn_with(this, |back: Process<Vec<u8>>, inbox: Mailbox<Vec<u8>>| {
        loop {
            back.send(inbox.receive().unwrap());
        }
    })
    .unwrap();
    for len in [0, 1, 247, 248, 249, 255, 256, 257, 1000, 100_000] {
        let sent: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        echo.send(sent.clone());
        let got = inbox.receive().unwrap();
        println!(
            "size {len}: {}",
            if got == sent { "intact" } else { "CHANGED" }
        );
    }
    // Numbers after a byte: 8-byte writes, one of them (at 31 numbers) crossing the end of
    // the encoder's 256-byte stack buffer, then the heap buffer's doublings.
    type Numbers = (u8, Vec<u64>);
    let doubler = process::spawn(|inbox: Mailbox<Request<Numbers, Numbers>>| loop {
        let request = inbox.receive().unwrap();
        let (tag, numbers) = request.data();
        let doubled = (*tag, numbers.iter().map(|n| 2 * n).collect());
        request.reply(doubled);
    })
    .unwrap();
    for len in [30, 31, 32, 1000] {
        let numbers: Vec<u64> = (0..len).map(|n| n * 0x0101_0101_0101).collect();
        let doubled: Vec<u64> = numbers.iter().map(|n| 2 * n).collect();
        let intact = doubler.request((7, numbers)) == Ok((7, doubled));
        println!(
            "numbers {len}: {}",
            if intact { "intact" } else { "CHANGED" }
        );
    }
    // Bursts: the echo finds them queued (no wait), then waits for the next burst.
    for burst in 0..3 {
        for n in 0..20u8 {
            echo.send(vec![burst, n]);
        }
        let mut in_order = true;
        for n in 0..20u8 {
            in_order &= inbox.receive().unwrap() == vec![burst, n];
        }
        process::sleep_ms(20);
        println!(
            "burst {burst}: {}",
            if in_order { "in order" } else { "OUT OF ORDER" }
        );
    }
    let long = "x".repeat(300);
    let doomed = process::spawn_with(long.clone(), |long: String, go: Mailbox<()>| {
        let _ = go.receive();
        panic!("{long}")
    })
    .unwrap();
    let monitor = doomed.monitor();
    doomed.send(());
    match doomed.wait_down(monitor, Some(Duration::from_secs(10))) {
        Ok(down) => println!(
            "long reason: {}",
            if matches!(down.reason(), EndReason::Panicked { message, .. } if *message == long) {
                "whole"
            } else {
                "CUT"
            }
        ),
        Err(error) => println!("long reason: no down notice ({error})"),
    }
    main.send(());
}

/// Ends a child each way a process can end and prints each down notice's reason as the
/// enum it is (`Debug`), then as people read it.
fn end_reasons() {
    type Body = fn(Mailbox<()>);
    // Each waits for the go its parent sends once it watches it: ended before, it would be
    // down as `NoProcess`.
    let ways: [(&str, Body); 9] = [
        ("return", |mailbox| {
            let _ = mailbox.receive();
        }),
        ("exit code", |mailbox| {
            let _ = mailbox.receive();
            std::process::exit(3)
        }),
        ("panic", |mailbox| {
            let _ = mailbox.receive();
            panic!("boom")
        }),
        ("trap", |mailbox| {
            let _ = mailbox.receive();
            // Not the same code as the `trap` scenario's child, which a backtrace test names.
            eprintln!("aborting");
            std::process::abort()
        }),
        ("killed", |mailbox| {
            let _ = mailbox.receive();
            process::sleep_ms(60_000);
        }),
        ("shutdown", |mailbox| {
            let _ = mailbox.receive();
            process::exit(ExitReason::Shutdown)
        }),
        ("error", |mailbox| {
            let _ = mailbox.receive();
            process::exit(ExitReason::Error("bad state".into()))
        }),
        ("normal", |mailbox| {
            let _ = mailbox.receive();
            process::exit(ExitReason::Normal)
        }),
        ("link died", |mailbox| {
            let _ = mailbox.receive();
            let _ = process::spawn_link_unwrap(mailbox, |_: Mailbox<()>| panic!("root cause"));
            process::sleep_ms(60_000);
        }),
    ];
    for (what, body) in ways {
        let child = process::spawn(body).unwrap();
        let monitor = child.monitor();
        if what == "killed" {
            child.kill();
        } else {
            child.send(());
        }
        let down = child
            .wait_down(monitor, Some(Duration::from_secs(10)))
            .unwrap();
        let reason = match down.reason() {
            // Ids and source lines vary; the variant and its other fields do not.
            EndReason::LinkedDied { reason, .. } => format!("LinkedDied {{ reason: {reason:?} }}"),
            EndReason::Panicked { message, location } => format!(
                "Panicked {{ message: {message:?}, located: {} }}",
                location
                    .as_deref()
                    .is_some_and(|l| l.starts_with("tests/guests/behaviour.rs:"))
            ),
            other => format!("{other:?}"),
        };
        println!("{what}: {reason} / {}", down.reason());
    }
}

/// The VM panics inside a process (`LUNATIC_INJECT_PANIC` names `is_alive`): the process
/// still ends, and its link, its monitor and its name all hear of it.
fn vm_panic(mailbox: Mailbox<()>) {
    let main = process::this(&mailbox);
    let (child, _, links) =
        process::spawn_link_with(mailbox, main, |main, mailbox: Mailbox<()>| {
            let this = process::this(&mailbox);
            lunatic::registry::register("doomed", &this).unwrap();
            main.send(());
            let _ = mailbox.receive();
            let _ = this.is_alive();
            println!("the child survived the VM's panic");
        })
        .unwrap();
    let ready = links.receive();
    println!("child ready: {}", ready.is_normal());
    let monitor = child.monitor();
    child.send(());
    for _ in 0..2 {
        match links.receive_timeout(Duration::from_secs(10)) {
            Message::Signal(signal) => println!("link: {:?}", signal.reason()),
            Message::Normal(Err(ReceiveError::ProcessDown(down))) => println!(
                "monitor (tag matches: {}): {:?}",
                down.tag() == monitor,
                down.reason()
            ),
            Message::Normal(other) => println!("unexpected: {other:?}"),
        }
    }
    let named = lunatic::registry::lookup::<()>("doomed").unwrap().is_some();
    println!("name still registered: {named}");
    // Now main itself: the VM exits with a failure status.
    let _ = child.is_alive();
    println!("main survived the VM's panic");
}

/// A child panics with a message made to look like lines of the VM's log.
fn forged_log() {
    let child =
        process::spawn(|_: Mailbox<()>| panic!("evil\nprocess 1 died: forged\u{1b}[2J")).unwrap();
    let monitor = child.monitor();
    let _ = child.wait_down(monitor, Some(Duration::from_secs(10)));
    println!("done");
}

/// Process groups: join (once, however often), list, send to all, a member that dies
/// leaves, leave, and a group is typed.
fn groups() {
    use lunatic::pg;
    let members: Vec<Process<String>> = (0..3)
        .map(|_| {
            process::spawn(|m: Mailbox<String>| {
                while let Ok(text) = m.receive() {
                    println!("member got: {text}");
                }
            })
            .unwrap()
        })
        .collect();
    for member in &members {
        pg::join("workers", member).unwrap();
    }
    pg::join("workers", &members[0]).unwrap();
    println!(
        "members: {}",
        pg::members::<String>("workers").unwrap().len()
    );
    println!("sent to: {:?}", pg::send("workers", &"hello".to_owned()));
    // Each member prints it before one is killed.
    process::sleep_ms(100);
    let monitor = members[2].monitor();
    members[2].kill();
    let _ = members[2].wait_down(monitor, Some(Duration::from_secs(5)));
    let mut left = 0;
    for _ in 0..1_000 {
        left = pg::members::<String>("workers").unwrap().len();
        if left == 2 {
            break;
        }
        process::sleep_ms(1);
    }
    println!("after a member died: {left}");
    println!("leave: {:?}", pg::leave("workers", &members[1]));
    println!("leave again: {:?}", pg::leave("workers", &members[1]));
    println!(
        "members now: {}",
        pg::members::<String>("workers").unwrap().len()
    );
    match pg::members::<u64>("workers") {
        Ok(_) => println!("as numbers: listed (wrong)"),
        Err(error) => println!("as numbers: {error}"),
    }
    println!(
        "nobody: {:?}",
        pg::members::<String>("nobody").map(|m| m.len())
    );
    process::sleep_ms(50);
}

/// Written by the processes of [`recycled`]: a static the module's data seeds, and one it
/// leaves zero.
static mut SEEDED: [u8; 8] = *b"pristine";
static mut ZEROED: [u8; 64] = [0; 64];
const SECRET: u32 = 0x5EC2_E7ED;

/// Processes that write the secret everywhere they can (the module's statics, the heap,
/// the stack) and end in each way a process ends; after each, a process of the same module
/// (which runs in the instance the ended one left, recycled) looks where it wrote. It must
/// find what a fresh process finds, with its stack where a fresh one's starts.
#[allow(unsafe_code)]
fn recycled(mailbox: Mailbox<[u32; 4]>) {
    let me = process::this(&mailbox);
    let read = |places: [u32; 4]| {
        let reader = process::spawn_with((me, places), |(parent, places), _: Mailbox<()>| {
            let local = 0u32;
            // SAFETY: every place is inside this process's memory, which a process may read.
            let found = places != [0; 4]
                && unsafe {
                    let seeded = std::ptr::read_volatile(places[0] as *const [u8; 8]);
                    let zeroed = std::ptr::read_volatile(places[1] as *const [u8; 64]);
                    let heap = std::ptr::read_volatile(places[2] as *const [u32; 16]);
                    let stack = std::ptr::read_volatile(places[3] as *const [u32; 16]);
                    &seeded != b"pristine"
                        || zeroed.iter().any(|&b| b != 0)
                        || heap.contains(&SECRET)
                        || stack.contains(&SECRET)
                };
            parent.send([u32::from(found), std::ptr::addr_of!(local) as u32, 0, 0]);
        })
        .unwrap();
        let [found, local, ..] = mailbox.receive().unwrap();
        while reader.is_alive() {
            process::sleep_ms(1);
        }
        (found == 1, local)
    };
    // Nowhere to look yet: where a process's stack starts.
    let (_, fresh_stack) = read([0; 4]);
    for ending in ["returns", "panics", "traps", "is killed"] {
        let writer = process::spawn_with(
            (me, ending.to_string()),
            |(parent, ending), waits: Mailbox<()>| {
                let heap = Box::leak(Box::new([SECRET; 16]));
                let stack = std::hint::black_box([SECRET; 16]);
                // SAFETY: one process, one thread: nothing else touches the statics.
                let statics = unsafe {
                    SEEDED = *b"SECRET!!";
                    ZEROED = [0xAB; 64];
                    [
                        std::ptr::addr_of!(SEEDED) as u32,
                        std::ptr::addr_of!(ZEROED) as u32,
                    ]
                };
                parent.send([
                    statics[0],
                    statics[1],
                    heap.as_ptr() as u32,
                    stack.as_ptr() as u32,
                ]);
                match ending.as_str() {
                    "panics" => panic!("the writer panics"),
                    "traps" => std::process::abort(),
                    "is killed" => {
                        let _ = waits.receive();
                    }
                    _ => {}
                }
                std::hint::black_box(&stack);
            },
        )
        .unwrap();
        let places = mailbox.receive().unwrap();
        if ending == "is killed" {
            writer.kill();
        }
        while writer.is_alive() {
            process::sleep_ms(1);
        }
        let (found, stack) = read(places);
        println!(
            "after a writer {ending}: its secrets seen: {found}, stack starts as fresh: {}",
            stack == fresh_stack
        );
    }
    // Many end at once: their instances are reset in batches as they are given back, not
    // one at a time as a spawn takes them. Each writes where the others do.
    let writers: Vec<_> = (0..24)
        .map(|_| {
            process::spawn_with(me, |parent, _: Mailbox<()>| {
                let heap = Box::leak(Box::new([SECRET; 16]));
                let stack = std::hint::black_box([SECRET; 16]);
                // SAFETY: one process, one thread: nothing else touches the statics.
                unsafe {
                    SEEDED = *b"SECRET!!";
                    ZEROED = [0xAB; 64];
                }
                parent.send([
                    std::ptr::addr_of!(SEEDED) as u32,
                    std::ptr::addr_of!(ZEROED) as u32,
                    heap.as_ptr() as u32,
                    stack.as_ptr() as u32,
                ]);
                std::hint::black_box(&stack);
            })
            .unwrap()
        })
        .collect();
    let places: Vec<[u32; 4]> = writers.iter().map(|_| mailbox.receive().unwrap()).collect();
    while writers.iter().any(Process::is_alive) {
        process::sleep_ms(1);
    }
    let seen = places.iter().filter(|&&places| read(places).0).count();
    println!("after 24 writers end together: readers that saw a secret: {seen}");
}

/// 64 processes alive at once that then end, nothing for 3.5 s, then 64 more.
fn burst_then_idle() {
    burst(64);
    println!("burst ended");
    process::sleep_ms(3_500);
    burst(64);
    println!("second burst ended");
}

/// Two bursts of 48 processes a moment apart: the second can start in what the first left.
fn burst_twice() {
    burst(48);
    process::sleep_ms(100);
    burst(48);
    println!("bursts ended");
}

/// Spawns `count` processes that each wait for a message, then sends each one, and waits
/// until all have ended.
fn burst(count: usize) {
    let workers: Vec<Process<()>> = (0..count)
        .map(|_| {
            process::spawn(|m: Mailbox<()>| {
                let _ = m.receive();
            })
            .unwrap()
        })
        .collect();
    for worker in &workers {
        worker.send(());
    }
    while workers.iter().any(Process::is_alive) {
        process::sleep_ms(1);
    }
}

/// Output with no line end yet, left in standard output's buffer when a process returns or
/// panics, and when main returns.
fn partial_lines() {
    let returns = process::spawn(|_: Mailbox<()>| print!("[a child returns]")).unwrap();
    join(returns);
    let panics = process::spawn(|_: Mailbox<()>| {
        print!("[a child panics]");
        panic!("after a partial line");
    })
    .unwrap();
    join(panics);
    print!("[main returns]");
}

/// Parks 3,000 processes that each formatted a number (indirect calls through the
/// formatting machinery's function table), says so, waits a second, then has each format
/// another and send it back: their tables may have been zeroed meanwhile.
fn park_then_answer() {
    const PARKED: u64 = 3_000;
    let parked: Vec<Process<Request<u64, String>>> = (0..PARKED)
        .map(|i| {
            process::spawn_with(i, |first: u64, mailbox: Mailbox<Request<u64, String>>| {
                let first = format!("{first:>8}");
                let request = mailbox.receive().unwrap();
                let answer = format!("{first}/{:x}", request.data());
                request.reply(answer);
            })
            .unwrap()
        })
        .collect();
    println!("parked {PARKED}");
    process::sleep_ms(1_000);
    for (i, process) in (0..).zip(&parked) {
        let answer = process.request(i * 16).unwrap();
        assert_eq!(answer, format!("{i:>8}/{:x}", i * 16));
    }
    println!("answered {PARKED}");
}
