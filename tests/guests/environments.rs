//! Scenarios of environments, chosen by the first argument; each prints what it saw.
use lunatic::registry::{lookup_version, register_version};
use lunatic::{
    lookup, process, Config, Environment, Limit, LunaticError, Mailbox, Message, Process,
};

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
        "forged-ids" => forged_ids(mailbox),
        "budgets" => budgets(mailbox),
        "bystander" => bystander(),
        "compile-bombs" => compile_bombs(),
        "open-files" => open_files(mailbox),
        "recycled-charges" => recycled_charges(),
        "metered-start" => metered_start(mailbox),
        "recycled-room" => recycled_room(),
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
    // The bomb burned the environment's fuel, which its processes share: work within the
    // limits of a fresh one completes, and messages still flow.
    let mut env = Environment::new(Config::new(ROOMY, Some(50))).unwrap();
    let module = env.add_this_module().unwrap();
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

/// A process with a fuel limit calls `send_data` with the same 1 MiB of its memory, to a
/// process that is gone, in a loop: a few instructions of its own each time, and a 1 MiB
/// copy of the host's. The copies are charged to its fuel, so it runs out within a few
/// sends; uncharged, its fuel would pay for a million of them (1 TiB of copying).
fn copy_bomb(mailbox: Mailbox<()>) {
    const BOMB: &str = r#"(module
      (import "lunatic::message" "send_data" (func $send_data (param i64 i64 i64 i64 i32 i32)))
      (memory (export "memory") 64)
      (func (export "bomb") (param $gone i64)
        (loop $again
          (call $send_data (local.get $gone) (i64.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 1048576))
          (br $again))))"#;
    let gone = process::spawn(|_: Mailbox<()>| {}).unwrap();
    while gone.is_alive() {
        process::sleep_ms(1);
    }
    let mut env = Environment::new(Config::new(64 << 20, Some(50))).unwrap();
    let module = env.add_module(BOMB.as_bytes()).unwrap();
    let started = std::time::Instant::now();
    let gone_id = gone.process_id().local_id() as i64; // the bits of the id, as wasm passes it
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
                let typed = matches!(error, LunaticError::NoRoom { .. });
                println!("spawn flood: refused after {}: {error}", parked.len());
                println!("spawn flood: refused as NoRoom: {typed}");
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

/// A process id as an attacker makes one: from a number it guessed.
fn guessed<M>(local: u64) -> Process<M> {
    let bytes = bincode::serialize(&(0u64, local)).unwrap();
    Process::from_process_id(bincode::deserialize(&bytes).unwrap())
}

/// Ids and tags cannot be guessed: a sandboxed process that scans ids near its own and
/// from 1 finds and kills nobody, and replies it forges with tags near one it was given
/// are never taken for the answer to a request.
fn forged_ids(mailbox: Mailbox<()>) {
    let bystander = process::spawn(|m: Mailbox<()>| {
        let _ = m.receive();
    })
    .unwrap();
    let mut env = Environment::new(Config::new(ROOMY, Some(10_000))).unwrap();
    let module = env.add_this_module().unwrap();
    let (_, _, links) = module
        .spawn_link(mailbox, |_: Mailbox<()>| {
            let own = process::this_id().local_id();
            let near = own.saturating_sub(20_000)..own.saturating_add(20_000);
            let mut found = 0;
            for guess in (1..=20_000).chain(near).filter(|&guess| guess != own) {
                let target = guessed::<()>(guess);
                if target.is_alive() {
                    found += 1;
                }
                target.kill();
            }
            // The sandbox may not print: the count travels as its end reason.
            panic!("scan: {found} processes found");
        })
        .unwrap();
    report("scanner", links.receive());
    println!("bystander alive after the scan: {}", bystander.is_alive());
    // The server answers after a while; the forger floods the requester first.
    let server = process::spawn(|m: Mailbox<lunatic::Request<u32, u32>>| {
        let request = m.receive().unwrap();
        process::sleep_ms(100);
        let answer = request.data() + 1;
        request.reply(answer);
    })
    .unwrap();
    let given = lunatic::Tag::new();
    let forger = module
        .spawn_with(
            (process::this_id(), given.id()),
            |(main, given): (lunatic::ProcessId, i64), _: Mailbox<()>| {
                let main = Process::<u32>::from_process_id(main);
                let around = given.saturating_sub(5_000)..given.saturating_add(5_000);
                for tag in (-5_000..5_000).chain(around) {
                    main.tag_send(lunatic::Tag::from_id(tag), 666);
                }
                main.tag_send(lunatic::Tag::from_id(given), 0);
            },
        )
        .unwrap();
    let _ = forger;
    let _flood_sent = links.tag_receive(&[given]);
    println!("request answered with: {:?}", server.request(41));
}

/// The ending of a sandboxed process, with a trap's kind (sandboxes may not print: they
/// report by how they end). Messages it sent first are skipped.
fn report_end(what: &str, links: &lunatic::LinkMailbox<()>) {
    loop {
        match links.receive_timeout(std::time::Duration::from_secs(10)) {
            Message::Signal(signal) => match signal.reason() {
                lunatic::EndReason::Trapped { kind, message } => {
                    println!("{what}: trapped ({kind:?}): {message}")
                }
                other => println!("{what}: {other}"),
            },
            Message::Normal(Ok(())) => continue,
            other => println!("{what}: unexpected {other:?}"),
        }
        return;
    }
}

/// A sandbox in `config` running `entry`, linked to the caller.
fn sandboxed<B: lunatic::IntoLinkMailbox<Message = ()>>(
    config: &Config,
    links: B,
    entry: fn(lunatic::ProcessId, Mailbox<()>),
) -> lunatic::LinkMailbox<()> {
    let mut env = Environment::new(config.clone()).unwrap();
    let module = env.add_this_module().unwrap();
    let (_, _, links) = module
        .spawn_link_with(links, process::this_id(), entry)
        .unwrap();
    links
}

/// Each limit of an environment holds: what its processes make the host hold is counted
/// for the environment (and the environments made inside it), and the offender gets an
/// error or dies naming the limit.
fn budgets(mailbox: Mailbox<()>) {
    let links = mailbox;
    // Processes: a nested environment does not renew the limit.
    let mut config = Config::new(ROOMY, None);
    config
        .max_processes(5)
        .allow_namespace("lunatic::environment");
    let links = sandboxed(&config, links, |_, _| {
        let mut inner = Environment::new(Config::new(ROOMY, None)).unwrap();
        let inner = inner.add_this_module().unwrap();
        let mut parked = Vec::new();
        let error = loop {
            match inner.spawn(|m: Mailbox<()>| {
                let _ = m.receive();
            }) {
                Ok(process) if parked.len() < 20 => parked.push(process),
                Ok(_) => break "none".to_owned(),
                // Typed: the limit reached is a value, not text.
                Err(
                    error @ LunaticError::OverLimit {
                        limit: Limit::Processes,
                    },
                ) => break error.to_string(),
                Err(other) => break format!("not the process limit: {other:?}"),
            }
        };
        panic!("{} spawned, then: {error}", parked.len());
    });
    report_end("processes", &links);
    // Memory of all its processes together: 10 processes of about 3.2 MiB in 16 MiB.
    let mut config = Config::new(ROOMY, None);
    config.max_total_memory(16 << 20);
    let mut env = Environment::new(config).unwrap();
    let module = env.add_this_module().unwrap();
    let mut fit = 0;
    for _ in 0..10 {
        let _ = module.spawn_with(
            process::this_id(),
            |main: lunatic::ProcessId, m: Mailbox<()>| {
                std::hint::black_box(vec![1u8; 2 << 20]);
                Process::<()>::from_process_id(main).send(());
                let _ = m.receive();
            },
        );
    }
    while let Message::Normal(Ok(())) = links.receive_timeout(std::time::Duration::from_secs(2)) {
        fit += 1;
    }
    println!("memory: {fit} of 10 fit");
    // Queued bytes: messages nobody receives (here: sent to itself) are stopped at the
    // sender.
    let mut config = Config::new(ROOMY, None);
    config.max_queued_bytes(1 << 20);
    let links = sandboxed(&config, links, |_, _| {
        let this = Process::<Vec<u8>>::from_process_id(process::this_id());
        for _ in 0..4_000 {
            this.send(vec![7; 64 << 10]);
        }
    });
    report_end("queued bytes", &links);
    // One large message: the host would copy it on a worker thread.
    let links = sandboxed(&Config::new(16 << 20, None), links, |main, _| {
        Process::<Vec<u8>>::from_process_id(main).send(vec![7; 2 << 20]);
    });
    report_end("large message", &links);
    // Handles: monitors of a process outside, and names.
    let mut config = Config::new(ROOMY, None);
    config.max_handles(100);
    let links = sandboxed(&config, links, |main, _| {
        let main = Process::<()>::from_process_id(main);
        for _ in 0..1_000_000 {
            let _ = main.monitor();
        }
    });
    report_end("monitors", &links);
    // Monitors of a process that is gone: each down notice is charged until received.
    let links = sandboxed(&config, links, |_, _| {
        let gone = guessed::<()>(12_345);
        for _ in 0..1_000_000 {
            let _ = gone.monitor();
        }
    });
    report_end("monitors of the gone", &links);
    // Links to a process that is gone, trapping link deaths: each notice is charged.
    let links = sandboxed(&config, links, |_, m| {
        let _trapping = m.catch_link_panics();
        let gone = guessed::<()>(12_345);
        for _ in 0..1_000_000 {
            let _ = gone.link();
        }
    });
    report_end("links to the gone", &links);
    // A watcher's monitors go when it ends: 300 short-lived watchers leave nothing held.
    let links = sandboxed(&config, links, |main, _| {
        for _ in 0..300 {
            let watcher = process::spawn_with(main, |main: lunatic::ProcessId, _: Mailbox<()>| {
                let _ = Process::<()>::from_process_id(main).monitor();
            })
            .unwrap();
            while watcher.is_alive() {
                process::sleep_ms(1);
            }
        }
        let main = Process::<()>::from_process_id(main);
        let tags: Vec<_> = (0..50).map(|_| main.monitor()).collect();
        panic!("{} monitors after 300 watchers ended", tags.len());
    });
    report_end("monitor churn", &links);
    // Nesting stops at 8 deep: each level makes the next and tells main.
    let mut nesting = Config::new(ROOMY, None);
    nesting.allow_namespace("lunatic::environment");
    let links = sandboxed(&nesting, links, nest);
    let mut levels = 0;
    while let Message::Normal(Ok(())) = links.receive_timeout(std::time::Duration::from_secs(2)) {
        levels += 1;
    }
    println!("nesting: {levels} levels made below the first");
    config.allow_namespace("lunatic::registry");
    let links = sandboxed(&config, links, |_, m| {
        let this = process::this(&m);
        let mut names = 0;
        let error = loop {
            match lunatic::registry::register(&format!("name-{names}"), &this) {
                Ok(()) if names < 1_000 => names += 1,
                Ok(()) => break "none".to_owned(),
                Err(error) => break error.to_string(),
            }
        };
        panic!("{names} registered, then: {error}");
    });
    report_end("names", &links);
    // Sockets.
    let mut config = Config::new(ROOMY, None);
    config
        .max_descriptors(3)
        .allow_namespace("lunatic::networking");
    let links = sandboxed(&config, links, |_, _| {
        let mut sockets = Vec::new();
        let error = loop {
            match lunatic::net::UdpSocket::bind("127.0.0.1:0") {
                Ok(socket) if sockets.len() < 20 => sockets.push(socket),
                Ok(_) => break "none".to_owned(),
                Err(error) => break error.to_string(),
            }
        };
        panic!("{} opened, then: {error}", sockets.len());
    });
    report_end("sockets", &links);
    // Fuel is the environment's: a chain of spawns shares one budget.
    let config = Config::new(ROOMY, Some(30));
    let links = sandboxed(&config, links, step);
    let mut steps = 0;
    let links = loop {
        match links.receive_timeout(std::time::Duration::from_secs(2)) {
            Message::Normal(Ok(())) if steps < 1_000 => steps += 1,
            Message::Signal(_) => {}
            _ => break links,
        }
    };
    println!(
        "fuel chain: {} steps",
        if steps < 1_000 {
            steps.to_string()
        } else {
            "unbounded".into()
        }
    );
    // Log volume: reports past the rate are dropped and counted.
    let mut config = Config::new(ROOMY, None);
    config.max_log_bytes_per_second(2_000);
    let mut env = Environment::new(config).unwrap();
    let module = env.add_this_module().unwrap();
    let flooder = module
        .spawn(|_: Mailbox<()>| {
            for _ in 0..200 {
                let _ = process::spawn(|_: Mailbox<()>| panic!("log flood {}", "x".repeat(100)));
            }
            process::sleep_ms(1_200);
            panic!("flood over");
        })
        .unwrap();
    let monitor = flooder.monitor();
    let _ = flooder.wait_down(monitor, Some(std::time::Duration::from_secs(10)));
    let _ = links;
    println!("budgets: main alive");
}

/// One step of a chain: burns some fuel, tells main, spawns the next.
fn step(main: lunatic::ProcessId, _: Mailbox<()>) {
    let sum: u64 = (0..100_000u64).map(std::hint::black_box).sum();
    std::hint::black_box(sum);
    Process::<()>::from_process_id(main).send(());
    let _ = process::spawn_with(main, step);
}

/// A bystander's round trips while two sandboxed attackers run: one spins on the CPU, one
/// makes the host copy 1 MiB (its environment's largest message) per call, to a dead
/// process. Prints the 99th percentile.
fn bystander() {
    let echo = process::spawn(|m: Mailbox<lunatic::Request<u64, u64>>| loop {
        let request = m.receive().unwrap();
        let answer = *request.data();
        request.reply(answer);
    })
    .unwrap();
    let gone = process::spawn(|_: Mailbox<()>| {}).unwrap();
    while gone.is_alive() {
        process::sleep_ms(1);
    }
    let mut env = Environment::new(Config::new(64 << 20, None)).unwrap();
    let module = env.add_this_module().unwrap();
    let spinner = module
        .spawn(|_: Mailbox<()>| {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        })
        .unwrap();
    let copier = module
        .spawn_with(
            gone.process_id(),
            |gone: lunatic::ProcessId, _: Mailbox<()>| {
                let gone = Process::<Vec<u8>>::from_process_id(gone);
                // Room for the length and the type header.
                let big = vec![1u8; (1 << 20) - 1024];
                loop {
                    gone.send(big.clone());
                }
            },
        )
        .unwrap();
    process::sleep_ms(100);
    let mut times: Vec<std::time::Duration> = (0..2_000u64)
        .map(|i| {
            let start = std::time::Instant::now();
            assert_eq!(echo.request(i), Ok(i));
            start.elapsed()
        })
        .collect();
    times.sort();
    let p99 = times[times.len() * 99 / 100];
    println!("bystander p99: {} us", p99.as_micros());
    println!(
        "attackers alive: {}",
        spinner.is_alive() && copier.is_alive()
    );
    spinner.kill();
    copier.kill();
}

/// Modules that would make the compiler hold gigabytes are refused before compiling: too
/// many functions, or one too large.
fn compile_bombs() {
    let mut env = Environment::new(Config::new(ROOMY, Some(1_000_000))).unwrap();
    let many = format!("(module {})", "(func)".repeat(60_000));
    match env.add_module(many.as_bytes()) {
        Ok(_) => println!("many functions: compiled (wrong)"),
        Err(error) => println!("many functions: {error}"),
    }
    let long = format!("(module (func {}))", "i32.const 0 drop ".repeat(400_000));
    match env.add_module(long.as_bytes()) {
        Ok(_) => println!("long function: compiled (wrong)"),
        Err(error) => println!("long function: {error}"),
    }
    let fine = format!("(module {})", "(func)".repeat(1_000));
    println!(
        "a thousand functions: {}",
        env.add_module(fine.as_bytes()).is_ok()
    );
}

/// One level of nesting: makes an environment, tells main, and runs the next level in it.
fn nest(main: lunatic::ProcessId, _: Mailbox<()>) {
    let mut config = Config::new(ROOMY, None);
    config.allow_namespace("lunatic::environment");
    if let Ok(mut env) = Environment::new(config) {
        Process::<()>::from_process_id(main).send(());
        let _ = env.add_this_module().unwrap().spawn_with(main, nest);
    }
}

/// Files opened in a granted directory count against the environment's descriptor limit,
/// and closing one gives its place back; the root still opens files.
fn open_files(mailbox: Mailbox<()>) {
    let dir = std::env::args().nth(2).expect("a granted directory");
    std::fs::write(format!("{dir}/open.txt"), "x").unwrap();
    let this = process::this(&mailbox);
    let mut config = Config::new(ROOMY, None);
    config
        .allow_namespace("wasi_snapshot_preview1::")
        .preopen_dir(&dir)
        .max_descriptors(3);
    let mut env = Environment::new(config).unwrap();
    let module = env.add_this_module().unwrap();
    let _ = module
        .spawn_with(
            (this, dir.clone()),
            |(parent, dir): (Process<()>, String), _: Mailbox<()>| {
                let path = format!("{dir}/open.txt");
                let mut files = Vec::new();
                let error = loop {
                    match std::fs::File::open(&path) {
                        Ok(file) if files.len() < 20 => files.push(file),
                        Ok(_) => break "none".to_owned(),
                        Err(error) => break error.to_string(),
                    }
                };
                println!("files: {} opened, then: {error}", files.len());
                // Renumbering a file onto itself keeps it open, and counted.
                for file in &files {
                    use std::os::fd::AsRawFd;
                    let fd = file.as_raw_fd() as u32;
                    renumber(fd, fd);
                }
                let more = (0..3)
                    .filter(|_| std::fs::File::open(&path).is_ok())
                    .count();
                println!("after renumbering onto themselves: {more} more opened");
                files.pop();
                println!("after closing one: {}", std::fs::File::open(&path).is_ok());
                parent.send(());
            },
        )
        .unwrap();
    let _ = mailbox.receive();
    let root = std::fs::File::open(format!("{dir}/open.txt")).is_ok();
    println!("root still opens: {root}");
}

/// WASI's `fd_renumber`, which std does not offer: an attacker calls it directly.
#[cfg(target_os = "wasi")]
#[allow(unsafe_code)]
fn renumber(from: u32, to: u32) -> u16 {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn fd_renumber(from: u32, to: u32) -> u16;
    }
    // SAFETY: the import takes two descriptor numbers and touches no memory.
    unsafe { fd_renumber(from, to) }
}

/// The guests only run on the VM; a native build of the examples only links.
#[cfg(not(target_os = "wasi"))]
fn renumber(_: u32, _: u32) -> u16 {
    unreachable!("a test guest runs on the VM")
}

/// A recycled instance is charged to its new process as a fresh one is: as many parked
/// processes fit in an environment's memory after many have come and gone (their
/// instances recycled) as before.
fn recycled_charges() {
    let mut config = Config::new(ROOMY, None);
    config.max_total_memory(8 << 20);
    let mut env = Environment::new(config).unwrap();
    let module = env.add_this_module().unwrap();
    let fill = || {
        let mut parked = Vec::new();
        let refusal = loop {
            match module.spawn(|m: Mailbox<()>| {
                let _ = m.receive();
            }) {
                Ok(process) if parked.len() < 100 => parked.push(process),
                Ok(_) => break "none".to_owned(),
                Err(error) => break error.to_string(),
            }
        };
        for process in &parked {
            process.kill();
        }
        while parked.iter().any(Process::is_alive) {
            process::sleep_ms(1);
        }
        (parked.len(), refusal)
    };
    let (before, refused_before) = fill();
    for _ in 0..50 {
        let short = module.spawn(|_: Mailbox<()>| {}).unwrap();
        while short.is_alive() {
            process::sleep_ms(1);
        }
    }
    let (after, refused_after) = fill();
    println!(
        "parked within 8 MiB: {before}, after 50 more came and went: {after}; refused alike: {}",
        refused_before == refused_after
    );
}

/// A module's start function runs at instantiation, on its environment's fuel: it is not
/// out of fuel before its process has drawn any.
fn metered_start(mailbox: Mailbox<()>) {
    let module = r#"(module
        (memory 1)
        (func $count (local i32)
            (loop (br_if 0 (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (i32.const 100)))))
        (start $count)
        (func (export "run")))"#;
    let mut env = Environment::new(Config::new(16 << 20, Some(1_000_000))).unwrap();
    let started = env.add_module(module.as_bytes()).unwrap();
    let (_, _, links) = started.spawn_link(mailbox, "run", &[]).unwrap();
    match links.receive_timeout(std::time::Duration::from_millis(500)) {
        Message::Normal(Err(lunatic::ReceiveError::Timeout)) => println!("started and ran"),
        other => println!("unexpected: {other:?}"),
    }
}

/// Instances kept for one program never cost another its pool slot: with the pool full of
/// main and instances its ended children left, another program's spawns take their slots.
/// (Run with `--max-processes 4`: two kept at most.)
fn recycled_room() {
    for _ in 0..3 {
        let short = process::spawn(|_: Mailbox<()>| {}).unwrap();
        while short.is_alive() {
            process::sleep_ms(1);
        }
    }
    // Another program: the same module, linked for another environment.
    let mut env = Environment::new(Config::new(ROOMY, None)).unwrap();
    let other = env.add_this_module().unwrap();
    let mut parked = Vec::new();
    let refusal = loop {
        match other.spawn(|m: Mailbox<()>| {
            let _ = m.receive();
        }) {
            Ok(process) => parked.push(process),
            Err(error) => break error,
        }
    };
    println!(
        "parked {} beside main, then: {}",
        parked.len(),
        if matches!(refusal, LunaticError::NoRoom { alive: 4 }) {
            "no room, 4 alive".to_owned()
        } else {
            format!("{refusal:?}")
        }
    );
}
