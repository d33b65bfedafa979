//! Benchmark (runs on the VM): parks N processes (default 20,000) in `receive`, then reports
//! and waits, so the harness can read the VM's resident memory. Prints `RESULT` lines.
use std::time::{Duration, Instant};

use lunatic::{process, Mailbox, Process};

#[lunatic::main]
fn main(mailbox: Mailbox<()>) {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let hold_ms: u64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000);
    let start = Instant::now();
    let parked: Vec<Process<()>> = (0..count)
        .map(|_| {
            process::spawn(|mailbox: Mailbox<()>| {
                let _ = mailbox.receive();
            })
            .unwrap()
        })
        .collect();
    println!("RESULT parked {}", parked.len());
    println!(
        "RESULT park_spawn_us {:.2}",
        start.elapsed().as_secs_f64() * 1e6 / count as f64
    );
    println!("READY");
    let _ = mailbox.receive_timeout(Duration::from_millis(hold_ms));
}
