//! Process groups, as Erlang's `pg`: processes join named groups, anyone in the same
//! environment can list a group's members or send to all of them, and a member that ends
//! leaves every group it was in.
//!
//! A group is typed by its members' message type: the first join fixes it, and a join,
//! list or send with another type is [`PgError::WrongType`], never a message nobody can
//! read. A process is in a group once, however often it joins.
//!
//! As in Erlang, the groups live in a scope process: one per environment, registered under
//! [`SCOPE_NAME`] (so the environment must allow `lunatic::registry`) and started by the
//! first call that finds none. It monitors each member, so a member's end removes it.
//!
//! Groups span the nodes of a cluster (`lunatic --node`), as Erlang's do: a node's first
//! scope (in an environment allowed `lunatic::distributed`) has a helper register it under
//! the cluster-wide name `lunatic::pg@NODE` and look up its peers on the nodes it is
//! connected to (at once, and again every [`PEER_CHECK`]); the scope tells each peer what
//! joined through it, when they meet and at every join and leave. The helper is a process
//! of its own so that a scope whose environment may not reach other nodes stays local. A group's
//! members are those that joined through any scope; those of a scope that ends, or whose
//! node is lost, go with it. Changes reach the other nodes a moment later, not at once.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{LunaticError, ReceiveError};
use crate::mailbox::Mailbox;
use crate::process::{self, Process, ProcessId};
use crate::registry::{self, RegistryError};
use crate::request::Request;
use crate::{MessageType, Sendable};

/// The name the environment's scope process is registered under.
pub const SCOPE_NAME: &str = "lunatic::pg";

/// How often a scope in a cluster looks for the scopes of nodes that connected.
const PEER_CHECK: std::time::Duration = std::time::Duration::from_millis(500);

/// The cluster-wide name of node `node`'s scope.
fn peer_name(node: u64) -> String {
    format!("{SCOPE_NAME}@{node}")
}

/// Why a group call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PgError {
    /// The group's members take another message type.
    #[error("the group `{group}` is of processes taking {found}, not {expected}")]
    WrongType {
        /// The group.
        group: String,
        /// The caller's message type.
        expected: String,
        /// The group's.
        found: String,
    },
    /// The environment's scope could not be looked up or registered (the environment
    /// must allow `lunatic::registry`).
    #[error("the process groups' scope: {0}")]
    Scope(#[from] RegistryError),
    /// The scope could not be started.
    #[error("the process groups' scope could not start: {0}")]
    Start(#[from] LunaticError),
    /// The scope did not answer.
    #[error("the process groups' scope did not answer: {0}")]
    NoAnswer(#[from] ReceiveError),
}

/// Joins `process` to `group`.
///
/// # Errors
/// [`PgError`]: the group takes another message type, or the scope cannot be reached.
pub fn join<M: Sendable>(group: &str, process: &Process<M>) -> Result<(), PgError> {
    let change = Change {
        group: group.to_owned(),
        message_type: type_name::<M>(),
        process: process.process_id(),
    };
    Ok(ask(ScopeRequest::Join, change)??)
}

/// Removes `process` from `group`; whether it was a member.
///
/// # Errors
/// As [`join`].
pub fn leave<M: Sendable>(group: &str, process: &Process<M>) -> Result<bool, PgError> {
    let change = Change {
        group: group.to_owned(),
        message_type: type_name::<M>(),
        process: process.process_id(),
    };
    Ok(ask(ScopeRequest::Leave, change)??)
}

/// The members of `group` (none if nobody joined it), in no particular order.
///
/// # Errors
/// As [`join`].
pub fn members<M: Sendable>(group: &str) -> Result<Vec<Process<M>>, PgError> {
    let query = (group.to_owned(), type_name::<M>());
    let ids = ask(ScopeRequest::Members, query)??;
    Ok(ids.into_iter().map(Process::from_process_id).collect())
}

/// Sends `message` to every member of `group`; how many there were.
///
/// # Errors
/// As [`join`].
pub fn send<M: Sendable + Clone>(group: &str, message: &M) -> Result<usize, PgError> {
    let members = members::<M>(group)?;
    for member in &members {
        member.send(message.clone());
    }
    Ok(members.len())
}

fn type_name<M: Sendable>() -> MessageType {
    MessageType::of::<M>()
}

/// A group of another message type, as the scope answers it.
#[derive(Debug, Serialize, Deserialize)]
struct Mismatch {
    group: String,
    expected: String,
    found: String,
}

impl From<Mismatch> for PgError {
    fn from(
        Mismatch {
            group,
            expected,
            found,
        }: Mismatch,
    ) -> Self {
        Self::WrongType {
            group,
            expected,
            found,
        }
    }
}

/// A join or a leave.
#[derive(Debug, Serialize, Deserialize)]
struct Change {
    group: String,
    message_type: MessageType,
    process: ProcessId,
}

/// What the scope serves.
#[derive(Debug, Serialize, Deserialize)]
enum ScopeRequest {
    Join(Request<Change, Result<(), Mismatch>>),
    Leave(Request<Change, Result<bool, Mismatch>>),
    Members(Request<(String, MessageType), Result<Vec<ProcessId>, Mismatch>>),
    /// From the scope's helper: the scope of another node.
    Peer(Process<ScopeRequest>),
    /// From a peer scope (another node's): everything that joined through it.
    Sync(ProcessId, Vec<Change>),
    /// From a peer scope: a process joined through it.
    Joined(ProcessId, Change),
    /// From a peer scope: a process left, or ended.
    Left(ProcessId, Change),
}

/// Asks the environment's scope (`wrap` makes the request of `data`) and waits for the
/// answer; a scope that is gone is an error at once.
fn ask<T: Sendable, U: Sendable>(
    wrap: impl FnOnce(Request<T, U>) -> ScopeRequest,
    data: T,
) -> Result<U, PgError> {
    let scope = scope()?;
    let (request, reply) = Request::watching(data, &scope);
    scope.send(wrap(request));
    Ok(reply.wait()?)
}

/// The environment's scope: found by name, or started (a second process that races to
/// start one keeps the first's).
fn scope() -> Result<Process<ScopeRequest>, PgError> {
    if let Some(scope) = registry::lookup(SCOPE_NAME)? {
        return Ok(scope);
    }
    let started = process::spawn(serve)?;
    match registry::register(SCOPE_NAME, &started) {
        Ok(()) => Ok(started),
        Err(RegistryError::Taken(_)) => {
            started.kill();
            registry::lookup(SCOPE_NAME)?.ok_or(PgError::Scope(RegistryError::NotAlive))
        }
        Err(error) => {
            started.kill();
            Err(error.into())
        }
    }
}

/// One group: its message type and members.
struct Group {
    message_type: MessageType,
    members: BTreeSet<ProcessId>,
}

/// The scope's state: the groups, and for each process that ever joined (and has not
/// ended) the groups it is in; it is monitored once, from its first join.
#[derive(Default)]
struct Groups {
    groups: BTreeMap<String, Group>,
    memberships: BTreeMap<ProcessId, BTreeSet<String>>,
}

impl Groups {
    fn check(&self, group: &str, message_type: &MessageType) -> Result<(), Mismatch> {
        match self.groups.get(group) {
            Some(existing) if existing.message_type != *message_type => Err(Mismatch {
                group: group.to_owned(),
                expected: message_type.name().to_owned(),
                found: existing.message_type.name().to_owned(),
            }),
            _ => Ok(()),
        }
    }

    fn join(&mut self, change: Change) -> Result<(), Mismatch> {
        self.check(&change.group, &change.message_type)?;
        let Change {
            group,
            message_type,
            process,
        } = change;
        let memberships = self.memberships.entry(process).or_insert_with(|| {
            // Watched from its first join on: its end removes it from all its groups.
            let _ = Process::<()>::from_process_id(process).monitor();
            BTreeSet::new()
        });
        memberships.insert(group.clone());
        self.groups
            .entry(group)
            .or_insert_with(|| Group {
                message_type,
                members: BTreeSet::new(),
            })
            .members
            .insert(process);
        Ok(())
    }

    fn leave(&mut self, change: &Change) -> Result<bool, Mismatch> {
        self.check(&change.group, &change.message_type)?;
        let left = self
            .groups
            .get_mut(&change.group)
            .is_some_and(|group| group.members.remove(&change.process));
        if left {
            self.forget(change.process, &change.group);
        }
        Ok(left)
    }

    /// Removes `process` from `group`'s bookkeeping (it left, or ended).
    fn forget(&mut self, process: ProcessId, group: &str) {
        if self
            .groups
            .get(group)
            .is_some_and(|group| group.members.is_empty())
        {
            self.groups.remove(group);
        }
        if let Some(memberships) = self.memberships.get_mut(&process) {
            memberships.remove(group);
        }
    }

    /// A member ended: it leaves every group (returned).
    fn ended(&mut self, process: ProcessId) -> Vec<Change> {
        let mut left = Vec::new();
        for group in self.memberships.remove(&process).unwrap_or_default() {
            if let Some(members) = self.groups.get_mut(&group) {
                members.members.remove(&process);
                left.push(Change {
                    group: group.clone(),
                    message_type: members.message_type.clone(),
                    process,
                });
            }
            self.forget(process, &group);
        }
        left
    }

    fn members(&self, group: &str, message_type: &MessageType) -> Result<Vec<ProcessId>, Mismatch> {
        self.check(group, message_type)?;
        Ok(self
            .groups
            .get(group)
            .map(|group| group.members.iter().copied().collect())
            .unwrap_or_default())
    }

    /// Everything that joined through this scope.
    fn changes(&self) -> Vec<Change> {
        self.groups
            .iter()
            .flat_map(|(name, group)| {
                group.members.iter().map(|process| Change {
                    group: name.clone(),
                    message_type: group.message_type.clone(),
                    process: *process,
                })
            })
            .collect()
    }
}

/// The scopes of other nodes this one knows, and what joined through each.
#[derive(Default)]
struct Peers {
    /// Each peer scope, by node, and the tag of its monitor.
    scopes: BTreeMap<u64, (Process<ScopeRequest>, crate::Tag)>,
    /// What joined through each peer scope: group, then members of that message type.
    members: BTreeMap<ProcessId, BTreeMap<String, (MessageType, BTreeSet<ProcessId>)>>,
}

impl Peers {
    /// Records peer `scope` of `node`; `false` if it was known.
    fn meet(&mut self, node: u64, scope: Process<ScopeRequest>) -> bool {
        if self
            .scopes
            .get(&node)
            .is_some_and(|(known, _)| *known == scope)
        {
            return false;
        }
        let tag = scope.monitor();
        self.scopes.insert(node, (scope, tag));
        self.members.insert(scope.process_id(), BTreeMap::new());
        true
    }

    fn joined(&mut self, scope: ProcessId, change: Change) {
        if let Some(groups) = self.members.get_mut(&scope) {
            groups
                .entry(change.group)
                .or_insert_with(|| (change.message_type, BTreeSet::new()))
                .1
                .insert(change.process);
        }
    }

    fn left(&mut self, scope: ProcessId, change: &Change) {
        if let Some((_, members)) = self
            .members
            .get_mut(&scope)
            .and_then(|groups| groups.get_mut(&change.group))
        {
            members.remove(&change.process);
        }
    }

    /// A peer scope ended or its node was lost: what joined through it goes.
    fn ended(&mut self, scope: ProcessId) -> bool {
        self.scopes
            .retain(|_, (known, _)| known.process_id() != scope);
        self.members.remove(&scope).is_some()
    }

    /// The members of `group` of type `message_type` that joined through peers.
    fn members(
        &self,
        group: &str,
        message_type: &MessageType,
    ) -> impl Iterator<Item = ProcessId> + '_ {
        let (group, message_type) = (group.to_owned(), message_type.clone());
        self.members
            .values()
            .filter_map(move |groups| groups.get(&group))
            .filter(move |(found, _)| *found == message_type)
            .flat_map(|(_, members)| members.iter().copied())
    }

    /// Tells every peer scope of `change`.
    fn tell(&self, me: &Process<ScopeRequest>, change: &Change, joined: bool) {
        for (scope, _) in self.scopes.values() {
            let change = Change {
                group: change.group.clone(),
                message_type: change.message_type.clone(),
                process: change.process,
            };
            scope.send(if joined {
                ScopeRequest::Joined(me.process_id(), change)
            } else {
                ScopeRequest::Left(me.process_id(), change)
            });
        }
    }
}

/// The scope's helper in a cluster: registers the scope under its cluster-wide name (unless
/// another scope of this node did), then tells it of the scopes of nodes as they connect,
/// until the scope ends.
fn find_peers(scope: Process<ScopeRequest>, mailbox: Mailbox<()>) {
    let me = crate::distributed::node_id();
    if crate::distributed::register_global(&peer_name(me), &scope).is_err() {
        return;
    }
    let watch = scope.monitor();
    let mut known = BTreeMap::new();
    loop {
        let nodes = crate::distributed::nodes();
        known.retain(|node, _| nodes.contains(node));
        for node in nodes {
            let found = crate::distributed::lookup_global::<ScopeRequest>(&peer_name(node));
            if let Ok(Some(peer)) = found {
                if known.insert(node, peer) != Some(peer) {
                    scope.send(ScopeRequest::Peer(peer));
                }
            }
        }
        match mailbox.receive_timeout(PEER_CHECK) {
            Err(ReceiveError::ProcessDown(down)) if down.tag() == watch => return,
            _ => {}
        }
    }
}

/// The scope's body: serves requests, and removes members as they end; in a cluster, keeps
/// its peers on other nodes told.
fn serve(mailbox: Mailbox<ScopeRequest>) {
    let me = process::this(&mailbox);
    let mut groups = Groups::default();
    let mut peers = Peers::default();
    if crate::distributed::node_id() != 0 {
        // A failure (the environment may not reach other nodes) leaves the scope local.
        let _ = process::spawn_with(me, find_peers);
    }
    loop {
        match mailbox.receive() {
            Ok(ScopeRequest::Peer(peer)) => {
                if peers.meet(peer.process_id().node_id(), peer) {
                    peer.send(ScopeRequest::Sync(me.process_id(), groups.changes()));
                }
            }
            Ok(ScopeRequest::Join(request)) => {
                let (change, reply) = request.into_parts();
                let told = Change {
                    group: change.group.clone(),
                    message_type: change.message_type.clone(),
                    process: change.process,
                };
                let joined = groups.join(change);
                if joined.is_ok() {
                    peers.tell(&me, &told, true);
                }
                reply.send(joined);
            }
            Ok(ScopeRequest::Leave(request)) => {
                let (change, reply) = request.into_parts();
                let left = groups.leave(&change);
                if matches!(left, Ok(true)) {
                    peers.tell(&me, &change, false);
                }
                reply.send(left);
            }
            Ok(ScopeRequest::Members(request)) => {
                let ((group, message_type), reply) = request.into_parts();
                let members = groups.members(&group, &message_type).map(|mut members| {
                    members.extend(peers.members(&group, &message_type));
                    members
                });
                reply.send(members);
            }
            Ok(ScopeRequest::Sync(scope, changes)) => {
                let peer = Process::from_process_id(scope);
                if peers.meet(scope.node_id(), peer) {
                    peer.send(ScopeRequest::Sync(me.process_id(), groups.changes()));
                }
                for change in changes {
                    peers.joined(scope, change);
                }
            }
            Ok(ScopeRequest::Joined(scope, change)) => peers.joined(scope, change),
            Ok(ScopeRequest::Left(scope, change)) => peers.left(scope, &change),
            Err(ReceiveError::ProcessDown(down)) => {
                if !peers.ended(down.process_id()) {
                    for change in groups.ended(down.process_id()) {
                        peers.tell(&me, &change, false);
                    }
                }
            }
            // A timeout, or a message of another type sent here by mistake: dropped.
            Err(_) => {}
        }
    }
}
