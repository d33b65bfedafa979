//! Scenarios of networking, chosen by the first argument; each prints what it saw. Servers
//! print `listening on ADDR` first, for the test (a native client) to connect to.
use std::fmt::Debug;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use lunatic::net::{self, TcpListener, TcpStream, UdpSocket};
use lunatic::{process, Config, Environment, Mailbox, Message, Process, Request};
use serde::{Serialize, Serializer};

#[lunatic::main]
fn main(mailbox: Mailbox<()>) {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        "handoff" => handoff(mailbox),
        "errors" => errors(),
        "timeouts" => timeouts(),
        "udp" => udp(mailbox),
        "kill" => kill(),
        "leaks" => leaks(mailbox),
        "denied" => denied(mailbox),
        "budget" => budget(),
        other => panic!("unknown scenario {other:?}"),
    }
}

/// Memory for processes of the sandboxed environments (the module starts at about 1 MiB).
const ROOMY: u64 = 16 << 20;

fn listen() -> TcpListener {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("listening on {}", listener.local_addr().unwrap());
    listener
}

/// "ok VALUE", or the error's kind.
fn kind<T: Debug>(result: io::Result<T>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(error) => format!("{:?}", error.kind()),
    }
}

/// One line, read a byte at a time so nothing past it is consumed (the stream moves on).
fn read_line(mut stream: &TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while stream.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap()
}

fn report(what: &str, message: Message<()>) {
    match message {
        Message::Signal(signal) => println!("{what}: died: {}", signal.reason()),
        Message::Normal(Ok(())) => println!("{what}: done"),
        other => println!("{what}: unexpected {other:?}"),
    }
}

/// One connection travels: a spawn context, a request, its reply, a plain message.
fn handoff(mailbox: Mailbox<()>) {
    let listener = listen();
    let this = process::this(&mailbox);
    let second = process::spawn(|requests: Mailbox<Request<TcpStream, TcpStream>>| loop {
        let (mut stream, reply) = requests.receive().unwrap().into_parts();
        let line = read_line(&stream);
        writeln!(stream, "second: {line}").unwrap();
        reply.send(stream);
    })
    .unwrap();
    let (stream, _) = listener.accept().unwrap();
    process::spawn_with(
        (stream, second, this),
        |(mut stream, second, main): (
            TcpStream,
            Process<Request<TcpStream, TcpStream>>,
            Process<()>,
        ),
         _: Mailbox<()>| {
            let line = read_line(&stream);
            writeln!(stream, "first: {line}").unwrap();
            let mut stream = second.request(stream).unwrap();
            let line = read_line(&stream);
            writeln!(stream, "first again: {line}").unwrap();
            let third =
                process::spawn_with(main, |main: Process<()>, inbox: Mailbox<TcpStream>| {
                    let mut stream = inbox.receive().unwrap();
                    let line = read_line(&stream);
                    writeln!(stream, "third: {line}").unwrap();
                    main.send(());
                })
                .unwrap();
            third.send(stream);
        },
    )
    .unwrap();
    mailbox.receive().unwrap();
    println!("handoff done");
}

/// A value whose serialization fails after its stream moved into the message.
struct Broken(TcpStream);

impl Serialize for Broken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeTuple};
        let mut tuple = serializer.serialize_tuple(2)?;
        tuple.serialize_element(&self.0)?;
        Err(S::Error::custom("broken on purpose"))
    }
}

impl<'de> serde::Deserialize<'de> for Broken {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        TcpStream::deserialize(deserializer).map(Broken)
    }
}

fn errors() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    println!("closed port: {}", kind(TcpStream::connect(closed)));
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    println!(
        "tcp address in use: {}",
        kind(TcpListener::bind(held.local_addr().unwrap()))
    );
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    println!(
        "udp address in use: {}",
        kind(UdpSocket::bind(udp.local_addr().unwrap()))
    );
    for bad in ["not an address", "127.0.0.1", "127.0.0.1:99999", ""] {
        println!("bad address {bad:?}: {}", kind(TcpStream::connect(bad)));
    }
    println!("bad bind address: {}", kind(TcpListener::bind("localhost")));
    println!("bad udp target: {}", kind(udp.send_to(b"x", "nowhere")));
    let localhost = net::resolve("localhost:80").unwrap().collect::<Vec<_>>();
    println!(
        "resolve localhost: {}",
        localhost
            .iter()
            .any(|addr| addr.ip().is_loopback() && addr.port() == 80)
    );
    println!("resolve without port: {}", kind(net::resolve("localhost")));
    let unknown = net::resolve_timeout("no-such-host.invalid:80", Duration::from_secs(10));
    println!("resolve unknown name: {}", kind(unknown));
    println!(
        "zero connect timeout: {}",
        kind(TcpStream::connect_timeout(&closed, Duration::ZERO))
    );
    let stream = TcpStream::connect(held.local_addr().unwrap()).unwrap();
    println!(
        "zero read timeout: {}",
        kind(stream.set_read_timeout(Some(Duration::ZERO)))
    );
    match bincode::serialize(&stream) {
        Ok(_) => println!("serialized outside a message"),
        Err(error) => println!("serialize outside a message: {error}"),
    }
    println!("stream still usable: {}", stream.local_addr().is_ok());
    println!("errors done");
}

fn timeouts() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    let (server, _) = listener.accept().unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    println!("read timeout: {:?}", client.read_timeout().unwrap());
    let start = Instant::now();
    let result = (&client).read(&mut [0u8; 8]);
    println!(
        "read: {} after 200 ms or more: {}",
        kind(result),
        start.elapsed() >= Duration::from_millis(200)
    );
    let clone = client.try_clone().unwrap();
    println!("the clone shares it: {:?}", clone.read_timeout().unwrap());
    (&server).write_all(b"ping").unwrap();
    let mut buffer = [0u8; 4];
    (&clone).read_exact(&mut buffer).unwrap();
    println!("within the timeout: {}", String::from_utf8_lossy(&buffer));
    // Reads never pass the buffer's end: an empty one reads nothing, a small one part.
    (&server).write_all(b"pong").unwrap();
    println!("empty read: {}", kind((&clone).read(&mut [])));
    let (mut head, mut tail) = ([0u8; 2], [0u8; 2]);
    (&clone).read_exact(&mut head).unwrap();
    (&clone).read_exact(&mut tail).unwrap();
    println!(
        "small reads: {} then {}",
        String::from_utf8_lossy(&head),
        String::from_utf8_lossy(&tail)
    );
    println!(
        "addresses agree: {}",
        client.peer_addr().unwrap() == addr
            && server.peer_addr().unwrap() == client.local_addr().unwrap()
    );
    client.set_read_timeout(None).unwrap();
    println!("cleared: {:?}", client.read_timeout().unwrap());
    client.shutdown(Shutdown::Write).unwrap();
    println!(
        "after shutdown the peer reads: {}",
        kind((&server).read(&mut buffer))
    );
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    println!("udp recv: {}", kind(socket.recv_from(&mut buffer)));
    println!("timeouts done");
}

fn udp(mailbox: Mailbox<()>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    println!("listening on {}", socket.local_addr().unwrap());
    let mut buffer = [0u8; 1500];
    let (n, from) = socket.recv_from(&mut buffer).unwrap();
    let reply = [b"echo: ", &buffer[..n]].concat();
    socket.send_to(&reply, from).unwrap();
    println!("echoed {} bytes", n);

    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    println!("not connected: {}", kind(a.send(b"x")));
    a.connect(b.local_addr().unwrap()).unwrap();
    b.connect(a.local_addr().unwrap()).unwrap();
    a.send(b"ping").unwrap();
    let n = b.recv(&mut buffer).unwrap();
    println!(
        "connected pair got: {}",
        String::from_utf8_lossy(&buffer[..n])
    );
    println!(
        "peer: {}",
        a.peer_addr().unwrap() == b.local_addr().unwrap()
    );
    // A socket moved to another process keeps working there.
    let this = process::this(&mailbox);
    process::spawn_with(
        (b, this),
        |(b, main): (UdpSocket, Process<()>), _: Mailbox<()>| {
            let mut buffer = [0u8; 64];
            let n = b.recv(&mut buffer).unwrap();
            b.send(&buffer[..n]).unwrap();
            main.send(());
        },
    )
    .unwrap();
    a.send(b"moved").unwrap();
    let n = a.recv(&mut buffer).unwrap();
    mailbox.receive().unwrap();
    println!(
        "moved socket answered: {}",
        String::from_utf8_lossy(&buffer[..n])
    );
}

/// A process blocked in a read is killed at once, and its socket closes with it.
fn kill() {
    let listener = listen();
    let (stream, _) = listener.accept().unwrap();
    let handler = process::spawn_with(stream, |mut stream: TcpStream, _: Mailbox<()>| {
        let _ = stream.read(&mut [0u8; 16]);
        println!("the handler's read returned");
    })
    .unwrap();
    process::sleep(Duration::from_millis(200));
    let monitor = handler.monitor();
    let start = Instant::now();
    handler.kill();
    let down = handler
        .wait_down(monitor, Some(Duration::from_secs(5)))
        .unwrap();
    println!(
        "handler ended: {} (within a second: {})",
        down.reason(),
        start.elapsed() < Duration::from_secs(1)
    );
    // Stay alive until the client says it saw the end of its stream.
    let _ = listener.accept().unwrap();
    println!("kill done");
}

/// Streams that nobody ends up holding are closed while the VM runs on.
fn leaks(mailbox: Mailbox<()>) {
    let listener = listen();
    let this = process::this(&mailbox);

    // Sent to a process that is gone: dropped with the message.
    let (stream, _) = listener.accept().unwrap();
    let dead = process::spawn(|_: Mailbox<TcpStream>| {}).unwrap();
    let monitor = dead.monitor();
    dead.wait_down(monitor, None).unwrap();
    dead.send(stream);
    println!("sent to a dead process");

    // Received as the wrong type: dropped when the receiver receives again.
    let (stream, _) = listener.accept().unwrap();
    let confused = process::spawn_with(this, |main: Process<()>, inbox: Mailbox<String>| {
        let first = inbox.receive();
        println!("wrong type: {}", first.is_err());
        main.send(());
        let _ = inbox.receive();
    })
    .unwrap();
    Process::<TcpStream>::from_process_id(confused.process_id()).send(stream);
    mailbox.receive().unwrap();

    // Serialized, then the serialization failed: the process panics, the unsent message
    // goes with it.
    let (stream, _) = listener.accept().unwrap();
    let (_, _, links) =
        process::spawn_link_with(mailbox, stream, |stream: TcpStream, m: Mailbox<Broken>| {
            process::this(&m).send(Broken(stream));
        })
        .unwrap();
    report("failed serialization", links.receive());

    // Stay alive until the client says it saw the end of each stream.
    let _ = listener.accept().unwrap();
    println!("leaks done");
}

/// Networking is a permission of the environment.
fn denied(mailbox: Mailbox<()>) {
    let this = process::this(&mailbox);
    let mut sandbox = Environment::new(Config::new(ROOMY, None)).unwrap();
    let module = sandbox.add_this_module().unwrap();
    let (_, _, m) = module
        .spawn_link(mailbox, |_: Mailbox<()>| {
            let _ = TcpListener::bind("127.0.0.1:0");
        })
        .unwrap();
    report("bind", m.receive());

    // A socket given to such a process can be held, cloned and dropped, not used.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let (_, _, m) = module
        .spawn_link_with(
            m,
            (server, this),
            |(stream, main): (TcpStream, Process<()>), _: Mailbox<()>| {
                drop(stream.try_clone().unwrap());
                main.send(());
                let _ = (&stream).read(&mut [0u8; 1]);
            },
        )
        .unwrap();
    report("held", m.receive());
    report("read", m.receive());

    let mut config = Config::new(ROOMY, None);
    config.allow_namespace("lunatic::networking");
    let mut networked = Environment::new(config).unwrap();
    let (_, _, m) = networked
        .add_this_module()
        .unwrap()
        .spawn_link_with(m, this, |main: Process<()>, _: Mailbox<()>| {
            if TcpListener::bind("127.0.0.1:0").is_ok() {
                main.send(());
            }
        })
        .unwrap();
    report("allowed", m.receive());
}

/// With `--max-sockets 5`: sockets are refused past the VM's budget, with an error rather
/// than the host running out of file descriptors, and closing one gives its place back.
fn budget() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    let refused = loop {
        match TcpStream::connect(addr) {
            Ok(stream) => held.push(stream),
            Err(error) => break error,
        }
        if held.len() > 10 {
            break io::Error::other("no limit");
        }
    };
    // The listener and the connected streams (the accepted ends wait in the backlog).
    println!("open before the limit: {}", held.len() + 1);
    println!("refused: {:?}: {refused}", refused.kind());
    held.pop();
    let again = TcpStream::connect(addr);
    let outcome = match &again {
        Ok(_) => "ok".to_owned(),
        Err(error) => format!("{:?}", error.kind()),
    };
    println!("after closing one: {outcome}");
    println!(
        "udp too: {}",
        kind(UdpSocket::bind("127.0.0.1:0").map(|_| ()))
    );
    drop(again);
}
