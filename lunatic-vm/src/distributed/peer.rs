//! Connections between nodes: joining the seeds, dialing and accepting, the hello that
//! binds a connection to a node, and the tasks that read a connection (streams of frames,
//! calls, membership packets) or write one process's stream.
//!
//! A connection is dialed to [`CLUSTER_NAME`](super::tls::CLUSTER_NAME) and checked both
//! ways against the cluster CA in the handshake; then the dialer opens a bidirectional
//! stream and each side sends its [`Hello`]. The hello's name must be one the peer's
//! certificate names. Two nodes may dial each other at once: both connections are read,
//! and the later one is used to send.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::mpsc;

use super::wire::{self, Answer, Call, Frame, Hello, StreamHeader};
use super::{lock, membership, node_id_of, Cluster, NodeId, Peer};
use crate::process::ProcessId;

/// How often the seeds are dialed again while they are not all connected.
const REJOIN_INTERVAL: Duration = Duration::from_secs(1);

/// How long a handshake and hello may take.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

/// The address other nodes reach `bound` at: itself, or when it is unspecified
/// (`0.0.0.0`), this host's first address by its name, which a Kubernetes pod's name
/// resolves to.
pub(super) fn advertised(bound: SocketAddr) -> SocketAddr {
    if !bound.ip().is_unspecified() {
        return bound;
    }
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    use std::net::ToSocketAddrs as _;
    (host.as_str(), bound.port())
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.find(|addr| !addr.ip().is_loopback()))
        .unwrap_or(SocketAddr::new([127, 0, 0, 1].into(), bound.port()))
}

/// Dials every address the seeds resolve to, again every [`REJOIN_INTERVAL`] while one
/// is not connected (a node may start before its seeds; a lost one may come back).
pub(super) async fn join(cluster: Weak<Cluster>, seeds: Vec<String>) {
    if seeds.is_empty() {
        return;
    }
    loop {
        let mut addrs = Vec::new();
        for seed in &seeds {
            if let Ok(resolved) = tokio::net::lookup_host(seed.as_str()).await {
                addrs.extend(resolved);
            }
        }
        let Some(cluster) = cluster.upgrade() else {
            return;
        };
        let connected: Vec<SocketAddr> = lock(&cluster.peers)
            .values()
            .flat_map(|peer| {
                let remotes = peer
                    .connections
                    .iter()
                    .map(quinn::Connection::remote_address);
                std::iter::once(peer.addr).chain(remotes)
            })
            .collect();
        for addr in addrs {
            if !connected.contains(&addr) {
                cluster.dial(addr);
            }
        }
        drop(cluster);
        tokio::time::sleep(REJOIN_INTERVAL).await;
    }
}

/// Accepts connections until the endpoint closes.
pub(super) async fn accept(cluster: Weak<Cluster>) {
    let Some(endpoint) = cluster.upgrade().map(|cluster| cluster.endpoint.clone()) else {
        return;
    };
    while let Some(incoming) = endpoint.accept().await {
        let cluster = cluster.clone();
        tokio::spawn(async move {
            let accepted = tokio::time::timeout(HELLO_TIMEOUT, async {
                let connection = incoming.await?;
                let (mut send, mut receive) = connection.accept_bi().await?;
                let hello = read_hello(&mut receive).await?;
                let me = cluster
                    .upgrade()
                    .ok_or(HandshakeError::Stopping)?
                    .me
                    .clone();
                wire::write(&mut send, &me).await?;
                let _ = send.finish();
                Ok::<_, HandshakeError>((connection, hello))
            })
            .await
            .unwrap_or(Err(HandshakeError::TimedOut));
            match accepted {
                Ok((connection, hello)) => {
                    if let Some(cluster) = cluster.upgrade() {
                        connected(&cluster, connection, hello);
                    }
                }
                Err(error) => refused(&error),
            }
        });
    }
}

/// Dials `addr` and, once hellos are exchanged, makes it a peer.
pub(super) async fn dial(cluster: &Arc<Cluster>, addr: SocketAddr) {
    let dialed = tokio::time::timeout(HELLO_TIMEOUT, async {
        let connecting = cluster.endpoint.connect_with(
            cluster.client.clone(),
            addr,
            super::tls::CLUSTER_NAME,
        )?;
        let connection = connecting.await?;
        let (mut send, mut receive) = connection.open_bi().await?;
        wire::write(&mut send, &cluster.me).await?;
        let _ = send.finish();
        let hello = read_hello(&mut receive).await?;
        Ok::<_, HandshakeError>((connection, hello))
    })
    .await
    .unwrap_or(Err(HandshakeError::TimedOut));
    match dialed {
        Ok((connection, hello)) => connected(cluster, connection, hello),
        Err(error) => {
            tracing::debug!(target: "lunatic::cluster", "cannot connect to {addr}: {error}");
        }
    }
}

/// Why a connection did not become a peer before hellos were exchanged.
#[derive(Debug, thiserror::Error)]
enum HandshakeError {
    #[error("{0}")]
    Connect(#[from] quinn::ConnectError),
    #[error("{0}")]
    Connection(#[from] quinn::ConnectionError),
    #[error("{0}")]
    Wire(#[from] wire::WireError),
    #[error("the peer said no hello")]
    NoHello,
    #[error("the node is stopping")]
    Stopping,
    #[error("the handshake timed out")]
    TimedOut,
}

fn refused(error: &dyn std::fmt::Display) {
    tracing::warn!(target: "lunatic::cluster", "refused a connection: {error}");
}

async fn read_hello(receive: &mut quinn::RecvStream) -> Result<Hello, HandshakeError> {
    wire::read_limited::<Hello>(receive, wire::MAX_HELLO)
        .await?
        .ok_or(HandshakeError::NoHello)
}

/// Makes the node that said `hello` on `connection` a peer, if its certificate names it,
/// and starts reading the connection.
fn connected(cluster: &Arc<Cluster>, connection: quinn::Connection, hello: Hello) {
    let named = super::tls::peer_certificate(&connection)
        .is_some_and(|cert| super::tls::certificate_names(&cert, &hello.name));
    if !named {
        connection.close(1u32.into(), b"the certificate does not name the node");
        refused(&format!(
            "a peer at {} calls itself {:?}, which its certificate does not name",
            connection.remote_address(),
            hello.name
        ));
        return;
    }
    if hello.name == cluster.me.name {
        connection.close(0u32.into(), b"self");
        return;
    }
    if hello.name == super::tls::CLUSTER_NAME {
        connection.close(1u32.into(), b"a node cannot be called lunatic-node");
        return;
    }
    let node = node_id_of(&hello.name);
    let earlier = lock(&cluster.peers).get(&node).map(|peer| peer.incarnation);
    match earlier {
        Some(earlier) if earlier > hello.incarnation => {
            // A late hello of an earlier run of a node connected now.
            connection.close(0u32.into(), b"stale");
            return;
        }
        // The node restarted: what linked to its earlier run hears it is gone.
        Some(earlier) if earlier < hello.incarnation => cluster.node_lost(node, earlier),
        _ => {}
    }
    let new = {
        let mut peers = lock(&cluster.peers);
        match peers.get_mut(&node) {
            // A second connection (both dialed at once): listed, and used to send from now.
            Some(peer) => {
                peer.connections.push(connection.clone());
                false
            }
            None => {
                let peer = Peer {
                    name: hello.name.clone(),
                    addr: hello.addr,
                    incarnation: hello.incarnation,
                    connections: vec![connection.clone()],
                };
                peers.insert(node, peer);
                true
            }
        }
    };
    if new {
        tracing::info!(target: "lunatic::cluster", "node {:?} ({node}) connected", hello.name);
        cluster.send_names(node);
    }
    let _ = cluster
        .membership
        .send(membership::Event::Announce(membership::Member {
            name: hello.name,
            addr: hello.addr,
            incarnation: hello.incarnation,
        }));
    let weak = Arc::downgrade(cluster);
    tokio::spawn(read_connection(weak, node, hello.incarnation, connection));
}

/// Reads one connection until it closes, then, if it was the node's, loses the node.
async fn read_connection(
    cluster: Weak<Cluster>,
    node: NodeId,
    incarnation: u64,
    connection: quinn::Connection,
) {
    let streams = {
        let (cluster, connection) = (cluster.clone(), connection.clone());
        async move {
            while let Ok(stream) = connection.accept_uni().await {
                tokio::spawn(read_stream(cluster.clone(), node, stream));
            }
        }
    };
    let calls = {
        let (cluster, connection) = (cluster.clone(), connection.clone());
        async move {
            while let Ok((send, receive)) = connection.accept_bi().await {
                tokio::spawn(answer(cluster.clone(), node, send, receive));
            }
        }
    };
    let packets = {
        let (cluster, connection) = (cluster.clone(), connection.clone());
        async move {
            while let Ok(packet) = connection.read_datagram().await {
                let Some(cluster) = cluster.upgrade() else {
                    return;
                };
                let _ = cluster.membership.send(membership::Event::Packet(packet));
            }
        }
    };
    tokio::join!(streams, calls, packets);
    if let Some(cluster) = cluster.upgrade() {
        // The node is lost with its last connection.
        let last = {
            let mut peers = lock(&cluster.peers);
            peers.get_mut(&node).is_some_and(|peer| {
                peer.connections
                    .retain(|other| other.stable_id() != connection.stable_id());
                peer.connections.is_empty()
            })
        };
        if last {
            cluster.node_lost(node, incarnation);
        }
    }
}

/// Reads one process's stream of frames and carries them out in order.
async fn read_stream(cluster: Weak<Cluster>, node: NodeId, mut stream: quinn::RecvStream) {
    let Ok(Some(StreamHeader { sender })) = wire::read::<StreamHeader>(&mut stream).await else {
        return;
    };
    loop {
        match wire::read::<Frame>(&mut stream).await {
            Ok(Some(frame)) => {
                let Some(cluster) = cluster.upgrade() else {
                    return;
                };
                cluster.deliver(node, sender, frame);
            }
            Ok(None) => return,
            Err(error @ (wire::WireError::TooLong(_) | wire::WireError::Decode(_))) => {
                // A node that breaks the protocol is lost: its frames can no longer be
                // trusted to arrive.
                tracing::warn!(target: "lunatic::cluster", "node {node} sent a bad frame: {error}");
                if let Some(cluster) = cluster.upgrade() {
                    cluster.node_lost(node, u64::MAX);
                }
                return;
            }
            Err(error) => {
                tracing::debug!(target: "lunatic::cluster", "a stream from node {node} failed: {error}");
                return;
            }
        }
    }
}

/// Writes `sender`'s frames to one node, in order, until the sender's end drops the
/// channel.
pub(super) async fn write_stream(
    connection: quinn::Connection,
    sender: ProcessId,
    mut frames: mpsc::UnboundedReceiver<super::Queued>,
) {
    let Ok(mut stream) = connection.open_uni().await else {
        return;
    };
    let mut bytes = Vec::new();
    wire::encode_into(&StreamHeader { sender }, &mut bytes);
    // What the frames in `bytes` cost their senders, given back once they are written.
    let mut charges = Vec::new();
    while let Some((frame, charge)) = frames.recv().await {
        wire::encode_into(&frame, &mut bytes);
        charges.extend(charge);
        // Whatever else is queued goes in the same write.
        while bytes.len() < 1 << 16 {
            match frames.try_recv() {
                Ok((frame, charge)) => {
                    wire::encode_into(&frame, &mut bytes);
                    charges.extend(charge);
                }
                Err(_) => break,
            }
        }
        if stream.write_all(&bytes).await.is_err() {
            return;
        }
        charges.clear();
        bytes.clear();
        // A large message's buffer is not kept for the stream's life.
        bytes.shrink_to(1 << 16);
    }
    let _ = stream.finish();
}

/// Answers one call a peer made.
async fn answer(
    cluster: Weak<Cluster>,
    node: NodeId,
    mut send: quinn::SendStream,
    mut receive: quinn::RecvStream,
) {
    let Ok(Some(call)) = wire::read::<Call>(&mut receive).await else {
        return;
    };
    let Some(cluster) = cluster.upgrade() else {
        return;
    };
    // A linked child whose spawner is gone before it hears of it (killed while it waited)
    // is not left linked to nobody.
    let linked = matches!(&call, Call::Spawn { link: Some(_), .. });
    let answer = match call {
        Call::IsAlive { process } => Answer::Alive(
            cluster
                .runtime
                .upgrade()
                .is_some_and(|runtime| runtime.processes().get(process).is_some()),
        ),
        Call::Spawn {
            module,
            function,
            params,
            env,
            link,
        } => {
            super::spawn::spawn_here(
                &cluster,
                node,
                module,
                function,
                params,
                env,
                link,
                &mut send,
                &mut receive,
            )
            .await
        }
        Call::Module(_) => Answer::Failed {
            reason: "a module came without a spawn".into(),
        },
    };
    if wire::write(&mut send, &answer).await.is_ok() && send.finish().is_ok() {
        return;
    }
    if let (true, Answer::Spawned { process }) = (linked, &answer) {
        let child = cluster
            .runtime
            .upgrade()
            .and_then(|r| r.processes().get(*process));
        if let Some(child) = child {
            child
                .mailbox()
                .kill(lunatic_abi::EndReason::NoConnection { node });
        }
    }
}
