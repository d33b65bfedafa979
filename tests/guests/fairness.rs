//! A process stuck in `loop {}` must not stop the others, even on one worker thread.
use std::time::Duration;

use lunatic::{process, Mailbox};

#[lunatic::main]
fn main(_: Mailbox<()>) {
    let spinners: Vec<_> = (0..3)
        .map(|_| {
            process::spawn(|_: Mailbox<()>| {
                #[allow(clippy::empty_loop)]
                loop {}
            })
            .unwrap()
        })
        .collect();
    for tick in 0..5 {
        process::sleep(Duration::from_millis(20));
        println!("tick {tick}");
    }
    // A spinning process can also be killed: the kill lands at its next preemption point.
    spinners[0].kill();
    while spinners[0].is_alive() {
        process::sleep_ms(1);
    }
    println!(
        "spinner killed; others alive: {}",
        spinners[1].is_alive() && spinners[2].is_alive()
    );
}
