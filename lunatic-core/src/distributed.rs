//! Processes on other nodes of a cluster (`lunatic --node`: see docs/cluster.md).
//!
//! A [`Process`] carries its node, so sending, requests, links, monitors, kills and
//! `is_alive` work across nodes with the same code as locally. What differs:
//! - a node can be lost: links to its processes fire with
//!   [`EndReason::NoConnection`](crate::EndReason::NoConnection), monitors of them report
//!   it, and a pending request to one fails at once;
//! - sockets do not travel to other nodes (sending one there panics);
//! - a process spawned on another node runs this same module there (the other node
//!   fetches it the first time), in an environment with the spawner's limits, but not its
//!   directories.
//!
//! Outside a cluster [`node_id`] is 0, [`nodes`] is empty and every other node is
//! unreachable.

use crate::codec::Sendable;
use crate::error::LunaticError;
use crate::host;
use crate::mailbox::Mailbox;
use crate::message_type::named_type_info;
use crate::process::{IntoLinkMailbox, Process, ProcessId, SpawnLinked};
use crate::registry::RegistryError;
use crate::tag::Tag;

/// This node's id: the fingerprint of its name (0 outside a cluster).
#[must_use]
pub fn node_id() -> u64 {
    host::node_id()
}

/// The other nodes this one is connected to.
#[must_use]
pub fn nodes() -> Vec<u64> {
    host::nodes()
}

/// The name of node `node` (this one's too), if it is known.
#[must_use]
pub fn node_name(node: u64) -> Option<String> {
    host::node_name(node)
}

/// Spawns `entry` on node `node` with `context` (sent to it as its first message).
///
/// # Errors
/// The node is not connected, or cannot spawn.
pub fn spawn_with<C: Sendable, M: Sendable>(
    node: u64,
    context: C,
    entry: fn(C, Mailbox<M>),
) -> Result<Process<M>, LunaticError> {
    spawn_tagged(node, Tag::none(), context, entry)
}

/// [`spawn_with`], linked to the caller, whose mailbox traps link deaths from then on
/// (as [`crate::process::spawn_link_with`]).
///
/// # Errors
/// The node is not connected, or cannot spawn.
pub fn spawn_link_with<B: IntoLinkMailbox, C: Sendable, M: Sendable>(
    node: u64,
    mailbox: B,
    context: C,
    entry: fn(C, Mailbox<M>),
) -> SpawnLinked<M, B::Message> {
    let tag = Tag::new();
    let mailbox = mailbox.into_link_mailbox();
    let child = spawn_tagged(node, tag, context, entry)?;
    Ok((child, tag, mailbox))
}

fn spawn_tagged<C: Sendable, M: Sendable>(
    node: u64,
    link: Tag,
    context: C,
    entry: fn(C, Mailbox<M>),
) -> Result<Process<M>, LunaticError> {
    if node == node_id() {
        let child = crate::process::Spawner::this().spawn_with(link, context, entry)?;
        return Ok(child);
    }
    let id = host::spawn_entry_on(node, link.id(), entry)?;
    let child = Process::from_process_id(ProcessId::on_node(node, id));
    crate::transfer::send(child.process_id(), lunatic_abi::NO_LINK, &context, None);
    Ok(child)
}

impl<M: Sendable> Process<M> {
    /// Spawns `entry` on node `node` with `context` (see [`spawn_with`]).
    ///
    /// # Errors
    /// The node is not connected, or cannot spawn.
    pub fn spawn_node<C: Sendable>(
        node: u64,
        context: C,
        entry: fn(C, Mailbox<M>),
    ) -> Result<Self, LunaticError> {
        spawn_with(node, context, entry)
    }

    /// Spawns `entry` on node `node`, linked to the caller (see [`spawn_link_with`]).
    ///
    /// # Errors
    /// The node is not connected, or cannot spawn.
    pub fn spawn_link_node<B: IntoLinkMailbox, C: Sendable>(
        node: u64,
        mailbox: B,
        context: C,
        entry: fn(C, Mailbox<M>),
    ) -> SpawnLinked<M, B::Message> {
        spawn_link_with(node, mailbox, context, entry)
    }
}

/// Registers `process` (of this node) under the cluster-wide `name`, for messages of
/// type `M`. Every node learns of it; it goes when the process ends or its node is lost.
/// Two nodes claiming one name at once (or while partitioned) settle it the same way on
/// every node: the earlier claim keeps it (on a tie, the lower node id), and the other
/// claimant is killed.
///
/// # Errors
/// The name is held by another process ([`RegistryError::Taken`]), or `process` is not a
/// live process of this node ([`RegistryError::NotAlive`]).
pub fn register_global<M: Sendable>(name: &str, process: &Process<M>) -> Result<(), RegistryError> {
    let id = process.process_id();
    if !id.is_local() {
        return Err(RegistryError::NotAlive);
    }
    match host::register_global(name, named_type_info::<M>().fingerprint, id.local_id()) {
        lunatic_abi::RegistryStatus::Done => Ok(()),
        lunatic_abi::RegistryStatus::Taken => Err(RegistryError::Taken(name.to_owned())),
        lunatic_abi::RegistryStatus::OverLimit => Err(RegistryError::OverLimit),
        _ => Err(RegistryError::NotAlive),
    }
}

/// The process holding cluster-wide `name`, typed as registered.
///
/// # Errors
/// The name is registered for another message type.
pub fn lookup_global<M: Sendable>(name: &str) -> Result<Option<Process<M>>, RegistryError> {
    match host::lookup_global(name, named_type_info::<M>().fingerprint) {
        Ok((node, id)) => Ok(Some(Process::from_process_id(ProcessId::on_node(node, id)))),
        Err(lunatic_abi::RegistryStatus::WrongType) => {
            Err(RegistryError::WrongType(name.to_owned()))
        }
        Err(_) => Ok(None),
    }
}

/// Removes cluster-wide `name` if a process of this node holds it; whether it did.
pub fn unregister_global(name: &str) -> bool {
    host::unregister_global(name) == lunatic_abi::RegistryStatus::Done
}
