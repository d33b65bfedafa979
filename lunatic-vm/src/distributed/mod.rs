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
//! - A node has every connection to it listed (two nodes may dial each other at once);
//!   losing it closes them all, so the other side loses this node too, and frames that
//!   make records (links, monitors, names) from a node no longer connected are ignored.
//! - A cluster-wide name is claimed and given up, and the news queued on the node's
//!   streams, under the `names` lock, so every node hears a name's changes in order.
//! - Locks: `names` is taken before `streams` and `peers` (above); `peers`, `streams`,
//!   `links`, `watched`, `watching`, `pending_spawns` and `programs` are otherwise each
//!   taken alone, and none is held around a mailbox push (a wake may take the scheduler's
//!   lock).
//! - What a sandboxed process makes this node hold for other nodes is charged to its
//!   environment: a message's bytes until its frame is written (`QueuedBytes`), each
//!   remote link, monitor and cluster-wide name while it lasts (`Handles`).

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

use lunatic_abi::{EndReason, Limit};
use tokio::sync::mpsc;

use crate::messaging::{Message, MessageBytes, MessageData, MessageExtra, MessageKind};
use crate::process::{EncodedReason, IdMap, ProcessId};
use crate::program::Program;
use crate::runtime::Runtime;
use crate::sandbox::budget::{Budget, Held, OverLimit};
use crate::sandbox::environment::Environment;
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
    #[error("`lunatic-node` is the name every node's certificate carries, not a node's name")]
    ReservedName,
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
    /// The node's pool is full.
    #[error("node {node} runs as many processes as it may ({alive})")]
    NoRoom { node: NodeId, alive: u64 },
    /// The child's environment there is at a limit.
    #[error("node {node} could not spawn: over the environment's limit of {limit}")]
    OverLimit { node: NodeId, limit: Limit },
}

/// A connected node.
#[derive(Debug, Clone)]
struct Peer {
    name: String,
    addr: SocketAddr,
    incarnation: u64,
    /// Its connections, the one to send on last.
    connections: Vec<quinn::Connection>,
}

impl Peer {
    fn connection(&self) -> Option<&quinn::Connection> {
        self.connections.last()
    }
}

/// One side of a link with a process of another node: the tag its signals carry, and for
/// a sandboxed process its charge.
#[derive(Debug)]
struct RemoteLink {
    tag: i64,
    _charge: Option<Held>,
}

/// A local process's monitor of a process of another node.
#[derive(Debug)]
struct Watch {
    target: Remote,
    _charge: Option<Held>,
}

/// A module spawned here from another node, by its hash and the environment it runs in.
type ProgramKey = ([u8; 32], Option<EnvSpec>);

/// A frame queued on a stream, with what it costs its sender's environment until written.
pub(crate) type Queued = (Frame, Option<Held>);

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
    streams: Mutex<HashMap<(ProcessId, NodeId), mpsc::UnboundedSender<Queued>>>,
    /// Local processes' links to remote ones.
    links: Mutex<IdMap<ProcessId, HashMap<Remote, RemoteLink>>>,
    /// Remote spawns with a link, in flight, by (spawner, tag): the child's node, and
    /// whether the child already ended (its signal or unlink may come before the answer).
    pending_spawns: Mutex<HashMap<(ProcessId, i64), (NodeId, bool)>>,
    /// Remote watchers of local processes: target, then tag.
    watched: Mutex<IdMap<ProcessId, IdMap<i64, Remote>>>,
    /// Local processes' monitors of remote ones: watcher, then tag.
    watching: Mutex<IdMap<ProcessId, IdMap<i64, Watch>>>,
    names: Mutex<Names>,
    /// Modules spawned here from other nodes: by hash and environment.
    programs: Mutex<HashMap<ProgramKey, Arc<Program>>>,
}

/// Locks a mutex whose critical sections are single operations (a panic cannot leave
/// one half done), ignoring poison.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What `budget` (a sandboxed process's environment's, if any) is charged for `amount` of
/// `limit`.
fn charge(
    budget: Option<&Arc<Budget>>,
    limit: Limit,
    amount: u64,
) -> Result<Option<Held>, OverLimit> {
    budget.map(|budget| budget.hold(limit, amount)).transpose()
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
        if config.name == tls::CLUSTER_NAME {
            return Err(NodeError::ReservedName);
        }
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
            pending_spawns: Mutex::default(),
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

    /// Queues `frame` on `sender`'s stream to `node`, with what it costs its sender until
    /// it is written; `false` if `node` is not connected.
    fn send_frame(
        &self,
        sender: ProcessId,
        node: NodeId,
        frame: Frame,
        charge: Option<Held>,
    ) -> bool {
        let queued = match lock(&self.streams).get(&(sender, node)) {
            Some(stream) => stream.send((frame, charge)).map_err(|back| back.0),
            None => Err((frame, charge)),
        };
        let Err(queued) = queued else {
            return true;
        };
        let connection = lock(&self.peers)
            .get(&node)
            .and_then(|peer| peer.connection().cloned());
        let Some(connection) = connection else {
            return false;
        };
        let mut streams = lock(&self.streams);
        let stream = streams.entry((sender, node)).or_insert_with(|| {
            let (stream, frames) = mpsc::unbounded_channel();
            self.io
                .spawn(peer::write_stream(connection, sender, frames));
            stream
        });
        // The writer was just started, or another thread's is alive.
        stream.send(queued).is_ok()
    }

    /// Sends a message of `sender` (charged to `budget`, a sandboxed sender's
    /// environment's) to `to`. Dropped if the node is not connected, as a message to a
    /// dead process is.
    ///
    /// # Errors
    /// The sender's environment is over its limit of queued bytes.
    pub(crate) fn send(
        &self,
        sender: ProcessId,
        budget: Option<&Arc<Budget>>,
        to: Remote,
        message: RemoteMessage,
    ) -> Result<(), OverLimit> {
        let held = charge(budget, Limit::QueuedBytes, message.bytes.len() as u64 + 64)?;
        let frame = Frame::Message {
            to: to.process,
            tag: message.tag,
            message_type: message.message_type,
            reply_tag: message.reply_tag,
            bytes: message.bytes,
        };
        self.send_frame(sender, to.node, frame, held);
        Ok(())
    }

    /// Links local `process` to `to` under `tag` (charged to `budget`); a node not
    /// connected is reported at once.
    ///
    /// # Errors
    /// The process's environment is over its limit of handles.
    pub(crate) fn link(
        &self,
        process: &crate::process::ProcessHandle,
        budget: Option<&Arc<Budget>>,
        to: Remote,
        tag: i64,
    ) -> Result<(), OverLimit> {
        let held = charge(budget, Limit::Handles, 1)?;
        self.insert_link(process.id(), to, tag, held);
        let frame = Frame::Link {
            to: to.process,
            tag,
        };
        if !self.send_frame(process.id(), to.node, frame, None) {
            self.link_failed(process.id(), to, tag);
        }
        Ok(())
    }

    /// Records that local `process` is linked to `to` under `tag`.
    fn insert_link(&self, process: ProcessId, to: Remote, tag: i64, charge: Option<Held>) {
        let link = RemoteLink {
            tag,
            _charge: charge,
        };
        lock(&self.links)
            .entry(process)
            .or_default()
            .insert(to, link);
    }

    /// Records a link made by a remote spawn (the child's side, before it runs), and
    /// answers at once if the spawner's node is gone meanwhile.
    pub(crate) fn insert_spawn_link(&self, child: ProcessId, spawner: Remote, tag: i64) {
        self.insert_link(child, spawner, tag, None);
        if !self.connected(spawner.node) {
            self.link_failed(child, spawner, tag);
        }
    }

    /// Tells local `process` that its link `tag` to `to` could not be kept: the node is
    /// not connected. Nothing if the link went meanwhile.
    fn link_failed(&self, process: ProcessId, to: Remote, tag: i64) {
        if self.remove_link(process, to, Some(tag)).is_none() {
            return;
        }
        if let Some(handle) = self
            .runtime
            .upgrade()
            .and_then(|r| r.processes().get(process))
        {
            let reason = EncodedReason::new(EndReason::NoConnection { node: to.node });
            handle.notify_link_death(to.node, to.process, tag, &reason, None);
        }
    }

    /// Removes local `process`'s link with `to` (only if it has `tag`, when given).
    fn remove_link(&self, process: ProcessId, to: Remote, tag: Option<i64>) -> Option<i64> {
        let mut links = lock(&self.links);
        let set = links.get_mut(&process)?;
        if tag.is_some_and(|tag| set.get(&to).is_some_and(|link| link.tag != tag)) {
            return None;
        }
        let link = set.remove(&to);
        if set.is_empty() {
            links.remove(&process);
        }
        link.map(|link| link.tag)
    }

    /// Removes local `process`'s link with `to`.
    pub(crate) fn unlink(&self, process: ProcessId, to: Remote) {
        if self.remove_link(process, to, None).is_some() {
            self.send_frame(process, to.node, Frame::Unlink { to: to.process }, None);
        }
    }

    /// Makes local `watcher` hear, with `tag`, when `target` ends (charged to `budget`); a
    /// node not connected is reported at once.
    ///
    /// # Errors
    /// The watcher's environment is over its limit of handles.
    pub(crate) fn monitor(
        &self,
        watcher: &crate::process::ProcessHandle,
        budget: Option<&Arc<Budget>>,
        target: Remote,
        tag: i64,
    ) -> Result<(), OverLimit> {
        let held = charge(budget, Limit::Handles, 1)?;
        let watch = Watch {
            target,
            _charge: held,
        };
        lock(&self.watching)
            .entry(watcher.id())
            .or_default()
            .insert(tag, watch);
        let frame = Frame::Monitor {
            to: target.process,
            tag,
        };
        if !self.send_frame(watcher.id(), target.node, frame, None)
            && self.take_watch(watcher.id(), tag).is_some()
        {
            let reason = EndReason::NoConnection { node: target.node };
            push_down(watcher, target, tag, EncodedReason::new(reason));
        }
        Ok(())
    }

    fn take_watch(&self, watcher: ProcessId, tag: i64) -> Option<Watch> {
        let mut watching = lock(&self.watching);
        let set = watching.get_mut(&watcher)?;
        let watch = set.remove(&tag);
        if set.is_empty() {
            watching.remove(&watcher);
        }
        watch
    }

    /// Removes local `watcher`'s monitor `tag` of `target` (a notice on its way is dropped
    /// when it comes: the watcher abandons the tag).
    pub(crate) fn demonitor(&self, watcher: ProcessId, target: Remote, tag: i64) {
        if self.take_watch(watcher, tag).is_some() {
            let frame = Frame::Demonitor {
                to: target.process,
                tag,
            };
            self.send_frame(watcher, target.node, frame, None);
        }
    }

    /// Kills `target`.
    pub(crate) fn kill(&self, sender: ProcessId, target: Remote) {
        self.send_frame(
            sender,
            target.node,
            Frame::Kill { to: target.process },
            None,
        );
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
            .and_then(|peer| peer.connection().cloned())
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
    #[allow(clippy::too_many_arguments)]
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
        // Until the answer comes, a link death or unlink from the child is noted here; the
        // guard forgets it if the spawner is killed meanwhile.
        let _pending = link.map(|tag| PendingSpawn::new(self, spawner, tag, node));
        let answer = self.call(node, &call).await;
        match answer {
            Ok(wire::Answer::Spawned { process }) => {
                if let Some(tag) = link {
                    let ended = lock(&self.pending_spawns)
                        .get(&(spawner, tag))
                        .is_some_and(|(_, ended)| *ended);
                    if !ended {
                        self.insert_link(spawner, Remote { node, process }, tag, None);
                        if !self.connected(node) {
                            self.link_failed(spawner, Remote { node, process }, tag);
                        }
                    }
                }
                Ok(process)
            }
            Ok(wire::Answer::NoRoom { alive }) => Err(RemoteSpawnError::NoRoom { node, alive }),
            Ok(wire::Answer::OverLimit { limit }) => Err(match Limit::try_from(limit) {
                Ok(limit) => RemoteSpawnError::OverLimit { node, limit },
                Err(unknown) => RemoteSpawnError::Refused {
                    node,
                    reason: format!("it answered an unknown limit {unknown}"),
                },
            }),
            Ok(wire::Answer::Failed { reason }) => Err(RemoteSpawnError::Refused { node, reason }),
            Ok(other) => Err(RemoteSpawnError::Refused {
                node,
                reason: format!("it answered {other:?}"),
            }),
            Err(error) => Err(error),
        }
    }

    /// Registers local `process` under cluster-wide `name`, for a caller of environment
    /// `env`, which it costs a handle while held (names beginning `lunatic::` are the root
    /// environment's).
    pub(crate) fn register(
        &self,
        name: &str,
        process: ProcessId,
        message_type: u64,
        env: &Environment,
    ) -> lunatic_abi::RegistryStatus {
        use lunatic_abi::RegistryStatus;
        if name.starts_with("lunatic::") && env.budget().is_some() {
            return RegistryStatus::Taken;
        }
        let Some(runtime) = self.runtime.upgrade() else {
            return RegistryStatus::NotFound;
        };
        // A name costs its registrant's environment a handle while it is held.
        let Ok(held) = charge(env.budget(), Limit::Handles, 1) else {
            return RegistryStatus::OverLimit;
        };
        let claim = Claim {
            node: self.id,
            process,
            message_type,
            stamp: now_millis(),
        };
        let mut names = lock(&self.names);
        if names
            .get(name)
            .is_some_and(|held| (held.node, held.process) != (self.id, process))
        {
            return RegistryStatus::Taken;
        }
        // `process_ended` takes the names lock after the process left the table: it sees
        // this claim, or the check below sees the process gone.
        if runtime.processes().get(process).is_none() {
            return RegistryStatus::NotFound;
        }
        names.claim_charged(name, claim, held);
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

    /// Removes cluster-wide `name` if a local process of environment `env` holds it.
    pub(crate) fn unregister(&self, name: &str, env: &Environment) -> lunatic_abi::RegistryStatus {
        let Some(runtime) = self.runtime.upgrade() else {
            return lunatic_abi::RegistryStatus::NotFound;
        };
        let mut names = lock(&self.names);
        let holder = names
            .get(name)
            .filter(|claim| claim.node == self.id)
            .map(|claim| claim.process);
        let same_env = holder
            .and_then(|holder| runtime.processes().get(holder))
            .is_some_and(|holder| holder.profile().environment.id() == env.id());
        match holder {
            Some(process) if same_env => {
                names.unclaim(name, self.id, process);
                self.broadcast(&Frame::Unclaim {
                    name: name.to_owned(),
                    process,
                });
                lunatic_abi::RegistryStatus::Done
            }
            _ => lunatic_abi::RegistryStatus::NotFound,
        }
    }

    /// Queues `frame` from the node itself to every connected node.
    fn broadcast(&self, frame: &Frame) {
        for node in self.nodes() {
            self.send_frame(0, node, frame.clone(), None);
        }
    }

    /// Tells other nodes that local process `id` ended: its links there (a signal, or the
    /// link's removal on a normal end), its watchers there, its names; and drops its own
    /// monitors there. Called by `Runtime::finish` once the process is out of the table.
    pub(crate) fn process_ended(&self, id: ProcessId, reason: &EncodedReason) {
        let links = lock(&self.links).remove(&id);
        for (remote, link) in links.into_iter().flatten() {
            let frame = if reason.reason().is_abnormal() {
                Frame::LinkDied {
                    to: remote.process,
                    from: id,
                    tag: link.tag,
                    reason: reason.bytes().to_vec(),
                }
            } else {
                Frame::Unlink { to: remote.process }
            };
            self.send_frame(id, remote.node, frame, None);
        }
        let watchers = lock(&self.watched).remove(&id);
        for (tag, watcher) in watchers.into_iter().flatten() {
            let frame = Frame::Down {
                to: watcher.process,
                from: id,
                tag,
                reason: reason.bytes().to_vec(),
            };
            self.send_frame(id, watcher.node, frame, None);
        }
        let watching = lock(&self.watching).remove(&id);
        for (tag, watch) in watching.into_iter().flatten() {
            let frame = Frame::Demonitor {
                to: watch.target.process,
                tag,
            };
            self.send_frame(id, watch.target.node, frame, None);
        }
        {
            let mut names = lock(&self.names);
            for name in names.of_process(self.id, id) {
                names.unclaim(&name, self.id, id);
                self.broadcast(&Frame::Unclaim { name, process: id });
            }
        }
        // Its streams finish once what is queued on them is written.
        lock(&self.streams).retain(|(sender, _), _| *sender != id);
    }

    /// A node was lost (the run `incarnation` of it, or an earlier one): all its
    /// connections close, its links fire, its monitors report, its names go.
    fn node_lost(&self, node: NodeId, incarnation: u64) {
        {
            let mut peers = lock(&self.peers);
            match peers.get(&node) {
                Some(peer) if peer.incarnation <= incarnation => {
                    for connection in &peer.connections {
                        connection.close(0u32.into(), b"lost");
                    }
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
            set.retain(|remote, link| {
                let keep = remote.node != node;
                if !keep {
                    broken.push((*local, *remote, link.tag));
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
        let mut downs = Vec::new();
        lock(&self.watching).retain(|watcher, set| {
            set.retain(|tag, watch| {
                let keep = watch.target.node != node;
                if !keep {
                    downs.push((*watcher, *tag, watch.target));
                }
                keep
            });
            !set.is_empty()
        });
        for (watcher, tag, target) in downs {
            if let Some(watcher) = runtime.processes().get(watcher) {
                push_down(&watcher, target, tag, reason.clone());
            }
        }
        lock(&self.watched).retain(|_, set| {
            set.retain(|_, watcher| watcher.node != node);
            !set.is_empty()
        });
        for (_, (child_node, ended)) in lock(&self.pending_spawns).iter_mut() {
            if *child_node == node {
                *ended = true;
            }
        }
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
                self.insert_link(to, from, tag, None);
                // A record from a node lost meanwhile would never be cleared.
                if !self.connected(node) {
                    self.remove_link(to, from, Some(tag));
                } else if processes.get(to).is_none()
                    && self.remove_link(to, from, Some(tag)).is_some()
                {
                    let reason = EncodedReason::new(EndReason::NoProcess { process: to });
                    let frame = Frame::LinkDied {
                        to: sender,
                        from: to,
                        tag,
                        reason: reason.bytes().to_vec(),
                    };
                    self.send_frame(0, node, frame, None);
                }
            }
            Frame::Unlink { to } => {
                if self.remove_link(to, from, None).is_none() {
                    self.note_pending_end(to, node);
                }
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
                let linked = self.remove_link(to, died, Some(tag)).is_some()
                    || self.note_pending_end_of(to, tag);
                if let (true, Some(target), Some(reason)) =
                    (linked, processes.get(to), decode_reason(&reason))
                {
                    target.notify_link_death(node, died.process, tag, &reason, None);
                }
            }
            Frame::Monitor { to, tag } => {
                lock(&self.watched).entry(to).or_default().insert(tag, from);
                let gone = !self.connected(node) || processes.get(to).is_none();
                if gone {
                    let removed = lock(&self.watched)
                        .get_mut(&to)
                        .and_then(|set| set.remove(&tag));
                    if removed.is_some() && self.connected(node) {
                        let reason = EncodedReason::new(EndReason::NoProcess { process: to });
                        let frame = Frame::Down {
                            to: sender,
                            from: to,
                            tag,
                            reason: reason.bytes().to_vec(),
                        };
                        self.send_frame(0, node, frame, None);
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
                let watch = self.take_watch(to, tag);
                let target = Remote {
                    node,
                    process: ended,
                };
                if let (Some(watch), Some(reason)) = (watch, decode_reason(&reason)) {
                    if let Some(watcher) = processes.get(to).filter(|_| watch.target == target) {
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
                let mut names = lock(&self.names);
                if !self.connected(node) {
                    return;
                }
                let settled = names.claim(&name, claim);
                drop(names);
                if let Settled::Displaced(lost) = settled {
                    if lost.node == self.id {
                        tracing::warn!(
                            target: "lunatic::cluster",
                            "process {} loses cluster-wide name {name:?} to a process of node {node}, and is killed",
                            lost.process
                        );
                        if let Some(loser) = processes.get(lost.process) {
                            loser.mailbox().kill(EndReason::NameTaken { name, node });
                        }
                    }
                }
            }
            Frame::Unclaim { name, process } => {
                lock(&self.names).unclaim(&name, node, process);
            }
        }
    }

    /// Notes that the child of a pending remote spawn of `spawner` on `node` ended (it
    /// unlinked itself as it ended normally).
    fn note_pending_end(&self, spawner: ProcessId, node: NodeId) {
        for ((pending, _), (child_node, ended)) in lock(&self.pending_spawns).iter_mut() {
            if *pending == spawner && *child_node == node {
                *ended = true;
            }
        }
    }

    /// Notes that the child of `spawner`'s pending spawn with link `tag` died; whether
    /// there was one.
    fn note_pending_end_of(&self, spawner: ProcessId, tag: i64) -> bool {
        match lock(&self.pending_spawns).get_mut(&(spawner, tag)) {
            Some((_, ended)) => {
                *ended = true;
                true
            }
            None => false,
        }
    }

    /// Tells a newly connected node of this node's names.
    fn send_names(&self, node: NodeId) {
        let names = lock(&self.names);
        for (name, claim) in names.of_node(self.id) {
            let frame = Frame::Claim {
                name,
                process: claim.process,
                message_type: claim.message_type,
                stamp: claim.stamp,
            };
            self.send_frame(0, node, frame, None);
        }
    }

    /// The membership protocol's packet for `member`.
    fn send_packet(&self, member: &membership::Member, packet: bytes::Bytes) {
        let node = node_id_of(&member.name);
        let connection = lock(&self.peers)
            .get(&node)
            .and_then(|peer| peer.connection().cloned());
        match connection {
            Some(connection) => {
                let _ = connection.send_datagram(packet);
            }
            None => self.dial(member.addr),
        }
    }

    fn member_up(&self, member: &membership::Member) {
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

    /// Tells the others this node leaves (graceful shutdown), so they hear at once rather
    /// than by timeout; [`Cluster::close`] then ends the connections.
    pub(crate) fn leave(&self) {
        let _ = self.membership.send(membership::Event::Leave);
    }

    /// Closes every connection.
    pub(crate) fn close(&self) {
        for peer in lock(&self.peers).values() {
            for connection in &peer.connections {
                connection.close(0u32.into(), b"leaving");
            }
        }
    }
}

/// A remote spawn with a link, in flight (see `Cluster::pending_spawns`): forgotten when
/// the spawn's call ends, answered or not.
struct PendingSpawn<'a> {
    cluster: &'a Cluster,
    key: (ProcessId, i64),
}

impl<'a> PendingSpawn<'a> {
    fn new(cluster: &'a Cluster, spawner: ProcessId, tag: i64, node: NodeId) -> Self {
        lock(&cluster.pending_spawns).insert((spawner, tag), (node, false));
        Self {
            cluster,
            key: (spawner, tag),
        }
    }
}

impl Drop for PendingSpawn<'_> {
    fn drop(&mut self) {
        lock(&self.cluster.pending_spawns).remove(&self.key);
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
