//! A TCP echo server with a process per connection: the listener hands each accepted
//! stream to a new process (as its spawn context, which moves the socket there), so a slow
//! or stuck client holds up nobody else, and a crashing handler closes only its connection.
//!
//! `lunatic net_echo.wasm [ADDR]` (default 127.0.0.1:7878; port 0 picks a free one). It
//! prints `listening on ADDR` once it accepts connections.
use std::io::{Read, Write};

use lunatic::net::{TcpListener, TcpStream};
use lunatic::{process, Mailbox};

/// Where the server listens when no address is given.
const DEFAULT_ADDR: &str = "127.0.0.1:7878";

/// Bytes read per call.
const BUFFER_SIZE: usize = 16 << 10;

#[lunatic::main]
fn main(_: Mailbox<()>) {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
    let listener = match TcpListener::bind(addr.as_str()) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {addr}: {error}");
            std::process::exit(1);
        }
    };
    println!(
        "listening on {}",
        listener.local_addr().expect("a bound address")
    );
    for stream in listener.incoming() {
        match stream {
            // If the spawn fails (a full process pool), the stream is dropped: closed.
            Ok(stream) => {
                if let Err(error) = process::spawn_with(stream, echo) {
                    eprintln!("no process for a connection: {error}");
                }
            }
            Err(error) => eprintln!("accept failed: {error}"),
        }
    }
}

/// Sends back everything the client sends, until it closes.
fn echo(mut stream: TcpStream, _: Mailbox<()>) {
    let mut buffer = vec![0u8; BUFFER_SIZE];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buffer[..n]).is_err() {
                    return;
                }
            }
        }
    }
}
