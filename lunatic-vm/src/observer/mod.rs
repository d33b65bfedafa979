//! The observer: a web page and a JSON API about a running VM (`lunatic --observe`), as
//! Erlang's `observer` shows a node. `docs/observer.md` is its reference.
//!
//! | file | job |
//! |---|---|
//! | `mod.rs` | what is shown: snapshots of processes, supervision trees and metrics |
//! | `http` | the server: routes, the kill token, the page |
//!
//! Invariant (cost): the observer only reads what the VM keeps anyway (the process table,
//! each process's [`crate::process::Profile`] and mailbox counters, the runtime's
//! [`crate::runtime::Stats`]), when a request comes; nobody pays for it otherwise.
//! Everything a guest wrote (names, roles, type names) is data in JSON, never markup.

mod http;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use lunatic_abi::{EndReason, Limit, Role};
use serde::Serialize;

use crate::messaging::mailbox::{QueuedKind, Sighting};
use crate::process::{ProcessHandle, ProcessId, Status};
use crate::runtime::Runtime;

pub(crate) use http::{serve, ObserverConfig};

/// Most queued messages a process's detail lists.
const LISTED_MESSAGES: usize = 32;

/// Most registered names a process's entry lists (a guest may register thousands).
const LISTED_NAMES: usize = 16;

/// How deep a supervision tree is followed (a guest may describe a cycle).
const MAX_TREE_DEPTH: usize = 64;

/// A process id in JSON: a string of decimal digits (ids do not fit a JavaScript number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Id(ProcessId);

impl Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// The answer of `GET /api/processes`.
#[derive(Debug, Serialize)]
struct ProcessList {
    vm: VmSummary,
    processes: Vec<ProcessSummary>,
}

#[derive(Debug, Serialize)]
struct VmSummary {
    uptime_ms: u64,
    alive: usize,
    spawned: u64,
    workers: usize,
}

#[derive(Debug, Serialize)]
struct Mailbox {
    messages: u64,
    bytes: u64,
}

/// One process, as the table shows it.
#[derive(Debug, Serialize)]
struct ProcessSummary {
    id: Id,
    names: Vec<String>,
    environment: u64,
    module: Arc<str>,
    status: Status,
    mailbox: Mailbox,
    memory: u64,
    slices: u64,
    uptime_ms: u64,
    parent: Option<Id>,
    links: Vec<Id>,
    monitors: Vec<Id>,
    kind: Option<Kind>,
    actor: Option<String>,
}

/// What the actor layer said a process is.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Actor,
    Supervisor,
}

/// One process in detail (`GET /api/processes/{id}`).
#[derive(Debug, Serialize)]
struct ProcessDetail {
    #[serde(flatten)]
    summary: ProcessSummary,
    queued: Vec<MessageEntry>,
    recent: Vec<MessageEntry>,
    supervisor: Option<SupervisorDetail>,
}

/// A message in a process's detail.
#[derive(Debug, Serialize)]
struct MessageEntry {
    kind: MessageKind,
    /// The data's type name (its fingerprint in hex when no process named it); `None` for
    /// a notice.
    #[serde(rename = "type")]
    message_type: Option<String>,
    bytes: u64,
    /// Its selective-receive tag (queued messages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
enum MessageKind {
    Data,
    LinkDied,
    Down,
}

#[derive(Debug, Serialize)]
struct SupervisorDetail {
    strategy: &'static str,
    intensity: u32,
    period_ms: u64,
    restarts: u64,
    children: Vec<ChildDetail>,
    /// Children it has beyond those listed.
    unlisted_children: u32,
}

#[derive(Debug, Serialize)]
struct ChildDetail {
    name: String,
    id: Option<Id>,
}

/// The answer of `GET /api/tree`.
#[derive(Debug, Serialize)]
struct Trees {
    trees: Vec<TreeNode>,
}

#[derive(Debug, Serialize)]
struct TreeNode {
    id: Option<Id>,
    /// Its name in its supervisor's spec (`None` for a root).
    name: Option<String>,
    names: Vec<String>,
    kind: Option<Kind>,
    actor: Option<String>,
    strategy: Option<&'static str>,
    children: Vec<TreeNode>,
}

/// The observer's view of one runtime.
struct View<'a> {
    runtime: &'a Runtime,
}

impl View<'_> {
    fn summary(&self, process: &ProcessHandle) -> ProcessSummary {
        let profile = process.profile();
        let census = process.mailbox().census(process.taken(), 0);
        let role = profile.role();
        let waiting = process.mailbox().has_waiting_receiver();
        // One lock at a time (ARCHITECTURE.md, "locks").
        let links = ids(process.links().processes());
        let monitors = ids(process.monitors().watchers());
        ProcessSummary {
            id: Id(process.id()),
            names: listed_names(process),
            environment: profile.environment.id(),
            module: Arc::clone(&profile.module),
            status: profile.status(process.is_on_worker(), waiting),
            mailbox: Mailbox {
                messages: census.messages,
                bytes: census.bytes,
            },
            memory: profile.memory(),
            slices: process.turns(),
            uptime_ms: millis(profile.started.elapsed()),
            parent: profile.parent.map(Id),
            links,
            monitors,
            kind: role.as_deref().map(kind),
            actor: role.map(|role| role.actor.clone()),
        }
    }

    fn processes(&self) -> ProcessList {
        let mut processes: Vec<_> = self
            .runtime
            .processes()
            .all()
            .iter()
            .map(|process| self.summary(process))
            .collect();
        processes.sort_by_key(|process| process.uptime_ms);
        processes.reverse();
        ProcessList {
            vm: VmSummary {
                uptime_ms: millis(self.runtime.stats.started.elapsed()),
                alive: processes.len(),
                spawned: self.runtime.stats.spawned.load(Ordering::Relaxed),
                workers: self.runtime.config().worker_threads,
            },
            processes,
        }
    }

    fn detail(&self, id: ProcessId) -> Option<ProcessDetail> {
        let process = self.runtime.processes().get(id)?;
        let census = process.mailbox().census(process.taken(), LISTED_MESSAGES);
        let queued = census
            .queued
            .iter()
            .map(|&(sighting, tag)| MessageEntry {
                tag: Some(tag.to_string()),
                ..self.entry(sighting)
            })
            .collect();
        let recent = census
            .recent
            .iter()
            .map(|&sighting| self.entry(sighting))
            .collect();
        let supervisor = process.profile().role().and_then(|role| {
            let supervisor = role.supervisor.as_ref()?;
            Some(SupervisorDetail {
                strategy: supervisor.strategy.name(),
                intensity: supervisor.intensity,
                period_ms: supervisor.period_ms,
                restarts: supervisor.restarts,
                children: supervisor
                    .children
                    .iter()
                    .map(|child| ChildDetail {
                        name: child.name.clone(),
                        id: (child.process != 0).then_some(Id(child.process)),
                    })
                    .collect(),
                unlisted_children: supervisor.unlisted_children,
            })
        });
        Some(ProcessDetail {
            summary: self.summary(&process),
            queued,
            recent,
            supervisor,
        })
    }

    fn entry(&self, sighting: Sighting) -> MessageEntry {
        let (kind, message_type) = match sighting.kind {
            QueuedKind::Data(message_type) => {
                (MessageKind::Data, Some(self.type_name(message_type)))
            }
            QueuedKind::LinkDied => (MessageKind::LinkDied, None),
            QueuedKind::Down => (MessageKind::Down, None),
        };
        MessageEntry {
            kind,
            message_type,
            bytes: sighting.bytes,
            tag: None,
        }
    }

    /// The name a process gave type `message_type`, else its fingerprint in hex.
    fn type_name(&self, message_type: u64) -> String {
        self.runtime
            .type_names()
            .get(message_type)
            .map_or_else(|| format!("{message_type:016x}"), |name| name.to_string())
    }

    fn trees(&self) -> Trees {
        let processes = self.runtime.processes().all();
        let roles: HashMap<ProcessId, (Arc<ProcessHandle>, Arc<Role>)> = processes
            .into_iter()
            .filter_map(|process| {
                let role = process.profile().role()?;
                Some((process.id(), (process, role)))
            })
            .collect();
        // A supervisor's children are those it lists and spawned: a guest cannot claim
        // another's processes, and parents make no cycles.
        let children: HashSet<ProcessId> = roles
            .iter()
            .filter_map(|(&id, (_, role))| Some((id, role.supervisor.as_ref()?)))
            .flat_map(|(id, supervisor)| {
                let roles = &roles;
                supervisor
                    .children
                    .iter()
                    .map(|child| child.process)
                    .filter(move |&child| is_child(roles, id, child))
            })
            .collect();
        let mut roots: Vec<_> = roles
            .iter()
            .filter(|(id, (_, role))| role.supervisor.is_some() && !children.contains(id))
            .map(|(&id, (process, _))| (process.profile().started, id))
            .collect();
        roots.sort();
        let mut visited = HashSet::new();
        Trees {
            trees: roots
                .into_iter()
                .map(|(_, id)| node(&roles, Some(id), None, &mut visited, 0))
                .collect(),
        }
    }
}

/// Whether supervisor `supervisor` spawned process `child` (which said what it is).
fn is_child(
    roles: &HashMap<ProcessId, (Arc<ProcessHandle>, Arc<Role>)>,
    supervisor: ProcessId,
    child: ProcessId,
) -> bool {
    roles
        .get(&child)
        .is_some_and(|(process, _)| process.profile().parent == Some(supervisor))
}

/// A process's registered names, at most [`LISTED_NAMES`].
fn listed_names(process: &ProcessHandle) -> Vec<String> {
    process.first_names(LISTED_NAMES).0
}

/// The tree below process `id` (`None`: a child not running, or not the supervisor's own),
/// named `name` by its supervisor. A process already shown, or one too deep, is shown
/// without children.
fn node(
    roles: &HashMap<ProcessId, (Arc<ProcessHandle>, Arc<Role>)>,
    id: Option<ProcessId>,
    name: Option<String>,
    visited: &mut HashSet<ProcessId>,
    depth: usize,
) -> TreeNode {
    let known = id.and_then(|id| roles.get(&id));
    let role = known.map(|(_, role)| role);
    let supervisor = role.and_then(|role| role.supervisor.as_ref());
    let first_visit = id.is_some_and(|id| visited.insert(id));
    let children = match supervisor {
        Some(supervisor) if first_visit && depth < MAX_TREE_DEPTH => supervisor
            .children
            .iter()
            .map(|child| {
                let own = id.is_some_and(|id| is_child(roles, id, child.process));
                let child_id = own.then_some(child.process);
                node(
                    roles,
                    child_id,
                    Some(child.name.clone()),
                    visited,
                    depth + 1,
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    TreeNode {
        id: id.map(Id),
        name,
        names: known
            .map(|(process, _)| listed_names(process))
            .unwrap_or_default(),
        kind: role.map(|role| kind(role)),
        actor: role.map(|role| role.actor.clone()),
        strategy: supervisor.map(|supervisor| supervisor.strategy.name()),
        children,
    }
}

/// What a role makes a process.
fn kind(role: &Role) -> Kind {
    if role.supervisor.is_some() {
        Kind::Supervisor
    } else {
        Kind::Actor
    }
}

fn ids(processes: Vec<ProcessId>) -> Vec<Id> {
    processes.into_iter().map(Id).collect()
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Messages sent so far, given what the live processes' mailboxes counted: never fewer
/// than reported before (a counter must not go back).
fn sent(stats: &crate::runtime::Stats, arrived_alive: u64) -> u64 {
    let now = arrived_alive + stats.messages_of_ended.load(Ordering::Relaxed);
    stats
        .messages_reported
        .fetch_max(now, Ordering::Relaxed)
        .max(now)
}

/// The runtime's metrics in Prometheus's text format (version 0.0.4).
fn metrics(runtime: &Runtime) -> String {
    let stats = &runtime.stats;
    let processes = runtime.processes().all();
    let (mut queued, mut queued_bytes, mut arrived, mut memory) = (0, 0, 0, 0);
    let mut environments: HashMap<u64, (u64, u64)> = HashMap::new();
    let mut budgets = HashMap::new();
    for process in &processes {
        let census = process.mailbox().census(process.taken(), 0);
        queued += census.messages;
        queued_bytes += census.bytes;
        arrived += census.arrived;
        let profile = process.profile();
        memory += profile.memory();
        let id = profile.environment.id();
        if let Some(budget) = profile.environment.budget() {
            budgets.entry(id).or_insert_with(|| Arc::clone(budget));
        }
        let environment = environments.entry(id).or_default();
        environment.0 += 1;
        environment.1 += profile.memory();
    }
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let plain = |value: u64| [(String::new(), value)];
    metric(
        "lunatic_processes_alive",
        "gauge",
        "Processes alive.",
        &plain(processes.len() as u64),
    );
    metric(
        "lunatic_processes_spawned_total",
        "counter",
        "Processes spawned since the VM started.",
        &plain(stats.spawned.load(Ordering::Relaxed)),
    );
    metric(
        "lunatic_processes_spawned_recycled_total",
        "counter",
        "Processes spawned into an instance an ended process of the same program left.",
        &plain(stats.spawned_recycled.load(Ordering::Relaxed)),
    );
    metric(
        "lunatic_instances_kept",
        "gauge",
        "Instances ended processes left for the next ones (each holds a pool slot).",
        &plain(runtime.recycler().kept() as u64),
    );
    let died: Vec<_> = EndReason::VARIANT_NAMES
        .iter()
        .zip(&stats.died)
        .map(|(reason, count)| {
            (
                format!("{{reason=\"{reason}\"}}"),
                count.load(Ordering::Relaxed),
            )
        })
        .collect();
    metric(
        "lunatic_processes_died_total",
        "counter",
        "Processes ended, by the kind of their end reason.",
        &died,
    );
    metric(
        "lunatic_messages_sent_total",
        "counter",
        "Messages delivered into mailboxes.",
        &plain(sent(stats, arrived)),
    );
    metric(
        "lunatic_mailbox_queued_messages",
        "gauge",
        "Messages in all mailboxes, not received yet.",
        &plain(queued),
    );
    metric(
        "lunatic_mailbox_queued_bytes",
        "gauge",
        "Bytes of the messages in all mailboxes.",
        &plain(queued_bytes),
    );
    metric(
        "lunatic_memory_bytes",
        "gauge",
        "Linear memory of all processes.",
        &plain(memory),
    );
    let mut environments: Vec<_> = environments.into_iter().collect();
    environments.sort_unstable();
    let per_environment = |pick: fn(&(u64, u64)) -> u64| -> Vec<(String, u64)> {
        environments
            .iter()
            .map(|(id, usage)| (format!("{{environment=\"{id}\"}}"), pick(usage)))
            .collect()
    };
    metric(
        "lunatic_environment_processes",
        "gauge",
        "Processes alive per environment.",
        &per_environment(|usage| usage.0),
    );
    metric(
        "lunatic_environment_memory_bytes",
        "gauge",
        "Linear memory per environment.",
        &per_environment(|usage| usage.1),
    );
    // What sandboxed environments hold against their limits (the root has none).
    let mut budgets: Vec<_> = budgets.into_iter().collect();
    budgets.sort_unstable_by_key(|(id, _)| *id);
    let per_limit = |value: fn(&crate::sandbox::budget::Budget, Limit) -> u64| {
        budgets
            .iter()
            .flat_map(|(id, budget)| {
                Limit::ALL
                    .into_iter()
                    .filter(|limit| limit.is_held())
                    .map(move |limit| {
                        (
                            format!("{{environment=\"{id}\",limit=\"{}\"}}", limit.name()),
                            value(budget, limit),
                        )
                    })
            })
            .collect::<Vec<_>>()
    };
    metric(
        "lunatic_environment_held",
        "gauge",
        "What a sandboxed environment's processes hold, per limit (with the environments made inside it).",
        &per_limit(|budget, limit| budget.used(limit)),
    );
    metric(
        "lunatic_environment_limit",
        "gauge",
        "A sandboxed environment's limits.",
        &per_limit(|budget, limit| budget.limit(limit)),
    );
    let fuel: Vec<_> = budgets
        .iter()
        .filter_map(|(id, budget)| Some((format!("{{environment=\"{id}\"}}"), budget.fuel_left()?)))
        .collect();
    metric(
        "lunatic_environment_fuel_left",
        "gauge",
        "Raw fuel left to a fuel-limited environment.",
        &fuel,
    );
    out
}
