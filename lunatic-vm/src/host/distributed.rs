//! Import module `lunatic::distributed`: processes of other nodes (see
//! `crate::distributed`). In a VM that is not a node, `node_id` is 0, no node is
//! connected, and each call behaves as for a node that cannot be reached.

use std::sync::Arc;

use lunatic_abi::{EndReason, RegistryStatus, SpawnStatus, MAX_MESSAGE_SIZE, NO_LINK};

use super::call::{HostCall, SPAWN_FUEL};
use super::process::{decode_params, read_function, spawn_failure};
use crate::distributed::{Cluster, Remote, RemoteMessage, RemoteSpawnError};
use crate::process::EncodedReason;
use crate::runtime::SpawnFailure;

/// Longest cluster-wide name, in bytes.
const MAX_NAME: u32 = 255;

fn cluster(call: &HostCall<'_>) -> Option<Arc<Cluster>> {
    call.state().runtime.cluster().cloned()
}

pub(super) fn nodes(call: &mut HostCall<'_>, ids_ptr: u32, ids_len: u32) -> wasmtime::Result<u32> {
    let bytes = ids_len
        .checked_mul(8)
        .ok_or_else(|| call.fail("too many ids"))?;
    call.check_range(ids_ptr, bytes)?;
    let nodes = cluster(call)
        .map(|cluster| cluster.nodes())
        .unwrap_or_default();
    let bytes: Vec<u8> = nodes
        .iter()
        .take(ids_len as usize)
        .flat_map(|node| node.to_le_bytes())
        .collect();
    call.write(ids_ptr, &bytes)?;
    Ok(u32::try_from(nodes.len()).unwrap_or(u32::MAX))
}

pub(super) fn node_name(
    call: &mut HostCall<'_>,
    node: u64,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<u32> {
    call.check_range(ptr, len)?;
    let name = cluster(call).and_then(|cluster| cluster.node_name(node));
    call.write_text(ptr, len, name.as_deref().unwrap_or_default())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn send_data(
    call: &mut HostCall<'_>,
    node: u64,
    process: u64,
    tag: i64,
    message_type: u64,
    reply_tag: i64,
    data_ptr: u32,
    data_len: u32,
) -> wasmtime::Result<()> {
    if call.state_mut().outgoing.take().is_some() {
        return Err(call.fail("a message started for a resource cannot travel to another node"));
    }
    if data_len as usize > MAX_MESSAGE_SIZE.min(call.state().max_message_size) {
        return Err(call.fail(format_args!(
            "the message is {data_len} bytes, more than a message may hold"
        )));
    }
    call.charge_copy(data_len as usize)?;
    let bytes = call.read(data_ptr, data_len)?;
    if let Some(cluster) = cluster(call) {
        let message = RemoteMessage {
            tag,
            message_type,
            reply_tag,
            bytes,
        };
        let state = call.state();
        let remote = Remote { node, process };
        cluster.send(state.handle.id(), state.env().budget(), remote, message)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn spawn(
    mut call: HostCall<'_>,
    node: u64,
    link_tag: i64,
    func_ptr: u32,
    func_len: u32,
    params_ptr: u32,
    params_len: u32,
    id_ptr: u32,
) -> wasmtime::Result<SpawnStatus> {
    call.charge_fuel(SPAWN_FUEL)?;
    call.write_u64(id_ptr, 0)?;
    if func_len > 1024 {
        return Err(call.fail("the function name is longer than 1024 bytes"));
    }
    if params_len > 64 << 10 {
        return Err(call.fail("the parameters are longer than 64 KiB"));
    }
    let function = read_function(&mut call, (func_ptr, func_len))?.into_name();
    let params = call.read(params_ptr, params_len)?;
    // Decoded here too, so that parameters the other node would refuse are this call's error.
    decode_params(&params).map_err(|bad| call.fail(bad))?;
    let spawned = match cluster(&call) {
        None => Err(RemoteSpawnError::NoConnection(node)),
        Some(cluster) => {
            let state = call.state();
            let program = Arc::clone(&state.program);
            let env = crate::distributed::env_spec(state.env());
            let spawner = state.handle.id();
            let link = (link_tag != NO_LINK).then_some(link_tag);
            cluster
                .spawn(node, &program, function, params, env, spawner, link)
                .await
        }
    };
    let (status, value) = match spawned {
        Ok(child) => (SpawnStatus::Spawned, child),
        Err(RemoteSpawnError::NoConnection(node) | RemoteSpawnError::Connection { node, .. }) => {
            (SpawnStatus::NoConnection, node)
        }
        Err(RemoteSpawnError::NoRoom { alive, .. }) => {
            spawn_failure(&mut call, SpawnFailure::NoRoom { alive })?
        }
        Err(RemoteSpawnError::OverLimit { limit, .. }) => {
            spawn_failure(&mut call, SpawnFailure::OverLimit(limit))?
        }
        Err(error @ RemoteSpawnError::Refused { .. }) => {
            spawn_failure(&mut call, SpawnFailure::Other(error.to_string()))?
        }
    };
    call.write_u64(id_ptr, value)?;
    Ok(status)
}

pub(super) fn link(
    call: &mut HostCall<'_>,
    tag: i64,
    node: u64,
    process: u64,
) -> wasmtime::Result<()> {
    let handle = Arc::clone(&call.state().handle);
    let remote = Remote { node, process };
    match cluster(call) {
        Some(cluster) => cluster.link(&handle, call.state().env().budget(), remote, tag)?,
        None => {
            let reason = EncodedReason::new(EndReason::NoConnection { node });
            handle.notify_link_death(node, process, tag, &reason, None);
        }
    }
    Ok(())
}

pub(super) fn unlink(call: &mut HostCall<'_>, node: u64, process: u64) -> wasmtime::Result<()> {
    if let Some(cluster) = cluster(call) {
        cluster.unlink(call.state().handle.id(), Remote { node, process });
    }
    Ok(())
}

pub(super) fn monitor(call: &mut HostCall<'_>, node: u64, process: u64) -> wasmtime::Result<i64> {
    let state = call.state();
    let tag = state.runtime.new_tag();
    let handle = Arc::clone(&state.handle);
    let remote = Remote { node, process };
    match cluster(call) {
        Some(cluster) => cluster.monitor(&handle, state.env().budget(), remote, tag)?,
        None => handle.mailbox().push(crate::messaging::Message {
            tag,
            kind: crate::messaging::MessageKind::ProcessDown {
                node,
                process,
                reason: EncodedReason::new(EndReason::NoConnection { node }),
            },
            charge: None,
        }),
    }
    Ok(tag)
}

pub(super) fn demonitor(
    call: &mut HostCall<'_>,
    node: u64,
    process: u64,
    tag: i64,
) -> wasmtime::Result<()> {
    if let Some(cluster) = cluster(call) {
        cluster.demonitor(call.state().handle.id(), Remote { node, process }, tag);
    }
    let state = call.state_mut();
    state
        .inbox
        .abandon(state.handle.mailbox(), state.handle.taken(), tag);
    Ok(())
}

pub(super) fn kill(call: &mut HostCall<'_>, node: u64, process: u64) -> wasmtime::Result<()> {
    if let Some(cluster) = cluster(call) {
        cluster.kill(call.state().handle.id(), Remote { node, process });
    }
    Ok(())
}

pub(super) async fn is_alive(call: HostCall<'_>, node: u64, process: u64) -> wasmtime::Result<u32> {
    let Some(cluster) = cluster(&call) else {
        return Ok(0);
    };
    Ok(u32::from(cluster.is_alive(Remote { node, process }).await))
}

fn read_name(call: &mut HostCall<'_>, ptr: u32, len: u32) -> wasmtime::Result<String> {
    if len > MAX_NAME {
        return Err(call.fail(format_args!(
            "a name of {len} bytes is longer than {MAX_NAME}"
        )));
    }
    call.read_string(ptr, len)
}

pub(super) fn register(
    call: &mut HostCall<'_>,
    name_ptr: u32,
    name_len: u32,
    message_type: u64,
    process: u64,
) -> wasmtime::Result<RegistryStatus> {
    let name = read_name(call, name_ptr, name_len)?;
    Ok(match cluster(call) {
        Some(cluster) => cluster.register(&name, process, message_type, call.state().env()),
        None => RegistryStatus::NotFound,
    })
}

pub(super) fn lookup(
    call: &mut HostCall<'_>,
    name_ptr: u32,
    name_len: u32,
    message_type: u64,
    node_ptr: u32,
    id_ptr: u32,
) -> wasmtime::Result<RegistryStatus> {
    let name = read_name(call, name_ptr, name_len)?;
    let found = match cluster(call) {
        Some(cluster) => cluster.lookup(&name, message_type),
        None => Err(RegistryStatus::NotFound),
    };
    match found {
        Ok(remote) => {
            call.write_u64(node_ptr, remote.node)?;
            call.write_u64(id_ptr, remote.process)?;
            Ok(RegistryStatus::Done)
        }
        Err(status) => Ok(status),
    }
}

pub(super) fn unregister(
    call: &mut HostCall<'_>,
    name_ptr: u32,
    name_len: u32,
) -> wasmtime::Result<RegistryStatus> {
    let name = read_name(call, name_ptr, name_len)?;
    Ok(match cluster(call) {
        Some(cluster) => cluster.unregister(&name, call.state().env()),
        None => RegistryStatus::NotFound,
    })
}
