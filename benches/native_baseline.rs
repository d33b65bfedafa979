//! The native baseline of the benchmarks: the same work as `spawn.rs` and `roundtrip.rs`
//! with tokio tasks and channels, on a runtime with the VM's default worker count.
//! Prints `RESULT <name> <value>` lines for `benches/run.sh`.
#![allow(missing_docs)]

use std::time::Instant;

use tokio::sync::mpsc;

/// Rounds of spawns and of round trips, as on the VM (`spawn.rs`, `roundtrip.rs`).
const ROUNDS: usize = 11;
const PER_ROUND: usize = 2_000;
const TRIPS: u64 = 50_000;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

async fn spawn_parked() -> f64 {
    let mut samples = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut senders = Vec::with_capacity(PER_ROUND);
        let mut tasks = Vec::with_capacity(PER_ROUND);
        for _ in 0..PER_ROUND {
            let (tx, mut rx) = mpsc::unbounded_channel::<()>();
            senders.push(tx);
            tasks.push(tokio::spawn(async move {
                let _ = rx.recv().await;
            }));
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);
        drop(senders);
        for task in tasks {
            let _ = task.await;
        }
    }
    median(samples)
}

async fn roundtrip() -> f64 {
    let (to_echo, mut echo_inbox) = mpsc::unbounded_channel::<u64>();
    let (to_main, mut inbox) = mpsc::unbounded_channel::<u64>();
    tokio::spawn(async move {
        while let Some(n) = echo_inbox.recv().await {
            let _ = to_main.send(n);
        }
    });
    let mut samples = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for n in 0..TRIPS {
            to_echo.send(n).expect("echo task alive");
            assert_eq!(inbox.recv().await, Some(n));
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / TRIPS as f64);
    }
    median(samples)
}

async fn many_to_one() -> f64 {
    const SENDERS: u64 = 100;
    const PER_SENDER: u64 = 2_000;
    let (sink, mut inbox) = mpsc::unbounded_channel::<u64>();
    let start = Instant::now();
    for _ in 0..SENDERS {
        let sink = sink.clone();
        tokio::spawn(async move {
            for n in 0..PER_SENDER {
                let _ = sink.send(n);
            }
        });
    }
    let mut sum = 0;
    for _ in 0..SENDERS * PER_SENDER {
        sum += inbox.recv().await.expect("senders alive");
    }
    assert_eq!(sum, SENDERS * PER_SENDER * (PER_SENDER - 1) / 2);
    (SENDERS * PER_SENDER) as f64 / start.elapsed().as_secs_f64()
}

async fn ring() -> f64 {
    const RING: usize = 1_000;
    const ROUNDS: u64 = 100;
    let (first, mut inbox) = mpsc::unbounded_channel::<u64>();
    let mut next = first;
    for _ in 1..RING {
        let (to_member, mut member_inbox) = mpsc::unbounded_channel::<u64>();
        let forward = next;
        tokio::spawn(async move {
            while let Some(token) = member_inbox.recv().await {
                let _ = forward.send(token);
            }
        });
        next = to_member;
    }
    let start = Instant::now();
    for round in 0..ROUNDS {
        next.send(round).expect("ring alive");
        assert_eq!(inbox.recv().await, Some(round));
    }
    start.elapsed().as_secs_f64() * 1e6 / (ROUNDS as f64 * RING as f64)
}

/// Skynet: a tree of 1,000,000 leaf tasks, each parent summing its ten children.
fn skynet(
    parent: mpsc::UnboundedSender<u64>,
    number: u64,
    size: u64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move {
        if size == 1 {
            let _ = parent.send(number);
            return;
        }
        let (to_me, mut inbox) = mpsc::unbounded_channel();
        let step = size / 10;
        for child in 0..10 {
            tokio::spawn(skynet(to_me.clone(), number + child * step, step));
        }
        let mut sum = 0;
        for _ in 0..10 {
            sum += inbox.recv().await.expect("children answer");
        }
        let _ = parent.send(sum);
    })
}

async fn skynet_ms() -> f64 {
    const LEAVES: u64 = 1_000_000;
    let start = Instant::now();
    let (to_me, mut inbox) = mpsc::unbounded_channel();
    tokio::spawn(skynet(to_me, 0, LEAVES));
    let sum = inbox.recv().await.expect("the tree answers");
    assert_eq!(sum, LEAVES * (LEAVES - 1) / 2);
    start.elapsed().as_secs_f64() * 1e3
}

/// Runs one benchmark in a spawned task (as a lunatic process runs in its own) and returns
/// its figure.
fn measure_alone(
    runtime: &tokio::runtime::Runtime,
    benchmark: impl std::future::Future<Output = f64> + Send + 'static,
) -> f64 {
    runtime
        .block_on(async { tokio::spawn(benchmark).await })
        .expect("benchmark task")
}

fn main() {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio starts");
    // `benches/run.sh` measures spawns, the round trip and many-to-one alone beside each
    // run of the VM's, so that both see the machine at the same speed.
    let only = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    if let Some(only) = only.as_deref() {
        match only {
            "spawn" => println!(
                "RESULT native_spawn_parked_us {:.2}",
                measure_alone(&runtime, spawn_parked())
            ),
            "roundtrip" => println!(
                "RESULT native_roundtrip_us {:.3}",
                measure_alone(&runtime, roundtrip())
            ),
            "many-to-one" => println!(
                "RESULT native_many_to_one_msgs_per_s {:.0}",
                measure_alone(&runtime, many_to_one())
            ),
            other => panic!("unknown benchmark {other:?} (spawn, roundtrip or many-to-one)"),
        }
        return;
    }
    runtime.block_on(async {
        // Like a lunatic process, the measuring code runs in a spawned task.
        let results = tokio::spawn(async { (spawn_parked().await, roundtrip().await) })
            .await
            .expect("benchmark task");
        println!("RESULT native_spawn_parked_us {:.2}", results.0);
        println!("RESULT native_roundtrip_us {:.3}", results.1);
        let rate = tokio::spawn(many_to_one()).await.expect("benchmark task");
        println!("RESULT native_many_to_one_msgs_per_s {rate:.0}");
        let hop = tokio::spawn(ring()).await.expect("benchmark task");
        println!("RESULT native_ring_hop_us {hop:.3}");
        let skynet = tokio::spawn(skynet_ms()).await.expect("benchmark task");
        println!("RESULT native_skynet_ms {skynet:.0}");
    });
}
