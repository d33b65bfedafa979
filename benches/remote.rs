//! Benchmark (runs on two VMs that are nodes of one cluster on loopback: see
//! `benches/remote.sh`): microseconds per round trip to a process on the other node, with
//! the sender's handle in the message (`(Process, u64)`, answered through it: Erlang's
//! `Echo ! {self(), N}` between two nodes), and messages per second one process sends to
//! one process on the other node. Prints `RESULT <name> <value>` lines.
//!
//! Arguments: `serve` on the other node (it waits); `measure` on this one.
use std::time::{Duration, Instant};

use lunatic::distributed;
use lunatic::{process, Mailbox, Process};

/// Rounds measured; the median is reported.
const ROUNDS: usize = 7;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn echo(_: (), inbox: Mailbox<(Process<u64>, u64)>) {
    loop {
        let (back, n) = inbox.receive().unwrap();
        back.send(n);
    }
}

/// Counts `count` messages, then tells `to`.
fn counter((count, to): (u64, Process<u64>), inbox: Mailbox<u64>) {
    for _ in 0..count {
        inbox.receive().unwrap();
    }
    to.send(count);
}

#[lunatic::main]
fn main(mailbox: Mailbox<u64>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        println!("ready");
        loop {
            process::sleep(Duration::from_secs(3600));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let other = loop {
        if let Some(node) = distributed::nodes().first() {
            break *node;
        }
        assert!(Instant::now() < deadline, "the other node did not connect");
        process::sleep(Duration::from_millis(20));
    };
    let this = process::this(&mailbox);

    let server = Process::spawn_node(other, (), echo).unwrap();
    let trips = 20_000;
    for n in 0..2_000 {
        server.send((this, n));
        mailbox.receive().unwrap();
    }
    let mut samples = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for n in 0..trips {
            server.send((this, n));
            assert_eq!(mailbox.receive().unwrap(), n);
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / trips as f64);
    }
    println!("RESULT remote_roundtrip_us {:.3}", median(samples));

    let count = 200_000u64;
    let mut samples = Vec::new();
    for _ in 0..ROUNDS {
        let sink = Process::spawn_node(other, (count, this), counter).unwrap();
        let start = Instant::now();
        for n in 0..count {
            sink.send(n);
        }
        assert_eq!(mailbox.receive().unwrap(), count);
        samples.push(count as f64 / start.elapsed().as_secs_f64());
    }
    println!("RESULT remote_throughput_msgs_per_s {:.0}", median(samples));
}
