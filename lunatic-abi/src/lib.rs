//! The values the host (`lunatic-vm`) and the guest library (`lunatic-core`) must agree on,
//! kept in one place so they cannot drift apart. No logic lives here beyond the one encoding
//! both sides must read alike (socket addresses).
//!
//! | item | used by |
//! |---|---|
//! | [`host_functions!`], [`HOST_MODULES`], [`kind`] | the declaration of every host function, from which both sides and `docs/abi.md` are generated |
//! | [`SpawnStatus`] | `lunatic::process::spawn` |
//! | [`ReceiveStatus`], [`ReceiveInfo`] | `lunatic::message::receive` and `try_receive` |
//! | [`RegistryStatus`] | `lunatic::registry::*` |
//! | [`ParamKind`], [`PARAM_SIZE`] | the parameter list of `lunatic::process::spawn` |
//! | [`NO_LINK`], [`THIS_MODULE`], [`NO_FUEL_LIMIT`], [`WAIT_FOREVER`] | sentinel arguments |
//! | [`EnvironmentStatus`] | `lunatic::environment::*` |
//! | [`Limit`], [`Limits`] | the limits `lunatic::environment::create` takes |
//! | [`SPAWN_ENTRY`] | the guest export the host calls to start a spawned closure |
//! | [`RECEIVE_WAITED_EXPORT`] | the guest export whose body the VM turns into a read of a global |
//! | [`EndReason`], [`TrapKind`] | why a process ended, as link signals and down notices carry it |
//! | [`TEST_SECTION`] | the custom section that marks a test program for the VM's test runner |
//! | [`IoStatus`] | `lunatic::networking::*`: done, or the kind of the I/O error |
//! | [`ResourceKind`], [`ResourceStatus`] | `lunatic::resource::*`: resources that travel in messages |
//! | [`ShutdownHow`] | `lunatic::networking::tcp_shutdown` |
//! | [`SocketAddrKind`], [`SOCKET_ADDR_SIZE`], [`encode_socket_addr`], [`decode_socket_addr`] | socket addresses in guest memory |
//! | [`MAX_RESOLVED_ADDRS`] | `lunatic::networking::resolve` |
//! | [`LogLevel`], [`MAX_LOG_TEXT`] | `lunatic::process::log` |
//! | [`Role`], [`SupervisorReport`], [`MAX_ROLE_SIZE`] | `lunatic::process::describe` and `supervisor_report` |
//! | [`fingerprint`], [`fingerprint_on`], [`cut_type_name`], [`MAX_TYPE_NAME`], [`MAX_TYPE_NAMES`] | message types: `lunatic::message::send_data`, `name_type`, `type_name` |
#![no_std]

extern crate alloc;

use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Declares a `#[repr($int)]` enum the ABI passes as a number, with the `TryFrom<$int>` that
/// reads it back (an unknown number is returned as the error).
macro_rules! abi_enum {
    ($(#[$meta:meta])* $name:ident: $int:ty { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr($int)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value,)*
        }

        impl TryFrom<$int> for $name {
            type Error = $int;

            #[inline]
            fn try_from(value: $int) -> Result<Self, $int> {
                match value {
                    $($value => Ok(Self::$variant),)*
                    other => Err(other),
                }
            }
        }
    };
}

mod end_reason;
mod host_functions;
pub mod kind;
mod limits;
mod reader;
mod role;

pub use end_reason::{BadEndReason, EndReason, TrapKind};
pub use host_functions::{reference, Flag, HostFunction, HostModule, HOST_MODULES};
pub use limits::{Limit, Limits};
pub use role::{
    BadRole, Role, RoleChild, RoleStrategy, SupervisorEvent, SupervisorReport, SupervisorRole,
    MAX_CHILD_NAME, MAX_REPORT_REASON, MAX_ROLE_CHILDREN, MAX_ROLE_NAME, MAX_ROLE_SIZE,
};

abi_enum! {
    /// Result of `lunatic::process::spawn`.
    SpawnStatus: u32 {
        /// The process started; its id was written to the output pointer.
        Spawned = 0,
        /// It did not, for a reason only its text tells; an error id was written to the
        /// output pointer.
        Failed = 1,
        /// The VM runs as many processes as it may (`--max-processes`); the number alive
        /// was written to the output pointer. Room comes back as processes end.
        NoRoom = 2,
        /// The caller's environment (or one it is inside) is at one of its limits; the
        /// `Limit` was written to the output pointer.
        OverLimit = 3,
        /// The node to spawn on is not connected (`lunatic::distributed::spawn`); the
        /// node's id was written to the output pointer.
        NoConnection = 4,
    }
}

abi_enum! {
    /// Result of `lunatic::message::receive`.
    ReceiveStatus: u32 {
        /// A data message is now the current incoming message.
        Data = 0,
        /// A link-death signal is now the current incoming message.
        Signal = 1,
        /// Nothing matching arrived in time.
        TimedOut = 2,
        /// A down notice (a monitored process ended) is now the current incoming message.
        Down = 3,
    }
}

abi_enum! {
    /// Result of the `lunatic::registry` functions.
    RegistryStatus: u32 {
        /// Done (registered, found, or unregistered).
        Done = 0,
        /// The name is held by another process.
        Taken = 1,
        /// No such name, or no such process.
        NotFound = 2,
        /// The name is registered for another message type.
        WrongType = 3,
        /// A version or version query does not parse (semver).
        BadVersion = 4,
        /// The caller's environment is over its limit of handles (`Limit::Handles`).
        OverLimit = 5,
    }
}

abi_enum! {
    /// Result of the `lunatic::environment` functions that create something.
    EnvironmentStatus: u32 {
        /// Created; its id was written to the output pointer.
        Created = 0,
        /// Refused; an error id was written to the output pointer.
        Failed = 1,
    }
}

abi_enum! {
    /// The type byte of one encoded spawn parameter (the wasm value type's own byte).
    ParamKind: u8 {
        /// A 32-bit integer, little-endian in the first 4 value bytes.
        I32 = 0x7F,
        /// A 64-bit integer, little-endian in the first 8 value bytes.
        I64 = 0x7E,
        /// A 128-bit vector, little-endian in all 16 value bytes.
        V128 = 0x7B,
    }
}

abi_enum! {
    /// Result of the `lunatic::networking` functions that can fail: [`IoStatus::Done`], or
    /// the kind of the I/O error (`std::io::ErrorKind`) whose error id was written to the
    /// output pointer.
    IoStatus: u32 {
        /// It worked; the result was written to the output pointer.
        Done = 0,
        /// `NotFound` (also: a name that does not resolve).
        NotFound = 1,
        /// `PermissionDenied`.
        PermissionDenied = 2,
        /// `ConnectionRefused`.
        ConnectionRefused = 3,
        /// `ConnectionReset`.
        ConnectionReset = 4,
        /// `ConnectionAborted`.
        ConnectionAborted = 5,
        /// `NotConnected`.
        NotConnected = 6,
        /// `AddrInUse`.
        AddrInUse = 7,
        /// `AddrNotAvailable`.
        AddrNotAvailable = 8,
        /// `BrokenPipe`.
        BrokenPipe = 9,
        /// `AlreadyExists`.
        AlreadyExists = 10,
        /// `WouldBlock`.
        WouldBlock = 11,
        /// `InvalidInput`.
        InvalidInput = 12,
        /// `InvalidData`.
        InvalidData = 13,
        /// `TimedOut` (also: a read or write timeout expired).
        TimedOut = 14,
        /// `WriteZero`.
        WriteZero = 15,
        /// `Interrupted`.
        Interrupted = 16,
        /// `Unsupported`.
        Unsupported = 17,
        /// `UnexpectedEof`.
        UnexpectedEof = 18,
        /// `OutOfMemory`.
        OutOfMemory = 19,
        /// `HostUnreachable`.
        HostUnreachable = 20,
        /// `NetworkUnreachable`.
        NetworkUnreachable = 21,
        /// `NetworkDown`.
        NetworkDown = 22,
        /// Any other kind.
        Other = 23,
    }
}

abi_enum! {
    /// What a resource handle (`lunatic::resource`) holds.
    ResourceKind: u32 {
        /// A connected TCP stream.
        TcpStream = 1,
        /// A listening TCP socket.
        TcpListener = 2,
        /// A UDP socket.
        UdpSocket = 3,
    }
}

abi_enum! {
    /// Result of `lunatic::resource::take_from_message`.
    ResourceStatus: u32 {
        /// The resource is now the caller's; its id was written to the output pointer.
        Taken = 0,
        /// The incoming message has no resource at that index (or it was taken already).
        NotFound = 1,
        /// The resource at that index is of another kind (it stays in the message).
        WrongKind = 2,
    }
}

abi_enum! {
    /// The `how` of `lunatic::networking::tcp_shutdown` (`std::net::Shutdown`).
    ShutdownHow: u32 {
        /// No more reads.
        Read = 0,
        /// No more writes (the peer reads end of file).
        Write = 1,
        /// Neither.
        Both = 2,
    }
}

abi_enum! {
    /// The first byte of an encoded socket address: its IP version.
    SocketAddrKind: u8 {
        /// IPv4: the first 4 address bytes are used.
        V4 = 4,
        /// IPv6: all 16 address bytes, the flow info and the scope id are used.
        V6 = 6,
    }
}

/// Bytes of one encoded socket address: the [`SocketAddrKind`] byte, the port (2 bytes), the
/// IP address (16 bytes, network order, IPv4 in the first 4), the IPv6 flow info and scope id
/// (4 bytes each); numbers little-endian.
pub const SOCKET_ADDR_SIZE: usize = 27;

/// Most addresses `lunatic::networking::resolve` reports for one name.
pub const MAX_RESOLVED_ADDRS: u32 = 32;

/// Encodes `addr` in the [`SOCKET_ADDR_SIZE`]-byte layout both sides read.
#[must_use]
pub fn encode_socket_addr(addr: &SocketAddr) -> [u8; SOCKET_ADDR_SIZE] {
    let mut bytes = [0u8; SOCKET_ADDR_SIZE];
    bytes[1..3].copy_from_slice(&addr.port().to_le_bytes());
    match addr {
        SocketAddr::V4(v4) => {
            bytes[0] = SocketAddrKind::V4 as u8;
            bytes[3..7].copy_from_slice(&v4.ip().octets());
        }
        SocketAddr::V6(v6) => {
            bytes[0] = SocketAddrKind::V6 as u8;
            bytes[3..19].copy_from_slice(&v6.ip().octets());
            bytes[19..23].copy_from_slice(&v6.flowinfo().to_le_bytes());
            bytes[23..27].copy_from_slice(&v6.scope_id().to_le_bytes());
        }
    }
    bytes
}

/// Decodes an address written by [`encode_socket_addr`]; `None` if the kind byte is unknown.
#[must_use]
pub fn decode_socket_addr(bytes: &[u8; SOCKET_ADDR_SIZE]) -> Option<SocketAddr> {
    let port = u16::from_le_bytes([bytes[1], bytes[2]]);
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    match SocketAddrKind::try_from(bytes[0]).ok()? {
        SocketAddrKind::V4 => {
            let ip = Ipv4Addr::new(bytes[3], bytes[4], bytes[5], bytes[6]);
            Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        SocketAddrKind::V6 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&bytes[3..19]);
            let ip = Ipv6Addr::from(octets);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                port,
                word(19),
                word(23),
            )))
        }
    }
}

/// Bytes of one encoded spawn parameter: the [`ParamKind`] byte, then 16 value bytes.
pub const PARAM_SIZE: usize = 17;

/// The link tag that means "do not link" in `lunatic::process::spawn`. Tags made by the
/// host are never 0.
pub const NO_LINK: i64 = 0;

/// The module id that means "the caller's own module, in the caller's environment" in
/// `lunatic::process::spawn`.
pub const THIS_MODULE: u64 = 0;

/// The fuel limit that means "no limit" in `lunatic::environment::create`.
pub const NO_FUEL_LIMIT: u64 = u64::MAX;

/// The timeout that means "wait forever" in `lunatic::message::receive`.
pub const WAIT_FOREVER: u64 = u64::MAX;

/// What `lunatic::message::receive` and `try_receive` write at their `info_ptr` before
/// they return a message (nothing is written on `TimedOut`): [`ReceiveInfo::SIZE`] bytes,
/// the message's size then whether the call waited, each a little-endian `u32`.
///
/// The call has already copied the first `min(size, buf_len)` bytes of the message into
/// the guest's buffer, so a message that fits costs no further call; a larger one is read
/// with `read_data`. `waited` tells the guest whether its mailbox was empty when it asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiveInfo {
    /// Bytes of the message now incoming.
    pub size: u32,
    /// Whether the call found nothing at first and suspended the process.
    pub waited: bool,
    /// Whether resources (sockets) travel with the message.
    pub resources: bool,
    /// The fingerprint of the message's type, as its sender gave it (0 for a signal or a
    /// down notice).
    pub message_type: u64,
}

impl ReceiveInfo {
    /// Bytes of the encoded record.
    pub const SIZE: usize = 16;

    /// The record as the host writes it.
    #[must_use]
    #[inline]
    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut bytes = [0; Self::SIZE];
        bytes[..4].copy_from_slice(&self.size.to_le_bytes());
        let flags = u32::from(self.waited) | u32::from(self.resources) << 1;
        bytes[4..8].copy_from_slice(&flags.to_le_bytes());
        bytes[8..].copy_from_slice(&self.message_type.to_le_bytes());
        bytes
    }

    /// The record as the guest reads it (the flags word: bit 0 `waited`, bit 1
    /// `resources`).
    #[must_use]
    #[inline]
    pub fn from_bytes(bytes: [u8; Self::SIZE]) -> Self {
        let word = |at: usize| {
            let mut word = [0; 4];
            word.copy_from_slice(&bytes[at..at + 4]);
            u32::from_le_bytes(word)
        };
        let mut message_type = [0; 8];
        message_type.copy_from_slice(&bytes[8..]);
        Self {
            size: word(0),
            waited: word(4) & 1 != 0,
            resources: word(4) & 2 != 0,
            message_type: u64::from_le_bytes(message_type),
        }
    }
}

/// The fingerprint of a message type named `name`: its 64-bit FNV-1a hash. The guest
/// library sends it with each message; the host checks names recorded against it.
#[must_use]
pub const fn fingerprint(name: &[u8]) -> u64 {
    fingerprint_on(0xcbf2_9ce4_8422_2325, name)
}

/// The fingerprint of a name made of the one whose fingerprint is `hash` and then `more`
/// (FNV-1a runs through the bytes in order): a name in parts is hashed without joining them.
#[must_use]
pub const fn fingerprint_on(hash: u64, more: &[u8]) -> u64 {
    let mut hash = hash;
    let mut i = 0;
    while i < more.len() {
        hash ^= more[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// Most bytes of a message type's name the VM keeps (`lunatic::message::name_type`).
pub const MAX_TYPE_NAME: usize = 255;

/// `name`, cut to at most [`MAX_TYPE_NAME`] bytes on a character boundary: a type's name
/// as the VM keeps it.
#[must_use]
pub fn cut_type_name(name: &str) -> &str {
    let mut end = name.len().min(MAX_TYPE_NAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// Most names of message types the VM keeps.
pub const MAX_TYPE_NAMES: usize = 16_384;

/// The export of the guest library that runs a spawned function: `(entry: i32, arg: i32)`.
pub const SPAWN_ENTRY: &str = "lunatic_spawn_entry";

/// The export of the guest library that says whether the process's last plain receive
/// (no tags, allowed to wait) had to wait: `() -> i32`, 1 if it did. The guest reads it
/// before each plain receive, to suspend at once rather than first ask for a queued message
/// with a plain call that would find none (a round trip of two processes saves a host call a
/// hop).
///
/// The guest library's body calls `lunatic::message::receive_waited`. When the VM
/// pre-initializes a module (see [`PREINIT_EXPORT`]), it replaces that body with a read of
/// a global it adds and keeps up to date: no host call, and no byte of linear memory, which
/// a process parked in its first receive has not touched.
pub const RECEIVE_WAITED_EXPORT: &str = "lunatic_receive_waited";

/// The export of the guest library that sets a process up (installs the panic hook): `()`.
/// The VM runs it once per module and starts every process from the memory it leaves; a
/// module it cannot do that for gets it called at the start of each process. It may only
/// write linear memory: changes to globals or tables would not be kept in the snapshot.
pub const PREINIT_EXPORT: &str = "lunatic_preinit";

/// Most bytes of the text in a reason a guest reports (a panic message, an error it ends
/// with); a longer panic message is cut, a longer error refused.
pub const MAX_REASON_TEXT: usize = 64 << 10;

/// Most bytes of one line a guest writes to the VM's log (`lunatic::process::log`); a
/// longer one is cut.
pub const MAX_LOG_TEXT: usize = 4 << 10;

abi_enum! {
    /// The level of a line a guest writes to the VM's log (`lunatic::process::log`).
    LogLevel: u32 {
        /// Something failed.
        Error = 0,
        /// Something is wrong but the process goes on (a message it dropped, say).
        Warn = 1,
        /// What happens, in general.
        Info = 2,
        /// Detail for finding a fault.
        Debug = 3,
        /// Every step.
        Trace = 4,
    }
}

/// The custom section `#[lunatic::test]` adds to a test program. Its presence makes the VM
/// run the program's tests itself, each as its own process (its content is not read).
pub const TEST_SECTION: &str = "lunatic_tests";

/// Largest message, in bytes, a process may build; more is refused with a trap so that one
/// guest cannot exhaust the host's memory.
pub const MAX_MESSAGE_SIZE: usize = 64 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_type_names_are_cut_on_a_character_boundary() {
        let long = "é".repeat(200);
        let cut = cut_type_name(&long);
        assert!(cut.len() <= MAX_TYPE_NAME);
        assert_eq!(cut.len(), 254);
        assert_eq!(cut_type_name("u64"), "u64");
    }

    #[test]
    fn numbers_round_trip_and_unknown_ones_are_refused() {
        assert_eq!(
            ReceiveStatus::try_from(ReceiveStatus::Down as u32),
            Ok(ReceiveStatus::Down)
        );
        assert_eq!(RegistryStatus::try_from(9), Err(9));
        assert_eq!(ParamKind::try_from(0x7E), Ok(ParamKind::I64));
        assert_eq!(ParamKind::try_from(0x42), Err(0x42));
    }

    #[test]
    fn receive_info_round_trips() {
        for info in [
            ReceiveInfo::default(),
            ReceiveInfo {
                size: 0x0102_0304,
                waited: true,
                resources: true,
                message_type: u64::MAX - 5,
            },
        ] {
            assert_eq!(ReceiveInfo::from_bytes(info.to_bytes()), info);
        }
        assert_eq!(
            ReceiveInfo {
                size: 7,
                waited: true,
                resources: false,
                message_type: 0x0102,
            }
            .to_bytes(),
            [7, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn fingerprints_are_fnv1a() {
        // Fixed values: a change breaks every other build's messages.
        assert_eq!(fingerprint(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fingerprint(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint(b"u64"), 0x4d35_d319_3e8d_66f2);
    }

    #[test]
    fn socket_addresses_round_trip() {
        for text in ["127.0.0.1:8080", "[::1]:443", "[fe80::1%3]:9", "0.0.0.0:0"] {
            let addr: SocketAddr = text.parse().unwrap();
            assert_eq!(decode_socket_addr(&encode_socket_addr(&addr)), Some(addr));
        }
        let mut garbage = [0u8; SOCKET_ADDR_SIZE];
        garbage[0] = 5;
        assert_eq!(decode_socket_addr(&garbage), None);
    }
}
