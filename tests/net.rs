//! Networking on the VM, against native clients (std::net) over loopback: the echo example
//! with 1,000 concurrent connections, the chat example, a stream handed between processes
//! (spawn context, request, reply, plain message), read timeouts, error kinds, UDP, a
//! killed connection process, sockets nobody holds, and networking as a permission.
//!
//! Bad inputs tried (scenario `errors` of `tests/guests/net.rs`): a closed port, an address
//! in use (TCP and UDP), addresses without a port, with port 99999, empty, not an address
//! at all, a bind to a name without port, a UDP target that does not parse, a name that
//! does not resolve, a name without port, zero timeouts, a socket serialized outside a
//! message. Bad ids and pointers are in `tests/hostile.rs`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use common::background::Background;
use common::guest;

/// How long a client waits for any answer.
const PATIENCE: Duration = Duration::from_secs(30);

fn scenario(name: &str) -> Background {
    Background::start(&guest("test-net"), &[name])
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("the server accepts");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Whether the server closed `stream`: end of file (or a reset) before `PATIENCE`.
fn sees_end_of_stream(stream: &mut TcpStream) -> bool {
    match stream.read(&mut [0u8; 16]) {
        Ok(0) => true,
        Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

#[test]
fn echo_server_answers_1000_concurrent_connections() {
    let mut server = Background::start(&guest("net_echo"), &["127.0.0.1:0"]);
    let addr = server.listening_on();
    let mut clients: Vec<TcpStream> = (0..1000).map(|_| connect(addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .write_all(format!("message {i} from client {i}\n").as_bytes())
            .unwrap();
    }
    for (i, client) in clients.iter_mut().enumerate() {
        let expected = format!("message {i} from client {i}\n");
        let mut echoed = vec![0u8; expected.len()];
        client.read_exact(&mut echoed).unwrap();
        assert_eq!(String::from_utf8(echoed).unwrap(), expected);
    }
    drop(clients);
    let run = server.stop();
    assert!(!run.stderr.contains("died"), "{run}");
}

#[test]
fn a_stream_handed_between_processes_keeps_working() {
    let mut server = scenario("handoff");
    let mut stream = connect(server.listening_on());
    let mut lines = BufReader::new(stream.try_clone().unwrap());
    for (sent, answer) in [
        ("one", "first: one"),
        ("two", "second: two"),
        ("three", "first again: three"),
        ("four", "third: four"),
    ] {
        writeln!(stream, "{sent}").unwrap();
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        assert_eq!(line.trim_end(), answer);
    }
    server
        .finish(PATIENCE)
        .assert_code(0)
        .assert_stdout("handoff done\n");
}

#[test]
fn read_timeouts_fire_and_are_shared_by_clones() {
    scenario("timeouts")
        .finish(PATIENCE)
        .assert_code(0)
        .assert_stdout(
            "read timeout: Some(200ms)\n\
             read: TimedOut after 200 ms or more: true\n\
             the clone shares it: Some(200ms)\n\
             within the timeout: ping\n\
             empty read: ok 0\n\
             small reads: po then ng\n\
             addresses agree: true\n\
             cleared: None\n\
             after shutdown the peer reads: ok 0\n\
             udp recv: TimedOut\n\
             timeouts done\n",
        );
}

#[test]
fn errors_have_the_kinds_of_std() {
    let run = scenario("errors").finish(PATIENCE);
    run.assert_code(0)
        .assert_stdout("closed port: ConnectionRefused\n")
        .assert_stdout("tcp address in use: AddrInUse\n")
        .assert_stdout("udp address in use: AddrInUse\n")
        .assert_stdout("bad address \"not an address\": InvalidInput\n")
        .assert_stdout("bad address \"127.0.0.1\": InvalidInput\n")
        .assert_stdout("bad address \"127.0.0.1:99999\": InvalidInput\n")
        .assert_stdout("bad address \"\": InvalidInput\n")
        .assert_stdout("bad bind address: InvalidInput\n")
        .assert_stdout("bad udp target: InvalidInput\n")
        .assert_stdout("resolve localhost: true\n")
        .assert_stdout("resolve without port: InvalidInput\n")
        .assert_stdout("zero connect timeout: InvalidInput\n")
        .assert_stdout("zero read timeout: InvalidInput\n")
        .assert_stdout("serialize outside a message: a TcpStream can only be serialized into a message being sent\n")
        .assert_stdout("stream still usable: true\n")
        .assert_stdout("errors done\n");
    // A name that does not resolve: NotFound, unless this machine's resolver cannot even
    // be asked within the 10 s the guest allows.
    assert!(
        run.stdout.contains("resolve unknown name: NotFound\n")
            || run.stdout.contains("resolve unknown name: TimedOut\n"),
        "{run}"
    );
}

#[test]
fn udp_round_trip_and_a_moved_socket() {
    let mut server = scenario("udp");
    let addr = server.listening_on();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.send_to(b"hello", addr).unwrap();
    let mut buffer = [0u8; 64];
    let (n, from) = client.recv_from(&mut buffer).unwrap();
    assert_eq!((&buffer[..n], from), (&b"echo: hello"[..], addr));
    server.finish(PATIENCE).assert_code(0).assert_stdout(
        "echoed 5 bytes\n\
             not connected: NotConnected\n\
             connected pair got: ping\n\
             peer: true\n\
             moved socket answered: moved\n",
    );
}

#[test]
fn a_killed_connection_process_closes_its_socket() {
    let mut server = scenario("kill");
    let addr = server.listening_on();
    let mut client = connect(addr);
    // The handler is blocked in a read of this stream; the guest kills it.
    assert!(sees_end_of_stream(&mut client));
    // The VM is still running (it waits for this connection to end the scenario).
    let _done = connect(addr);
    let run = server.finish(PATIENCE);
    run.assert_code(0)
        .assert_stdout("handler ended: killed (within a second: true)\n")
        .assert_stdout("kill done\n");
    assert!(!run.stdout.contains("read returned"), "{run}");
}

#[test]
fn streams_nobody_holds_are_closed() {
    let mut server = scenario("leaks");
    let addr = server.listening_on();
    // Sent to a dead process; received as the wrong type; lost in a failed serialization.
    for case in ["dead receiver", "wrong type", "failed serialization"] {
        let mut client = connect(addr);
        assert!(sees_end_of_stream(&mut client), "{case}: still open");
    }
    let _done = connect(addr);
    server
        .finish(PATIENCE)
        .assert_code(0)
        .assert_stdout("sent to a dead process\n")
        .assert_stdout("wrong type: true\n")
        .assert_stdout(
            "failed serialization: died: panicked: cannot serialize message: broken on purpose",
        )
        .assert_stdout("leaks done\n");
}

#[test]
fn chat_broadcasts_each_line_to_every_other_client() {
    let mut server = Background::start(&guest("net_chat"), &["127.0.0.1:0"]);
    let addr: std::net::SocketAddr = server
        .wait_for("chat on ", PATIENCE)
        .parse()
        .expect("an address");
    let clients: Vec<TcpStream> = (0..3).map(|_| connect(addr)).collect();
    let mut readers: Vec<_> = clients
        .iter()
        .map(|c| BufReader::new(c.try_clone().unwrap()))
        .collect();
    let names: Vec<String> = clients
        .iter()
        .map(|c| c.local_addr().unwrap().to_string())
        .collect();
    let mut next_line = |i: usize| {
        let mut line = String::new();
        readers[i].read_line(&mut line).unwrap();
        line
    };
    // Once welcomed, a client is in the room.
    for (i, name) in names.iter().enumerate() {
        assert_eq!(next_line(i), format!("welcome {name}\n"));
    }
    (&clients[0]).write_all(b"hello from 0\n").unwrap();
    for i in [1, 2] {
        assert_eq!(next_line(i), format!("{}: hello from 0\n", names[0]));
    }
    // Not to the sender itself.
    clients[0]
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(readers[0].read_line(&mut String::new()).is_err());
    clients[0].set_read_timeout(Some(PATIENCE)).unwrap();
    // A client leaves; the others go on.
    clients[1].shutdown(std::net::Shutdown::Both).unwrap();
    (&clients[2]).write_all(b"still here\n").unwrap();
    let mut line = String::new();
    readers[0].read_line(&mut line).unwrap();
    assert_eq!(line, format!("{}: still here\n", names[2]));
    let run = server.stop();
    assert!(!run.stderr.contains("died"), "{run}");
}

#[test]
fn networking_is_a_permission_of_the_environment() {
    scenario("denied")
        .finish(PATIENCE)
        .assert_code(0)
        .assert_stdout("bind: died: trapped: host function lunatic::networking::tcp_bind is not allowed in this environment\n")
        .assert_stdout("held: done\n")
        .assert_stdout("read: died: trapped: host function lunatic::networking::tcp_read is not allowed in this environment\n")
        .assert_stdout("allowed: done\n");
}

#[test]
fn sockets_past_the_vms_budget_are_refused_not_leaked() {
    common::run_with(
        &["--max-sockets", "5"],
        &guest("test-net"),
        &["budget"],
        PATIENCE,
    )
    .assert_code(0)
    .assert_stdout(
        "open before the limit: 5\n\
         refused: Other: the VM's limit of 5 open sockets is reached (--max-sockets)\n\
         after closing one: ok\n\
         udp too: Other\n",
    );
}
