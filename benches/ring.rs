//! Benchmark (runs on the VM): 1,000 processes in a ring pass a token 100 times around;
//! prints microseconds per hop.
use std::time::Instant;

use lunatic::{process, Mailbox, Process};

const RING: usize = 1_000;
/// Times the token goes around, unless the first argument says otherwise.
const ROUNDS: u64 = 100;

#[lunatic::main]
fn main(mailbox: Mailbox<u64>) {
    let rounds = std::env::args()
        .nth(1)
        .map_or(ROUNDS, |n| n.parse().expect("a number of rounds"));
    // Each member forwards to the next; the last forwards to the main process.
    let mut next: Process<u64> = process::this(&mailbox);
    for _ in 1..RING {
        next = process::spawn_with(next, |next: Process<u64>, inbox: Mailbox<u64>| loop {
            next.send(inbox.receive().unwrap());
        })
        .unwrap();
    }
    let start = Instant::now();
    for round in 0..rounds {
        next.send(round);
        assert_eq!(mailbox.receive().unwrap(), round);
    }
    let hops = rounds as f64 * RING as f64;
    println!(
        "RESULT ring_hop_us {:.3}",
        start.elapsed().as_secs_f64() * 1e6 / hops
    );
}
