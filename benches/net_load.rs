//! The networking benchmark: echo requests per second over loopback, with 1 and with 50
//! client connections, each sending a 64-byte request and waiting for it to come back.
//!
//! `cargo bench --bench net_load -- ADDR` loads the echo server at ADDR (`benches/run.sh`
//! starts the VM running `examples/net_echo.rs`, a process per connection); without an
//! address it starts its baseline, a native tokio echo server with a task per connection,
//! in this process. The load is the same tokio client both times, on a runtime with one
//! worker per core. Prints `RESULT <name> <value>` lines for `benches/run.sh`.
#![allow(missing_docs)]

use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ROUNDS: usize = 5;
/// Round trips per round, shared out among the connections.
const REQUESTS_PER_ROUND: usize = 20_000;
const REQUEST_SIZE: usize = 64;
const CONNECTIONS: [usize; 2] = [1, 50];

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// A native echo server: a task per connection.
async fn native_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 << 10];
                loop {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buffer[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Requests per second with `connections` clients, the median of [`ROUNDS`].
async fn measure(addr: SocketAddr, connections: usize) -> f64 {
    let mut streams = Vec::with_capacity(connections);
    for _ in 0..connections {
        let stream = TcpStream::connect(addr).await.expect("the server accepts");
        stream.set_nodelay(true).expect("nodelay");
        streams.push(stream);
    }
    let per_connection = REQUESTS_PER_ROUND / connections;
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let clients: Vec<_> = streams
            .drain(..)
            .map(|mut stream| {
                tokio::spawn(async move {
                    let request = [7u8; REQUEST_SIZE];
                    let mut reply = [0u8; REQUEST_SIZE];
                    for _ in 0..per_connection {
                        stream.write_all(&request).await.expect("write");
                        stream.read_exact(&mut reply).await.expect("read");
                    }
                    stream
                })
            })
            .collect();
        for client in clients {
            streams.push(client.await.expect("client task"));
        }
        let total = (per_connection * connections) as f64;
        samples.push(total / start.elapsed().as_secs_f64());
    }
    median(samples)
}

fn main() {
    // `cargo bench` adds `--bench`; the address is the only other argument.
    let target = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with("--"))
        .map(|addr| {
            addr.parse::<SocketAddr>()
                .expect("an address like 127.0.0.1:7878")
        });
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio starts");
    runtime.block_on(async {
        let (name, addr) = match target {
            Some(addr) => ("net_echo", addr),
            None => ("native_net_echo", native_server().await),
        };
        for connections in CONNECTIONS {
            let rate = measure(addr, connections).await;
            println!("RESULT {name}_{connections}_reqs_per_s {rate:.0}");
        }
    });
}
