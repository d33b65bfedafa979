//! Distribution: this VM as a node of a cluster (`lunatic --node`), whose processes
//! message, link to, monitor, kill and spawn processes of other nodes with the same code as
//! locally.
//!
//! | file | what |
//! |---|---|
//! | `tls` | mutual TLS: the cluster CA, node certificates, names bound to certificates |
//! | `wire` | what nodes say to each other, framed on QUIC streams |
//! | `peer` | the connections: dialing, accepting, hellos, reading streams, answering calls |
//! | `membership` | SWIM membership and failure detection (`foca`) over QUIC datagrams |
//! | `names` | cluster-wide names, and the rule that settles a name claimed twice |
//!
//! A node's id is the fingerprint of its name ([`node_id_of`]); a process elsewhere is a
//! [`Remote`] (its node and its id there). A node is *connected* once hellos were
//! exchanged on a connection whose certificate names it; it is *lost* when that
//! connection closes or the membership protocol declares it down, whichever is first.
//! Then every link to its processes fires with `NoConnection`, every monitor of them gets
//! a down notice with `NoConnection`, and its names go.
//!
//! Invariants
//! - What one process sends to one node travels on one stream (`streams`), so its
//!   messages and the notices of its end arrive in order; the notices of its end are
//!   queued (in `process_ended`, from `Runtime::finish`) after all it sent.
//! - A remote link or monitor is recorded on the local side before its frame is sent, and
//!   its node's connection is checked after: either `node_lost` finds the record, or the
//!   check sees the node gone and answers at once. The remote side records it before it
//!   checks that the target lives, and `process_ended` runs after the target left the
//!   process table, so a target dying meanwhile is found by one of the two.
//! - Locks: `peers`, `streams`, `links`, `watched`, `watching`, `pending_links`, `names`
//!   and `programs` are each taken alone, never one inside another, and never around a
//!   mailbox push (a wake may take the scheduler's lock).

mod membership;
mod names;
mod peer;
mod spawn;
pub(crate) mod tls;
mod wire;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use lunatic_abi::EndReason;
use tokio::sync::mpsc;

use crate::messaging::{Message, MessageBytes, MessageData, MessageExtra, MessageKind};
use crate::process::{EncodedReason, IdMap, ProcessId};
use crate::program::Program;
use crate::runtime::Runtime;
pub(crate) use membership::DEFAULT_NODE_TIMEOUT;
use names::{Claim, Names, Settled};
pub(crate) use spawn::env_spec;
pub(crate) use wire::EnvSpec;
use wire::Frame;

/// A node's id: the fingerprint of its name; 0 is no node (a VM outside a cluster).
pub(crate) type NodeId = u64;

/// The id of the node called `name`.
pub(crate) fn node_id_of(name: &str) -> NodeId {
    lunatic_abi::fingerprint(name.as_bytes()).max(1)
}

/// A process of another node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Remote {
    pub(crate) node: NodeId,
    pub(crate) process: ProcessId,
}

/// How a node is started (the command line's `--node` options).
#[derive(Debug, Clone)]
pub(crate) struct NodeConfig {
    pub(crate) name: String,
    pub(crate) listen: SocketAddr,
    /// Where other nodes reach this one (default: `listen`, or this host's address when
    /// `listen` is unspecified).
    pub(crate) advertise: Option<SocketAddr>,
    /// Seeds: `HOST:PORT`, each name standing for every address it resolves to.
    pub(crate) join: Vec<String>,
    pub(crate) tls: tls::TlsFiles,
    pub(crate) node_timeout: Duration,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NodeError {
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("the node's certificate does not name `{0}` (make it with `lunatic cluster-certs`)")]
    NotNamed(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Why a remote spawn failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RemoteSpawnError {
    #[error("node {0} is not connected")]
    NoConnection(NodeId),
    #[error("the connection to node {node} failed: {reason}")]
    Connection { node: NodeId, reason: String },
    #[error("node {node} could not spawn: {reason}")]
    Refused { node: NodeId, reason: String },
}

/// A connected node.
#[derive(Debug, Clone)]
struct Peer {
    name: String,
    addr: SocketAddr,
    incarnation: u64,
    connection: quinn::Connection,
}

/// This VM as a node.
pub(crate) struct Cluster {
    me: wire::Hello,
    id: NodeId,
    runtime: std::sync::Weak<Runtime>,
    endpoint: quinn::Endpoint,
    client: quinn::ClientConfig,
    /// The tokio runtime the endpoint runs on, where connection tasks go.
    io: tokio::runtime::Handle,
    membership: mpsc::UnboundedSender<membership::Event>,
    peers: Mutex<HashMap<NodeId, Peer>>,
    /// Nodes being dialed (by address), so one is not dialed twice at once.
    dialing: Mutex<HashSet<SocketAddr>>,
    /// Each local process's stream to each node.
    streams: Mutex<HashMap<(ProcessId, NodeId), mpsc::UnboundedSender<Frame>>>,
    /// Local processes' links to remote ones, and the tag each holds.
    links: Mutex<IdMap<ProcessId, HashMap<Remote, i64>>>,
    /// Remote spawns with a link, in flight: (spawner, tag). A link death for one arrives
    /// before the spawn's answer if the child dies at once.
    pending_links: Mutex<HashSet<(ProcessId, i64)>>,
    /// Remote watchers of local processes: target, then tag.
    watched: Mutex<IdMap<ProcessId, IdMap<i64, Remote>>>,
    /// Local watchers of remote processes: node, then tag, then (watcher, target).
    watching: Mutex<HashMap<NodeId, IdMap<i64, (ProcessId, ProcessId)>>>,
    names: Mutex<Names>,
    /// Modules spawned here from other nodes: by hash and environment.
    programs: Mutex<HashMap<([u8; 32], Option<EnvSpec>), Arc<Program>>>,
}

/// Locks a mutex whose critical sections are single operations (a panic cannot leave
/// one half done), ignoring poison.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Cluster {
    /// Starts the node: listens, joins the seeds (retrying in the background), and runs
    /// membership. Must run inside the tokio runtime that will drive the connections.
    ///
    /// # Errors
    /// The certificates cannot be loaded or do not name the node, or the address cannot
    /// be bound.
    pub(crate) fn start(
        config: NodeConfig,
        runtime: &Arc<Runtime>,
    ) -> Result<Arc<Self>, NodeError> {
        let tls = tls::NodeTls::load(&config.tls)?;
        if !tls::certificate_names(&tls.certificate, &config.name) {
            return Err(NodeError::NotNamed(config.name));
        }
        let endpoint = quinn::Endpoint::server(tls.server, config.listen).map_err(|source| {
            NodeError::Listen {
                addr: config.listen,
                source,
            }
        })?;
        let bound = endpoint.local_addr().unwrap_or(config.listen);
        let advertise = config.advertise.unwrap_or_else(|| peer::advertised(bound));
        let incarnation = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |since| since.as_millis() as u64);
        let me = wire::Hello {
            name: config.name.clone(),
            addr: advertise,
            incarnation,
        };
        let (events, incoming) = mpsc::unbounded_channel();
        let cluster = Arc::new(Self {
            id: node_id_of(&config.name),
            me: me.clone(),
            runtime: Arc::downgrade(runtime),
            endpoint,
            client: tls.client,
            io: tokio::runtime::Handle::current(),
            membership: events.clone(),
            peers: Mutex::default(),
            dialing: Mutex::default(),
            streams: Mutex::default(),
            links: Mutex::default(),
            pending_links: Mutex::default(),
            watched: Mutex::default(),
            watching: Mutex::default(),
            names: Mutex::default(),
            programs: Mutex::default(),
        });
        let member = membership::Member {
            name: me.name,
            addr: me.addr,
            incarnation,
        };
        tokio::spawn(membership::run(
            Arc::downgrade(&cluster),
            member,
            config.node_timeout,
            events,
            incoming,
        ));
        tokio::spawn(peer::accept(Arc::downgrade(&cluster)));
        tokio::spawn(peer::join(Arc::downgrade(&cluster), config.join));
        Ok(cluster)
    }

    /// This node's id.
    pub(crate) fn id(&self) -> NodeId {
        self.id
    }

    /// Where this node listens.
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.endpoint.local_addr().ok()
    }

    /// The connected nodes.
    pub(crate) fn nodes(&self) -> Vec<NodeId> {
        let mut nodes: Vec<_> = lock(&self.peers).keys().copied().collect();
        nodes.sort_unstable();
        nodes
    }

    /// The name of node `node` (this one's too), if known.
    pub(crate) fn node_name(&self, node: NodeId) -> Option<String> {
        if node == self.id {
            return Some(self.me.name.clone());
        }
        lock(&self.peers).get(&node).map(|peer| peer.name.clone())
    }

    fn connected(&self, node: NodeId) -> bool {
        lock(&self.peers).contains_key(&node)
    }

    /// Queues `frame` on `sender`'s stream to `node`; `false` if `node` is not connected.
    fn send_frame(&self, sender: ProcessId, node: NodeId, frame: Frame) -> bool {
        let mut streams = lock(&self.streams);
        if let Some(stream) = streams.get(&(sender, node)) {
            if stream.send(frame.clone()).is_ok() {
                return true;
            }
        }
        let Some(connection) = lock(&self.peers).get(&node).map(|p| p.connection.clone()) else {
            return false;
        };
        let (stream, frames) = mpsc::unbounded_channel();
        // The receiver is alive: the writer task starts with it.
        let _ = stream.send(frame);
        streams.insert((sender, node), stream);
        self.io
            .spawn(peer::write_stream(connection, sender, frames));
        true
    }

    /// Sends a message of `sender` to `to`. Dropped if the node is not connected, as a
    /// message to a dead process is.
    pub(crate) fn send(&self, sender: ProcessId, to: Remote, message: RemoteMessage) {
        self.send_frame(
            sender,
            to.node,
            Frame::Message {
                to: to.process,
                tag: message.tag,
                message_type: message.message_type,
                reply_tag: message.reply_tag,
                bytes: message.bytes,
            },
        );
    }

    /// Links local `process` to `to` under `tag`; a node not connected is reported at once.
    pub(crate) fn link(&self, process: &crate::process::ProcessHandle, to: Remote, tag: i64) {
        self.insert_link(process.id(), to, tag);
        if !self.send_frame(
            process.id(),
            to.node,
            Frame::Link {
                to: to.process,
                tag,
            },
        ) && self.remove_link(process.id(), to).is_some()
        {
            let reason = EncodedReason::new(EndReason::NoConnection { node: to.node });
            process.notify_link_death(to.node, to.process, tag, &reason, None);
        }
    }

    /// Records that local `process` is linked to `to` under `tag`.
    pub(crate) fn insert_link(&self, process: ProcessId, to: Remote, tag: i64) {
        lock(&self.links)
            .entry(process)
            .or_default()
            .insert(to, tag);
    }

    fn remove_link(&self, process: ProcessId, to: Remote) -> Option<i64> {
        let mut links = lock(&self.links);
        let set = links.get_mut(&process)?;
        let tag = set.remove(&to);
        if set.is_empty() {
            links.remove(&process);
        }
        tag
    }

    /// Removes local `process`'s link with `to`.
    pub(crate) fn unlink(&self, process: ProcessId, to: Remote) {
        if self.remove_link(process, to).is_some() {
            self.send_frame(process, to.node, Frame::Unlink { to: to.process });
        }
    }

    /// Makes local `watcher` hear, with `tag`, when `target` ends; a node not connected
    /// is reported at once.
    pub(crate) fn monitor(
        &self,
        watcher: &crate::process::ProcessHandle,
        target: Remote,
        tag: i64,
    ) {
        lock(&self.watching)
            .entry(target.node)
            .or_default()
            .insert(tag, (watcher.id(), target.process));
        let frame = Frame::Monitor {
            to: target.process,
            tag,
        };
        if !self.send_frame(watcher.id(), target.node, frame)
            && self.take_watching(target.node, tag).is_some()
        {
            let reason = EndReason::NoConnection { node: target.node };
            push_down(watcher, target, tag, EncodedReason::new(reason));
        }
    }

    fn take_watching(&self, node: NodeId, tag: i64) -> Option<(ProcessId, ProcessId)> {
        lock(&self.watching).get_mut(&node)?.remove(&tag)
    }

    /// Removes local `watcher`'s monitor `tag` of `target` (a notice on its way is dropped
    /// when it comes: the watcher abandons the tag).
    pub(crate) fn demonitor(&self, watcher: ProcessId, target: Remote, tag: i64) {
        if self.take_watching(target.node, tag).is_some() {
            let frame = Frame::Demonitor {
                to: target.process,
                tag,
            };
            self.send_frame(watcher, target.node, frame);
        }
    }

    /// Kills `target`.
    pub(crate) fn kill(&self, sender: ProcessId, target: Remote) {
        self.send_frame(sender, target.node, Frame::Kill { to: target.process });
    }

    /// Whether `target` is alive (`false` if its node cannot be reached).
    pub(crate) async fn is_alive(&self, target: Remote) -> bool {
        let call = wire::Call::IsAlive {
            process: target.process,
        };
        matches!(
            self.call(target.node, &call).await,
            Ok(wire::Answer::Alive(true))
        )
    }

    /// Asks `node` one [`wire::Call`] and reads its answer.
    async fn call(
        &self,
        node: NodeId,
        call: &wire::Call,
    ) -> Result<wire::Answer, RemoteSpawnError> {
        let connection = lock(&self.peers)
            .get(&node)
            .map(|peer| peer.connection.clone())
            .ok_or(RemoteSpawnError::NoConnection(node))?;
        let failed = |reason: String| RemoteSpawnError::Connection { node, reason };
        let (mut send, mut receive) = connection
            .open_bi()
            .await
            .map_err(|error| failed(error.to_string()))?;
        wire::write(&mut send, call)
            .await
            .map_err(|error| failed(error.to_string()))?;
        let answer = wire::read::<wire::Answer>(&mut receive)
            .await
            .map_err(|error| failed(error.to_string()))?
            .ok_or_else(|| failed("no answer".into()))?;
        if let (wire::Answer::NeedModule, wire::Call::Spawn { module, .. }) = (&answer, call) {
            let bytes = self
                .module_bytes(module)
                .ok_or_else(|| RemoteSpawnError::Refused {
                    node,
                    reason: "it asked for a module this node does not hold".into(),
                })?;
            wire::write(&mut send, &wire::Call::Module(bytes))
                .await
                .map_err(|error| failed(error.to_string()))?;
            return wire::read::<wire::Answer>(&mut receive)
                .await
                .map_err(|error| failed(error.to_string()))?
                .ok_or_else(|| failed("no answer".into()));
        }
        Ok(answer)
    }

    /// The bytes of the module whose hash is `hash`, if this node runs it.
    fn module_bytes(&self, hash: &[u8; 32]) -> Option<Vec<u8>> {
        let runtime = self.runtime.upgrade()?;
        if runtime.program().hash() == hash {
            return Some(runtime.program().bytes().to_vec());
        }
        lock(&self.programs)
            .iter()
            .find(|((module, _), _)| module == hash)
            .map(|(_, program)| program.bytes().to_vec())
    }

    /// Spawns `function(params)` of `program` on `node`, in an environment like `env`,
    /// linked to `spawner` under `link` if given; returns the child's id there.
    ///
    /// # Errors
    /// The node is not connected, the connection fails, or the node cannot spawn.
    pub(crate) async fn spawn(
        &self,
        node: NodeId,
        program: &Program,
        function: String,
        params: Vec<u8>,
        env: Option<EnvSpec>,
        spawner: ProcessId,
        link: Option<i64>,
    ) -> Result<ProcessId, RemoteSpawnError> {
        let call = wire::Call::Spawn {
            module: *program.hash(),
            function,
            params,
            env,
            link: link.map(|tag| (spawner, tag)),
        };
        if let Some(tag) = link {
            lock(&self.pending_links).insert((spawner, tag));
        }
        let answer = self.call(node, &call).await;
        let result = match answer {
            Ok(wire::Answer::Spawned { process }) => {
                if let Some(tag) = link {
                    self.insert_link(spawner, Remote { node, process }, tag);
                }
                Ok(process)
            }
            Ok(wire::Answer::Failed { reason }) => Err(RemoteSpawnError::Refused { node, reason }),
            Ok(other) => Err(RemoteSpawnError::Refused {
                node,
                reason: format!("it answered {other:?}"),
            }),
            Err(error) => Err(error),
        };
        if let Some(tag) = link {
            lock(&self.pending_links).remove(&(spawner, tag));
        }
        result
    }

    /// Registers local `process` under cluster-wide `name`.
    pub(crate) fn register(
        &self,
        name: &str,
        process: ProcessId,
        message_type: u64,
    ) -> lunatic_abi::RegistryStatus {
        use lunatic_abi::RegistryStatus;
        let Some(runtime) = self.runtime.upgrade() else {
            return RegistryStatus::NotFound;
        };
        let claim = Claim {
            node: self.id,
            process,
            message_type,
            stamp: now_millis(),
        };
        {
            let mut names = lock(&self.names);
            match names.get(name) {
                Some(held) if (held.node, held.process) != (self.id, process) => {
                    return RegistryStatus::Taken;
                }
                _ => {}
            }
            names.claim(name, claim);
        }
        // Released by `process_ended`, which runs after the process leaves the table.
        if runtime.processes().get(process).is_none() {
            lock(&self.names).unclaim(name, self.id, process);
            return RegistryStatus::NotFound;
        }
        self.broadcast(&Frame::Claim {
            name: name.to_owned(),
            process,
            message_type,
            stamp: claim.stamp,
        });
        RegistryStatus::Done
    }

    /// Finds cluster-wide `name`.
    pub(crate) fn lookup(
        &self,
        name: &str,
        message_type: u64,
    ) -> Result<Remote, lunatic_abi::RegistryStatus> {
        let names = lock(&self.names);
        let claim = names
            .get(name)
            .ok_or(lunatic_abi::RegistryStatus::NotFound)?;
        if claim.message_type != message_type {
            return Err(lunatic_abi::RegistryStatus::WrongType);
        }
        Ok(Remote {
            node: claim.node,
            process: claim.process,
        })
    }

    /// Removes cluster-wide `name` if a local process holds it.
    pub(crate) fn unregister(&self, name: &str) -> lunatic_abi::RegistryStatus {
        let held = lock(&self.names).get(name).copied();
        match held {
            Some(claim) if claim.node == self.id => {
                lock(&self.names).unclaim(name, self.id, claim.process);
                self.broadcast(&Frame::Unclaim {
                    name: name.to_owned(),
                    process: claim.process,
                });
                lunatic_abi::RegistryStatus::Done
            }
            _ => lunatic_abi::RegistryStatus::NotFound,
        }
    }

    /// Sends `frame` from the node itself to every connected node.
    fn broadcast(&self, frame: &Frame) {
        for node in self.nodes() {
            self.send_frame(0, node, frame.clone());
        }
    }

    /// Tells other nodes that local process `id` ended: its links there (a signal, or the
    /// link's removal on a normal end), its watchers there, its names. Called by
    /// `Runtime::finish` once the process is out of the table.
    pub(crate) fn process_ended(&self, id: ProcessId, reason: &EncodedReason) {
        let links = lock(&self.links).remove(&id);
        for (remote, tag) in links.into_iter().flatten() {
            let frame = if reason.reason().is_abnormal() {
                Frame::LinkDied {
                    to: remote.process,
                    from: id,
                    tag,
                    reason: reason.bytes().to_vec(),
                }
            } else {
                Frame::Unlink { to: remote.process }
            };
            self.send_frame(id, remote.node, frame);
        }
        let watchers = lock(&self.watched).remove(&id);
        for (tag, watcher) in watchers.into_iter().flatten() {
            let frame = Frame::Down {
                to: watcher.process,
                from: id,
                tag,
                reason: reason.bytes().to_vec(),
            };
            self.send_frame(id, watcher.node, frame);
        }
        let names = lock(&self.names).of_process(self.id, id);
        for name in names {
            lock(&self.names).unclaim(&name, self.id, id);
            self.broadcast(&Frame::Unclaim { name, process: id });
        }
        // Its streams finish once what is queued on them is written.
        let mut streams = lock(&self.streams);
        streams.retain(|(sender, _), _| *sender != id);
    }

    /// A node was lost: its links fire, its monitors report, its names go.
    fn node_lost(&self, node: NodeId, incarnation: u64) {
        {
            let mut peers = lock(&self.peers);
            match peers.get(&node) {
                Some(peer) if peer.incarnation == incarnation => {
                    peer.connection.close(0u32.into(), b"lost");
                    peers.remove(&node);
                }
                _ => return,
            }
        }
        tracing::warn!(target: "lunatic::cluster", "node {node} lost");
        lock(&self.streams).retain(|(_, to), _| *to != node);
        let Some(runtime) = self.runtime.upgrade() else {
            return;
        };
        let reason = EncodedReason::new(EndReason::NoConnection { node });
        let mut broken = Vec::new();
        lock(&self.links).retain(|local, set| {
            set.retain(|remote, tag| {
                let keep = remote.node != node;
                if !keep {
                    broken.push((*local, *remote, *tag));
                }
                keep
            });
            !set.is_empty()
        });
        for (local, remote, tag) in broken {
            if let Some(process) = runtime.processes().get(local) {
                process.notify_link_death(node, remote.process, tag, &reason, None);
            }
        }
        let watching = lock(&self.watching).remove(&node);
        for (tag, (watcher, target)) in watching.into_iter().flatten() {
            if let Some(watcher) = runtime.processes().get(watcher) {
                let target = Remote {
                    node,
                    process: target,
                };
                push_down(&watcher, target, tag, reason.clone());
            }
        }
        lock(&self.watched).retain(|_, set| {
            set.retain(|_, watcher| watcher.node != node);
            !set.is_empty()
        });
        lock(&self.names).forget_node(node);
    }

    /// Carries out `frame`, which `sender` of `node` sent.
    fn deliver(&self, node: NodeId, sender: ProcessId, frame: Frame) {
        let Some(runtime) = self.runtime.upgrade() else {
            return;
        };
        let processes = runtime.processes();
        let from = Remote {
            node,
            process: sender,
        };
        match frame {
            Frame::Message {
                to,
                tag,
                message_type,
                reply_tag,
                bytes,
            } => {
                if let Some(target) = processes.get(to) {
                    target.mailbox().push(Message {
                        tag,
                        kind: MessageKind::Data(MessageData {
                            sender,
                            message_type,
                            reply_tag,
                            bytes: MessageBytes::from_vec(bytes),
                            extra: MessageExtra::from_node(node),
                        }),
                        charge: None,
                    });
                }
            }
            Frame::Link { to, tag } => {
                self.insert_link(to, from, tag);
                if processes.get(to).is_none() && self.remove_link(to, from).is_some() {
                    let reason = EncodedReason::new(EndReason::NoProcess { process: to });
                    let frame = Frame::LinkDied {
                        to: sender,
                        from: to,
                        tag,
                        reason: reason.bytes().to_vec(),
                    };
                    self.send_frame(0, node, frame);
                }
            }
            Frame::Unlink { to } => {
                self.remove_link(to, from);
            }
            Frame::LinkDied {
                to,
                from: died,
                tag,
                reason,
            } => {
                let died = Remote {
                    node,
                    process: died,
                };
                let linked = self.remove_link(to, died).is_some()
                    || lock(&self.pending_links).contains(&(to, tag));
                if let (true, Some(target), Some(reason)) =
                    (linked, processes.get(to), decode_reason(&reason))
                {
                    target.notify_link_death(node, died.process, tag, &reason, None);
                }
            }
            Frame::Monitor { to, tag } => {
                lock(&self.watched).entry(to).or_default().insert(tag, from);
                if processes.get(to).is_none() {
                    let removed = lock(&self.watched)
                        .get_mut(&to)
                        .and_then(|set| set.remove(&tag));
                    if removed.is_some() {
                        let reason = EncodedReason::new(EndReason::NoProcess { process: to });
                        let frame = Frame::Down {
                            to: sender,
                            from: to,
                            tag,
                            reason: reason.bytes().to_vec(),
                        };
                        self.send_frame(0, node, frame);
                    }
                }
            }
            Frame::Demonitor { to, tag } => {
                let mut watched = lock(&self.watched);
                if let Some(set) = watched.get_mut(&to) {
                    set.remove(&tag);
                    if set.is_empty() {
                        watched.remove(&to);
                    }
                }
            }
            Frame::Down {
                to,
                from: ended,
                tag,
                reason,
            } => {
                let watched = self.take_watching(node, tag);
                if let (Some((watcher, _)), Some(reason)) = (watched, decode_reason(&reason)) {
                    if let Some(watcher) = processes.get(watcher).filter(|w| w.id() == to) {
                        let target = Remote {
                            node,
                            process: ended,
                        };
                        push_down(&watcher, target, tag, reason);
                    }
                }
            }
            Frame::Kill { to } => {
                if let Some(target) = processes.get(to) {
                    target.mailbox().kill(EndReason::Killed);
                }
            }
            Frame::Claim {
                name,
                process,
                message_type,
                stamp,
            } => {
                let claim = Claim {
                    node,
                    process,
                    message_type,
                    stamp,
                };
                let settled = lock(&self.names).claim(&name, claim);
                if let Settled::Displaced(lost) = settled {
                    if lost.node == self.id {
                        tracing::warn!(
                            target: "lunatic::cluster",
                            "process {} loses cluster-wide name {name:?} to a process of node {node}, and is killed",
                            lost.process
                        );
                        if let Some(loser) = processes.get(lost.process) {
                            loser.mailbox().kill(EndReason::Error(format!(
                                "cluster-wide name {name:?} is held by a process of node {node}"
                            )));
                        }
                    }
                }
            }
            Frame::Unclaim { name, process } => {
                lock(&self.names).unclaim(&name, node, process);
            }
        }
    }

    /// Tells a newly connected node of this node's names.
    fn send_names(&self, node: NodeId) {
        let names = lock(&self.names).of_node(self.id);
        for (name, claim) in names {
            let frame = Frame::Claim {
                name,
                process: claim.process,
                message_type: claim.message_type,
                stamp: claim.stamp,
            };
            self.send_frame(0, node, frame);
        }
    }

    /// The membership protocol's packet for `member`.
    fn send_packet(&self, member: &membership::Member, packet: bytes::Bytes) {
        let node = node_id_of(&member.name);
        let connection = lock(&self.peers).get(&node).map(|p| p.connection.clone());
        match connection {
            Some(connection) => {
                let _ = connection.send_datagram(packet);
            }
            None => self.dial(member.addr),
        }
    }

    fn member_up(self: &Arc<Self>, member: &membership::Member) {
        if member.name != self.me.name && !self.connected(node_id_of(&member.name)) {
            self.dial(member.addr);
        }
    }

    fn member_down(&self, member: &membership::Member) {
        self.node_lost(node_id_of(&member.name), member.incarnation);
    }

    /// Connects to the node at `addr` in the background (once at a time).
    fn dial(&self, addr: SocketAddr) {
        if addr == self.me.addr || !lock(&self.dialing).insert(addr) {
            return;
        }
        let Some(cluster) = self
            .runtime
            .upgrade()
            .and_then(|runtime| runtime.cluster().cloned())
        else {
            return;
        };
        self.io.spawn(async move {
            peer::dial(&cluster, addr).await;
            lock(&cluster.dialing).remove(&addr);
        });
    }

    /// Leaves the cluster (graceful shutdown): others hear at once rather than by timeout.
    pub(crate) fn leave(&self) {
        let _ = self.membership.send(membership::Event::Leave);
        for peer in lock(&self.peers).values() {
            peer.connection.close(0u32.into(), b"leaving");
        }
    }
}

/// What a local process sends to a remote one.
#[derive(Debug)]
pub(crate) struct RemoteMessage {
    pub(crate) tag: i64,
    pub(crate) message_type: u64,
    pub(crate) reply_tag: i64,
    pub(crate) bytes: Vec<u8>,
}

fn push_down(
    watcher: &crate::process::ProcessHandle,
    target: Remote,
    tag: i64,
    reason: EncodedReason,
) {
    watcher.mailbox().push(Message {
        tag,
        kind: MessageKind::ProcessDown {
            node: target.node,
            process: target.process,
            reason,
        },
        charge: None,
    });
}

fn decode_reason(bytes: &[u8]) -> Option<EncodedReason> {
    EndReason::decode(bytes).ok().map(EncodedReason::new)
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}
