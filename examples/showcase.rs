//! Showcase: 10,000 processes, each its own wasm instance, all alive at once; each answers
//! one request and the parent sums the replies.
use std::time::Instant;

use lunatic::{process, Mailbox, Request};

const CHILDREN: u64 = 10_000;

#[lunatic::main]
fn main(_: Mailbox<()>) {
    let start = Instant::now();
    let children: Vec<_> = (0..CHILDREN)
        .map(|_| {
            process::spawn(|mailbox: Mailbox<Request<u64, u64>>| {
                let request = mailbox.receive().unwrap();
                let n = *request.data();
                request.reply(n * 2);
            })
            .unwrap()
        })
        .collect();
    let spawned = start.elapsed();
    let sum: u64 = children
        .iter()
        .enumerate()
        .map(|(i, child)| child.request(i as u64).unwrap())
        .sum();
    let expected: u64 = (0..CHILDREN).map(|i| i * 2).sum();
    assert_eq!(sum, expected);
    println!("{CHILDREN} processes answered, sum = {sum}");
    println!(
        "spawned in {:.1?} ({:.1} us each), answered in {:.1?}",
        spawned,
        spawned.as_secs_f64() * 1e6 / CHILDREN as f64,
        start.elapsed() - spawned
    );
}
