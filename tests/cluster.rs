//! Distribution: nodes of a cluster on loopback, started by the test (`lunatic --node`),
//! with certificates made by `lunatic cluster-certs`. The guest is
//! `tests/guests/cluster.rs`: remote spawn, request/reply, order, a link and a monitor
//! across nodes, cluster-wide names; a node killed with SIGKILL and started again.

mod common;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::background::Background;

/// How long after a node is killed its links must have fired (docs/cluster.md promises
/// about 2 s with the default `--node-timeout`; this leaves room for a loaded machine).
const DETECTION_LIMIT: Duration = Duration::from_secs(6);

/// A UDP port nothing listens on now.
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|socket| socket.local_addr())
        .expect("a free port")
        .port()
}

/// A fresh folder for certificates.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lunatic-cluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Makes a CA and certificates for `nodes` in `dir` with `lunatic cluster-certs`.
fn certs(dir: &Path, nodes: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_lunatic"))
        .arg("cluster-certs")
        .arg(dir)
        .args(["--nodes", nodes])
        .output()
        .expect("lunatic runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for node in nodes.split(',') {
        assert!(dir.join(format!("{node}.pem")).is_file());
        assert!(dir.join(format!("{node}.key")).is_file());
    }
}

/// A node's command-line options.
struct Node<'a> {
    name: &'a str,
    port: u16,
    join: Vec<u16>,
    ca: &'a Path,
    certs: &'a Path,
}

impl<'a> Node<'a> {
    /// Node `name` on `port`, joining the nodes on `join`, with its certificate from `dir`.
    fn of(dir: &'a Path, name: &'a str, port: u16, join: Vec<u16>) -> Self {
        Self {
            name,
            port,
            join,
            ca: dir,
            certs: dir,
        }
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec![
            "--node".to_owned(),
            self.name.to_owned(),
            "--listen".to_owned(),
            format!("127.0.0.1:{}", self.port),
            "--cluster-ca".to_owned(),
            self.ca.join("ca.pem").display().to_string(),
            "--cert".to_owned(),
            self.certs
                .join(format!("{}.pem", self.name))
                .display()
                .to_string(),
            "--key".to_owned(),
            self.certs
                .join(format!("{}.key", self.name))
                .display()
                .to_string(),
        ];
        for port in &self.join {
            args.push("--join".to_owned());
            args.push(format!("localhost:{port}"));
        }
        args
    }

    fn start(&self, guest_args: &[&str]) -> Background {
        let args = self.args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Background::start_with(&args, &common::guest("test-cluster"), guest_args)
    }
}

#[test]
fn a_three_node_cluster_spawns_messages_links_monitors_names_and_heals() {
    let dir = scratch("three");
    certs(&dir, "a,b,c");
    let [pa, pb, pc] = [free_port(), free_port(), free_port()];
    let node = |name, port, join| Node::of(&dir, name, port, join);
    let mut b = node("b", pb, vec![pa, pc]).start(&["idle"]);
    b.wait_for("node b ", Duration::from_secs(60));
    let c_node = node("c", pc, vec![pa, pb]);
    let mut c = c_node.start(&["idle"]);
    c.wait_for("node c ", Duration::from_secs(60));
    let mut a = node("a", pa, vec![pb, pc]).start(&["scenario"]);
    let limit = Duration::from_secs(60);
    a.wait_for("connected to b and c; this node is a", limit);
    assert_eq!(a.wait_for("request: ", limit), "hello from b");
    assert_eq!(a.wait_for("received ", limit), "10000 in order: true");
    assert_eq!(a.wait_for("down: ", limit), "panicked: boom on c");
    assert_eq!(a.wait_for("sandboxed child on ", limit), "b: out_of_memory");
    // Typed across nodes: b refuses a child of a sandbox of 4 processes past the fourth
    // alive there as `OverLimit { limit: Processes }` (the ended hog's charge may still be
    // held for a moment: 3 or 4 park first).
    let spawns = a.wait_for("sandbox spawns on b: ", limit);
    assert!(
        ["3", "4"]
            .iter()
            .any(|n| spawns
                == format!("{n}, then OverLimit: over the environment's limit of processes")),
        "{spawns}"
    );
    assert_eq!(a.wait_for("sandbox names: ", limit), "Some(OverLimit)");
    assert_eq!(a.wait_for("signal: ", limit), "panicked");
    assert_eq!(a.wait_for("unlinked: ", limit), "only the down notice");
    a.wait_for("tmp-b given up", limit);
    assert_eq!(a.wait_for("svc-b: ", limit), "hi from b");
    assert!(a
        .wait_for("svc-b as u64: ", limit)
        .contains("another message type"));
    assert_eq!(a.wait_for("pg: ", limit), "pg from a, pg from b");
    a.wait_for("ready for kill", limit);

    let killed = Instant::now();
    let c_run = c.stop();
    let mut heard: Vec<String> = (0..3).map(|_| a.wait_for("", DETECTION_LIMIT)).collect();
    let detected = killed.elapsed();
    heard.sort();
    assert_eq!(
        heard,
        [
            "link to c: NoConnection from a lost node",
            "monitor of c: NoConnection from a lost node",
            "request to c: NoConnection from a lost node",
        ],
        "{c_run}"
    );
    assert!(detected < DETECTION_LIMIT, "{detected:?}");
    eprintln!("node c's loss was heard {detected:?} after its kill");
    a.wait_for("svc-c gone", limit);
    // Typed: a spawn on the lost node is `LunaticError::NoConnection` naming it.
    a.wait_for("spawn on lost c: NoConnection", limit);
    assert_eq!(a.wait_for("svc-c moved: ", limit), "again from a");

    let _c = c_node.start(&["idle"]);
    a.wait_for("c rejoined", limit);
    assert_eq!(a.wait_for("request: ", limit), "back from c");
    let run = a.finish(limit);
    assert_eq!(run.code, Some(0), "{run}");
    drop(b);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_supervision_tree_spanning_two_nodes_heals_when_a_node_dies() {
    let dir = scratch("tree");
    certs(&dir, "a,b");
    let [pa, pb] = [free_port(), free_port()];
    let node = |name, port, join| Node::of(&dir, name, port, join);
    let mut b = node("b", pb, vec![pa]).start(&["idle"]);
    b.wait_for("node b ", Duration::from_secs(60));
    let mut a = node("a", pa, vec![pb]).start(&["supervised"]);
    let limit = Duration::from_secs(60);
    assert_eq!(a.wait_for("global actor answers from ", limit), "a");
    assert_eq!(a.wait_for("child on ", limit), "b");
    assert_eq!(a.wait_for("killed, restarted on ", limit), "b");
    a.wait_for("ready for kill", limit);
    let killed = Instant::now();
    drop(b);
    assert_eq!(a.wait_for("node lost, restarted on ", limit), "a");
    assert!(killed.elapsed() < DETECTION_LIMIT, "{:?}", killed.elapsed());
    let run = a.finish(limit);
    assert_eq!(run.code, Some(0), "{run}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_name_claimed_on_two_nodes_apart_is_kept_by_the_earlier_claim_on_both() {
    let dir = scratch("claim");
    certs(&dir, "a,b,c");
    let [pa, pb, pc] = [free_port(), free_port(), free_port()];
    let node = |name, port, join| Node::of(&dir, name, port, join);
    let limit = Duration::from_secs(60);
    // a and b know of no other node: each claims `leader` alone, a first.
    let mut a = node("a", pa, vec![]).start(&["claim"]);
    assert_eq!(a.wait_for("", limit), "registered");
    let mut b = node("b", pb, vec![]).start(&["claim"]);
    assert_eq!(b.wait_for("", limit), "registered");
    // c joins both; membership makes a and b meet.
    let _c = node("c", pc, vec![pa, pb]).start(&["idle"]);
    assert_eq!(a.wait_for("leader on ", limit), "a: who from a");
    assert_eq!(b.wait_for("leader on ", limit), "a: who from a");
    a.wait_for("mine lives", limit);
    let ended = b.wait_for("mine ended: ", limit);
    assert!(
        ended.contains("cluster-wide name \"leader\" is held by a process of node"),
        "{ended}"
    );
    for vm in [a, b] {
        let run = vm.finish(limit);
        assert_eq!(run.code, Some(0), "{run}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_node_whose_certificate_another_ca_signed_is_refused() {
    let dir = scratch("ours");
    let foreign = scratch("foreign");
    certs(&dir, "a");
    certs(&foreign, "x");
    let pa = free_port();
    let a = Node {
        name: "a",
        port: pa,
        join: vec![],
        ca: &dir,
        certs: &dir,
    }
    .start(&["alone", "5"]);
    // Plain text is not QUIC with TLS: it is dropped.
    let plain = UdpSocket::bind("127.0.0.1:0").expect("a socket");
    for text in [&b"GET / HTTP/1.0\r\n\r\n"[..], &[0xc0; 1200][..], b"hello"] {
        plain.send_to(text, ("127.0.0.1", pa)).expect("sent");
    }
    // `x` trusts our CA but holds a certificate of its own CA: `a` refuses it.
    let x = Node {
        name: "x",
        port: free_port(),
        join: vec![pa],
        ca: &dir,
        certs: &foreign,
    }
    .start(&["alone", "4"]);
    let x = x.finish(Duration::from_secs(60));
    let a = a.finish(Duration::from_secs(60));
    assert!(x.stdout.contains("nodes 0"), "{x}");
    assert!(a.stdout.contains("nodes 0"), "{a}");
    assert!(a.stderr.contains("refused a connection"), "{a}");
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(foreign);
}

#[test]
fn a_node_may_only_take_a_name_its_certificate_names() {
    let dir = scratch("named");
    certs(&dir, "a,b");
    let mut node = Node {
        name: "a",
        port: free_port(),
        join: vec![],
        ca: &dir,
        certs: &dir,
    };
    let mut args = node.args();
    node.name = "b";
    // b's name with a's certificate.
    let at = args.iter().position(|arg| arg == "--node").unwrap();
    args[at + 1] = "b".to_owned();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = common::run_with(
        &args,
        &common::guest("test-cluster"),
        &["alone", "0"],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("does not name `b`"), "{run}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn outside_a_cluster_there_are_no_other_nodes() {
    common::run("test-cluster", &["alone", "0"])
        .assert_code(0)
        .assert_stdout("nodes 0");
}
