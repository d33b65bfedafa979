//! Spec sample "processes exchange information through messages".
use lunatic::{process, Mailbox};

#[lunatic::main]
fn main(_: Mailbox<()>) {
    let proc = process::spawn(|mailbox| {
        let message = mailbox.receive().unwrap();
        println!("Hello {}", message);
    })
    .unwrap();
    proc.send("World".to_string());
    // Keep the VM up until the child is done (the main process's end kills every other).
    while proc.is_alive() {
        process::sleep_ms(1);
    }
}
