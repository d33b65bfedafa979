//! Imports of `lunatic::distributed`: processes of other nodes.

use std::sync::atomic::{AtomicU64, Ordering};

use lunatic_abi::RegistryStatus;

use super::imports::{distributed, process};
use super::process::{encode_params, entry_params, spawned, Entry};
use crate::error::LunaticError;

/// This node's id; `u64::MAX` until asked of the host.
static NODE: AtomicU64 = AtomicU64::new(u64::MAX);

/// This node's id (0 outside a cluster): asked of the host once, then remembered (every
/// process handle made here carries it, and every call on a handle compares with it, so
/// the remembered case is a load and a compare, inlined).
#[inline(always)]
pub(crate) fn node_id() -> u64 {
    match NODE.load(Ordering::Relaxed) {
        u64::MAX => ask_node_id(),
        id => id,
    }
}

#[cold]
#[inline(never)]
fn ask_node_id() -> u64 {
    let id = process::node_id();
    NODE.store(id, Ordering::Relaxed);
    id
}

/// The connected nodes.
pub(crate) fn nodes() -> Vec<u64> {
    let mut ids = vec![0u64; 16];
    loop {
        let count = distributed::nodes(&mut ids) as usize;
        if count <= ids.len() {
            ids.truncate(count);
            return ids;
        }
        ids.resize(count, 0);
    }
}

/// The name of node `node`, if known.
pub(crate) fn node_name(node: u64) -> Option<String> {
    let mut name = vec![0u8; 256];
    let len = distributed::node_name(node, &mut name) as usize;
    (len > 0).then(|| {
        name.truncate(len);
        String::from_utf8_lossy(&name).into_owned()
    })
}

/// Sends `bytes` of `message_type` to `process` on `node`.
pub(crate) fn send_remote(
    node: u64,
    process: u64,
    tag: i64,
    message_type: u64,
    reply_tag: i64,
    bytes: &[u8],
) {
    distributed::send_data(node, process, tag, message_type, reply_tag, bytes);
}

/// Spawns `entry` of this module on `node`, linked with `link_tag` unless it is
/// [`lunatic_abi::NO_LINK`].
pub(crate) fn spawn_entry_on<E: Entry>(
    node: u64,
    link_tag: i64,
    entry: E,
) -> Result<u64, LunaticError> {
    let params = encode_params(&entry_params(entry));
    let mut id = 0u64;
    let function = lunatic_abi::SPAWN_ENTRY.as_bytes();
    let status = distributed::spawn(node, link_tag, function, &params, &mut id);
    spawned(status, id, "lunatic::distributed::spawn")
}

pub(crate) fn link_remote(tag: i64, node: u64, process: u64) {
    distributed::link(tag, node, process);
}

pub(crate) fn unlink_remote(node: u64, process: u64) {
    distributed::unlink(node, process);
}

pub(crate) fn monitor_remote(node: u64, process: u64) -> i64 {
    distributed::monitor(node, process)
}

pub(crate) fn demonitor_remote(node: u64, process: u64, tag: i64) {
    distributed::demonitor(node, process, tag);
}

pub(crate) fn kill_remote(node: u64, process: u64) {
    distributed::kill(node, process);
}

pub(crate) fn is_alive_remote(node: u64, process: u64) -> bool {
    distributed::is_alive(node, process) != 0
}

fn registry_status(status: u32, function: &str) -> RegistryStatus {
    RegistryStatus::try_from(status).unwrap_or_else(|other| {
        panic!("lunatic::distributed::{function} returned unknown status {other}")
    })
}

/// Registers local `process` under cluster-wide `name` for messages of `message_type`.
pub(crate) fn register_global(name: &str, message_type: u64, process: u64) -> RegistryStatus {
    let status = distributed::register(name.as_bytes(), message_type, process);
    registry_status(status, "register")
}

/// Finds cluster-wide `name`: its node and process.
pub(crate) fn lookup_global(name: &str, message_type: u64) -> Result<(u64, u64), RegistryStatus> {
    let (mut node, mut id) = (0u64, 0u64);
    let status = distributed::lookup(name.as_bytes(), message_type, &mut node, &mut id);
    match registry_status(status, "lookup") {
        RegistryStatus::Done => Ok((node, id)),
        other => Err(other),
    }
}

/// Removes cluster-wide `name`, held by a process of this node.
pub(crate) fn unregister_global(name: &str) -> RegistryStatus {
    registry_status(distributed::unregister(name.as_bytes()), "unregister")
}
