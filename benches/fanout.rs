//! Benchmark (runs on the VM): a process's whole life, as a pool of workers lives it. A
//! parent spawns 2,000 workers, sends each a number with its own handle
//! (`(Process<u64>, u64)`), and sums the doubled numbers they send back; each worker
//! answers once and ends. Prints, for `benches/run.sh`, the microseconds per worker of a
//! round (spawn, message, answer, end; `fanout_us`), and of its spawns alone
//! (`fanout_spawn_us`): the medians of 11 rounds. `benches/erlang/bench_fanout.erl` is the
//! same work in Erlang.
//!
//! A first argument sets the workers per round (the suite also runs 10,000), a second the
//! rounds (for profiling).
use std::time::Instant;

use lunatic::{process, Mailbox, Process};

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

#[lunatic::main]
fn main(mailbox: Mailbox<u64>) {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|n| n.parse().expect("a number"))
        .collect();
    let workers = args.first().copied().unwrap_or(2_000);
    let rounds = args.get(1).copied().unwrap_or(11);
    let this = process::this(&mailbox);
    let (mut whole, mut spawns) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        let pool: Vec<Process<(Process<u64>, u64)>> = (0..workers)
            .map(|_| {
                process::spawn(|inbox: Mailbox<(Process<u64>, u64)>| {
                    let (back, n) = inbox.receive().unwrap();
                    back.send(2 * n);
                })
                .unwrap()
            })
            .collect();
        spawns.push(start.elapsed().as_secs_f64() * 1e6 / workers as f64);
        for (n, worker) in (0..).zip(&pool) {
            worker.send((this, n));
        }
        let sum: u64 = (0..workers).map(|_| mailbox.receive().unwrap()).sum();
        assert_eq!(sum, 2 * (0..workers).sum::<u64>());
        whole.push(start.elapsed().as_secs_f64() * 1e6 / workers as f64);
        // The last answers come before their senders end: the next round starts once
        // every worker of this one has.
        while pool.iter().any(Process::is_alive) {
            process::sleep_ms(1);
        }
    }
    println!("RESULT fanout_us {:.2}", median(whole));
    println!("RESULT fanout_spawn_us {:.2}", median(spawns));
}
