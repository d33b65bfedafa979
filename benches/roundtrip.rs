//! Benchmark (runs on the VM): microseconds per message round trip between two processes
//! (send a u64, the other process sends it back), per round trip with the sender's handle
//! in the message (`(Process, u64)`, answered through it: Erlang's `Echo ! {self(), N}`),
//! and per `request` (request/reply). Prints `RESULT <name> <value>` lines for
//! `benches/run.sh`.
//!
//! Arguments, for profiling one part: `roundtrip`, `handle` or `request` runs only that
//! one (all by default), and a second argument sets the round trips per round (50,000).
use std::time::Instant;

use lunatic::{process, Mailbox, Process, Request};

/// Rounds measured; the median is reported (this machine's speed drifts within a run).
const ROUNDS: usize = 11;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The median over [`ROUNDS`] rounds of microseconds per trip of `trip`.
fn measure(trips: u64, mut trip: impl FnMut(u64)) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for n in 0..trips {
            trip(n);
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / trips as f64);
    }
    median(samples)
}

#[lunatic::main]
fn main(mailbox: Mailbox<u64>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = args.first().map(String::as_str);
    let trips = args
        .get(1)
        .map_or(50_000, |n| n.parse().expect("a number of trips"));

    if only.is_none() || only == Some("roundtrip") {
        let this = process::this(&mailbox);
        let echo = process::spawn_with(this, |back: Process<u64>, inbox: Mailbox<u64>| loop {
            back.send(inbox.receive().unwrap());
        })
        .unwrap();
        let us = measure(trips, |n| {
            echo.send(n);
            assert_eq!(mailbox.receive().unwrap(), n);
        });
        println!("RESULT roundtrip_us {us:.3}");
    }

    if only.is_none() || only == Some("handle") {
        let echo = process::spawn(|inbox: Mailbox<(Process<u64>, u64)>| loop {
            let (back, n) = inbox.receive().unwrap();
            back.send(n);
        })
        .unwrap();
        let this = process::this(&mailbox);
        let us = measure(trips, |n| {
            echo.send((this, n));
            assert_eq!(mailbox.receive().unwrap(), n);
        });
        println!("RESULT roundtrip_handle_us {us:.3}");
    }

    if only.is_none() || only == Some("request") {
        let server = process::spawn(|inbox: Mailbox<Request<u64, u64>>| loop {
            let request = inbox.receive().unwrap();
            let n = *request.data();
            request.reply(n);
        })
        .unwrap();
        let us = measure(trips, |n| assert_eq!(server.request(n).unwrap(), n));
        println!("RESULT request_us {us:.3}");
    }
}
