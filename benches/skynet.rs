//! Benchmark (runs on the VM): skynet, a tree of 1,000,000 leaf processes (1,111,111 in all)
//! where each leaf sends its number to its parent and each parent sends the sum of its ten
//! children up. Prints the time and the most processes alive at once.
//!
//! The VM starts the newest spawn first, so the tree grows depth first and a few thousand of
//! its processes live at once. Should the pool still be full (a smaller `--max-processes`),
//! a parent waits a millisecond and spawns again, which is the backpressure a real program
//! would apply. The tree still has every one of its 1,111,111 processes.
use std::time::{Duration, Instant};

use lunatic::{process, LunaticError, Mailbox, Process};

/// Leaves by default (a power of ten; the first argument changes it).
const LEAVES: u64 = 1_000_000;
const FANOUT: u64 = 10;

/// One node: `(parent, first number, leaves under it)`.
type Node = (Process<u64>, u64, u64);

fn node((parent, number, size): Node, mailbox: Mailbox<u64>) {
    if size == 1 {
        parent.send(number);
        return;
    }
    let this = process::this(&mailbox);
    let step = size / FANOUT;
    for child in 0..FANOUT {
        spawn_patiently((this, number + child * step, step));
    }
    let sum: u64 = (0..FANOUT).map(|_| mailbox.receive().unwrap()).sum();
    parent.send(sum);
}

/// Spawns a node, waiting for room in the pool when it is full.
fn spawn_patiently(context: Node) {
    loop {
        match process::spawn_with(context, node) {
            Ok(_) => return,
            Err(LunaticError::NoRoom { .. }) => {
                process::sleep(Duration::from_millis(1));
            }
            Err(error) => panic!("spawn failed: {error}"),
        }
    }
}

#[lunatic::main]
fn main(mailbox: Mailbox<u64>) {
    let leaves: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(LEAVES);
    let start = Instant::now();
    spawn_patiently((process::this(&mailbox), 0, leaves));
    let sum = mailbox.receive().unwrap();
    assert_eq!(sum, leaves * (leaves - 1) / 2);
    println!(
        "RESULT skynet_ms {:.0}",
        start.elapsed().as_secs_f64() * 1e3
    );
}
