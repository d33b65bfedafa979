//! Scenarios of environments, chosen by the first argument; each prints what it saw.
use lunatic::registry::{lookup_version, register_version};
use lunatic::{lookup, process, Config, Environment, Mailbox, Message, Process};

#[lunatic::main]
fn main(mailbox: Mailbox<()>) {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        "limits" => limits(mailbox),
        "namespaces" => namespaces(mailbox),
        "escalation" => escalation(mailbox),
        "modules" => modules(),
        "registry" => registry(mailbox),
        "filesystem" => filesystem(mailbox),
        "copy-bomb" => copy_bomb(mailbox),
        "memories" => memories(mailbox),
        "spawn-flood" => spawn_flood(),
        "start-loop" => start_loop(),
        "long-errors" => long_errors(),
        "many-modules" => many_modules(),
        other => panic!("unknown scenario {other:?}"),
    }
}

/// Memory to run this module with some room (its own memory starts at about 1.1 MiB).
const ROOMY: u64 = 4 << 20;

fn report(what: &str, message: Message<()>) {
    match message {
        Message::Signal(signal) => println!("{what}: died: {}", signal.reason()),
        Message::Normal(Ok(())) => println!("{what}: done"),
        other => println!("{what}: unexpected {other:?}"),
    }
}

fn limits(mailbox: Mailbox<()>) {
    let this = process::this(&mailbox);
    let mut env = Environment::new(Config::new(ROOMY, Some(50))).unwrap();
    let module = env.add_this_module().unwrap();
    let (_, _, m) = module
        .spawn_link(mailbox, |_: Mailbox<()>| {
            let _ = std::hint::black_box(vec![1u8; 8 << 20]);
        })
        .unwrap();
    report("memory bomb", m.receive());
    let (_, _, m) = module
        .spawn_link(m, |_: Mailbox<()>| {
            #[allow(clippy::empty_loop)]
            loop {}
        })
        .unwrap();
    report("fuel bomb", m.receive());
    // Work within the limits completes, and messages still flow.
    let _ = module
        .spawn_with(this, |parent: Process<()>, _: Mailbox<()>| {
            let sum: u64 = std::hint::black_box((0..1000u64).sum());
            assert_eq!(sum, 499_500);
            parent.send(());
        })
        .unwrap();
    report("within limits", m.receive());
    // Less memory than the module starts with: the spawn itself fails, and says why.
    let mut tiny = Environment::new(Config::new(64 << 10, None)).unwrap();
    let error = tiny
        .add_this_module()
        .unwrap()
        .spawn(|_: Mailbox<()>| {})
        .unwrap_err();
    println!("too small: {error}");
}

fn namespaces(mailbox: Mailbox<()>) {
    let this = process::this(&mailbox);
    let mut quiet = Environment::new(Config::new(ROOMY, None)).unwrap();
    let (_, _, m) = quiet
        .add_this_module()
        .unwrap()
        .spawn_link(mailbox, |_: Mailbox<()>| println!("should not print"))
        .unwrap();
    report("no stdout", m.receive());
    let mut config = Config::new(ROOMY, None);
    config
        .allow_namespace("wasi_snapshot_preview1::fd_write")
        .allow_namespace("wasi_snapshot_preview1::environ");
    let mut talkative = Environment::new(config).unwrap();
    let _ = talkative
        .add_this_module()
        .unwrap()
        .spawn_with(this, |parent: Process<()>, _: Mailbox<()>| {
            println!(
                "allowed: stdout, and env {:?}",
                std::env::var("LUNATIC_TEST")
            );
            parent.send(());
        })
        .unwrap();
    report("stdout allowed", m.receive());
    // Without `lunatic::environment`, a process cannot even ask for an environment.
    let (_, _, m) = quiet
        .add_this_module()
        .unwrap()
        .spawn_link(m, |_: Mailbox<()>| {
            let _ = Environment::new(Config::new(1 << 20, Some(1)));
        })
        .unwrap();
    report("no environments", m.receive());
}

fn escalation(mailbox: Mailbox<()>) {
    let this = process::this(&mailbox);
    let mut config = Config::new(ROOMY, Some(1_000));
    config
        .allow_namespace("lunatic::environment")
        .allow_namespace("wasi_snapshot_preview1::fd_write");
    let mut env = Environment::new(config).unwrap();
    let _ = env
        .add_this_module()
        .unwrap()
        .spawn_with(this, |parent: Process<()>, _: Mailbox<()>| {
            let attempts = [
                ("more memory", Config::new(ROOMY * 2, Some(10))),
                ("unlimited fuel", Config::new(ROOMY, None)),
                ("more fuel", Config::new(ROOMY, Some(2_000))),
                ("another namespace", {
                    let mut c = Config::new(ROOMY, Some(10));
                    c.allow_namespace("lunatic::registry");
                    c
                }),
                ("a directory", {
                    let mut c = Config::new(ROOMY, Some(10));
                    c.preopen_dir("/etc");
                    c
                }),
                ("within", {
                    let mut c = Config::new(ROOMY / 2, Some(10));
                    c.allow_namespace("wasi_snapshot_preview1::fd_write");
                    c
                }),
            ];
            for (what, config) in attempts {
                match Environment::new(config) {
                    Ok(_) => println!("{what}: allowed"),
                    Err(error) => println!("{what}: refused: {error}"),
                }
            }
            parent.send(());
        })
        .unwrap();
    let _ = mailbox.receive();
}

fn modules() {
    let mut env = Environment::new(Config::new(1 << 20, Some(10))).unwrap();
    let garbage = env.add_module(&[0, 1, 2, 3, 4, 5]).unwrap_err();
    println!("garbage: {garbage}");
    let unknown = env
        .add_module(br#"(module (import "evil" "syscall" (func)) (memory (export "memory") 1))"#)
        .unwrap_err();
    println!("unknown import: {unknown}");
    let huge = env.add_module(&vec![0u8; 33 << 20]).unwrap_err();
    println!("too large: {huge}");
    let empty = env.add_module(&[]).unwrap_err();
    println!("empty: {empty}");
    let plugin = env
        .add_module(
            br#"(module (memory (export "memory") 1) (func (export "run") (param i32 i64)))"#,
        )
        .unwrap();
    println!("unknown export: {}", plugin.spawn("nope", &[]).unwrap_err());
    println!(
        "wrong params: {}",
        plugin
            .spawn("run", &[lunatic::Param::I64(1), lunatic::Param::I64(2)])
            .unwrap_err()
    );
    let ok = plugin.spawn("run", &[lunatic::Param::I32(1), lunatic::Param::I64(2)]);
    println!("right params: {}", ok.is_ok());
}

fn registry(mailbox: Mailbox<()>) {
    let this = process::this(&mailbox);
    let servers: Vec<Process<u32>> = (0..3)
        .map(|_| {
            process::spawn(|m: Mailbox<u32>| {
                let _ = m.receive();
            })
            .unwrap()
        })
        .collect();
    for (server, version) in servers.iter().zip(["1.2.3", "1.4.0", "2.0.0"]) {
        register_version("db", version, server).unwrap();
    }
    let index =
        |found: Option<Process<u32>>| found.and_then(|p| servers.iter().position(|s| *s == p));
    println!("^1.2 -> {:?}", index(lookup::<u32>("db", "^1.2").unwrap()));
    println!(
        "=1.2.3 -> {:?}",
        index(lookup::<u32>("db", "=1.2.3").unwrap())
    );
    println!("* -> {:?}", index(lookup::<u32>("db", "*").unwrap()));
    println!("^3 -> {:?}", index(lookup::<u32>("db", "^3").unwrap()));
    println!(
        "nothing -> {:?}",
        index(lookup::<u32>("cache", "*").unwrap())
    );
    println!(
        "bad query -> {:?}",
        lookup::<u32>("db", "not a version").map(|p| p.is_some())
    );
    println!(
        "wrong type -> {:?}",
        lookup_version::<String>("db", "^1").map(|p| p.is_some())
    );
    println!(
        "duplicate -> {:?}",
        register_version("db", "1.4.0", &servers[0]).map_err(|e| e.to_string())
    );
    // A name registered inside another environment is visible there, not here.
    let mut config = Config::new(ROOMY, None);
    config
        .allow_namespace("lunatic::registry")
        .allow_namespace("wasi_snapshot_preview1::fd_write");
    let mut env = Environment::new(config).unwrap();
    env.register("inner", "1.0.0", &servers[2]).unwrap();
    println!(
        "inner seen from here: {:?}",
        lookup::<u32>("inner", "*").unwrap().is_some()
    );
    let _ = env
        .add_this_module()
        .unwrap()
        .spawn_with(this, |parent: Process<()>, _: Mailbox<()>| {
            println!(
                "inner seen inside: {:?}",
                lookup::<u32>("inner", "^1").unwrap().is_some()
            );
            println!(
                "db seen inside: {:?}",
                lookup::<u32>("db", "*").unwrap().is_some()
            );
            parent.send(());
        })
        .unwrap();
    let _ = mailbox.receive();
    println!("unregister -> {:?}", env.unregister("inner", "1.0.0"));
    // The caller's own environment, through a handle.
    process::this_env()
        .register("own", "0.1.0", &servers[0])
        .unwrap();
    println!(
        "own env -> {:?}",
        index(lookup::<u32>("own", "^0.1").unwrap())
    );
}

fn filesystem(mailbox: Mailbox<()>) {
    let dir = std::env::args().nth(2).expect("a granted directory");
    let file = format!("{dir}/note.txt");
    std::fs::write(&file, "granted").unwrap();
    println!("root reads: {:?}", std::fs::read_to_string(&file));
    match std::fs::read_to_string("/etc/hostname") {
        Ok(_) => println!("root outside: read!"),
        Err(error) => println!("root outside: refused: {error}"),
    }
    match std::fs::read_to_string(format!("{dir}/../../../../etc/hostname")) {
        Ok(_) => println!("climbing out: read!"),
        Err(error) => println!("climbing out: refused: {error}"),
    }
    // `escape` is a symlink the test put in the granted directory, pointing out of it.
    let mut config = Config::new(ROOMY, None);
    config.preopen_dir(&format!("{dir}/escape"));
    match Environment::new(config) {
        Ok(_) => println!("symlink out: granted!"),
        Err(error) => println!("symlink out: refused: {error}"),
    }
    let this = process::this(&mailbox);
    let mut config = Config::new(ROOMY, None);
    config.allow_namespace("wasi_snapshot_preview1::");
    let mut no_dirs = Environment::new(config).unwrap();
    let _ = no_dirs
        .add_this_module()
        .unwrap()
        .spawn_with(
            (this, file.clone()),
            |(parent, file): (Process<()>, String), _: Mailbox<()>| {
                println!(
                    "without a preopen: {}",
                    std::fs::read_to_string(&file).is_err()
                );
                parent.send(());
            },
        )
        .unwrap();
    let _ = mailbox.receive();
    let mut config = Config::new(ROOMY, None);
    config
        .allow_namespace("wasi_snapshot_preview1::")
        .preopen_dir(&dir);
    let mut with_dir = Environment::new(config).unwrap();
    let _ = with_dir
        .add_this_module()
        .unwrap()
        .spawn_with(
            (this, file),
            |(parent, file): (Process<()>, String), _: Mailbox<()>| {
                println!("with the preopen: {:?}", std::fs::read_to_string(&file));
                parent.send(());
            },
        )
        .unwrap();
    let _ = mailbox.receive();
}

/// A process with a fuel limit calls `send_data` with the same 4 MiB of its memory, to a
/// process that is gone, in a loop: a few instructions of its own each time, and a 4 MiB
/// copy of the host's. The copies are charged to its fuel, so it runs out within a few
/// sends; uncharged, its fuel would pay for a million of them (4 TiB of copying).
fn copy_bomb(mailbox: Mailbox<()>) {
    const BOMB: &str = r#"(module
      (import "lunatic::message" "send_data" (func $send_data (param i64 i64 i32 i32)))
      (memory (export "memory") 64)
      (func (export "bomb") (param $gone i64)
        (loop $again
          (call $send_data (local.get $gone) (i64.const 0) (i32.const 0) (i32.const 4194304))
          (br $again))))"#;
    let gone = process::spawn(|_: Mailbox<()>| {}).unwrap();
    while gone.is_alive() {
        process::sleep_ms(1);
    }
    let mut env = Environment::new(Config::new(64 << 20, Some(50))).unwrap();
    let module = env.add_module(BOMB.as_bytes()).unwrap();
    let started = std::time::Instant::now();
    let gone_id = i64::try_from(gone.id()).unwrap();
    let (_, _, links) = module
        .spawn_link(mailbox, "bomb", &[lunatic::Param::I64(gone_id)])
        .unwrap();
    match links.receive() {
        Message::Signal(signal) => println!("copy bomb: died: {}", signal.reason()),
        other => println!("copy bomb: unexpected {other:?}"),
    }
    println!(
        "copy bomb: stopped within 10 s: {}",
        started.elapsed() < std::time::Duration::from_secs(10)
    );
}

/// A module with several memories in a 16 MiB environment: the limit holds for all of a
/// process's memories together, not for each.
fn memories(mailbox: Mailbox<()>) {
    let module = |memories: usize| {
        let declared = "(memory 128) ".repeat(memories);
        format!(r#"(module {declared} (func (export "run")))"#)
    };
    let mut env = Environment::new(Config::new(16 << 20, Some(1_000))).unwrap();
    let one = env.add_module(module(1).as_bytes()).unwrap();
    let (_, _, links) = one.spawn_link(mailbox, "run", &[]).unwrap();
    match links.receive_timeout(std::time::Duration::from_millis(500)) {
        Message::Normal(Err(lunatic::ReceiveError::Timeout)) => println!("one 8 MiB memory: ran"),
        other => println!("one 8 MiB memory: unexpected {other:?}"),
    }
    let three = env.add_module(module(3).as_bytes()).unwrap();
    match three.spawn_link(links, "run", &[]) {
        Ok((_, _, links)) => match links.receive_timeout(std::time::Duration::from_secs(1)) {
            Message::Signal(signal) => println!("three 8 MiB memories: died: {}", signal.reason()),
            other => println!("three 8 MiB memories: RAN ({other:?})"),
        },
        Err(error) => println!("three 8 MiB memories: refused: {error}"),
    }
}

/// Spawns parked processes into a fuel-limited environment until a spawn is refused.
fn spawn_flood() {
    let mut env = Environment::new(Config::new(4 << 20, Some(1_000))).unwrap();
    let module = env.add_this_module().unwrap();
    let mut parked = Vec::new();
    for _ in 0..10_000 {
        match module.spawn(|mailbox: Mailbox<()>| {
            let _ = mailbox.receive();
        }) {
            Ok(process) => parked.push(process),
            Err(error) => {
                println!("spawn flood: refused after {}: {error}", parked.len());
                break;
            }
        }
    }
    println!("spawn flood: at most 64 alive: {}", parked.len() < 64);
    for process in &parked {
        process.kill();
    }
}

/// A process spawns a module whose `start` function never returns, and is killed while it
/// waits in that spawn: the kill ends it at once.
fn start_loop() {
    let spawner = process::spawn(|_: Mailbox<()>| {
        const SPINNER: &str =
            r#"(module (func $spin (loop $again (br $again))) (start $spin) (func (export "run")))"#;
        let mut env = Environment::new(Config::new(ROOMY, None)).unwrap();
        let module = env.add_module(SPINNER.as_bytes()).unwrap();
        let _ = module.spawn("run", &[]);
        println!("start loop: the spawn returned (wrong)");
    })
    .unwrap();
    let monitor = spawner.monitor();
    process::sleep_ms(300);
    let killed = std::time::Instant::now();
    spawner.kill();
    match spawner.wait_down(monitor, Some(std::time::Duration::from_secs(10))) {
        Ok(down) => println!(
            "start loop: spawner ended: {} within 2 s: {}",
            down.reason(),
            killed.elapsed() < std::time::Duration::from_secs(2)
        ),
        Err(error) => println!("start loop: spawner still alive: {error}"),
    }
}

/// Spawn errors that quote a 2 MB function name, many times: each error the process is
/// handed is cut to a few KiB.
fn long_errors() {
    let mut env = Environment::new(Config::new(ROOMY, None)).unwrap();
    let module = env
        .add_module(br#"(module (func (export "run")))"#)
        .unwrap();
    let name = "x".repeat(2 << 20);
    let mut longest = 0;
    let mut errors = Vec::new();
    for _ in 0..200 {
        let error = module.spawn(&name, &[]).unwrap_err();
        longest = longest.max(error.to_string().len());
        errors.push(error);
    }
    println!(
        "long errors: {} kept, the longest {longest} bytes",
        errors.len()
    );
    println!("long errors: at most 5000 bytes each: {}", longest <= 5000);
}

/// Compiles 40 distinct modules (each a new cache entry).
fn many_modules() {
    let mut env = Environment::new(Config::new(ROOMY, None)).unwrap();
    for n in 0..40 {
        let wat = format!(r#"(module (func (export "f{n}") (result i32) i32.const {n}))"#);
        env.add_module(wat.as_bytes()).unwrap();
    }
    println!("many modules: compiled");
}
