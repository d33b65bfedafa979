//! Spawns N processes that each wait for a message, then waits forever (for measuring).
use lunatic::{process, Mailbox};

#[lunatic::main]
fn main(m: Mailbox<()>) {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let this = process::this(&m);
    for _ in 0..n {
        process::spawn_with(this, |parent, mailbox: Mailbox<u64>| {
            let x = mailbox.receive().unwrap();
            let _ = (parent, x);
        })
        .unwrap();
    }
    println!("spawned {n}");
    let _ = m.receive_timeout(std::time::Duration::from_secs(3));
}
