//! The `lunatic` command line.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use wasmtime::error::Context as _;

use crate::config::RuntimeConfig;
use crate::runtime::Runtime;
use crate::sandbox::wasi::{Preopen, WasiConfig};

/// Runs a WebAssembly program (wasm32-wasip1) as lunatic processes.
///
/// The program's `_start` runs as the main process; when it ends, every other process is
/// killed and its exit status becomes lunatic's. Set RUST_LOG=lunatic=debug to see why
/// processes died, with wasm backtraces.
#[derive(Debug, Parser)]
#[command(name = "lunatic", version, about)]
struct Cli {
    /// Most processes alive at once (the size of the instance pool; a pool of up to 16383
    /// reserves 4 GiB of address space a process, so guest code runs without bounds checks)
    /// [default: as many as vm.max_map_count allows, at most 100000].
    #[arg(long)]
    max_processes: Option<u32>,
    /// Most linear memory of one process, in MiB [default: 256, or less when
    /// --max-processes is so large that the pool would not fit in the address space]
    #[arg(long, value_name = "MIB")]
    max_memory: Option<u64>,
    /// Host stack of each process, in KiB.
    #[arg(long, value_name = "KIB", default_value_t = RuntimeConfig::default().stack_size >> 10)]
    stack_size: usize,
    /// Worker threads that run processes (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Microseconds a process runs before it yields to others.
    #[arg(long, value_name = "MICROS", default_value_t = 1000)]
    preemption_interval: u64,
    /// KiB of a dead process's memory reset in place for the next spawn instead of being
    /// returned to the kernel (faster spawns, no TLB shootdowns; Linux 6.7+), and the most
    /// of a process's memory that may be resident for its instance to be recycled for the
    /// next process of its module; 0 returns all of it and recycles nothing.
    #[arg(long, value_name = "KIB", default_value_t = RuntimeConfig::default().keep_resident >> 10)]
    keep_resident: usize,
    /// Sockets, and files opened through WASI, all processes may hold open at once
    /// [default: the open-file limit, raised to its hard maximum, less 256].
    #[arg(long, value_name = "N")]
    max_sockets: Option<usize>,
    /// An environment variable for the program (repeatable): KEY=VALUE sets it, a bare KEY
    /// passes on lunatic's own value of KEY. Nothing else of the host's environment is
    /// passed on.
    #[arg(long = "env", value_name = "KEY[=VALUE]", value_parser = parse_env)]
    envs: Vec<(String, String)>,
    /// A host directory the program may use (repeatable): HOST is seen under the same
    /// path, HOST:GUEST under GUEST. Nothing else of the host's file system is reachable.
    #[arg(long = "dir", value_name = "HOST[:GUEST]", value_parser = parse_dir)]
    dirs: Vec<Preopen>,
    /// Where compiled modules are kept between runs [default: $LUNATIC_CACHE_DIR,
    /// $XDG_CACHE_HOME/lunatic or ~/.cache/lunatic].
    #[arg(long, value_name = "PATH")]
    cache_dir: Option<PathBuf>,
    /// Compile every module every time (no cache).
    #[arg(long)]
    no_cache: bool,
    /// Most bytes of compiled modules the cache keeps (least recently used go first)
    /// [default: 1 GiB].
    #[arg(long, value_name = "BYTES")]
    cache_max_bytes: Option<u64>,
    /// List compiled guest functions in /tmp/perf-<pid>.map, so that `perf report` names
    /// them in profiles of the VM.
    #[arg(long)]
    perf_map: bool,
    /// Milliseconds between two times the pages of the processes' function tables are
    /// given back to the kernel (and whenever 8192 more processes are alive than after the
    /// last time): a parked process then holds no table page, and one that runs again
    /// rebuilds the entries it uses. 0: never.
    #[arg(long, value_name = "MILLIS", default_value_t = 30_000)]
    table_reclaim_period: u64,
    /// Serve the observer (a web page and a JSON API about the running VM: see
    /// docs/observer.md) at ADDR: PORT (on 127.0.0.1) or HOST:PORT. Off by default.
    #[arg(long, value_name = "ADDR", value_parser = parse_observe_addr)]
    observe: Option<SocketAddr>,
    /// The token the observer asks for before it kills a process (as
    /// `Authorization: Bearer TOKEN`); without it, kills are refused.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LUNATIC_OBSERVE_TOKEN",
        hide_env_values = true
    )]
    observe_token: Option<String>,
    /// On SIGTERM or SIGINT, the supervision trees (and actors no actor started) are
    /// stopped newest first, each given this many seconds (a supervisor stops its children
    /// in reverse order first), then main; a second signal exits at once.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(..=86_400))]
    shutdown_timeout: u64,
    /// Makes this VM a node of a cluster, called NAME (a DNS name its certificate names):
    /// its processes reach those of other nodes (see docs/cluster.md). Needs --listen,
    /// --cluster-ca, --cert and --key.
    #[arg(long, value_name = "NAME", requires_all = ["listen", "cluster_ca", "cert", "key"])]
    node: Option<String>,
    /// The UDP address the node listens on (QUIC), as HOST:PORT.
    #[arg(long, value_name = "ADDR", requires = "node")]
    listen: Option<SocketAddr>,
    /// The address other nodes reach this one at [default: --listen, or this host's
    /// address when --listen is 0.0.0.0].
    #[arg(long, value_name = "ADDR", requires = "node")]
    advertise: Option<SocketAddr>,
    /// A node to join, as HOST:PORT (repeatable); a name counts for every address it
    /// resolves to (a Kubernetes headless service). Retried while not connected.
    #[arg(long, value_name = "ADDR", requires = "node")]
    join: Vec<String>,
    /// The cluster's CA certificate (PEM): peers must present a certificate it signed.
    #[arg(long, value_name = "PEM", requires = "node")]
    cluster_ca: Option<PathBuf>,
    /// This node's certificate (PEM), signed by the cluster CA.
    #[arg(long, value_name = "PEM", requires = "node")]
    cert: Option<PathBuf>,
    /// This node's private key (PEM).
    #[arg(long, value_name = "PEM", requires = "node")]
    key: Option<PathBuf>,
    /// Milliseconds a node that stopped answering stays suspect before it counts as lost
    /// (its links fire with NoConnection); detection takes about this plus one second.
    #[arg(long, value_name = "MS", requires = "node",
          default_value_t = crate::distributed::DEFAULT_NODE_TIMEOUT.as_millis() as u64)]
    node_timeout: u64,
    /// The program: a .wasm (or .wat) file.
    wasm: PathBuf,
    /// Arguments passed to the program.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// `lunatic cluster-certs DIR --nodes a,b,c`: writes a development CA (`ca.pem`,
/// `ca.key`) and a certificate and key for each node (`NAME.pem`, `NAME.key`), each naming
/// its node and `lunatic-node`. For development: keep `ca.key` away from the nodes.
#[derive(Debug, Parser)]
#[command(name = "lunatic cluster-certs")]
struct ClusterCerts {
    /// Where the files go (made if missing).
    dir: PathBuf,
    /// The nodes' names, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    nodes: Vec<String>,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    if let Some((key, value)) = text.split_once('=') {
        return Ok((key.to_owned(), value.to_owned()));
    }
    std::env::var(text)
        .map(|value| (text.to_owned(), value))
        .map_err(|_| format!("`{text}` is not set in lunatic's environment (give KEY=VALUE)"))
}

/// `PORT` (on loopback) or `HOST:PORT`.
fn parse_observe_addr(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs as _;
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.to_socket_addrs()
        .map_err(|error| format!("`{text}` is not PORT or HOST:PORT: {error}"))?
        .next()
        .ok_or_else(|| format!("`{text}` resolves to no address"))
}

fn parse_dir(text: &str) -> Result<Preopen, String> {
    let dir = Preopen::parse(text);
    if !dir.host.is_dir() {
        return Err(format!("`{}` is not a directory", dir.host.display()));
    }
    let host = dir.host.display().to_string();
    dir.open()
        .map_err(|error| format!("cannot open `{host}`: {error}"))
}

/// Runs the command with the process's arguments; returns the exit status.
#[must_use]
pub fn main() -> i32 {
    main_with_args(std::env::args_os())
}

/// Runs the command with `args` (the first is the program name); returns the exit status.
/// `--help` and `--version` print and exit the process, as usual for a command line.
#[must_use]
pub fn main_with_args<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    init_logging();
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    if args.get(1).is_some_and(|arg| arg == "cluster-certs") {
        let certs = ClusterCerts::parse_from(&args[1..]);
        return match crate::distributed::tls::write_cluster_certs(&certs.dir, &certs.nodes) {
            Ok(()) => {
                println!(
                    "wrote ca.pem, ca.key and a certificate and key for each of {} in {}",
                    certs.nodes.join(", "),
                    certs.dir.display()
                );
                0
            }
            Err(error) => {
                eprintln!("lunatic: error: {error}");
                1
            }
        };
    }
    let cli = Cli::parse_from(args);
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("lunatic: error: {error:#}");
            1
        }
    }
}

fn init_logging() {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("lunatic=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colours_wanted(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .init();
}

/// Whether the log is coloured: only on a terminal, and not when `NO_COLOR` is set to
/// anything but the empty string (<https://no-color.org>).
fn colours_wanted(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

fn run(cli: Cli) -> wasmtime::Result<i32> {
    let defaults = RuntimeConfig::default();
    let node = node_config(&cli);
    let max_processes = cli.max_processes.unwrap_or(defaults.max_processes);
    let file_limit = crate::config::raise_open_file_limit();
    let config = RuntimeConfig {
        max_processes,
        max_memory: cli.max_memory.map_or_else(
            || crate::config::max_memory_for(max_processes),
            |mib| mib << 20,
        ),
        stack_size: cli.stack_size << 10,
        worker_threads: cli.workers.unwrap_or(defaults.worker_threads).max(1),
        preemption_interval: Duration::from_micros(cli.preemption_interval.max(10)),
        keep_resident: cli.keep_resident << 10,
        max_sockets: cli
            .max_sockets
            .unwrap_or_else(|| crate::config::sockets_for_file_limit(file_limit)),
        cache_dir: if cli.no_cache {
            None
        } else {
            cli.cache_dir.or(defaults.cache_dir)
        },
        cache_max_bytes: cli.cache_max_bytes.unwrap_or(defaults.cache_max_bytes),
        perf_map: cli.perf_map,
        table_reclaim_period: (cli.table_reclaim_period > 0)
            .then(|| Duration::from_millis(cli.table_reclaim_period)),
    };
    warn_about_map_limit(config.max_processes);
    let bytes = std::fs::read(&cli.wasm)
        .with_context(|| format!("cannot read `{}`", cli.wasm.display()))?;
    let program = cli.wasm.display().to_string();
    let mut args = vec![program.clone()];
    args.extend(cli.args.iter().cloned());
    let wasi = WasiConfig {
        args,
        envs: cli.envs,
        preopens: cli.dirs,
    };

    // Processes run on the runtime's own worker threads, each with its own reactor; this
    // thread waits for the main process, or runs the test harness.
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the I/O driver")?;
    let code = tokio.block_on(async {
        let runtime = Runtime::new(&config, &bytes, wasi)
            .with_context(|| format!("cannot load `{}`", cli.wasm.display()))?;
        if let Some(addr) = cli.observe {
            let observer = crate::observer::ObserverConfig {
                addr,
                token: cli.observe_token.filter(|token| !token.is_empty()),
            };
            let addr = crate::observer::serve(Arc::clone(&runtime), observer)
                .await
                .with_context(|| format!("cannot serve the observer on {addr}"))?;
            eprintln!("lunatic: observer on http://{addr}/");
            if !addr.ip().is_loopback() {
                eprintln!(
                    "lunatic: warning: the observer is reachable beyond this machine: anyone \
                     who reaches {addr} can read it, and its token travels in clear text"
                );
            }
        }
        if let Some(node) = node {
            let name = node.name.clone();
            let cluster = crate::distributed::Cluster::start(node, &runtime)
                .with_context(|| format!("cannot start node `{name}`"))?;
            if let Some(addr) = cluster.local_addr() {
                eprintln!("lunatic: node {name} ({}) on {addr}", cluster.id());
            }
            runtime.join_cluster(cluster);
        }
        let code = if crate::testing::is_test_program(&bytes) {
            crate::testing::run(&runtime, &program, &cli.args).await
        } else {
            crate::shutdown::run_main(&runtime, Duration::from_secs(cli.shutdown_timeout)).await
        };
        if let Some(cluster) = runtime.cluster() {
            // Others hear at once rather than after the node timeout.
            cluster.leave();
            tokio::time::sleep(Duration::from_millis(20)).await;
            cluster.close();
        }
        code
    })?;
    // Other processes may still run; they are killed by leaving, after the output is out.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    tokio.shutdown_background();
    Ok(code)
}

/// The node's configuration, if `--node` was given (clap checked the options it needs).
fn node_config(cli: &Cli) -> Option<crate::distributed::NodeConfig> {
    Some(crate::distributed::NodeConfig {
        name: cli.node.clone()?,
        listen: cli.listen?,
        advertise: cli.advertise,
        join: cli.join.clone(),
        tls: crate::distributed::tls::TlsFiles {
            ca: cli.cluster_ca.clone()?,
            cert: cli.cert.clone()?,
            key: cli.key.clone()?,
        },
        node_timeout: Duration::from_millis(cli.node_timeout),
    })
}

/// Says how to raise `vm.max_map_count` when the pool asked for cannot fit under it.
fn warn_about_map_limit(max_processes: u32) {
    let Some(limit) = crate::config::vm_max_map_count() else {
        return;
    };
    let needed = crate::config::map_count_for_processes(max_processes);
    if needed > limit {
        eprintln!(
            "lunatic: warning: vm.max_map_count is {limit}, enough for about {} processes, not \
             {max_processes}; raise it with: sysctl -w vm.max_map_count={needed}",
            crate::config::processes_for_map_count(limit)
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_log_is_coloured_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(super::colours_wanted(true, None));
        assert!(super::colours_wanted(true, Some(OsStr::new(""))));
        assert!(!super::colours_wanted(true, Some(OsStr::new("1"))));
        assert!(!super::colours_wanted(false, None));
    }
}
