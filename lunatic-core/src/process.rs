//! Processes: spawning them, handles to them, and links between them.
//!
//! | function | child linked? | parent on child's abnormal death | parent gets |
//! |---|---|---|---|
//! | [`spawn`], [`spawn_with`] | no | nothing | `Process<M>` |
//! | [`spawn_link`], [`spawn_link_with`] | yes | a [`Message::Signal`](crate::Message::Signal) | `LinkMailbox<P>` |
//! | [`spawn_link_unwrap`], [`spawn_link_unwrap_with`] | yes | dies too | `Mailbox<P>` |
//!
//! The functions given to spawn must not capture anything (they are `fn` pointers): the
//! child runs in a new instance with its own memory, and a context travels to it as a
//! serialized message.

use std::fmt;
use std::io::Write as _;
use std::marker::PhantomData;
use std::time::Duration;

use lunatic_abi::NO_LINK;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::Sendable;
use crate::error::LunaticError;
use crate::error::ReceiveError;
use crate::host::{self, Entry};
use crate::mailbox::{receive_raw, Down, Incoming, LinkMailbox, Mailbox};
use crate::tag::Tag;

/// A process's address: the node it runs on (see [`crate::distributed::node_id`]; 0 when
/// the VM is not a node of a cluster) and its id there. It travels in messages as it is,
/// so a handle sent to another node still names the same process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProcessId {
    node: u64,
    local: u64,
}

impl ProcessId {
    /// A process of this node.
    #[inline(always)]
    pub(crate) fn local(local: u64) -> Self {
        Self {
            node: host::node_id(),
            local,
        }
    }

    /// Process `local` of node `node`.
    #[must_use]
    pub const fn on_node(node: u64, local: u64) -> Self {
        Self { node, local }
    }

    /// The id on its node.
    #[must_use]
    pub const fn local_id(self) -> u64 {
        self.local
    }

    /// The node it runs on.
    #[must_use]
    pub const fn node_id(self) -> u64 {
        self.node
    }

    /// Whether it runs on this node.
    #[inline(always)]
    #[must_use]
    pub fn is_local(self) -> bool {
        self.node == host::node_id()
    }

    /// The calling process.
    pub(crate) fn current() -> Self {
        Self::local(host::this())
    }

    /// The id as one number: the node in the high 64 bits, the local id in the low.
    #[must_use]
    pub const fn as_u128(self) -> u128 {
        ((self.node as u128) << 64) | self.local as u128
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}.{}>", self.node, self.local)
    }
}

/// A handle to a process that receives messages of type `M`. Handles are plain data: they
/// can be cloned, compared and sent inside messages to other processes.
pub struct Process<M> {
    id: ProcessId,
    _message: PhantomData<fn(M)>,
}

impl<M> Process<M> {
    pub(crate) const fn from_id(id: ProcessId) -> Self {
        Self {
            id,
            _message: PhantomData,
        }
    }

    /// A handle to the process at `id`, claiming it receives `M`s. Nothing checks the claim:
    /// a message of the wrong type is a receive error for the receiver, never a crash.
    #[must_use]
    pub const fn from_process_id(id: ProcessId) -> Self {
        Self::from_id(id)
    }

    /// The process's id, unique in the VM (never reused).
    #[must_use]
    pub fn id(&self) -> u128 {
        self.id.as_u128()
    }

    /// The process's address.
    #[must_use]
    pub fn process_id(&self) -> ProcessId {
        self.id
    }

    /// Links the calling process to this one and returns the link's tag. If either dies
    /// abnormally, the other dies too, or receives a signal if it traps link deaths. A
    /// process that is not alive counts as one that just died.
    #[must_use = "signals about this link carry the tag"]
    pub fn link(&self) -> Tag {
        let tag = Tag::new();
        if self.id.is_local() {
            host::link(tag.id(), self.id.local);
        } else {
            host::link_remote(tag.id(), self.id.node, self.id.local);
        }
        tag
    }

    /// Watches this process: when it ends, for any reason (a normal return too), the caller
    /// receives a [`Down`] notice carrying the returned tag (as
    /// [`ReceiveError::ProcessDown`], from a `Mailbox` and a `LinkMailbox` alike).
    /// Unlike a link it is one-way and never kills the caller. A process that is not alive
    /// is reported at once.
    #[must_use = "the down notice carries the tag"]
    pub fn monitor(&self) -> Tag {
        Tag::from_id(if self.id.is_local() {
            host::monitor(self.id.local)
        } else {
            host::monitor_remote(self.id.node, self.id.local)
        })
    }

    /// Stops watching (`tag` from [`Process::monitor`]). No down notice for it is received
    /// afterwards: one already queued is dropped, and so is one that a process ending at
    /// this moment was still sending (Erlang's `demonitor` with `flush`).
    pub fn demonitor(&self, tag: Tag) {
        if self.id.is_local() {
            host::demonitor(self.id.local, tag.id());
        } else {
            host::demonitor_remote(self.id.node, self.id.local, tag.id());
        }
    }

    /// Waits for the down notice of monitor `monitor` (from [`Process::monitor`]) for up to
    /// `timeout` (`None`: forever), leaving every other message queued.
    ///
    /// # Errors
    /// [`ReceiveError::Timeout`] if the process did not end in time.
    pub fn wait_down(&self, monitor: Tag, timeout: Option<Duration>) -> Result<Down, ReceiveError> {
        match receive_raw::<()>(&[monitor], timeout) {
            Incoming::Down(down) => Ok(*down),
            _ => Err(ReceiveError::Timeout),
        }
    }

    /// Removes the link between the calling process and this one.
    pub fn unlink(&self) {
        if self.id.is_local() {
            host::unlink(self.id.local);
        } else {
            host::unlink_remote(self.id.node, self.id.local);
        }
    }

    /// Kills the process (its links hear that it was killed). Killing a dead process does
    /// nothing.
    pub fn kill(&self) {
        if self.id.is_local() {
            host::kill(self.id.local);
        } else {
            host::kill_remote(self.id.node, self.id.local);
        }
    }

    /// Whether the process is still alive.
    #[must_use]
    pub fn is_alive(&self) -> bool {
        if self.id.is_local() {
            host::is_alive(self.id.local)
        } else {
            host::is_alive_remote(self.id.node, self.id.local)
        }
    }
}

impl<M: Sendable> Process<M> {
    /// Sends a message. A message to a dead process is dropped, never an error.
    ///
    /// Messages from one process to another arrive in the order they were sent. A send
    /// to a process that waits for a message reaches it at once; a stream of sends to a
    /// busy one may travel in batches, each delivered no later than the sender's next
    /// other call into the VM (a receive, a spawn, a link, printing, ...), the end of its
    /// time slice, or its end.
    ///
    /// # Panics
    /// If `M`'s `Serialize` implementation fails.
    pub fn send(&self, message: M) {
        self.tag_send(Tag::none(), message);
    }

    /// Sends a message with a tag, for the receiver's selective receive.
    ///
    /// # Panics
    /// If `M`'s `Serialize` implementation fails.
    pub fn tag_send(&self, tag: Tag, message: M) {
        crate::transfer::send(self.id, tag.id(), &message, None);
    }

    /// Sends a message that carries a request whose reply `reply` waits for (the request
    /// may be anywhere inside it, as in an actor's call). A receiver that takes another
    /// type refuses it at once, and the wait ends with [`ReceiveError::Rejected`].
    ///
    /// # Panics
    /// If `M`'s `Serialize` implementation fails.
    pub fn send_awaiting<U>(&self, message: M, reply: &crate::PendingReply<U>) {
        crate::transfer::send(self.id, Tag::none().id(), &message, Some(reply.tag()));
    }
}

impl<M> Clone for Process<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Process<M> {}

impl<M> PartialEq for Process<M> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<M> Eq for Process<M> {}

impl<M> std::hash::Hash for Process<M> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl<M> fmt::Debug for Process<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Process{}", self.id)
    }
}

impl<M> Serialize for Process<M> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.id.serialize(serializer)
    }
}

impl<'de, M> Deserialize<'de> for Process<M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ProcessId::deserialize(deserializer).map(Self::from_id)
    }
}

/// The calling process, typed by its mailbox.
#[must_use]
pub fn this<M>(_mailbox: &Mailbox<M>) -> Process<M> {
    Process::from_id(ProcessId::current())
}

/// The calling process's address (untyped; [`this`] gives a typed handle).
#[must_use]
pub fn this_id() -> ProcessId {
    ProcessId::current()
}

/// The environment the calling process runs in.
///
/// # Panics
/// If the process holds 10,000 undropped handles already.
#[must_use]
pub fn this_env() -> crate::Environment {
    crate::Environment::this().expect("the process can hold another handle")
}

/// Writes `text` to the VM's log at `level`, after this process's id: to stderr (through
/// `RUST_LOG`'s filter, target `lunatic::guest`), or to a test's captured output. It needs
/// no permission; a sandboxed environment's lines count against its log rate
/// ([`Config::max_log_bytes_per_second`](crate::Config::max_log_bytes_per_second)).
pub fn log(level: lunatic_abi::LogLevel, text: &str) {
    host::log(level, text);
}

/// Tells the VM what this process is: an actor of a type, or a supervisor with its
/// strategy and children, replacing what it said before. The observer (`lunatic
/// --observe`) shows it, and builds the supervision trees from it; on SIGTERM the VM stops
/// the actors main started, found by it.
/// The actor layer calls this for every actor and supervisor.
pub fn describe(role: &lunatic_abi::Role) {
    host::describe(role);
}

/// Reports a supervisor event (a restart, a failed start, intensity reached, giving up) to
/// the VM's log as one structured event under the target `lunatic::supervisor` (Erlang's
/// SASL supervisor reports). The actor layer's supervisors call this.
pub fn supervisor_report(report: &lunatic_abi::SupervisorReport) {
    host::supervisor_report(report);
}

/// Suspends the calling process for `duration` (no thread is blocked).
pub fn sleep(duration: Duration) {
    host::sleep(duration);
}

/// Suspends the calling process for `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    host::sleep(Duration::from_millis(ms));
}

/// What every process starts with. It has it without a call of its own: the VM runs the
/// module's set-up export (`lunatic_preinit`, which calls this) once per module and starts
/// each process from the memory it leaves, or calls it at the start of each process when
/// it cannot.
pub(crate) fn set_up() {
    install_panic_hook();
    // Standard output's buffer, which std makes at its first use: every process flushes it
    // at its end, and one that printed nothing would make it there (an allocation, and
    // pages written that its slot's reset rewrites).
    drop(std::io::stdout().lock());
    // The type every receive of a message of another type compares it with (a request's
    // refusal): worked out once here rather than in each such process (an actor's stop,
    // which arrives as a message of another type, is one).
    let _ = crate::message_type::type_info::<crate::codec::Rejection>();
}

/// Records the panic message with the host (which logs it as the reason the process died)
/// and flushes standard output, so that output printed before a panic is not lost.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload_as_str().unwrap_or("Box<dyn Any>");
        let location = info.location().map(ToString::to_string).unwrap_or_default();
        host::report_panic(message, &location);
        let _ = std::io::stdout().flush();
    }));
}

/// How a process may choose to end ([`exit`]); every other [`EndReason`](crate::EndReason)
/// only the VM gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    /// Done: a normal end (links are not told).
    Normal,
    /// Asked to stop, and stopping: also a normal end, but watchers see `Shutdown`.
    Shutdown,
    /// It failed: an abnormal end with this text ([`EndReason::Error`](crate::EndReason::Error)),
    /// which links and monitors see. Text past [`lunatic_abi::MAX_REASON_TEXT`] bytes is cut.
    Error(String),
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Normal => f.write_str("normal"),
            Self::Shutdown => f.write_str("shutdown"),
            Self::Error(reason) => f.write_str(reason),
        }
    }
}

impl From<ExitReason> for crate::EndReason {
    fn from(reason: ExitReason) -> Self {
        match reason {
            ExitReason::Normal => Self::Normal,
            ExitReason::Shutdown => Self::Shutdown,
            ExitReason::Error(mut text) => {
                if text.len() > lunatic_abi::MAX_REASON_TEXT {
                    let mut end = lunatic_abi::MAX_REASON_TEXT;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.truncate(end);
                }
                Self::Error(text)
            }
        }
    }
}

/// Ends the calling process now with `reason` (output is flushed first; nothing else of
/// the process runs, not even destructors).
pub fn exit(reason: ExitReason) -> ! {
    finish_process();
    host::end(&reason.into())
}

/// Everything a process runs after its body returns.
fn finish_process() {
    // Standard error is not buffered.
    let _ = std::io::stdout().flush();
}

/// Runs the main process's body (what `#[lunatic::main]` expands to).
#[doc(hidden)]
pub fn run_main<M: Sendable>(main: fn(Mailbox<M>)) {
    main(Mailbox::new());
    finish_process();
}

impl<M: Sendable> Entry for fn(Mailbox<M>) {
    fn run(self) {
        self(Mailbox::new());
        finish_process();
    }
}

impl<C: Sendable, M: Sendable> Entry for fn(C, Mailbox<M>) {
    fn run(self) {
        // The parent sends the context right after the spawn, before anyone else can know
        // this process exists, so it is the first message.
        let mut buffer = host::receive_buffer();
        let context = match host::receive(&[], None, &mut buffer) {
            (host::Received::Data, bytes, metadata) => {
                crate::transfer::decode_received::<C>(metadata, &bytes)
            }
            _ => panic!("the spawn context did not arrive"),
        };
        match context {
            Ok(context) => self(context, Mailbox::new()),
            Err(error) => panic!("the spawn context could not be read: {error}"),
        }
        finish_process();
    }
}

/// What the `spawn_link` functions return: the child, the link's tag, and the caller's
/// mailbox, now trapping link deaths.
pub type SpawnLinked<M, P> = Result<(Process<M>, Tag, LinkMailbox<P>), LunaticError>;

/// A mailbox that can become a [`LinkMailbox`]: a [`Mailbox`] (which then traps link
/// deaths) or a `LinkMailbox` already, so `spawn_link` calls can be chained.
pub trait IntoLinkMailbox {
    /// The message type of the mailbox.
    type Message: Sendable;

    /// The mailbox, trapping link deaths.
    fn into_link_mailbox(self) -> LinkMailbox<Self::Message>;
}

impl<M: Sendable> IntoLinkMailbox for Mailbox<M> {
    type Message = M;

    fn into_link_mailbox(self) -> LinkMailbox<M> {
        self.catch_link_panics()
    }
}

impl<M: Sendable> IntoLinkMailbox for LinkMailbox<M> {
    type Message = M;

    fn into_link_mailbox(self) -> LinkMailbox<M> {
        self
    }
}

/// Spawns processes of one module: the caller's own ([`Spawner::this`]) or one added to an
/// environment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spawner {
    module: u64,
}

impl Spawner {
    /// The caller's own module, in the caller's environment.
    pub(crate) const fn this() -> Self {
        Self {
            module: lunatic_abi::THIS_MODULE,
        }
    }

    /// Module `id` of the caller's.
    pub(crate) const fn module(id: u64) -> Self {
        Self { module: id }
    }

    /// The module's id.
    pub(crate) const fn module_id(self) -> u64 {
        self.module
    }

    pub(crate) fn spawn<M: Sendable>(
        self,
        link: Tag,
        entry: fn(Mailbox<M>),
    ) -> Result<Process<M>, LunaticError> {
        host::spawn_entry(link.id(), self.module, entry)
            .map(|id| Process::from_id(ProcessId::local(id)))
    }

    pub(crate) fn spawn_with<C: Sendable, M: Sendable>(
        self,
        link: Tag,
        context: C,
        entry: fn(C, Mailbox<M>),
    ) -> Result<Process<M>, LunaticError> {
        let child: Process<M> = host::spawn_entry(link.id(), self.module, entry)
            .map(|id| Process::from_id(ProcessId::local(id)))?;
        crate::transfer::send(child.id, NO_LINK, &context, None);
        Ok(child)
    }

    pub(crate) fn spawn_link<B: IntoLinkMailbox, M: Sendable>(
        self,
        mailbox: B,
        entry: fn(Mailbox<M>),
    ) -> SpawnLinked<M, B::Message> {
        let tag = Tag::new();
        // Trap before the child exists: it may die before this call returns.
        let mailbox = mailbox.into_link_mailbox();
        let child = self.spawn(tag, entry)?;
        Ok((child, tag, mailbox))
    }

    pub(crate) fn spawn_link_with<B: IntoLinkMailbox, C: Sendable, M: Sendable>(
        self,
        mailbox: B,
        context: C,
        entry: fn(C, Mailbox<M>),
    ) -> SpawnLinked<M, B::Message> {
        let tag = Tag::new();
        let mailbox = mailbox.into_link_mailbox();
        let child = self.spawn_with(tag, context, entry)?;
        Ok((child, tag, mailbox))
    }
}

/// Spawns a process running `entry`.
///
/// # Errors
/// The runtime cannot create the process (for example the process pool is full).
pub fn spawn<M: Sendable>(entry: fn(Mailbox<M>)) -> Result<Process<M>, LunaticError> {
    Spawner::this().spawn(Tag::none(), entry)
}

/// Spawns a process running `entry` with `context` (which is serialized and sent to it:
/// the child cannot see the parent's memory).
///
/// # Errors
/// The runtime cannot create the process.
pub fn spawn_with<C: Sendable, M: Sendable>(
    context: C,
    entry: fn(C, Mailbox<M>),
) -> Result<Process<M>, LunaticError> {
    Spawner::this().spawn_with(Tag::none(), context, entry)
}

/// Spawns a process linked to the caller. The caller's mailbox becomes a [`LinkMailbox`]
/// (a `LinkMailbox` may be passed again, to link more children): if the child dies
/// abnormally, the caller receives a signal instead of dying.
///
/// # Errors
/// The runtime cannot create the process; the caller keeps trapping link deaths.
pub fn spawn_link<B: IntoLinkMailbox, M: Sendable>(
    mailbox: B,
    entry: fn(Mailbox<M>),
) -> SpawnLinked<M, B::Message> {
    Spawner::this().spawn_link(mailbox, entry)
}

/// [`spawn_link`] with a context for the child.
///
/// # Errors
/// The runtime cannot create the process (as for [`spawn_link`]).
pub fn spawn_link_with<B: IntoLinkMailbox, C: Sendable, M: Sendable>(
    mailbox: B,
    context: C,
    entry: fn(C, Mailbox<M>),
) -> SpawnLinked<M, B::Message> {
    Spawner::this().spawn_link_with(mailbox, context, entry)
}

/// Spawns a process linked to the caller; if the child dies abnormally, the caller dies
/// too (Erlang's default for links).
///
/// # Errors
/// The runtime cannot create the process.
pub fn spawn_link_unwrap<P: Sendable, M: Sendable>(
    mailbox: Mailbox<P>,
    entry: fn(Mailbox<M>),
) -> Result<(Process<M>, Mailbox<P>), LunaticError> {
    Spawner::this()
        .spawn(Tag::new(), entry)
        .map(|child| (child, mailbox))
}

/// [`spawn_link_unwrap`] with a context for the child.
///
/// # Errors
/// The runtime cannot create the process.
pub fn spawn_link_unwrap_with<P: Sendable, C: Sendable, M: Sendable>(
    mailbox: Mailbox<P>,
    context: C,
    entry: fn(C, Mailbox<M>),
) -> Result<(Process<M>, Mailbox<P>), LunaticError> {
    Spawner::this()
        .spawn_with(Tag::new(), context, entry)
        .map(|child| (child, mailbox))
}
