//! Spec sample "processes are sandboxed": a context travels to the child as a message.
use lunatic::{process, Mailbox};

#[lunatic::main]
fn main(_: Mailbox<()>) {
    let proc = "Process";
    let child = process::spawn_with(proc.to_string(), |proc, _: Mailbox<()>| {
        // This closure gets a new heap and stack to execute on,
        // and can't access the memory of the parent process.
        println!("Hello {}!", proc);
    })
    .unwrap();
    // Keep the VM up until the child is done (the main process's end kills every other).
    while child.is_alive() {
        process::sleep_ms(1);
    }
}
