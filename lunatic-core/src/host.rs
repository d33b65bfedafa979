//! The host ABI as the guest sees it: one `extern` block per import module of the host
//! (see `lunatic-vm/src/host/` for each function's parameters, results and traps), and safe
//! wrappers that every other module of this crate uses. This is the only module with
//! `unsafe` code.
//!
//! Outside wasm32 (for example when this crate is type-checked or documented on the host)
//! the imports do not exist, and calling any wrapper panics.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lunatic_abi::{
    decode_socket_addr, encode_socket_addr, IoStatus, ParamKind, ReceiveInfo, ReceiveStatus,
    RegistryStatus, ResourceKind, ResourceStatus, ShutdownHow, SpawnStatus, MAX_RESOLVED_ADDRS,
    PARAM_SIZE, SOCKET_ADDR_SIZE, WAIT_FOREVER,
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
        fn receive(tags_ptr: *const i64, tags_len: u32, timeout_ms: u64, buf_ptr: *mut u8, buf_len: u32, info_ptr: *mut u8) -> u32;
        fn try_receive(tags_ptr: *const i64, tags_len: u32, buf_ptr: *mut u8, buf_len: u32, info_ptr: *mut u8) -> u32;
        fn receive_waited() -> u32;
        fn abandon_tag(tag: i64);
        fn send_data(process: u64, tag: i64, ptr: *const u8, len: u32);
        // `data_size` is not imported: a receive call reports the size.
        fn read_data(ptr: *mut u8, len: u32) -> u32;
        fn get_tag() -> i64;
        fn signal_process() -> u64;
    });
}

mod resource {
    import_module!("lunatic::resource" {
        fn drop(id: u64);
        fn clone(id: u64) -> u64;
        fn push_to_message(id: u64) -> u32;
        fn take_from_message(index: u32, kind: u32, id_ptr: *mut u64) -> u32;
    });
}

mod networking {
    import_module!("lunatic::networking" {
        fn resolve(
            name_ptr: *const u8,
            name_len: u32,
            timeout_ms: u64,
            addrs_ptr: *mut u8,
            addrs_capacity: u32,
            out_ptr: *mut u64,
        ) -> u32;
        fn tcp_bind(addr_ptr: *const u8, out_ptr: *mut u64) -> u32;
        fn tcp_accept(listener: u64, addr_ptr: *mut u8, out_ptr: *mut u64) -> u32;
        fn tcp_connect(addr_ptr: *const u8, timeout_ms: u64, out_ptr: *mut u64) -> u32;
        fn tcp_read(stream: u64, ptr: *mut u8, len: u32, out_ptr: *mut u64) -> u32;
        fn tcp_write(stream: u64, ptr: *const u8, len: u32, out_ptr: *mut u64) -> u32;
        fn tcp_shutdown(stream: u64, how: u32, out_ptr: *mut u64) -> u32;
        fn udp_bind(addr_ptr: *const u8, out_ptr: *mut u64) -> u32;
        fn udp_connect(socket: u64, addr_ptr: *const u8, out_ptr: *mut u64) -> u32;
        fn udp_send_to(socket: u64, ptr: *const u8, len: u32, addr_ptr: *const u8, out_ptr: *mut u64) -> u32;
        fn udp_send(socket: u64, ptr: *const u8, len: u32, out_ptr: *mut u64) -> u32;
        fn udp_recv_from(socket: u64, ptr: *mut u8, len: u32, addr_ptr: *mut u8, out_ptr: *mut u64) -> u32;
        fn udp_recv(socket: u64, ptr: *mut u8, len: u32, out_ptr: *mut u64) -> u32;
        fn local_addr(id: u64, addr_ptr: *mut u8, out_ptr: *mut u64) -> u32;
        fn peer_addr(id: u64, addr_ptr: *mut u8, out_ptr: *mut u64) -> u32;
        fn set_read_timeout(id: u64, timeout_ms: u64);
        fn set_write_timeout(id: u64, timeout_ms: u64);
        fn read_timeout(id: u64) -> u64;
        fn write_timeout(id: u64) -> u64;
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
        fn report_panic(
            message_ptr: *const u8,
            message_len: u32,
            location_ptr: *const u8,
            location_len: u32,
        );
        fn end(reason_ptr: *const u8, reason_len: u32) -> !;
    });
}

/// Lengths passed to the host are `u32`; wasm32 memory cannot hold more.
#[inline]
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

/// Starts a new outgoing message with `tag` (resources are moved into it while its value
/// is serialized), dropping an unsent one.
#[inline]
pub(crate) fn create_message(tag: i64) {
    // SAFETY: no memory is passed.
    unsafe { message::create_data(tag, 0) }
}

/// Appends `data` to the outgoing message and sends it to `process` (dropped if it is not
/// alive).
#[inline]
pub(crate) fn write_and_send(process: u64, data: &[u8]) {
    // SAFETY: `data` is a live slice for the duration of the calls.
    unsafe {
        message::write_data(data.as_ptr(), len32(data.len()));
        message::send(process);
    }
}

/// Sends `data` with `tag` to `process` in one call (no resources).
#[inline]
pub(crate) fn send_data(process: u64, tag: i64, data: &[u8]) {
    // SAFETY: `data` is a live slice for the duration of the call.
    unsafe { message::send_data(process, tag, data.as_ptr(), len32(data.len())) }
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

/// Bytes of a message the receive call copies out itself, onto the stack: most messages
/// fit, and cost no further call.
const RECEIVE_BUFFER: usize = 256;

/// Waits up to `timeout` (`None`: forever) for a message whose tag is in `tags` (any when
/// empty), makes it the incoming message, and runs `read` on what it is and its bytes.
pub(crate) fn receive<R>(
    tags: &[Tag],
    timeout: Option<Duration>,
    read: impl FnOnce(Received, &[u8]) -> R,
) -> R {
    let timeout = timeout.map_or(WAIT_FOREVER, |t| {
        u64::try_from(t.as_millis()).unwrap_or(WAIT_FOREVER - 1)
    });
    let (tags_ptr, tags_len) = (tags.as_ptr().cast::<i64>(), len32(tags.len()));
    // Neither buffer is written here: a parked process must not dirty a page of its stack.
    let mut buffer = [MaybeUninit::<u8>::uninit(); RECEIVE_BUFFER];
    let mut info = MaybeUninit::<[u8; ReceiveInfo::SIZE]>::uninit();
    let (buf_ptr, info_ptr) = (
        buffer.as_mut_ptr().cast::<u8>(),
        info.as_mut_ptr().cast::<u8>(),
    );
    let buf_len = len32(RECEIVE_BUFFER);
    // SAFETY (both calls): `Tag` is `repr(transparent)` over `i64`, so `tags` is a live
    // slice of `tags.len()` i64s; `buffer` holds `buf_len` bytes and `info` the
    // `ReceiveInfo::SIZE` the host writes.
    let wait = |timeout| unsafe {
        message::receive(tags_ptr, tags_len, timeout, buf_ptr, buf_len, info_ptr)
    };
    // A queued message is taken with a plain call; only an empty mailbox costs the
    // suspending one. A selective receive (a reply, a down notice) waits for something
    // that is rarely there yet, so it suspends at once, and so does a plain receive after
    // one that waited (a process answering another's messages waits for each). That hint
    // is not kept in linear memory, which a process parked in its first receive has not
    // touched at all (a byte of it, even on the stack, costs the kernel a page and a page
    // table, 8.8 KiB a parked process), but by the VM (see `lunatic_receive_waited`).
    let status = if timeout != 0 && (!tags.is_empty() || last_receive_waited()) {
        wait(timeout)
    } else {
        // SAFETY: as above.
        let status =
            unsafe { message::try_receive(tags_ptr, tags_len, buf_ptr, buf_len, info_ptr) };
        if status == ReceiveStatus::TimedOut as u32 && timeout != 0 {
            wait(timeout)
        } else {
            status
        }
    };
    let received = match ReceiveStatus::try_from(status) {
        Ok(ReceiveStatus::Data) => Received::Data,
        Ok(ReceiveStatus::Signal) => Received::Signal,
        Ok(ReceiveStatus::Down) => Received::Down,
        // Nothing came, and nothing was written.
        Ok(ReceiveStatus::TimedOut) => return read(Received::TimedOut, &[]),
        Err(other) => panic!("lunatic::message::receive returned unknown status {other}"),
    };
    // SAFETY: the host writes the info record before it returns a message.
    let info = ReceiveInfo::from_bytes(unsafe { info.assume_init() });
    let size = info.size as usize;
    if size <= RECEIVE_BUFFER {
        // SAFETY: the host copied the message's `size` bytes to the buffer.
        let bytes = unsafe { core::slice::from_raw_parts(buffer.as_ptr().cast::<u8>(), size) };
        return read(received, bytes);
    }
    let mut data = vec![0u8; size];
    // SAFETY: the vector holds `size` bytes, the most `read_data` writes.
    unsafe { message::read_data(data.as_mut_ptr(), len32(size)) };
    read(received, &data)
}

/// Drops the caller's queued messages with `tag`, and every later one.
pub(crate) fn abandon_tag(tag: Tag) {
    // SAFETY: no memory is passed.
    unsafe { message::abandon_tag(tag.id()) }
}

/// The tag of the current incoming message.
#[inline]
pub(crate) fn message_tag() -> i64 {
    // SAFETY: no memory is passed.
    unsafe { message::get_tag() }
}

/// The process the current incoming signal is about.
#[inline]
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

/// The calling process's id: asked of the host once, then remembered (a request names its
/// sender, so this is on the path of every request).
pub(crate) fn this() -> u64 {
    /// The id; 0 until asked (the VM numbers processes from 1).
    static THIS: AtomicU64 = AtomicU64::new(0);
    match THIS.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: no memory is passed.
            let id = unsafe { process::this() };
            THIS.store(id, Ordering::Relaxed);
            id
        }
        id => id,
    }
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

/// Tells the host why this process is about to trap: the panic message and its location
/// (`file:line:column`, or empty).
pub(crate) fn report_panic(message: &str, location: &str) {
    // SAFETY: both are live slices.
    unsafe {
        process::report_panic(
            message.as_ptr(),
            len32(message.len()),
            location.as_ptr(),
            len32(location.len()),
        );
    }
}

/// Ends this process with `reason` (the host accepts only `Normal`, `Shutdown` and `Error`).
pub(crate) fn end(reason: &lunatic_abi::EndReason) -> ! {
    let bytes = reason.to_bytes();
    // SAFETY: `bytes` is a live slice; the call does not return.
    unsafe { process::end(bytes.as_ptr(), len32(bytes.len())) }
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

/// Whether this process's last plain receive (no tags, allowed to wait) had to wait.
#[inline]
fn last_receive_waited() -> bool {
    lunatic_receive_waited() != 0
}

/// The export that says whether this process's last plain receive waited
/// ([`lunatic_abi::RECEIVE_WAITED_EXPORT`]): it asks the host, but the VM's
/// pre-initialization replaces this body with a read of a global the VM keeps, so the
/// answer costs a call into the module rather than into the host. Never inlined, so that
/// every caller goes through the body the VM replaces.
#[export_name = "lunatic_receive_waited"]
#[inline(never)]
extern "C" fn lunatic_receive_waited() -> u32 {
    // SAFETY: no memory is passed.
    unsafe { message::receive_waited() }
}

/// The export the host runs to set processes up ([`lunatic_abi::PREINIT_EXPORT`]): once
/// per module, keeping the memory it leaves as every process's starting image (so a
/// process that only waits writes none of its memory), or at the start of each process.
#[export_name = "lunatic_preinit"]
extern "C" fn lunatic_preinit() {
    crate::process::install_panic_hook();
}

/// Closes this process's handle `id` to a resource.
pub(crate) fn drop_resource(id: u64) {
    // SAFETY: no memory is passed.
    unsafe { resource::drop(id) }
}

/// A second handle to resource `id`.
pub(crate) fn clone_resource(id: u64) -> u64 {
    // SAFETY: no memory is passed.
    unsafe { resource::clone(id) }
}

/// Moves resource `id` into the outgoing message; its index there.
pub(crate) fn push_resource(id: u64) -> u32 {
    // SAFETY: no memory is passed.
    unsafe { resource::push_to_message(id) }
}

/// Takes resource `index` of the incoming message, if it is a `kind`; its new id.
pub(crate) fn take_resource(index: u32, kind: ResourceKind) -> Result<u64, ResourceStatus> {
    let mut id = 0u64;
    // SAFETY: `id` is a live u64.
    let status = unsafe { resource::take_from_message(index, kind as u32, &mut id) };
    match ResourceStatus::try_from(status) {
        Ok(ResourceStatus::Taken) => Ok(id),
        Ok(other) => Err(other),
        Err(other) => {
            panic!("lunatic::resource::take_from_message returned unknown status {other}")
        }
    }
}

/// The value a `lunatic::networking` call wrote, or the I/O error it reported.
fn io_result(status: u32, out: u64, function: &str) -> io::Result<u64> {
    match IoStatus::try_from(status) {
        Ok(IoStatus::Done) => Ok(out),
        Ok(status) => {
            let LunaticError::Host(message) = take_error(out);
            Err(io::Error::new(crate::net::error_kind(status), message))
        }
        Err(other) => panic!("lunatic::networking::{function} returned unknown status {other}"),
    }
}

/// An address record read back from guest memory the host wrote.
fn read_addr(record: &[u8; SOCKET_ADDR_SIZE], function: &str) -> SocketAddr {
    decode_socket_addr(record)
        .unwrap_or_else(|| panic!("lunatic::networking::{function} wrote a malformed address"))
}

/// The addresses `name` (`host:port`) resolves to.
pub(crate) fn resolve(name: &str, timeout_ms: u64) -> io::Result<Vec<SocketAddr>> {
    let mut records = vec![[0u8; SOCKET_ADDR_SIZE]; MAX_RESOLVED_ADDRS as usize];
    let mut out = 0u64;
    // SAFETY: `name` is a live slice; `records` holds MAX_RESOLVED_ADDRS records, the most
    // the host writes; `out` is a live u64.
    let status = unsafe {
        networking::resolve(
            name.as_ptr(),
            len32(name.len()),
            timeout_ms,
            records.as_mut_ptr().cast::<u8>(),
            MAX_RESOLVED_ADDRS,
            &mut out,
        )
    };
    let count = io_result(status, out, "resolve")? as usize;
    Ok(records[..count.min(records.len())]
        .iter()
        .map(|record| read_addr(record, "resolve"))
        .collect())
}

/// Binds a TCP listener; its id.
pub(crate) fn tcp_bind(addr: &SocketAddr) -> io::Result<u64> {
    let record = encode_socket_addr(addr);
    let mut out = 0u64;
    // SAFETY: `record` and `out` are live.
    let status = unsafe { networking::tcp_bind(record.as_ptr(), &mut out) };
    io_result(status, out, "tcp_bind")
}

/// Waits for a connection on `listener`; the stream's id and the peer.
pub(crate) fn tcp_accept(listener: u64) -> io::Result<(u64, SocketAddr)> {
    let mut record = [0u8; SOCKET_ADDR_SIZE];
    let mut out = 0u64;
    // SAFETY: `record` and `out` are live and of the sizes the host writes.
    let status = unsafe { networking::tcp_accept(listener, record.as_mut_ptr(), &mut out) };
    let id = io_result(status, out, "tcp_accept")?;
    Ok((id, read_addr(&record, "tcp_accept")))
}

/// Connects to `addr`; the stream's id.
pub(crate) fn tcp_connect(addr: &SocketAddr, timeout_ms: u64) -> io::Result<u64> {
    let record = encode_socket_addr(addr);
    let mut out = 0u64;
    // SAFETY: `record` and `out` are live.
    let status = unsafe { networking::tcp_connect(record.as_ptr(), timeout_ms, &mut out) };
    io_result(status, out, "tcp_connect")
}

/// Reads from `stream` into `buf`.
pub(crate) fn tcp_read(stream: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut out = 0u64;
    // SAFETY: the host writes at most `buf.len()` bytes into `buf`.
    let status =
        unsafe { networking::tcp_read(stream, buf.as_mut_ptr(), len32(buf.len()), &mut out) };
    io_result(status, out, "tcp_read").map(|n| n as usize)
}

/// Writes some of `buf` to `stream`.
pub(crate) fn tcp_write(stream: u64, buf: &[u8]) -> io::Result<usize> {
    let mut out = 0u64;
    // SAFETY: `buf` is a live slice; `out` a live u64.
    let status = unsafe { networking::tcp_write(stream, buf.as_ptr(), len32(buf.len()), &mut out) };
    io_result(status, out, "tcp_write").map(|n| n as usize)
}

/// Shuts down part of `stream`.
pub(crate) fn tcp_shutdown(stream: u64, how: ShutdownHow) -> io::Result<()> {
    let mut out = 0u64;
    // SAFETY: `out` is a live u64.
    let status = unsafe { networking::tcp_shutdown(stream, how as u32, &mut out) };
    io_result(status, out, "tcp_shutdown").map(|_| ())
}

/// Binds a UDP socket; its id.
pub(crate) fn udp_bind(addr: &SocketAddr) -> io::Result<u64> {
    let record = encode_socket_addr(addr);
    let mut out = 0u64;
    // SAFETY: `record` and `out` are live.
    let status = unsafe { networking::udp_bind(record.as_ptr(), &mut out) };
    io_result(status, out, "udp_bind")
}

/// Sets the peer of UDP socket `socket`.
pub(crate) fn udp_connect(socket: u64, addr: &SocketAddr) -> io::Result<()> {
    let record = encode_socket_addr(addr);
    let mut out = 0u64;
    // SAFETY: `record` and `out` are live.
    let status = unsafe { networking::udp_connect(socket, record.as_ptr(), &mut out) };
    io_result(status, out, "udp_connect").map(|_| ())
}

/// Sends `buf` as one datagram to `to`, or to the connected peer when `None`.
pub(crate) fn udp_send(socket: u64, buf: &[u8], to: Option<&SocketAddr>) -> io::Result<usize> {
    let mut out = 0u64;
    let status = match to {
        Some(addr) => {
            let record = encode_socket_addr(addr);
            // SAFETY: `buf`, `record` and `out` are live.
            unsafe {
                networking::udp_send_to(
                    socket,
                    buf.as_ptr(),
                    len32(buf.len()),
                    record.as_ptr(),
                    &mut out,
                )
            }
        }
        // SAFETY: `buf` and `out` are live.
        None => unsafe { networking::udp_send(socket, buf.as_ptr(), len32(buf.len()), &mut out) },
    };
    let function = if to.is_some() {
        "udp_send_to"
    } else {
        "udp_send"
    };
    io_result(status, out, function).map(|n| n as usize)
}

/// Receives one datagram into `buf`, and its sender.
pub(crate) fn udp_recv_from(socket: u64, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    let mut record = [0u8; SOCKET_ADDR_SIZE];
    let mut out = 0u64;
    // SAFETY: the host writes at most `buf.len()` bytes into `buf`, one record, one u64.
    let status = unsafe {
        networking::udp_recv_from(
            socket,
            buf.as_mut_ptr(),
            len32(buf.len()),
            record.as_mut_ptr(),
            &mut out,
        )
    };
    let count = io_result(status, out, "udp_recv_from")? as usize;
    Ok((count, read_addr(&record, "udp_recv_from")))
}

/// Receives one datagram from the connected peer into `buf`.
pub(crate) fn udp_recv(socket: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut out = 0u64;
    // SAFETY: the host writes at most `buf.len()` bytes into `buf`.
    let status =
        unsafe { networking::udp_recv(socket, buf.as_mut_ptr(), len32(buf.len()), &mut out) };
    io_result(status, out, "udp_recv").map(|n| n as usize)
}

/// The local (`peer == false`) or peer address of socket `id`.
pub(crate) fn socket_addr(id: u64, peer: bool) -> io::Result<SocketAddr> {
    let mut record = [0u8; SOCKET_ADDR_SIZE];
    let mut out = 0u64;
    // SAFETY: `record` and `out` are live and of the sizes the host writes.
    let status = unsafe {
        if peer {
            networking::peer_addr(id, record.as_mut_ptr(), &mut out)
        } else {
            networking::local_addr(id, record.as_mut_ptr(), &mut out)
        }
    };
    let function = if peer { "peer_addr" } else { "local_addr" };
    io_result(status, out, function)?;
    Ok(read_addr(&record, function))
}

/// Sets the read (`write == false`) or write timeout of socket `id`, in milliseconds
/// ([`WAIT_FOREVER`]: none).
pub(crate) fn set_timeout(id: u64, write: bool, timeout_ms: u64) {
    // SAFETY: no memory is passed.
    unsafe {
        if write {
            networking::set_write_timeout(id, timeout_ms);
        } else {
            networking::set_read_timeout(id, timeout_ms);
        }
    }
}

/// The read (`write == false`) or write timeout of socket `id`, in milliseconds.
pub(crate) fn timeout(id: u64, write: bool) -> u64 {
    // SAFETY: no memory is passed.
    unsafe {
        if write {
            networking::write_timeout(id)
        } else {
            networking::read_timeout(id)
        }
    }
}
