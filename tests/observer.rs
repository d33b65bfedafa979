//! `lunatic --observe`: the JSON API, the metrics, kills from the API and from the page in a
//! real browser (headless Chromium through chromedriver), supervisor reports, and graceful
//! shutdown on SIGTERM/SIGINT. The guest is `tests/guests/observed.rs`: two supervision
//! trees (`shop`: orders, billing, mailer; `audit`: auditor) and a backlog process.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::background::Background;
use serde_json::Value;

const TOKEN: &str = "observer-test-token";

/// A port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The guest with `args`, running under `--observe` with a kill token; its observer's
/// address, and the id of its backlog process.
fn observed(args: &[&str]) -> (Background, SocketAddr, String) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let addr_text = addr.to_string();
    let vm_args = ["--observe", &addr_text, "--observe-token", TOKEN];
    let mut vm = Background::start_with(&vm_args, &common::guest("test-observed"), args);
    let backlog = vm.wait_for("backlog ", Duration::from_secs(60));
    vm.wait_for("ready", Duration::from_secs(10));
    (vm, addr, backlog)
}

/// One HTTP/1.1 request; the status and the body.
fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("the observer accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    let auth = token.map_or_else(String::new, |token| {
        format!("Authorization: Bearer {token}\r\n")
    });
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("the request is sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the response is read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    (status, body.to_owned())
}

fn json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = http(addr, "GET", path, None);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|error| panic!("GET {path}: {error}: {body}"))
}

/// The first tree whose root is registered as `name`.
fn tree(addr: SocketAddr, name: &str) -> Value {
    let trees = json(addr, "/api/tree");
    trees["trees"]
        .as_array()
        .expect("a list of trees")
        .iter()
        .find(|tree| {
            tree["names"]
                .as_array()
                .is_some_and(|names| names.iter().any(|n| n == name))
        })
        .unwrap_or_else(|| panic!("no tree named {name}: {trees}"))
        .clone()
}

/// The id of child `name` of `tree`, if it runs.
fn child_id(tree: &Value, name: &str) -> Option<String> {
    tree["children"]
        .as_array()?
        .iter()
        .find(|child| child["name"] == name)?["id"]
        .as_str()
        .map(str::to_owned)
}

/// Waits up to `limit` for `ready` to give something.
fn wait_until<T>(limit: Duration, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_api_shows_processes_trees_mailboxes_and_metrics_and_kills_only_with_the_token() {
    let (vm, addr, backlog) = observed(&[]);

    // Every process, with what the table shows.
    let list = json(addr, "/api/processes");
    let processes = list["processes"].as_array().expect("processes");
    assert_eq!(
        processes.len(),
        8,
        "main, 2 supervisors, 4 workers, the backlog: {list}"
    );
    assert_eq!(list["vm"]["alive"], 8);
    let shop = tree(addr, "shop");
    let shop_id = shop["id"].as_str().expect("the root runs").to_owned();
    let row = |id: &str| {
        processes
            .iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("no row for {id}: {list}"))
            .clone()
    };
    let supervisor = row(&shop_id);
    assert_eq!(supervisor["kind"], "supervisor");
    assert_eq!(supervisor["actor"], "test_observed::Tree");
    assert_eq!(supervisor["status"], "waiting");
    assert_eq!(supervisor["names"][0], "shop");
    assert!(
        supervisor["memory"].as_u64().unwrap() >= 64 << 10,
        "{supervisor}"
    );
    assert!(supervisor["slices"].as_u64().unwrap() >= 1, "{supervisor}");
    let orders = child_id(&shop, "orders").expect("orders runs");
    let worker = row(&orders);
    assert_eq!(worker["kind"], "actor");
    assert_eq!(worker["actor"], "test_observed::Worker");
    assert_eq!(
        worker["parent"],
        shop_id.as_str(),
        "a child's parent is its supervisor"
    );
    assert!(
        worker["monitors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == shop_id.as_str()),
        "the supervisor monitors its child: {worker}"
    );

    // The tree: both roots, children in start order.
    let names: Vec<_> = shop["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|child| child["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["orders", "billing", "mailer"]);
    assert_eq!(shop["strategy"], "one_for_one");
    assert_eq!(
        json(addr, "/api/tree")["trees"].as_array().unwrap().len(),
        2
    );

    // A mailbox that grows, with its messages' types.
    // It sleeps once it ran (it may not have yet).
    let detail = wait_until(Duration::from_secs(10), || {
        let detail = json(addr, &format!("/api/processes/{backlog}"));
        (detail["status"] == "sleeping").then_some(detail)
    })
    .expect("the backlog sleeps");
    assert_eq!(detail["mailbox"]["messages"], 3, "{detail}");
    assert_eq!(detail["status"], "sleeping", "{detail}");
    assert_eq!(detail["kind"], Value::Null);
    let queued = detail["queued"].as_array().unwrap();
    assert_eq!(queued.len(), 3);
    assert!(
        queued.iter().all(|m| m["type"] == "test_observed::Order"),
        "{detail}"
    );
    let supervisor = json(addr, &format!("/api/processes/{shop_id}"));
    // What it last received, newest first: its three children's start replies, and the
    // request that started it.
    let recent: Vec<&str> = supervisor["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(recent.len(), 4, "{supervisor}");
    assert!(
        recent[..3]
            .iter()
            .all(|t| t.starts_with("core::result::Result"))
            && recent[3].contains("SupervisorArgs"),
        "{supervisor}"
    );
    assert_eq!(supervisor["supervisor"]["intensity"], 5, "{supervisor}");
    assert_eq!(supervisor["supervisor"]["period_ms"], 10_000);
    assert_eq!(supervisor["supervisor"]["children"][0]["name"], "orders");
    assert_eq!(http(addr, "GET", "/api/processes/12345", None).0, 404);
    assert_eq!(
        http(addr, "GET", "/api/processes/not-a-number", None).0,
        404
    );

    // Kills: refused without the token or with another, done with it.
    let kill = format!("/api/processes/{orders}/kill");
    assert_eq!(http(addr, "POST", &kill, None).0, 403);
    assert_eq!(http(addr, "POST", &kill, Some("guess")).0, 403);
    assert_eq!(
        http(addr, "GET", &kill, Some(TOKEN)).0,
        405,
        "a kill is a POST"
    );
    let (status, body) = http(addr, "POST", &kill, Some(TOKEN));
    assert_eq!(
        (status, body.as_str()),
        (200, &*format!("{{\"killed\":\"{orders}\"}}"))
    );
    let healed = wait_until(Duration::from_secs(10), || {
        child_id(&tree(addr, "shop"), "orders").filter(|id| *id != orders)
    });
    assert!(healed.is_some(), "orders came back with a new id");
    assert_eq!(
        json(addr, &format!("/api/processes/{shop_id}"))["supervisor"]["restarts"],
        1
    );

    // Metrics in Prometheus's text format.
    let (status, metrics) = http(addr, "GET", "/metrics", None);
    assert_eq!(status, 200);
    let mut samples = std::collections::HashMap::new();
    for line in metrics.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (name, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let bare = name.split('{').next().unwrap();
        assert!(
            bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !bare.is_empty(),
            "bad metric name in {line:?}"
        );
        assert!(
            !name.contains('{') || name.ends_with('}'),
            "bad labels in {line:?}"
        );
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        samples.insert(name.to_owned(), value);
    }
    assert_eq!(samples["lunatic_processes_alive"], 8.0, "{metrics}");
    assert_eq!(samples["lunatic_processes_spawned_total"], 9.0, "{metrics}");
    // The restarted child ran in the instance the killed one left.
    assert_eq!(
        samples["lunatic_processes_spawned_recycled_total"], 1.0,
        "{metrics}"
    );
    assert_eq!(samples["lunatic_instances_kept"], 0.0, "{metrics}");
    assert_eq!(
        samples["lunatic_processes_died_total{reason=\"killed\"}"],
        1.0
    );
    assert_eq!(samples["lunatic_mailbox_queued_messages"], 3.0);
    assert!(samples["lunatic_messages_sent_total"] >= 3.0);
    assert!(samples["lunatic_environment_processes{environment=\"0\"}"] == 8.0);

    // The page, compiled in.
    let (status, page) = http(addr, "GET", "/", None);
    assert_eq!(status, 200);
    assert!(page.contains("lunatic observer") && page.contains("id=\"processes\""));

    // The supervisor's report of the restart: one event, with who, whom and why.
    let run = vm.stop();
    run.assert_stderr(
        "WARN lunatic::supervisor: child restarted supervisor={id} supervisor_names=shop child=orders",
    );
    run.assert_stderr(&format!(
        "child_process={orders} new_process={{id}} reason=killed"
    ));
    assert!(
        !run.stderr.contains('\u{1b}'),
        "no colours in a piped log:\n{}",
        run.stderr
    );
}

#[test]
fn a_process_woken_after_a_wait_runs_in_one_slice() {
    // Each wake-up after 3 ms comes past the epoch deadline set before the wait (a tick
    // is 1 ms): if that deadline ended the slice, each wake-up would take two (the process
    // sent to the back of the queue at its first call, then run again).
    let (mut vm, addr, _) = observed(&["sleeper"]);
    let id = vm.seen_or_wait_for("sleeper ", Duration::from_secs(30));
    let id = id.trim_end_matches(" done");
    let slices = json(addr, &format!("/api/processes/{id}"))["slices"]
        .as_u64()
        .expect("slices");
    // 40 wake-ups, the first run and the last receive's park; a few to spare for ticks
    // that come while it runs.
    assert!(
        (41..=50).contains(&slices),
        "{slices} slices for 40 wake-ups"
    );
    vm.stop();
}

#[test]
fn a_crowded_supervisor_and_a_huge_panic_keep_their_description_and_reports() {
    let (vm, addr, _) = observed(&["crowd"]);
    let crowd = tree(addr, "crowd");
    let children = crowd["children"].as_array().unwrap();
    assert_eq!(children.len(), 512, "at most 512 listed");
    let crowd_id = crowd["id"].as_str().unwrap();
    let restarted = wait_until(Duration::from_secs(10), || {
        let detail = json(addr, &format!("/api/processes/{crowd_id}"));
        (detail["supervisor"]["restarts"] == 1).then_some(detail)
    })
    .expect("the crashed child was restarted");
    assert_eq!(
        restarted["supervisor"]["unlisted_children"], 88,
        "{}",
        restarted["supervisor"]
    );
    let run = vm.stop();
    run.assert_stdout("crowd crashed one");
    // The report carries the reason cut to its limit: the supervisor lived on.
    run.assert_stderr(
        "child restarted supervisor={id} supervisor_names=crowd child=crowd-000-xxxx",
    );
    run.assert_stderr("reason=panicked: boom boom boom");
    assert!(
        !run.stderr.contains("lunatic::process::supervisor_report"),
        "{run}"
    );
    assert!(!run.stderr.contains("lunatic::process::describe"), "{run}");
}

#[test]
fn metrics_show_what_a_sandboxed_environment_holds_against_its_limits() {
    let (vm, addr, _) = observed(&["sandbox"]);
    let list = json(addr, "/api/processes");
    let sandboxed: Vec<_> = list["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|process| process["environment"] != 0)
        .collect();
    assert_eq!(sandboxed.len(), 2, "{list}");
    let env = sandboxed[0]["environment"].as_u64().unwrap();
    let (_, metrics) = http(addr, "GET", "/metrics", None);
    for line in [
        format!("lunatic_environment_processes{{environment=\"{env}\"}} 2"),
        format!("lunatic_environment_held{{environment=\"{env}\",limit=\"processes\"}} 2"),
        format!("lunatic_environment_limit{{environment=\"{env}\",limit=\"processes\"}} 10"),
        format!("lunatic_environment_fuel_left{{environment=\"{env}\"}} "),
    ] {
        assert!(metrics.contains(&line), "{line:?} in\n{metrics}");
    }
    let memory = format!("lunatic_environment_held{{environment=\"{env}\",limit=\"memory\"}} ");
    let held: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix(&memory))
        .and_then(|value| value.parse().ok())
        .expect("the memory it holds");
    assert!(
        held >= 2 * (64 << 10),
        "two processes' memories at least: {held}"
    );
    vm.stop();
}

#[test]
fn a_process_cannot_claim_another_s_children_or_make_a_cycle() {
    let (mut vm, addr, _) = observed(&["impostor"]);
    // Printed by a process of its own, before or after main's `ready`.
    let impostor = vm.seen_or_wait_for("impostor ", Duration::from_secs(10));
    let shop = tree(addr, "shop");
    assert_eq!(
        shop["children"].as_array().unwrap().len(),
        3,
        "shop is a root: {shop}"
    );
    let trees = json(addr, "/api/tree");
    let fake = trees["trees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tree| tree["id"] == impostor.as_str())
        .unwrap_or_else(|| panic!("the impostor is a root of its own: {trees}"))
        .clone();
    assert_eq!(fake["actor"], "impostor");
    for child in fake["children"].as_array().unwrap() {
        assert_eq!(
            child["id"],
            Value::Null,
            "a claimed child is not its: {fake}"
        );
    }
    vm.stop();
}

#[test]
fn without_a_token_the_observer_refuses_every_kill() {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let addr_text = addr.to_string();
    let mut vm = Background::start_with(
        &["--observe", &addr_text],
        &common::guest("test-observed"),
        &[],
    );
    vm.wait_for("ready", Duration::from_secs(60));
    let orders = child_id(&tree(addr, "shop"), "orders").expect("orders runs");
    let (status, body) = http(
        addr,
        "POST",
        &format!("/api/processes/{orders}/kill"),
        Some(""),
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("--observe-token"), "{body}");
    assert_eq!(child_id(&tree(addr, "shop"), "orders"), Some(orders));
    // A request for another host (a DNS name rebound to 127.0.0.1) is refused.
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/processes HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    assert_eq!(http(addr, "GET", "/api/processes", None).0, 200);
    let run = vm.stop();
    run.assert_stderr(&format!("lunatic: observer on http://{addr}/"));
}

/// Where the browser test leaves its screenshot.
fn output_dir() -> PathBuf {
    let dir = common::workspace()
        .join("target")
        .join("test-output")
        .join("observer");
    std::fs::create_dir_all(&dir).expect("the output folder");
    dir
}

/// `chromedriver` on a free port, killed when dropped.
struct Chromedriver {
    child: std::process::Child,
    port: u16,
}

impl Chromedriver {
    fn start() -> Self {
        let port = free_port();
        let child = std::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver runs (Debian: apt-get install chromium chromium-driver; .ci/run installs them)");
        let up = wait_until(Duration::from_secs(20), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        assert!(up.is_some(), "chromedriver listens on {port}");
        Self { child, port }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_page_in_headless_chromium_shows_the_table_and_the_tree_and_a_kill_heals() {
    use fantoccini::{ClientBuilder, Locator};

    let (vm, addr, _) = observed(&[]);
    let driver = Chromedriver::start();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1366,768"]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let browser = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session");
    browser
        .goto(&format!("http://{addr}/"))
        .await
        .expect("the page loads");
    let wait = |what: &'static str| {
        let browser = &browser;
        async move {
            browser
                .wait()
                .at_most(Duration::from_secs(20))
                .for_element(Locator::Css(what))
                .await
                .unwrap_or_else(|error| panic!("{what} did not show: {error}"))
        }
    };

    // The table lists every process; the tree shows the supervisor and its children.
    let shop = tree(addr, "shop");
    let shop_id = shop["id"].as_str().unwrap().to_owned();
    let billing = child_id(&shop, "billing").expect("billing runs");
    wait(Box::leak(
        format!("#processes tr[data-id='{shop_id}']").into_boxed_str(),
    ))
    .await;
    let rows = browser
        .find_all(Locator::Css("#processes tbody tr[data-id]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 8, "a row per process");
    let row_actor = browser
        .find(Locator::Css(&format!(
            "#processes tr[data-id='{shop_id}'] .col-actor"
        )))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row_actor.contains("Tree"), "{row_actor}");
    let node = wait(Box::leak(
        format!("#tree li[data-id='{billing}'] > .node-label").into_boxed_str(),
    ))
    .await;
    assert!(node.text().await.unwrap().contains("billing"));
    let root_label = browser
        .find(Locator::Css(&format!(
            "#tree li[data-id='{shop_id}'] > .node-label"
        )))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(root_label.contains("one_for_one"), "{root_label}");

    // The filter narrows the table.
    browser
        .find(Locator::Css("#filter"))
        .await
        .unwrap()
        .send_keys("Tree")
        .await
        .unwrap();
    let visible = browser
        .execute(
            "return [...document.querySelectorAll('#processes tbody tr[data-id]')].filter(r => !r.hidden).length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(visible.as_u64(), Some(2), "the two supervisors' rows");
    browser
        .execute(
            "const f = document.querySelector('#filter'); f.value = ''; f.dispatchEvent(new Event('input'));",
            vec![],
        )
        .await
        .unwrap();

    // Kill billing from the page: it comes back with a new id, in the tree too.
    browser
        .find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(TOKEN)
        .await
        .unwrap();
    node.click().await.expect("the node selects billing");
    wait("#detail dd[data-field='id']").await;
    browser
        .find(Locator::Css("#kill"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status_line = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&format!(
            "//span[@id='status-line'][contains(., 'killed {billing}')]"
        )))
        .await;
    assert!(status_line.is_ok(), "the page says it killed billing");
    let new_billing = wait_until(Duration::from_secs(10), || {
        child_id(&tree(addr, "shop"), "billing").filter(|id| *id != billing)
    })
    .expect("billing came back");
    wait(Box::leak(
        format!("#tree li[data-id='{new_billing}'] > .node-label").into_boxed_str(),
    ))
    .await
    .click()
    .await
    .expect("the new billing is selected");
    wait(Box::leak(
        format!("#processes tr[data-id='{new_billing}'].selected").into_boxed_str(),
    ))
    .await;
    let screenshot = browser.screenshot().await.expect("a screenshot");
    std::fs::write(output_dir().join("observer.png"), screenshot).expect("saved");
    browser.close().await.expect("the session ends");
    let run = vm.stop();
    assert_eq!(run.stdout.matches("started billing").count(), 2, "{run}");
    let png = std::fs::read(output_dir().join("observer.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
}

#[test]
fn sigterm_stops_every_tree_newest_first_and_every_terminate_runs() {
    // Three trees: two main started, then one a plain process started.
    let mut vm = Background::start(&common::guest("test-observed"), &["deep"]);
    vm.wait_for("ready", Duration::from_secs(60));
    vm.signal(libc::SIGTERM);
    let run = vm.finish(Duration::from_secs(30));
    run.assert_code(0);
    let stops: Vec<_> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("terminate "))
        .collect();
    assert_eq!(
        stops,
        [
            "terminate porter (shutdown)",
            "terminate auditor (shutdown)",
            "terminate mailer (shutdown)",
            "terminate billing (shutdown)",
            "terminate orders (shutdown)",
        ],
        "the newest tree first, each tree's children in reverse start order\n{run}"
    );
    assert!(!run.stdout.contains("main ended by itself"), "{run}");
    run.assert_stderr("lunatic: SIGTERM: stopping 3 supervision trees and actors, newest first");
}

#[test]
fn a_second_signal_exits_at_once_and_a_stuck_actor_is_killed_after_the_timeout() {
    // A second signal while the auditor takes a minute to stop.
    let mut vm = Background::start(&common::guest("test-observed"), &["stubborn"]);
    vm.wait_for("ready", Duration::from_secs(60));
    vm.signal(libc::SIGINT);
    vm.wait_for(
        "terminating stubborn auditor slowly",
        Duration::from_secs(10),
    );
    let started = Instant::now();
    vm.signal(libc::SIGINT);
    let run = vm.finish(Duration::from_secs(10));
    assert!(started.elapsed() < Duration::from_secs(5), "{run}");
    run.assert_code(130);
    run.assert_stderr("lunatic: SIGINT: exiting now");

    // With a short shutdown timeout, the stuck tree is killed and the others still stop.
    let mut vm = Background::start_with(
        &["--shutdown-timeout", "1"],
        &common::guest("test-observed"),
        &["stubborn"],
    );
    vm.wait_for("ready", Duration::from_secs(60));
    vm.signal(libc::SIGTERM);
    let run = vm.finish(Duration::from_secs(30));
    run.assert_code(0);
    run.assert_stderr("did not stop within 1s: killed");
    run.assert_stdout(
        "terminate mailer (shutdown)\nterminate billing (shutdown)\nterminate orders (shutdown)",
    );
}
