//! The host ABI as the guest sees it: one `extern` block per import module of the host
//! (see `lunatic-vm/src/host/` for each function's parameters, results and traps), and safe
//! wrappers that every other module of this crate uses. This is the only module with
//! `unsafe` code.
//!
//! Outside wasm32 (for example when this crate is type-checked or documented on the host)
//! the imports do not exist, and calling any wrapper panics.
#![allow(unsafe_code)]

use std::time::Duration;

use lunatic_abi::{
    ParamKind, ReceiveStatus, RegistryStatus, SpawnStatus, PARAM_SIZE, WAIT_FOREVER,
};

use crate::environment::Param;
use crate::error::LunaticError;
use crate::tag::Tag;

/// Declares one host import module: an `extern` block on wasm32, panicking stand-ins
/// elsewhere.
macro_rules! import_module {
    ($module:literal { $(fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?;)* }) => {
        #[cfg(target_arch = "wasm32")]
        #[link(wasm_import_module = $module)]
        extern "C" {
            $(pub(super) fn $name($($arg: $ty),*) $(-> $ret)?;)*
        }
        $(
            #[cfg(not(target_arch = "wasm32"))]
            #[allow(unused_variables, clippy::missing_safety_doc, clippy::too_many_arguments)]
            pub(super) unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
                panic!(concat!($module, "::", stringify!($name), " exists only in wasm32 guests run by lunatic"))
            }
        )*
    };
}

mod error {
    import_module!("lunatic::error" {
        fn string_size(id: u64) -> u32;
        fn to_string(id: u64, ptr: *mut u8);
        fn drop(id: u64);
    });
}

mod message {
    import_module!("lunatic::message" {
        fn new_tag() -> i64;
        fn create_data(tag: i64, capacity: u64);
        fn write_data(ptr: *const u8, len: u32) -> u32;
        fn send(process: u64);
        fn receive(tags_ptr: *const i64, tags_len: u32, timeout_ms: u64) -> u32;
        fn data_size() -> u64;
        fn read_data(ptr: *mut u8, len: u32) -> u32;
        fn get_tag() -> i64;
        fn signal_process() -> u64;
    });
}

mod registry {
    import_module!("lunatic::registry" {
        fn register(
            env_id: u64,
            name_ptr: *const u8,
            name_len: u32,
            version_ptr: *const u8,
            version_len: u32,
            type_ptr: *const u8,
            type_len: u32,
            process: u64,
        ) -> u32;
        fn lookup(
            name_ptr: *const u8,
            name_len: u32,
            query_ptr: *const u8,
            query_len: u32,
            type_ptr: *const u8,
            type_len: u32,
            id_ptr: *mut u64,
        ) -> u32;
        fn unregister(env_id: u64, name_ptr: *const u8, name_len: u32, version_ptr: *const u8, version_len: u32) -> u32;
    });
}

mod environment {
    import_module!("lunatic::environment" {
        fn create(
            max_memory: u64,
            max_fuel: u64,
            namespaces_ptr: *const u8,
            namespaces_len: u32,
            dirs_ptr: *const u8,
            dirs_len: u32,
            id_ptr: *mut u64,
        ) -> u32;
        fn this(id_ptr: *mut u64) -> u32;
        fn drop(env_id: u64);
        fn add_this_module(env_id: u64, id_ptr: *mut u64) -> u32;
        fn add_module(env_id: u64, bytes_ptr: *const u8, bytes_len: u32, id_ptr: *mut u64) -> u32;
        fn drop_module(module_id: u64);
    });
}

mod process {
    import_module!("lunatic::process" {
        fn spawn(
            link_tag: i64,
            module_id: u64,
            func_ptr: *const u8,
            func_len: u32,
            params_ptr: *const u8,
            params_len: u32,
            id_ptr: *mut u64,
        ) -> u32;
        fn this() -> u64;
        fn sleep_ms(ms: u64);
        fn link(tag: i64, process: u64);
        fn unlink(process: u64);
        fn monitor(process: u64) -> i64;
        fn demonitor(process: u64, tag: i64);
        fn kill(process: u64);
        fn is_alive(process: u64) -> u32;
        fn die_when_link_dies(enabled: u32);
        fn report_panic(ptr: *const u8, len: u32);
    });
}

/// Lengths passed to the host are `u32`; wasm32 memory cannot hold more.
fn len32(len: usize) -> u32 {
    u32::try_from(len).expect("a wasm32 length fits in u32")
}

/// Takes the error `id` a host call returned.
fn take_error(id: u64) -> LunaticError {
    // SAFETY: the host gives the size of error `id`, then writes exactly that many bytes.
    let message = unsafe {
        let size = error::string_size(id) as usize;
        let mut bytes = vec![0u8; size];
        error::to_string(id, bytes.as_mut_ptr());
        error::drop(id);
        bytes
    };
    LunaticError::Host(String::from_utf8_lossy(&message).into_owned())
}

/// A tag unique in this VM.
pub(crate) fn new_tag() -> i64 {
    // SAFETY: no memory is passed.
    unsafe { message::new_tag() }
}

/// Sends `data` with `tag` to `process` (dropped if it is not alive).
pub(crate) fn send(process: u64, tag: i64, data: &[u8]) {
    // SAFETY: `data` is a live slice for the duration of the calls.
    unsafe {
        message::create_data(tag, data.len() as u64);
        message::write_data(data.as_ptr(), len32(data.len()));
        message::send(process);
    }
}

/// What [`receive`] got.
pub(crate) enum Received {
    /// A data message is the current incoming message.
    Data,
    /// A link-death signal is the current incoming message.
    Signal,
    /// A down notice is the current incoming message.
    Down,
    /// Nothing came in time.
    TimedOut,
}

/// Waits for a message whose tag is in `tags` (any when empty).
pub(crate) fn receive(tags: &[Tag], timeout: Option<Duration>) -> Received {
    let timeout = timeout.map_or(WAIT_FOREVER, |t| {
        u64::try_from(t.as_millis()).unwrap_or(WAIT_FOREVER - 1)
    });
    // SAFETY: `Tag` is `repr(transparent)` over `i64`, so `tags` is a live slice of
    // `tags.len()` i64s.
    let status =
        unsafe { message::receive(tags.as_ptr().cast::<i64>(), len32(tags.len()), timeout) };
    match ReceiveStatus::try_from(status) {
        Ok(ReceiveStatus::Data) => Received::Data,
        Ok(ReceiveStatus::Signal) => Received::Signal,
        Ok(ReceiveStatus::TimedOut) => Received::TimedOut,
        Ok(ReceiveStatus::Down) => Received::Down,
        Err(other) => panic!("lunatic::message::receive returned unknown status {other}"),
    }
}

/// The bytes of the current incoming message.
pub(crate) fn message_data() -> Vec<u8> {
    // SAFETY: the buffer holds `size` bytes and the host writes at most that many.
    unsafe {
        let size = message::data_size() as usize;
        let mut data = vec![0u8; size];
        message::read_data(data.as_mut_ptr(), len32(size));
        data
    }
}

/// The tag of the current incoming message.
pub(crate) fn message_tag() -> i64 {
    // SAFETY: no memory is passed.
    unsafe { message::get_tag() }
}

/// The process the current incoming signal is about.
pub(crate) fn signal_process() -> u64 {
    // SAFETY: no memory is passed.
    unsafe { message::signal_process() }
}

/// Spawns exported function `function` of module `module_id` with `params`, linked with
/// `link_tag` unless it is [`lunatic_abi::NO_LINK`].
pub(crate) fn spawn(
    link_tag: i64,
    module_id: u64,
    function: &str,
    params: &[Param],
) -> Result<u64, LunaticError> {
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
    let mut id = 0u64;
    // SAFETY: every pointer is to a live buffer of the length passed with it.
    let status = unsafe {
        process::spawn(
            link_tag,
            module_id,
            function.as_ptr(),
            len32(function.len()),
            encoded.as_ptr(),
            len32(encoded.len()),
            &mut id,
        )
    };
    match SpawnStatus::try_from(status) {
        Ok(SpawnStatus::Spawned) => Ok(id),
        Ok(SpawnStatus::Failed) => Err(take_error(id)),
        Err(other) => panic!("lunatic::process::spawn returned unknown status {other}"),
    }
}

/// This process's id.
pub(crate) fn this() -> u64 {
    // SAFETY: no memory is passed.
    unsafe { process::this() }
}

/// Suspends this process.
pub(crate) fn sleep(duration: Duration) {
    let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    // SAFETY: no memory is passed.
    unsafe { process::sleep_ms(ms) }
}

/// Links this process to `process`.
pub(crate) fn link(tag: i64, process: u64) {
    // SAFETY: no memory is passed.
    unsafe { process::link(tag, process) }
}

/// Unlinks this process from `process`.
pub(crate) fn unlink(process: u64) {
    // SAFETY: no memory is passed.
    unsafe { process::unlink(process) }
}

/// Monitors `process`; returns the tag its down notice will carry.
pub(crate) fn monitor(process: u64) -> i64 {
    // SAFETY: no memory is passed.
    unsafe { process::monitor(process) }
}

/// Removes monitor `tag` of `process` and any queued down notice with it.
pub(crate) fn demonitor(process: u64, tag: i64) {
    // SAFETY: no memory is passed.
    unsafe { process::demonitor(process, tag) }
}

fn registry_status(status: u32, function: &str) -> RegistryStatus {
    RegistryStatus::try_from(status).unwrap_or_else(|other| {
        panic!("lunatic::registry::{function} returned unknown status {other}")
    })
}

/// Registers `name` at `version` for `process` (with its message type name) in environment
/// `env` (0: the caller's).
pub(crate) fn register_name(
    env: u64,
    name: &str,
    version: &str,
    message_type: &str,
    process: u64,
) -> RegistryStatus {
    // SAFETY: every string is a live slice of the length passed.
    let status = unsafe {
        registry::register(
            env,
            name.as_ptr(),
            len32(name.len()),
            version.as_ptr(),
            len32(version.len()),
            message_type.as_ptr(),
            len32(message_type.len()),
            process,
        )
    };
    registry_status(status, "register")
}

/// Looks `name` up in the caller's environment: the highest version matching `query`.
pub(crate) fn lookup_name(
    name: &str,
    query: &str,
    message_type: &str,
) -> Result<u64, RegistryStatus> {
    let mut id = 0u64;
    // SAFETY: every string is a live slice; `id` is a live u64.
    let status = unsafe {
        registry::lookup(
            name.as_ptr(),
            len32(name.len()),
            query.as_ptr(),
            len32(query.len()),
            message_type.as_ptr(),
            len32(message_type.len()),
            &mut id,
        )
    };
    match registry_status(status, "lookup") {
        RegistryStatus::Done => Ok(id),
        other => Err(other),
    }
}

/// Removes `name` at `version` from environment `env` (0: the caller's).
pub(crate) fn unregister_name(env: u64, name: &str, version: &str) -> RegistryStatus {
    // SAFETY: both strings are live slices.
    let status = unsafe {
        registry::unregister(
            env,
            name.as_ptr(),
            len32(name.len()),
            version.as_ptr(),
            len32(version.len()),
        )
    };
    registry_status(status, "unregister")
}

/// The id, or the error, a creating call of `lunatic::environment` reported.
fn created(status: u32, id: u64, function: &str) -> Result<u64, LunaticError> {
    match lunatic_abi::EnvironmentStatus::try_from(status) {
        Ok(lunatic_abi::EnvironmentStatus::Created) => Ok(id),
        Ok(lunatic_abi::EnvironmentStatus::Failed) => Err(take_error(id)),
        Err(other) => panic!("lunatic::environment::{function} returned unknown status {other}"),
    }
}

/// Creates an environment.
pub(crate) fn create_environment(
    max_memory: u64,
    max_fuel: Option<u64>,
    namespaces: &str,
    dirs: &str,
) -> Result<u64, LunaticError> {
    let mut id = 0u64;
    let max_fuel = max_fuel.unwrap_or(lunatic_abi::NO_FUEL_LIMIT);
    // SAFETY: both strings are live slices; `id` is a live u64.
    let status = unsafe {
        environment::create(
            max_memory,
            max_fuel,
            namespaces.as_ptr(),
            len32(namespaces.len()),
            dirs.as_ptr(),
            len32(dirs.len()),
            &mut id,
        )
    };
    created(status, id, "create")
}

/// A handle to the caller's own environment.
pub(crate) fn this_environment() -> Result<u64, LunaticError> {
    let mut id = 0u64;
    // SAFETY: `id` is a live u64.
    let status = unsafe { environment::this(&mut id) };
    created(status, id, "this")
}

/// Drops environment `id`.
pub(crate) fn drop_environment(id: u64) {
    // SAFETY: no memory is passed.
    unsafe { environment::drop(id) }
}

/// Adds this module to environment `env`.
pub(crate) fn add_this_module(env: u64) -> Result<u64, LunaticError> {
    let mut id = 0u64;
    // SAFETY: `id` is a live u64.
    let status = unsafe { environment::add_this_module(env, &mut id) };
    created(status, id, "add_this_module")
}

/// Compiles `bytes` into a module of environment `env`.
pub(crate) fn add_module(env: u64, bytes: &[u8]) -> Result<u64, LunaticError> {
    let mut id = 0u64;
    // SAFETY: `bytes` is a live slice; `id` is a live u64.
    let status =
        unsafe { environment::add_module(env, bytes.as_ptr(), len32(bytes.len()), &mut id) };
    created(status, id, "add_module")
}

/// Drops module `id`.
pub(crate) fn drop_module(id: u64) {
    // SAFETY: no memory is passed.
    unsafe { environment::drop_module(id) }
}

/// Kills `process`.
pub(crate) fn kill(process: u64) {
    // SAFETY: no memory is passed.
    unsafe { process::kill(process) }
}

/// Whether `process` is alive.
pub(crate) fn is_alive(process: u64) -> bool {
    // SAFETY: no memory is passed.
    unsafe { process::is_alive(process) != 0 }
}

/// Whether link deaths kill this process (`true`) or arrive as signals.
pub(crate) fn die_when_link_dies(die: bool) {
    // SAFETY: no memory is passed.
    unsafe { process::die_when_link_dies(u32::from(die)) }
}

/// Tells the host why this process is about to trap.
pub(crate) fn report_panic(message: &str) {
    // SAFETY: `message` is a live slice.
    unsafe { process::report_panic(message.as_ptr(), len32(message.len())) }
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
    assert_eq!(
        std::mem::size_of::<E>(),
        std::mem::size_of::<usize>(),
        "an entry is a fn pointer"
    );
    // SAFETY: `E` is a fn pointer (see `Entry`), the size of a usize.
    let user = unsafe { std::mem::transmute_copy::<E, usize>(&entry) };
    let trampoline = trampoline::<E> as fn(usize) as usize;
    // On wasm32, function pointers are 32-bit table indices and usize is 32 bits wide.
    let params = [Param::I32(trampoline as i32), Param::I32(user as i32)];
    spawn(link_tag, module_id, lunatic_abi::SPAWN_ENTRY, &params)
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
