//! Spec sample "Environment": three children in a restricted environment fail for three
//! reasons (a forbidden host function, too much memory, too much compute), each reported
//! to the parent as a link signal and logged with its reason.
use lunatic::{Config, Environment, Mailbox, Message};

#[lunatic::main]
fn main(m: Mailbox<()>) {
    // Create a new environment where processes can use maximum 17 Wasm pages of
    // memory (17 * 64KB) & 1 compute unit of instructions (~=100k CPU cycles).
    let mut config = Config::new(1_200_000, Some(1));
    // Allow only syscalls under the "wasi_snapshot_preview1::environ*" namespace
    config.allow_namespace("wasi_snapshot_preview1::environ");
    let mut env = Environment::new(config).unwrap();
    let module = env.add_this_module().unwrap();

    // This process will fail because it can't uses syscalls for std i/o
    let (_, _, m) = module
        .spawn_link(m, |_: Mailbox<()>| println!("Hi from different env"))
        .unwrap();
    report("std i/o", m.receive());

    // This process will fail because it uses too much memory
    let (_, _, m) = module
        .spawn_link(m, |_: Mailbox<()>| {
            let _ = std::hint::black_box(vec![0u8; 150_000]);
        })
        .unwrap();
    report("memory", m.receive());

    // This process will fail because it uses too much compute
    let (_, _, m) = module
        .spawn_link(m, |_: Mailbox<()>| {
            #[allow(clippy::empty_loop)]
            loop {}
        })
        .unwrap();
    report("compute", m.receive());
}

fn report(what: &str, message: Message<()>) {
    match message {
        Message::Signal(signal) => println!("{what}: child failed: {}", signal.reason()),
        other => println!("{what}: unexpected {other:?}"),
    }
}
