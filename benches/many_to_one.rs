//! Benchmark (runs on the VM): 100 processes each send 2,000 messages to one receiver, five
//! rounds; prints the median messages per second. `benches/run.sh` runs it with 1 and 2
//! worker threads.
use std::time::Instant;

use lunatic::{process, Mailbox, Process};

const SENDERS: u64 = 100;
const PER_SENDER: u64 = 2_000;
const ROUNDS: usize = 5;

#[lunatic::main]
fn main(mailbox: Mailbox<u64>) {
    let this = process::this(&mailbox);
    let mut rates: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..SENDERS {
                process::spawn_with(this, |sink: Process<u64>, _: Mailbox<()>| {
                    for n in 0..PER_SENDER {
                        sink.send(n);
                    }
                })
                .unwrap();
            }
            let mut sum = 0;
            for _ in 0..SENDERS * PER_SENDER {
                sum += mailbox.receive().unwrap();
            }
            assert_eq!(sum, SENDERS * PER_SENDER * (PER_SENDER - 1) / 2);
            (SENDERS * PER_SENDER) as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    println!("RESULT many_to_one_msgs_per_s {:.0}", rates[ROUNDS / 2]);
}
