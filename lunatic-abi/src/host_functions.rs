//! The host ABI, declared once: every function a guest may import from the VM.
//!
//! [`host_functions!`](crate::host_functions) holds the declaration and hands it to a
//! macro of the caller's choosing (the "x-macro" pattern), so each side generates what it
//! needs from the same text:
//! - the VM (`lunatic-vm/src/host/`) registers every function with the linker, through one
//!   gate (`HostCall`) that applies the function's flags;
//! - the guest library (`lunatic-core/src/host/`) declares the `extern` blocks;
//! - this crate builds [`HOST_MODULES`], from which [`reference`] renders the reference
//!   (`docs/abi.md`, checked by a test).
//!
//! Grammar of one import module and one function:
//!
//! ```text
//! /// What the module is for (prose for the reference).
//! mod rust_name = "import::module" {
//!     /// What it does and returns.
//!     ///
//!     /// Traps: when the caller dies instead of getting an answer.
//!     #[host(Wait, Flush)]          // flags, `Wait` (then `Mailbox`) first (see `Flag`)
//!     fn name(arg: Kind, ...) -> Result;
//! }
//! ```
//!
//! Parameter kinds and results are the types of [`kind`](crate::kind): each says what a
//! value means (a process, a tag, a guest buffer the host reads) and how it crosses (its
//! wasm type, and its type in the guest's `extern` block).

use alloc::format;
use alloc::string::String;

/// What a host function's declaration promises beyond its types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// It may suspend the caller (it is async in the VM). When the caller is killed while
    /// it waits, the call ends and so does the caller.
    Wait,
    /// What the caller sent and the VM still holds in its outbox is delivered before the
    /// call does anything another process could observe, or waits.
    Flush,
    /// With `Wait`: it waits on the caller's own mailbox, where a kill is queued and which a
    /// kill wakes, so the wait ends by itself when the caller is killed (the gate adds no
    /// watch of its own: `receive` is the hottest wait there is).
    Mailbox,
}

/// One declared host function, for the reference and for checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFunction {
    /// Its import module, as the guest's import names it.
    pub module: &'static str,
    /// Its name.
    pub name: &'static str,
    /// `(name, kind)` of each parameter, in order.
    pub params: &'static [(&'static str, &'static str)],
    /// The result's kind, or `""` for none.
    pub result: &'static str,
    /// Its flags.
    pub flags: &'static [Flag],
    /// Its documentation, one entry per line.
    pub doc: &'static [&'static str],
}

impl HostFunction {
    /// Whether it has `flag`.
    #[must_use]
    #[inline]
    pub const fn has(&self, flag: Flag) -> bool {
        let mut i = 0;
        while i < self.flags.len() {
            if self.flags[i] as u8 == flag as u8 {
                return true;
            }
            i += 1;
        }
        false
    }
}

/// One declared import module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostModule {
    /// Its name, as the guest's import names it.
    pub name: &'static str,
    /// Its documentation, one entry per line.
    pub doc: &'static [&'static str],
    /// Its functions.
    pub functions: &'static [HostFunction],
}

/// Builds [`HOST_MODULES`] from the declaration.
macro_rules! describe {
    ($(
        $(#[doc = $mdoc:literal])*
        mod $rmod:ident = $module:literal {
            $(
                $(#[doc = $doc:literal])*
                #[host($($flag:ident),*)]
                fn $name:ident($($arg:ident: $kind:ty),* $(,)?) $(-> $ret:ty)?;
            )*
        }
    )*) => {
        /// Every import module the VM provides (besides WASI), with its functions.
        pub const HOST_MODULES: &[HostModule] = &[$(
            HostModule {
                name: $module,
                doc: &[$($mdoc),*],
                functions: &[$(
                    HostFunction {
                        module: $module,
                        name: stringify!($name),
                        params: &[$((stringify!($arg), stringify!($kind))),*],
                        result: concat!($(stringify!($ret))?),
                        flags: &[$(Flag::$flag),*],
                        doc: &[$($doc),*],
                    },
                )*],
            },
        )*];
    };
}

crate::host_functions!(describe);

/// The reference of the host ABI in Markdown: each module's prose, then a table of its
/// functions. `docs/abi.md` is this text (a test in `lunatic-vm` compares them).
#[must_use]
pub fn reference() -> String {
    let mut out = String::from(
        "# The host ABI\n\n\
         Generated from the declaration in `lunatic-abi/src/host_functions.rs` \
         (`cargo test -p lunatic-vm --test abi_reference` checks it; run it with \
         `LUNATIC_BLESS=1` to rewrite this file).\n\n\
         Parameter kinds (see `lunatic_abi::kind`): `In<T>` is the address (`u32`) of `T`s \
         the host reads and `Out<T>` of `T`s it writes, with the count in the `Len` (`u32`) \
         after it, or one `T`; `Process` is a process id (`u64`), `Tag` a message tag \
         (`i64`), `Timeout` milliseconds (`u64`, `u64::MAX` for none), `ErrorId`, \
         `EnvironmentId`, `ModuleId` and `ResourceId` ids the caller holds (`u64`); \
         `ReceiveRecord` is the 8 bytes of a `ReceiveInfo` and `SocketAddrRecord` the 27 \
         of an encoded socket address; a status result is a `u32`. A range outside the caller's memory, an unknown id, or \
         a call out of order traps, and the trap names the function. Flags: `wait` (the \
         call may suspend the caller, and ends it if it is killed meanwhile), `mailbox` \
         (it waits on the caller's mailbox, which a kill wakes) and `flush` (what the \
         caller sent is delivered first).\n",
    );
    for module in HOST_MODULES {
        out.push_str(&format!("\n## `{}`\n\n", module.name));
        for line in module.doc {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.push_str(
            "\n| function | parameters | result | flags | what it does; when it traps |\n",
        );
        out.push_str("|---|---|---|---|---|\n");
        for function in module.functions {
            let params: alloc::vec::Vec<String> = function
                .params
                .iter()
                .map(|(name, kind)| format!("`{name}: {}`", kind.replace(' ', "")))
                .collect();
            let flags: alloc::vec::Vec<&str> = function
                .flags
                .iter()
                .map(|flag| match flag {
                    Flag::Wait => "wait",
                    Flag::Flush => "flush",
                    Flag::Mailbox => "mailbox",
                })
                .collect();
            let doc: alloc::vec::Vec<&str> = function
                .doc
                .iter()
                .map(|line| line.trim())
                .filter(|line| !line.is_empty())
                .collect();
            let result = if function.result.is_empty() {
                String::new()
            } else {
                format!("`{}`", function.result.replace(' ', ""))
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                function.name,
                params.join(", "),
                result,
                flags.join(", "),
                doc.join(" ")
            ));
        }
    }
    out
}

/// Hands the declaration of every host function to `$callback!` (see the module docs for
/// the grammar). Kinds are named unqualified: expand it where `lunatic_abi::kind::*` and
/// the status enums are in scope.
#[macro_export]
macro_rules! host_functions {
    ($callback:path) => {
        $callback! {
            /// Errors other calls returned by id: a call that can fail in a way the guest
            /// should see returns a status and writes an error id; the guest reads the
            /// message and drops the id.
            mod error = "lunatic::error" {
                /// Bytes of error `id`'s message (UTF-8).
                /// Traps: `id` is unknown.
                #[host()]
                fn string_size(id: ErrorId) -> u32;
                /// Writes the first `min(len, size)` bytes of error `id`'s message at `ptr`.
                /// Traps: `id` is unknown; the range is outside memory.
                #[host()]
                fn to_string(id: ErrorId, ptr: Out<u8>, len: Len);
                /// Forgets error `id`.
                /// Traps: `id` is unknown.
                #[host()]
                fn drop(id: ErrorId);
            }

            /// Messages: build one (`create_data`, `write_data`), send it (`send`, or
            /// `send_data` for bytes alone), receive one (`receive`, `try_receive`) and read
            /// it. `receive` drops the previous incoming message, then takes the first
            /// queued message whose tag is one of the `tags_len` tags at `tags_ptr` (any
            /// message when `tags_len` is 0), waiting up to `timeout` for one. Both receive
            /// calls copy the first `min(size, buf_len)` bytes to `buf_ptr` and write a
            /// `ReceiveInfo` (size, whether the call waited, the message's type) at
            /// `info_ptr`; on
            /// `TimedOut` they write nothing. The data of a link signal or down notice is
            /// the ended process's encoded `EndReason`. A plain receive that may wait
            /// calls `try_receive` first, or `receive` at once when its last plain receive
            /// waited (`receive_waited`, which pre-initialization turns into a global).
            /// Resources travel with a message (`lunatic::resource`). A data message
            /// carries, besides its bytes, the fingerprint of its type (the guest
            /// library's `MessageType`; the host only stores it), its sender, and for a
            /// request the tag its reply is awaited under; the names of types are kept
            /// in a table of the VM (`name_type`, `type_name`).
            mod message = "lunatic::message" {
                /// A fresh tag: 63 unguessable bits, positive (also the tag of a request's
                /// reply).
                #[host()]
                fn new_tag() -> Tag;
                /// Starts a new outgoing message with `tag`, dropping an unsent one (and
                /// closing the resources moved into it); `capacity` is a size hint.
                #[host()]
                fn create_data(tag: Tag, capacity: u64);
                /// Appends `len` bytes at `ptr` to the outgoing message; returns `len`.
                /// Traps: no outgoing message; the range is outside memory; the message
                /// would exceed `MAX_MESSAGE_SIZE`.
                #[host()]
                fn write_data(ptr: In<u8>, len: Len) -> u32;
                /// Sends the outgoing message (bytes and resources), of type
                /// `message_type` and awaiting a reply under `reply_tag` if it is a request
                /// (else 0), to `process`; it is dropped if `process` is not alive.
                /// Traps: no outgoing message.
                #[host()]
                fn send(process: Process, message_type: u64, reply_tag: Tag);
                /// Appends `len` bytes at `ptr` to the outgoing message (started now with
                /// `tag` if there is none; a started one takes `tag`) and sends it as
                /// `send` does: one call for a message without resources.
                /// Traps: the range is outside memory; the message would exceed
                /// `MAX_MESSAGE_SIZE`.
                #[host()]
                fn send_data(
                    process: Process,
                    tag: Tag,
                    message_type: u64,
                    reply_tag: Tag,
                    ptr: In<u8>,
                    len: Len,
                );
                /// Takes a message as described above, waiting up to `timeout`.
                /// Traps: a range (tags, buffer or info) is outside memory, checked before
                /// anything is taken; more than 1024 tags.
                #[host(Wait, Mailbox, Flush)]
                fn receive(
                    tags_ptr: In<i64>,
                    tags_len: Len,
                    timeout: Timeout,
                    buf_ptr: Out<u8>,
                    buf_len: Len,
                    info_ptr: Out<ReceiveRecord>,
                ) -> ReceiveStatus;
                /// As `receive` with no wait: `TimedOut` when nothing matching is queued
                /// (the incoming message is then left as it was).
                /// Traps: as `receive`; the process has been told to die (it ends).
                #[host(Flush)]
                fn try_receive(
                    tags_ptr: In<i64>,
                    tags_len: Len,
                    buf_ptr: Out<u8>,
                    buf_len: Len,
                    info_ptr: Out<ReceiveRecord>,
                ) -> ReceiveStatus;
                /// 1 if the caller's last plain receive waited, else 0.
                #[host()]
                fn receive_waited() -> u32;
                /// Drops queued messages with `tag`, and every one that arrives later (the
                /// last 1024 abandoned tags are remembered).
                #[host()]
                fn abandon_tag(tag: Tag);
                /// Bytes of the incoming message.
                /// Traps: no incoming message.
                #[host()]
                fn data_size() -> u64;
                /// Copies `min(len, size)` bytes of the incoming message to `ptr`; returns
                /// how many.
                /// Traps: no incoming message; the range is outside memory.
                #[host()]
                fn read_data(ptr: Out<u8>, len: Len) -> u32;
                /// The incoming message's tag.
                /// Traps: no incoming message.
                #[host()]
                fn get_tag() -> Tag;
                /// The process whose end the incoming signal or down notice reports.
                /// Traps: the incoming message is neither.
                #[host()]
                fn signal_process() -> Process;
                /// The process that sent the incoming data message (a receiver refusing
                /// a request answers only the process that sent it).
                /// Traps: no incoming message, or it is a signal or down notice.
                #[host()]
                fn sender() -> Process;
                /// The tag a reply to the incoming data message is awaited under; 0 if it
                /// is not a request.
                /// Traps: no incoming message, or it is a signal or down notice.
                #[host()]
                fn reply_tag() -> Tag;
                /// The node of the process that sent the incoming data message (this
                /// node's id for a local sender).
                /// Traps: no incoming message, or it is a signal or down notice.
                #[host()]
                fn sender_node() -> u64;
                /// The node of the process whose end the incoming signal or down notice
                /// reports (this node's id for a local process).
                /// Traps: the incoming message is neither.
                #[host()]
                fn signal_node() -> u64;
                /// Records `name` as the name of message type `message_type` in the VM's
                /// table (once; the first 255 bytes are kept). A name whose fingerprint
                /// is not `message_type`, or one more than a full table (16,384 names)
                /// would hold, is not recorded.
                /// Traps: the range is outside memory, or longer than 64 KiB.
                #[host()]
                fn name_type(message_type: u64, name_ptr: In<u8>, name_len: Len);
                /// Copies the recorded name of message type `message_type` (cut to `len`
                /// bytes) to `ptr`; returns its length, 0 if none is recorded.
                /// Traps: the bytes copied would land outside memory.
                #[host()]
                fn type_name(message_type: u64, ptr: Out<u8>, len: Len) -> u32;
            }

            /// Processes: spawn, identity, links, monitors, kills, sleep and the end.
            /// `spawn` starts exported function `func` (UTF-8) of module `module_id`
            /// (`THIS_MODULE`: the caller's own module, in the caller's environment; or a
            /// module the caller added to an environment) with `params_len` bytes of
            /// parameters, `PARAM_SIZE` bytes each (a `ParamKind` byte and a 16-byte
            /// little-endian value); with a `link_tag` other than `NO_LINK` the child is
            /// linked to the caller before it runs.
            mod process = "lunatic::process" {
                /// Spawns a process; writes its id at `id_ptr`, or what the failure's
                /// `SpawnStatus` says.
                /// Traps: a range is outside memory; the name is not UTF-8; the parameters
                /// are malformed.
                #[host(Wait, Flush)]
                fn spawn(
                    link_tag: Tag,
                    module_id: ModuleId,
                    func_ptr: In<u8>,
                    func_len: Len,
                    params_ptr: In<u8>,
                    params_len: Len,
                    id_ptr: Out<u64>,
                ) -> SpawnStatus;
                /// The caller's process id.
                #[host()]
                fn this() -> Process;
                /// The id of the node the caller runs on (`lunatic::distributed`); 0 when
                /// the VM is not a node of a cluster.
                #[host()]
                fn node_id() -> u64;
                /// Returns after `ms` milliseconds.
                #[host(Wait, Flush)]
                fn sleep_ms(ms: u64);
                /// Links the caller and `process` both ways; a `process` that is not alive
                /// is reported at once.
                /// Traps: `process` is not alive and the caller does not trap link deaths
                /// (it ends).
                #[host(Flush)]
                fn link(tag: Tag, process: Process);
                /// Removes the link with `process`, if any.
                #[host(Flush)]
                fn unlink(process: Process);
                /// Watches `process`: when it ends (for any reason) a down notice with the
                /// returned tag is queued for the caller, at once if it is not alive.
                #[host(Flush)]
                fn monitor(process: Process) -> Tag;
                /// Removes the caller's monitor `tag` of `process`; its down notice,
                /// queued or arriving later, is dropped.
                #[host(Flush)]
                fn demonitor(process: Process, tag: Tag);
                /// Ends `process` with `Killed`; unknown ids are ignored.
                #[host(Flush)]
                fn kill(process: Process);
                /// 1 if `process` is alive, else 0.
                #[host(Flush)]
                fn is_alive(process: Process) -> u32;
                /// 1 (the default) makes abnormal ends of linked processes end the caller;
                /// 0 turns them into signal messages.
                /// Traps: `enabled` is 1 and a link signal is already queued (it ends).
                #[host()]
                fn die_when_link_dies(enabled: u32);
                /// Records the panic the caller is about to trap with: its UTF-8 message,
                /// and its `file:line:column` or an empty location (each cut at
                /// `MAX_REASON_TEXT` bytes).
                /// Traps: a range is outside memory.
                #[host()]
                fn report_panic(
                    message_ptr: In<u8>,
                    message_len: Len,
                    location_ptr: In<u8>,
                    location_len: Len,
                );
                /// Ends the caller with the encoded `EndReason` at `reason_ptr`: `Normal`,
                /// `Shutdown` or `Error` (never returns).
                /// Traps: the range is outside memory; the reason does not decode, is
                /// another variant, or its text is longer than `MAX_REASON_TEXT` bytes.
                #[host(Flush)]
                fn end(reason_ptr: In<u8>, reason_len: Len);
                /// Writes a line to the VM's log on the caller's behalf at `level` (a
                /// `LogLevel`): its UTF-8 text (cut at `MAX_LOG_TEXT` bytes, control
                /// characters escaped) after the caller's id. A sandboxed environment's
                /// lines count against its log rate; over it they are dropped and counted.
                /// Traps: the range's first `MAX_LOG_TEXT` bytes are outside memory (the
                /// rest is not read); `level` is unknown.
                #[host()]
                fn log(level: u32, text_ptr: In<u8>, text_len: Len);
                /// Tells the VM what the caller is: an encoded `Role` (an actor and its
                /// type; a supervisor, its strategy and children), replacing what it said
                /// before. The observer shows it, and a graceful shutdown finds main's
                /// actors by it.
                /// Traps: the range is outside memory, longer than `MAX_ROLE_SIZE`, or not
                /// a `Role`.
                #[host()]
                fn describe(role_ptr: In<u8>, role_len: Len);
                /// Reports, on the caller's behalf as a supervisor, an encoded
                /// `SupervisorReport` (a child restarted, a start failed, intensity
                /// reached, giving up) as one structured log event under the target
                /// `lunatic::supervisor`, rate-limited as `log` is.
                /// Traps: the range is outside memory, longer than `MAX_ROLE_SIZE`, or not
                /// a `SupervisorReport`.
                #[host()]
                fn supervisor_report(report_ptr: In<u8>, report_len: Len);
            }

            /// Names for processes, per environment and versioned. Strings are UTF-8 of at
            /// most 1024 bytes; `env_id` is 0 for the caller's own environment or an
            /// environment the caller holds. The type name is the registrant's message
            /// type; a lookup must give the same one.
            mod registry = "lunatic::registry" {
                /// Registers `name` at `version` for `process`, whose messages are of type
                /// `message_type` (a fingerprint): `Done`, `Taken`, `NotFound` (`process`
                /// is not alive, or no such environment), `BadVersion` or `OverLimit`.
                /// Traps: a range is outside memory; a string is not UTF-8 or too long.
                #[host(Flush)]
                fn register(
                    env_id: EnvironmentId,
                    name_ptr: In<u8>,
                    name_len: Len,
                    version_ptr: In<u8>,
                    version_len: Len,
                    message_type: u64,
                    process: Process,
                ) -> RegistryStatus;
                /// Finds the highest version of `name` matching the semver query in the
                /// caller's environment and writes its process id at `id_ptr`: `Done`,
                /// `NotFound`, `WrongType` (registered for another `message_type`) or
                /// `BadVersion`.
                /// Traps: as `register`, and `id_ptr`.
                #[host(Flush)]
                fn lookup(
                    name_ptr: In<u8>,
                    name_len: Len,
                    query_ptr: In<u8>,
                    query_len: Len,
                    message_type: u64,
                    id_ptr: Out<u64>,
                ) -> RegistryStatus;
                /// Removes `name` at `version`: `Done`, `NotFound` or `BadVersion`.
                /// Traps: as `register`.
                #[host(Flush)]
                fn unregister(
                    env_id: EnvironmentId,
                    name_ptr: In<u8>,
                    name_len: Len,
                    version_ptr: In<u8>,
                    version_len: Len,
                ) -> RegistryStatus;
            }

            /// Environments with limits, and modules added to them. Ids are the caller's
            /// own and dropped when it ends; a process creates environments only within
            /// its own environment's limits. `max_fuel` is in units of about 100,000
            /// instructions (`NO_FUEL_LIMIT`: none); namespaces (`module::name` prefixes of
            /// allowed host functions) and directories are newline-separated UTF-8 lists.
            mod environment = "lunatic::environment" {
                /// Creates an environment; writes its id (or an error id) at `id_ptr`. The
                /// `limits_len` numbers at `limits_ptr` are (`Limit`, value) pairs; a limit
                /// not named has its default.
                /// Traps: a range is outside memory; a list is not UTF-8; a limit is unknown.
                #[host()]
                fn create(
                    max_memory: u64,
                    max_fuel: u64,
                    namespaces_ptr: In<u8>,
                    namespaces_len: Len,
                    dirs_ptr: In<u8>,
                    dirs_len: Len,
                    limits_ptr: In<u64>,
                    limits_len: Len,
                    id_ptr: Out<u64>,
                ) -> EnvironmentStatus;
                /// Writes an id for the caller's own environment at `id_ptr`.
                /// Traps: `id_ptr` is outside memory.
                #[host()]
                fn this(id_ptr: Out<u64>) -> EnvironmentStatus;
                /// Drops environment `env_id`.
                /// Traps: `env_id` is unknown.
                #[host()]
                fn drop(env_id: EnvironmentId);
                /// Adds the caller's module to environment `env_id` (compiled again, off the
                /// scheduler's threads, when the environment needs another engine); writes
                /// the module id (or an error id) at `id_ptr`.
                /// Traps: `id_ptr` is outside memory.
                #[host(Wait, Flush)]
                fn add_this_module(env_id: EnvironmentId, id_ptr: Out<u64>) -> EnvironmentStatus;
                /// Compiles the module at `bytes_ptr` (at most 32 MiB) for environment
                /// `env_id`, off the scheduler's threads; writes the module id (or an
                /// error id) at `id_ptr`.
                /// Traps: a range is outside memory.
                #[host(Wait, Flush)]
                fn add_module(
                    env_id: EnvironmentId,
                    bytes_ptr: In<u8>,
                    bytes_len: Len,
                    id_ptr: Out<u64>,
                ) -> EnvironmentStatus;
                /// Drops module `module_id`.
                /// Traps: `module_id` is unknown.
                #[host()]
                fn drop_module(module_id: ModuleId);
            }

            /// Processes on other nodes of a cluster (`lunatic --node`). A node id is
            /// the fingerprint of the node's name; this node's is
            /// `lunatic::process::node_id` (0 when the VM is not a node: then every other
            /// node is unreachable). The calls take a node
            /// and a process id on it and behave as their local twins do: a message to a
            /// process that is gone is dropped, a link or monitor of one that is gone or
            /// whose node is unreachable is answered at once (`NoProcess`, `NoConnection`).
            /// Messages from one process to another keep their order; resources (sockets)
            /// do not travel to other nodes.
            mod distributed = "lunatic::distributed" {
                /// Writes the ids of the other nodes this one is connected to (at most
                /// `ids_len`) at `ids_ptr`; returns how many there are.
                /// Traps: the range is outside memory.
                #[host()]
                fn nodes(ids_ptr: Out<u64>, ids_len: Len) -> u32;
                /// Copies the name of node `node` (cut to `len` bytes) to `ptr`; returns its
                /// length, 0 for a node this one does not know.
                /// Traps: the bytes copied would land outside memory.
                #[host()]
                fn node_name(node: u64, ptr: Out<u8>, len: Len) -> u32;
                /// Sends the `data_len` bytes at `data_ptr` to `process` on `node`, as
                /// `lunatic::message::send_data` does locally.
                /// Traps: the range is outside memory; the message is too large; a resource
                /// was moved into it.
                #[host()]
                fn send_data(
                    node: u64,
                    process: Process,
                    tag: Tag,
                    message_type: u64,
                    reply_tag: Tag,
                    data_ptr: In<u8>,
                    data_len: Len,
                );
                /// Spawns a process of the caller's module on `node`, in an environment
                /// with the caller's environment's limits (the module travels by hash:
                /// `node` asks for its bytes the first time); writes its id at `id_ptr`, or
                /// what the failure's `SpawnStatus` says. With a `link_tag` other than
                /// `NO_LINK` the child is linked to the caller before it runs.
                /// Traps: as `lunatic::process::spawn`.
                #[host(Wait, Flush)]
                fn spawn(
                    node: u64,
                    link_tag: Tag,
                    func_ptr: In<u8>,
                    func_len: Len,
                    params_ptr: In<u8>,
                    params_len: Len,
                    id_ptr: Out<u64>,
                ) -> SpawnStatus;
                /// Links the caller and `process` on `node` both ways.
                #[host(Flush)]
                fn link(tag: Tag, node: u64, process: Process);
                /// Removes the link with `process` on `node`, if any.
                #[host(Flush)]
                fn unlink(node: u64, process: Process);
                /// Watches `process` on `node`; returns the tag of its down notice.
                #[host(Flush)]
                fn monitor(node: u64, process: Process) -> Tag;
                /// Stops watching; a notice already on its way is dropped.
                #[host(Flush)]
                fn demonitor(node: u64, process: Process, tag: Tag);
                /// Ends `process` on `node` with `Killed`.
                #[host(Flush)]
                fn kill(node: u64, process: Process);
                /// 1 if `process` on `node` is alive, else 0 (also when `node` cannot be
                /// reached).
                #[host(Wait, Flush)]
                fn is_alive(node: u64, process: Process) -> u32;
                /// Registers `process` (of the caller's node) under the cluster-wide name
                /// `name` for messages of type `message_type`: `Done`, `Taken`,
                /// `NotFound` (`process` is not alive) or `OverLimit` (the name would take
                /// the caller's environment over its limit of handles). Every node learns of it; a name
                /// claimed on two nodes at once goes to the earlier claim (ties: the lower
                /// node id), and the other claimant is killed.
                /// Traps: the range is outside memory; the name is not UTF-8 or longer
                /// than 255 bytes.
                #[host(Flush)]
                fn register(name_ptr: In<u8>, name_len: Len, message_type: u64, process: Process) -> RegistryStatus;
                /// Finds cluster-wide name `name`; writes its node and process id at
                /// `node_ptr` and `id_ptr`: `Done`, `NotFound` or `WrongType`.
                /// Traps: a range is outside memory; the name is not UTF-8 or too long.
                #[host(Flush)]
                fn lookup(
                    name_ptr: In<u8>,
                    name_len: Len,
                    message_type: u64,
                    node_ptr: Out<u64>,
                    id_ptr: Out<u64>,
                ) -> RegistryStatus;
                /// Removes cluster-wide name `name` if a process of this node holds it:
                /// `Done` or `NotFound`.
                /// Traps: as `register`.
                #[host(Flush)]
                fn unregister(name_ptr: In<u8>, name_len: Len) -> RegistryStatus;
            }

            /// Handles to host resources (sockets), and moving them between processes in
            /// messages. Ids are the caller's own. A resource leaves a process only inside
            /// a message it sends and arrives only when the receiver takes it out; those
            /// nobody takes close with the message.
            mod resource = "lunatic::resource" {
                /// Forgets handle `id`; the socket closes with its last handle.
                /// Traps: `id` is unknown.
                #[host(Flush)]
                fn drop(id: ResourceId);
                /// A second handle to the same socket.
                /// Traps: `id` is unknown; the caller holds 10,000 handles.
                #[host()]
                fn clone(id: ResourceId) -> ResourceId;
                /// Moves the resource into the outgoing message; returns its index there.
                /// Traps: `id` is unknown; no outgoing message; the message carries 1024
                /// resources already.
                #[host()]
                fn push_to_message(id: ResourceId) -> u32;
                /// Takes resource `index` of kind `kind` (a `ResourceKind`) out of the
                /// incoming message; writes its new id at `id_ptr`: `Taken`, `NotFound` or
                /// `WrongKind`.
                /// Traps: no incoming message; `kind` is unknown; `id_ptr` is outside
                /// memory; the caller holds 10,000 handles.
                #[host()]
                fn take_from_message(index: u32, kind: u32, id_ptr: Out<u64>) -> ResourceStatus;
            }

            /// TCP, UDP and DNS, as calls that suspend only the caller. Calls that can fail
            /// return an `IoStatus` and write a `u64` at `out_ptr`: the result when `Done`,
            /// otherwise an error id whose `std::io::ErrorKind` is the status. Addresses
            /// are `SOCKET_ADDR_SIZE`-byte records; a timeout that expires is `TimedOut`.
            /// The calls that make a socket also trap when the caller holds 10,000 handles
            /// and return `Other` when the VM's socket budget is spent. A name that does
            /// not resolve is `NotFound`, a malformed one `InvalidInput`.
            mod networking = "lunatic::networking" {
                /// Resolves `host:port`; `out_ptr` gets how many addresses were written at
                /// `addrs_ptr` (at most `addrs_capacity` and `MAX_RESOLVED_ADDRS`).
                /// Traps: a range is outside memory.
                #[host(Wait, Flush)]
                fn resolve(
                    name_ptr: In<u8>,
                    name_len: Len,
                    timeout: Timeout,
                    addrs_ptr: Out<SocketAddrRecord>,
                    addrs_capacity: Len,
                    out_ptr: Out<u64>,
                ) -> IoStatus;
                /// Binds a TCP listener; `out_ptr` gets its id.
                /// Traps: a range is outside memory; the address is malformed.
                #[host(Wait, Flush)]
                fn tcp_bind(addr_ptr: In<SocketAddrRecord>, out_ptr: Out<u64>) -> IoStatus;
                /// Accepts a connection; `out_ptr` gets the stream's id, `addr_ptr` the
                /// peer's address.
                /// Traps: `listener` is not a listener of the caller's; a range is outside
                /// memory.
                #[host(Wait, Flush)]
                fn tcp_accept(listener: ResourceId, addr_ptr: Out<SocketAddrRecord>, out_ptr: Out<u64>) -> IoStatus;
                /// Connects; `out_ptr` gets the stream's id.
                /// Traps: a range is outside memory; the address is malformed.
                #[host(Wait, Flush)]
                fn tcp_connect(addr_ptr: In<SocketAddrRecord>, timeout: Timeout, out_ptr: Out<u64>) -> IoStatus;
                /// Reads into `ptr` (at most `len` and 64 KiB; 0 at the end of the stream)
                /// within the read timeout; `out_ptr` gets the count.
                /// Traps: `stream` is not a stream of the caller's; a range is outside
                /// memory.
                #[host(Wait, Flush)]
                fn tcp_read(stream: ResourceId, ptr: Out<u8>, len: Len, out_ptr: Out<u64>) -> IoStatus;
                /// Writes from `ptr` (at most 64 KiB) within the write timeout; `out_ptr`
                /// gets the count.
                /// Traps: as `tcp_read`.
                #[host(Wait, Flush)]
                fn tcp_write(stream: ResourceId, ptr: In<u8>, len: Len, out_ptr: Out<u64>) -> IoStatus;
                /// Shuts the stream down; `how` is a `ShutdownHow`.
                /// Traps: `stream` is not a stream of the caller's; `how` is unknown;
                /// `out_ptr` is outside memory.
                #[host(Flush)]
                fn tcp_shutdown(stream: ResourceId, how: u32, out_ptr: Out<u64>) -> IoStatus;
                /// Binds a UDP socket; `out_ptr` gets its id.
                /// Traps: a range is outside memory; the address is malformed.
                #[host(Wait, Flush)]
                fn udp_bind(addr_ptr: In<SocketAddrRecord>, out_ptr: Out<u64>) -> IoStatus;
                /// Makes `send` and `recv` use the peer at `addr_ptr`.
                /// Traps: `socket` is not a UDP socket of the caller's; a range is outside
                /// memory; the address is malformed.
                #[host(Wait, Flush)]
                fn udp_connect(socket: ResourceId, addr_ptr: In<SocketAddrRecord>, out_ptr: Out<u64>) -> IoStatus;
                /// Sends one datagram (more than 64 KiB: `InvalidInput`) to `addr_ptr`;
                /// `out_ptr` gets the count.
                /// Traps: as `udp_connect`.
                #[host(Wait, Flush)]
                fn udp_send_to(
                    socket: ResourceId,
                    ptr: In<u8>,
                    len: Len,
                    addr_ptr: In<SocketAddrRecord>,
                    out_ptr: Out<u64>,
                ) -> IoStatus;
                /// Sends one datagram to the connected peer.
                /// Traps: `socket` is not a UDP socket of the caller's; a range is outside
                /// memory.
                #[host(Wait, Flush)]
                fn udp_send(socket: ResourceId, ptr: In<u8>, len: Len, out_ptr: Out<u64>) -> IoStatus;
                /// Receives one datagram (the rest of a longer one is dropped); the sender
                /// is written at `addr_ptr`.
                /// Traps: as `udp_send`.
                #[host(Wait, Flush)]
                fn udp_recv_from(
                    socket: ResourceId,
                    ptr: Out<u8>,
                    len: Len,
                    addr_ptr: Out<SocketAddrRecord>,
                    out_ptr: Out<u64>,
                ) -> IoStatus;
                /// Receives one datagram from the connected peer.
                /// Traps: as `udp_send`.
                #[host(Wait, Flush)]
                fn udp_recv(socket: ResourceId, ptr: Out<u8>, len: Len, out_ptr: Out<u64>) -> IoStatus;
                /// Writes the socket's own address at `addr_ptr`.
                /// Traps: `id` is not a socket of the caller's; a range is outside memory.
                #[host()]
                fn local_addr(id: ResourceId, addr_ptr: Out<SocketAddrRecord>, out_ptr: Out<u64>) -> IoStatus;
                /// Writes the peer's address at `addr_ptr`.
                /// Traps: `id` is not a stream or UDP socket of the caller's; a range is
                /// outside memory.
                #[host()]
                fn peer_addr(id: ResourceId, addr_ptr: Out<SocketAddrRecord>, out_ptr: Out<u64>) -> IoStatus;
                /// Sets the read timeout of every handle to this socket (shared with the
                /// processes that hold the others).
                /// Traps: `id` is not a stream or UDP socket of the caller's.
                #[host(Flush)]
                fn set_read_timeout(id: ResourceId, timeout: Timeout);
                /// Sets the write timeout.
                /// Traps: as `set_read_timeout`.
                #[host(Flush)]
                fn set_write_timeout(id: ResourceId, timeout: Timeout);
                /// The read timeout.
                /// Traps: as `set_read_timeout`.
                #[host()]
                fn read_timeout(id: ResourceId) -> Timeout;
                /// The write timeout.
                /// Traps: as `set_read_timeout`.
                #[host()]
                fn write_timeout(id: ResourceId) -> Timeout;
            }
        }
    };
}
