//! A line-based chat server. Every client is a process that reads its lines and hands
//! them to the room; the room process keeps the list of clients and broadcasts each line to
//! every other client. Each client also has a writer process, holding a clone of its
//! stream, that writes what the room sends it: a process waits on one thing at a time, and
//! the client's waits on its socket.
//!
//! `lunatic net_chat.wasm [ADDR]` (default 127.0.0.1:7879). It prints `chat on ADDR`;
//! connect with `nc`: every client is named by its address, and gets `welcome NAME` once it
//! is in the room.
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};

use lunatic::net::TcpStream;
use lunatic::{process, Mailbox, Process};
use serde::{Deserialize, Serialize};

/// Where the server listens when no address is given.
const DEFAULT_ADDR: &str = "127.0.0.1:7879";

/// What the room hears from clients.
#[derive(Debug, Serialize, Deserialize)]
enum RoomEvent {
    /// A client arrived; lines for it go to `writer`.
    Join {
        name: String,
        writer: Process<String>,
    },
    /// A client said something.
    Line { name: String, text: String },
    /// A client left.
    Leave { name: String },
}

#[lunatic::main]
fn main(_: Mailbox<()>) {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
    let listener = match lunatic::net::TcpListener::bind(addr.as_str()) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {addr}: {error}");
            std::process::exit(1);
        }
    };
    let room = process::spawn(room).expect("a room process");
    println!(
        "chat on {}",
        listener.local_addr().expect("a bound address")
    );
    for stream in listener.incoming().flatten() {
        if let Err(error) = process::spawn_with((stream, room), client) {
            eprintln!("no process for a client: {error}");
        }
    }
}

/// Keeps who is here, and broadcasts every line to everybody else.
fn room(events: Mailbox<RoomEvent>) {
    let mut writers: HashMap<String, Process<String>> = HashMap::new();
    while let Ok(event) = events.receive() {
        match event {
            RoomEvent::Join { name, writer } => {
                writer.send(format!("welcome {name}\n"));
                writers.insert(name, writer);
            }
            RoomEvent::Line { name, text } => {
                for (other, writer) in &writers {
                    if *other != name {
                        writer.send(format!("{name}: {text}\n"));
                    }
                }
            }
            RoomEvent::Leave { name } => {
                if let Some(writer) = writers.remove(&name) {
                    writer.kill();
                }
            }
        }
    }
}

/// One client: reads its lines and hands them to the room.
fn client((stream, room): (TcpStream, Process<RoomEvent>), _: Mailbox<()>) {
    let Ok(name) = stream.peer_addr().map(|addr| addr.to_string()) else {
        return;
    };
    let Ok(writer_stream) = stream.try_clone() else {
        return;
    };
    let Ok(writer) = process::spawn_with(writer_stream, writer) else {
        return;
    };
    room.send(RoomEvent::Join {
        name: name.clone(),
        writer,
    });
    for line in BufReader::new(stream).lines() {
        let Ok(text) = line else { break };
        room.send(RoomEvent::Line {
            name: name.clone(),
            text,
        });
    }
    room.send(RoomEvent::Leave { name });
}

/// Writes what the room sends to the client's stream.
fn writer(mut stream: TcpStream, lines: Mailbox<String>) {
    while let Ok(line) = lines.receive() {
        if stream.write_all(line.as_bytes()).is_err() {
            return;
        }
    }
}
