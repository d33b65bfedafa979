//! Benchmark (runs on the VM): microseconds to spawn a process that parks in `receive`.
//! Prints `RESULT <name> <value>` lines for `benches/run.sh`.
//!
//! The median is over 11 rounds of 2,000 spawns: the first rounds after a start are often
//! twice as slow as the rest (fresh pool slots, then the allocator and the kernel settling),
//! and this machine's speed drifts, so a median of 5 hung on one of those. An argument sets
//! the number of rounds, for profiling.
use std::time::Instant;

use lunatic::{process, Mailbox, Process};

const PER_ROUND: usize = 2_000;

#[lunatic::main]
fn main(_: Mailbox<()>) {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(11, |n| n.parse().expect("a number of rounds"));
    let mut per_spawn = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let parked: Vec<Process<()>> = (0..PER_ROUND)
            .map(|_| {
                process::spawn(|mailbox: Mailbox<()>| {
                    let _ = mailbox.receive();
                })
                .unwrap()
            })
            .collect();
        per_spawn.push(start.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);
        for child in &parked {
            child.kill();
        }
        while parked.iter().any(Process::is_alive) {
            process::sleep_ms(1);
        }
    }
    // The first round also pays for fresh pool slots (first-touch page faults).
    println!("RESULT spawn_parked_cold_us {:.2}", per_spawn[0]);
    per_spawn.sort_by(f64::total_cmp);
    println!("RESULT spawn_parked_us {:.2}", per_spawn[rounds / 2]);
}
