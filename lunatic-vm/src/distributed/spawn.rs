//! Spawns another node asked for: the module by hash (its bytes asked for once, then
//! compiled and kept), in the root environment or one with the spawner's limits.

use std::sync::Arc;

use super::wire::{self, Answer, Call, EnvSpec};
use super::{lock, Cluster, NodeId};
use crate::process::ProcessId;
use crate::program::{EntryFunction, Program};
use crate::runtime::{Entry, Link, SpawnFailure};
use crate::sandbox::environment::EnvConfig;

/// Spawns what node `node` asked for, reading the module's bytes from the call's stream
/// if this node lacks them; returns the answer.
#[allow(clippy::too_many_arguments)]
pub(super) async fn spawn_here(
    cluster: &Arc<Cluster>,
    node: NodeId,
    module: [u8; 32],
    function: String,
    params: Vec<u8>,
    env: Option<EnvSpec>,
    link: Option<(ProcessId, i64)>,
    send: &mut quinn::SendStream,
    receive: &mut quinn::RecvStream,
) -> Answer {
    let failed = |reason: String| Answer::Failed { reason };
    let Some(runtime) = cluster.runtime.upgrade() else {
        return failed("the node is stopping".into());
    };
    let program = match program(cluster, &module, env.as_ref()) {
        Some(program) => program,
        None => {
            if wire::write(send, &Answer::NeedModule).await.is_err() {
                return failed("the stream failed".into());
            }
            let bytes = match wire::read::<Call>(receive).await {
                Ok(Some(Call::Module(bytes))) => bytes,
                _ => return failed("the module's bytes did not come".into()),
            };
            match load(cluster, &runtime, &module, bytes, env.clone()).await {
                Ok(program) => program,
                Err(error) => return failed(error.to_string()),
            }
        }
    };
    let params = match crate::host::process::decode_params(&params) {
        Ok(params) => params,
        Err(error) => return failed(error.to_string()),
    };
    let link = link.map(|(process, tag)| Link::Remote { node, process, tag });
    let entry = Entry {
        function: EntryFunction::named(function),
        params,
    };
    let io = crate::sandbox::wasi::ProcessIo::default();
    match runtime.spawn(program, entry, io, None, link, None).await {
        Ok(child) => Answer::Spawned {
            process: child.id(),
        },
        Err(error) => match SpawnFailure::of(&error) {
            SpawnFailure::NoRoom { alive } => Answer::NoRoom { alive },
            SpawnFailure::OverLimit(limit) => Answer::OverLimit {
                limit: limit as u64,
            },
            SpawnFailure::Other(reason) => failed(reason),
        },
    }
}

/// The program for `module` in an environment like `env`, if this node has it: the main
/// program itself, or one spawned here before.
fn program(cluster: &Cluster, module: &[u8; 32], env: Option<&EnvSpec>) -> Option<Arc<Program>> {
    let runtime = cluster.runtime.upgrade()?;
    if env.is_none() && runtime.program().hash() == module {
        return Some(Arc::clone(runtime.program()));
    }
    lock(&cluster.programs)
        .get(&(*module, env.cloned()))
        .cloned()
}

/// The most modules (each with its environment) kept for other nodes' spawns: a spawner
/// makes a new one with each environment it spawns from, so the count is bounded here.
const MAX_PROGRAMS: usize = 256;

/// Why a module another node sent could not be loaded.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("the module's bytes do not match its hash")]
    Hash,
    #[error("this node keeps {MAX_PROGRAMS} modules for other nodes already")]
    Full,
    #[error("cannot make its environment: {0}")]
    Environment(crate::runtime::EnvironmentRefused),
    #[error("{0:#}")]
    Compile(wasmtime::Error),
    #[error("the compile failed: {0}")]
    Thread(#[from] tokio::task::JoinError),
}

/// Compiles `bytes` (which must hash to `module`) for an environment like `env`, off the
/// scheduler's threads, and keeps it.
async fn load(
    cluster: &Cluster,
    runtime: &Arc<crate::runtime::Runtime>,
    module: &[u8; 32],
    bytes: Vec<u8>,
    env: Option<EnvSpec>,
) -> Result<Arc<Program>, LoadError> {
    use sha2::Digest as _;
    let hash: [u8; 32] = sha2::Sha256::digest(&bytes).into();
    if hash != *module {
        return Err(LoadError::Hash);
    }
    if lock(&cluster.programs).len() >= MAX_PROGRAMS {
        return Err(LoadError::Full);
    }
    let root = Arc::clone(runtime.root_environment());
    let environment = match &env {
        None => root,
        Some(spec) => runtime
            .create_environment(&root, env_config(spec))
            .map_err(LoadError::Environment)?,
    };
    let loaded = runtime
        .compile_off_thread(&Arc::clone(&environment), move |runtime| {
            runtime.load_module(&bytes, environment, None)
        })
        .await?
        .map_err(LoadError::Compile)?;
    lock(&cluster.programs).insert((*module, env), Arc::clone(&loaded));
    Ok(loaded)
}

/// The configuration of an environment like `spec` (without directories: they are paths
/// on the spawner's machine).
fn env_config(spec: &EnvSpec) -> EnvConfig {
    let mut limits = lunatic_abi::Limits::default();
    for (slot, value) in limits.0.iter_mut().zip(&spec.limits) {
        *slot = *value;
    }
    EnvConfig {
        max_memory: spec.max_memory,
        max_fuel: spec.max_fuel,
        namespaces: spec.namespaces.clone(),
        preopens: Vec::new(),
        limits,
    }
}

/// The spec of a sandboxed environment's configuration (`None` for the root).
pub(crate) fn env_spec(env: &crate::sandbox::environment::Environment) -> Option<EnvSpec> {
    env.budget()?;
    let config = env.config();
    Some(EnvSpec {
        max_memory: config.max_memory,
        max_fuel: config.max_fuel,
        namespaces: config.namespaces.clone(),
        limits: config.limits.0.to_vec(),
    })
}
