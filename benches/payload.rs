//! Benchmark (runs on the VM): microseconds per round trip of a message that carries data,
//! the sender's handle beside it (`(Process<T>, T)`, answered through it, as
//! `roundtrip.rs`'s `handle`): a list of 100 `u64`s (`Vec<u64>`), 1,000 bytes (`Vec<u8>`,
//! which serde writes and reads a byte at a time, and `serde_bytes::ByteBuf`, which it
//! copies whole) and a 100-byte `String`, each made anew for every trip. Prints `RESULT payload_<name>_us
//! <value>` lines for `benches/run.sh`; `benches/erlang/bench_payload.erl` is the same work
//! in Erlang (a list of integers, and binaries).
//!
//! Arguments, for profiling one payload: `list100`, `bytes1k`, `buf1k` or `text100` runs only that
//! one (all by default), and a second argument sets the round trips per round (20,000).
use std::time::Instant;

use lunatic::{process, Mailbox, Process, Sendable};

/// Rounds measured; the median is reported (this machine's speed drifts within a run).
const ROUNDS: usize = 11;

/// A payload: its name in the results, and the value of trip `n`.
trait Payload: Sendable {
    const NAME: &'static str;
    fn make(n: u64) -> Self;
}

impl Payload for Vec<u64> {
    const NAME: &'static str = "list100";
    fn make(n: u64) -> Self {
        (n..n + 100).collect()
    }
}

impl Payload for Vec<u8> {
    const NAME: &'static str = "bytes1k";
    fn make(n: u64) -> Self {
        vec![n as u8; 1000]
    }
}

impl Payload for serde_bytes::ByteBuf {
    const NAME: &'static str = "buf1k";
    fn make(n: u64) -> Self {
        serde_bytes::ByteBuf::from(vec![n as u8; 1000])
    }
}

impl Payload for String {
    const NAME: &'static str = "text100";
    fn make(n: u64) -> Self {
        char::from(b'a' + (n % 26) as u8).to_string().repeat(100)
    }
}

/// Measures round trips of `T` with an echo process of its own, prints the median, and
/// tells `main` it is done.
fn measure<T: Payload>((main, trips): (Process<()>, u64), mailbox: Mailbox<T>) {
    let echo = process::spawn(|inbox: Mailbox<(Process<T>, T)>| loop {
        let (back, value) = inbox.receive().unwrap();
        back.send(value);
    })
    .unwrap();
    let this = process::this(&mailbox);
    let mut samples = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for n in 0..trips {
            echo.send((this, T::make(n)));
            drop(mailbox.receive().unwrap());
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / trips as f64);
    }
    samples.sort_by(f64::total_cmp);
    println!("RESULT payload_{}_us {:.3}", T::NAME, samples[ROUNDS / 2]);
    echo.kill();
    main.send(());
}

#[lunatic::main]
fn main(mailbox: Mailbox<()>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = args.first().map(String::as_str);
    let trips = args
        .get(1)
        .map_or(20_000, |n| n.parse().expect("a number of trips"));
    let run = (process::this(&mailbox), trips);
    // Each payload in a process whose mailbox takes its type, one after another.
    for name in ["list100", "bytes1k", "buf1k", "text100"] {
        if only.is_some_and(|only| only != name) {
            continue;
        }
        match name {
            "list100" => process::spawn_with(run, measure::<Vec<u64>>).map(drop),
            "bytes1k" => process::spawn_with(run, measure::<Vec<u8>>).map(drop),
            "buf1k" => process::spawn_with(run, measure::<serde_bytes::ByteBuf>).map(drop),
            _ => process::spawn_with(run, measure::<String>).map(drop),
        }
        .unwrap();
        mailbox.receive().unwrap();
    }
}
