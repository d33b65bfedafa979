//! Benchmark (runs on the VM): microseconds per message round trip between two processes
//! (send a u64, the other process sends it back), and per `request` (request/reply).
//! Prints `RESULT <name> <value>` lines for `benches/run.sh`.
use std::time::Instant;

use lunatic::{process, Mailbox, Process, Request};

const ROUNDS: usize = 5;
const TRIPS: u64 = 50_000;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

#[lunatic::main]
fn main(mailbox: Mailbox<u64>) {
    let this = process::this(&mailbox);
    let echo = process::spawn_with(this, |back: Process<u64>, inbox: Mailbox<u64>| loop {
        back.send(inbox.receive().unwrap());
    })
    .unwrap();
    let mut samples = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for n in 0..TRIPS {
            echo.send(n);
            assert_eq!(mailbox.receive().unwrap(), n);
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / TRIPS as f64);
    }
    println!("RESULT roundtrip_us {:.3}", median(samples));

    let server = process::spawn(|inbox: Mailbox<Request<u64, u64>>| loop {
        let request = inbox.receive().unwrap();
        let n = *request.data();
        request.reply(n);
    })
    .unwrap();
    let mut samples = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for n in 0..TRIPS {
            assert_eq!(server.request(n).unwrap(), n);
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / TRIPS as f64);
    }
    println!("RESULT request_us {:.3}", median(samples));
}
