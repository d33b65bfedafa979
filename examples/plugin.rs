//! Loads a separately written wasm module (a WAT plugin, compiled at run time) into a
//! restricted environment and talks to it with messages.
use lunatic::{process, Config, Environment, Mailbox, Param, Process};

/// The plugin: see `examples/plugins/doubler.wat`.
const PLUGIN: &[u8] = include_bytes!("plugins/doubler.wat");

#[lunatic::main]
fn main(mailbox: Mailbox<u64>) {
    // 1 MiB of memory, 10 fuel units (about a million instructions), no host functions
    // beyond the process model.
    let mut env = Environment::new(Config::new(1 << 20, Some(10))).unwrap();
    let plugin = env.add_module(PLUGIN).unwrap();
    let doubler = plugin.spawn("serve", &[Param::I64(2)]).unwrap();
    // The plugin reads (reply_to, n) and answers n * factor.
    let requests: Process<(u64, u64)> = Process::from_process_id(doubler.process_id());
    let this = process::this(&mailbox).process_id().local_id();
    for n in [1, 21, 1000] {
        requests.send((this, n));
        println!("plugin doubled {n} into {}", mailbox.receive().unwrap());
    }
    requests.send((this, 0));
    println!(
        "unknown export: {}",
        plugin.spawn("missing", &[]).unwrap_err()
    );
    println!(
        "wrong parameters: {}",
        plugin.spawn("serve", &[Param::I32(2)]).unwrap_err()
    );
    println!(
        "garbage module: {}",
        env.add_module(b"\0asm garbage").unwrap_err()
    );
}
