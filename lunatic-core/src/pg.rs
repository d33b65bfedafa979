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

    /// A member ended: it leaves every group.
    fn ended(&mut self, process: ProcessId) {
        for group in self.memberships.remove(&process).unwrap_or_default() {
            if let Some(members) = self.groups.get_mut(&group) {
                members.members.remove(&process);
            }
            self.forget(process, &group);
        }
    }

    fn members(&self, group: &str, message_type: &MessageType) -> Result<Vec<ProcessId>, Mismatch> {
        self.check(group, message_type)?;
        Ok(self
            .groups
            .get(group)
            .map(|group| group.members.iter().copied().collect())
            .unwrap_or_default())
    }
}

/// The scope's body: serves requests, and removes members as they end.
fn serve(mailbox: Mailbox<ScopeRequest>) {
    let mut groups = Groups::default();
    loop {
        match mailbox.receive() {
            Ok(ScopeRequest::Join(request)) => {
                let (change, reply) = request.into_parts();
                reply.send(groups.join(change));
            }
            Ok(ScopeRequest::Leave(request)) => {
                let (change, reply) = request.into_parts();
                reply.send(groups.leave(&change));
            }
            Ok(ScopeRequest::Members(request)) => {
                let ((group, message_type), reply) = request.into_parts();
                reply.send(groups.members(&group, &message_type));
            }
            Err(ReceiveError::ProcessDown(down)) => {
                groups.ended(ProcessId::local(down.id() as u64));
            }
            // A message of another type sent here by mistake: not a request, dropped.
            Err(_) => {}
        }
    }
}
