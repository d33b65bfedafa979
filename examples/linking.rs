//! Spec sample "linking": a linked child panics and the parent receives a signal.
use lunatic::{process, Mailbox, Message};

#[lunatic::main]
fn main(mailbox: Mailbox<()>) {
    let (_child, _tag, link_mailbox) = process::spawn_link(mailbox, child).unwrap();
    // Wait on message
    let message = link_mailbox.receive();
    assert!(message.is_signal());
    if let Message::Signal(signal) = message {
        println!("linked process died: {}", signal.reason());
    }
}

fn child(_: Mailbox<()>) {
    panic!("Error");
}
