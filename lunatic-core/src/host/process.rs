//! Imports of `lunatic::process`: spawning, identity, links, monitors, sleep and the end;
//! and the exports the VM calls to start a process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lunatic_abi::{Limit, ParamKind, SpawnStatus, PARAM_SIZE};

use crate::environment::Param;
use crate::error::LunaticError;

use super::error::take_error;
use super::imports::process;

/// Spawns exported function `function` of module `module_id` with `params`, linked with
/// `link_tag` unless it is [`lunatic_abi::NO_LINK`].
pub(crate) fn spawn(
    link_tag: i64,
    module_id: u64,
    function: &str,
    params: &[Param],
) -> Result<u64, LunaticError> {
    let encoded = encode_params(params);
    let mut id = 0u64;
    let status = process::spawn(link_tag, module_id, function.as_bytes(), &encoded, &mut id);
    spawned(status, id, "lunatic::process::spawn")
}

/// The id a spawn call with `status` wrote, or its error.
pub(super) fn spawned(status: u32, id: u64, function: &str) -> Result<u64, LunaticError> {
    match SpawnStatus::try_from(status) {
        Ok(SpawnStatus::Spawned) => Ok(id),
        Ok(SpawnStatus::Failed) => Err(LunaticError::Host(take_error(id))),
        Ok(SpawnStatus::NoRoom) => Err(LunaticError::NoRoom { alive: id }),
        Ok(SpawnStatus::OverLimit) => match Limit::try_from(id) {
            Ok(limit) => Err(LunaticError::OverLimit { limit }),
            Err(other) => panic!("{function} returned unknown limit {other}"),
        },
        Ok(SpawnStatus::NoConnection) => Err(LunaticError::NoConnection { node: id }),
        Err(other) => panic!("{function} returned unknown status {other}"),
    }
}

/// Spawn parameters as the host takes them.
pub(super) fn encode_params(params: &[Param]) -> Vec<u8> {
    let mut encoded = Vec::with_capacity(params.len() * PARAM_SIZE);
    for param in params {
        let (kind, value) = match *param {
            Param::I32(v) => (ParamKind::I32, u128::from(v as u32)),
            Param::I64(v) => (ParamKind::I64, u128::from(v as u64)),
            Param::V128(v) => (ParamKind::V128, v),
        };
        encoded.push(kind as u8);
        encoded.extend_from_slice(&value.to_le_bytes());
    }
    encoded
}

/// The calling process's id: asked of the host once, then remembered (a request names its
/// sender, so this is on the path of every request).
pub(crate) fn this() -> u64 {
    /// The id; 0 until asked (the VM numbers processes from 1).
    static THIS: AtomicU64 = AtomicU64::new(0);
    match THIS.load(Ordering::Relaxed) {
        0 => {
            let id = process::this();
            THIS.store(id, Ordering::Relaxed);
            id
        }
        id => id,
    }
}

/// Suspends this process.
pub(crate) fn sleep(duration: Duration) {
    let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    process::sleep_ms(ms);
}

/// Links this process to `process`.
pub(crate) fn link(tag: i64, process: u64) {
    process::link(tag, process);
}

/// Unlinks this process from `process`.
pub(crate) fn unlink(process: u64) {
    process::unlink(process);
}

/// Monitors `process`; returns the tag its down notice will carry.
pub(crate) fn monitor(process: u64) -> i64 {
    process::monitor(process)
}

/// Removes monitor `tag` of `process` and any queued down notice with it.
pub(crate) fn demonitor(process: u64, tag: i64) {
    process::demonitor(process, tag);
}

/// Kills `process`.
pub(crate) fn kill(process: u64) {
    process::kill(process);
}

/// Whether `process` is alive.
pub(crate) fn is_alive(process: u64) -> bool {
    process::is_alive(process) != 0
}

/// Whether link deaths kill this process (`true`) or arrive as signals.
pub(crate) fn die_when_link_dies(die: bool) {
    process::die_when_link_dies(u32::from(die));
}

/// Tells the host why this process is about to trap: the panic message and its location
/// (`file:line:column`, or empty).
pub(crate) fn report_panic(message: &str, location: &str) {
    process::report_panic(message.as_bytes(), location.as_bytes());
}

/// Writes `text` to the VM's log at `level`, on this process's behalf.
pub(crate) fn log(level: lunatic_abi::LogLevel, text: &str) {
    process::log(level as u32, text.as_bytes());
}

/// Tells the VM what this process is (for the observer).
pub(crate) fn describe(role: &lunatic_abi::Role) {
    process::describe(&role.encode());
}

/// Reports a supervisor event to the VM's log.
pub(crate) fn supervisor_report(report: &lunatic_abi::SupervisorReport) {
    process::supervisor_report(&report.encode());
}

/// Ends this process with `reason` (the host accepts only `Normal`, `Shutdown` and `Error`).
pub(crate) fn end(reason: &lunatic_abi::EndReason) -> ! {
    let bytes = reason.to_bytes();
    process::end(&bytes);
    unreachable!("lunatic::process::end returned")
}

/// A function-pointer type a process can start in: implemented by `crate::process` for
/// `fn` pointers only, which is what makes passing it through the host as an integer sound.
pub(crate) trait Entry: Copy {
    /// Runs the process body.
    fn run(self);
}

/// Spawns a process of this module that runs `entry`, linked with `link_tag` unless it is
/// [`lunatic_abi::NO_LINK`].
pub(crate) fn spawn_entry<E: Entry>(
    link_tag: i64,
    module_id: u64,
    entry: E,
) -> Result<u64, LunaticError> {
    spawn(
        link_tag,
        module_id,
        lunatic_abi::SPAWN_ENTRY,
        &entry_params(entry),
    )
}

/// The parameters of [`lunatic_abi::SPAWN_ENTRY`] that start `entry`.
pub(super) fn entry_params<E: Entry>(entry: E) -> [Param; 2] {
    assert_eq!(
        std::mem::size_of::<E>(),
        std::mem::size_of::<usize>(),
        "an entry is a fn pointer"
    );
    // SAFETY: `E` is a fn pointer (see `Entry`), the size of a usize.
    let user = unsafe { std::mem::transmute_copy::<E, usize>(&entry) };
    let trampoline = trampoline::<E> as fn(usize) as usize;
    // On wasm32, function pointers are 32-bit table indices and usize is 32 bits wide.
    [Param::I32(trampoline as i32), Param::I32(user as i32)]
}

/// Runs in the child: turns the integer back into the `E` it was made from.
fn trampoline<E: Entry>(user: usize) {
    // SAFETY: `spawn_entry::<E>` made `user` from an `E`, in this same module.
    let entry = unsafe { std::mem::transmute_copy::<usize, E>(&user) };
    entry.run();
}

/// The export the host calls to start a spawned process ([`lunatic_abi::SPAWN_ENTRY`]):
/// `trampoline` is a `fn(usize)` as a table index, `user` the argument it decodes.
#[export_name = "lunatic_spawn_entry"]
extern "C" fn lunatic_spawn_entry(trampoline: i32, user: i32) {
    // SAFETY: the host passes back the pair `spawn_entry` gave it; `trampoline` is a
    // `fn(usize)` of this same module.
    let trampoline = unsafe { std::mem::transmute::<usize, fn(usize)>(trampoline as u32 as usize) };
    trampoline(user as u32 as usize);
}

/// The export the host runs to set processes up ([`lunatic_abi::PREINIT_EXPORT`]): once
/// per module, keeping the memory it leaves as every process's starting image (so a
/// process that only waits writes none of its memory), or at the start of each process.
#[export_name = "lunatic_preinit"]
extern "C" fn lunatic_preinit() {
    crate::process::set_up();
}
