//! What nodes say to each other, and how it is framed on QUIC streams.
//!
//! A connection carries:
//! - one bidirectional stream first, the dialer's: each side's [`Hello`];
//! - unidirectional streams, one per sending process (and one for the node itself, sender
//!   0): a [`StreamHeader`] naming the sender, then [`Frame`]s. All a process sends to
//!   one node travels on its one stream, so its messages and its signals (link deaths,
//!   down notices) arrive in the order it sent them, and a large message holds up only
//!   its own sender;
//! - bidirectional streams for calls that answer ([`Call`] then [`Answer`]): spawns and
//!   liveness checks;
//! - datagrams: the membership protocol's (`membership`).
//!
//! Each item is a little-endian `u32` length and that many bytes of postcard. A peer is
//! another node of the cluster (its certificate says so), but what it sends is still
//! bounded: a frame longer than [`MAX_FRAME`] ends the connection.

use serde::{Deserialize, Serialize};

/// The longest frame: the largest message and its envelope, or a module.
pub(crate) const MAX_FRAME: usize = lunatic_abi::MAX_MESSAGE_SIZE + (64 << 10);

/// The longest hello: a name and an address.
pub(crate) const MAX_HELLO: usize = 1 << 10;

/// The first thing each side of a new connection says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Hello {
    /// The node's name, which its certificate must name.
    pub(crate) name: String,
    /// Where other nodes reach it.
    pub(crate) addr: std::net::SocketAddr,
    /// Distinguishes this run of the node from earlier ones under the same name.
    pub(crate) incarnation: u64,
}

/// The start of a unidirectional stream.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct StreamHeader {
    /// The process whose frames follow; 0 for the node's own.
    pub(crate) sender: u64,
}

/// One thing a process (or the node) tells a process of another node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Frame {
    /// A message.
    Message {
        to: u64,
        tag: i64,
        message_type: u64,
        reply_tag: i64,
        bytes: Vec<u8>,
    },
    /// The sender links itself to `to`, both holding `tag`.
    Link { to: u64, tag: i64 },
    /// The sender removes its link with `to`.
    Unlink { to: u64 },
    /// Process `from`, linked to `to` under `tag`, died abnormally (an encoded
    /// `EndReason`), or (sent by the node) could not be linked.
    LinkDied {
        to: u64,
        from: u64,
        tag: i64,
        reason: Vec<u8>,
    },
    /// The sender (`watcher`) watches `to` under `tag`.
    Monitor { to: u64, tag: i64 },
    /// The sender stops watching `to` under `tag`.
    Demonitor { to: u64, tag: i64 },
    /// Process `from`, watched by `to` under `tag`, ended (an encoded `EndReason`), or
    /// (sent by the node) could not be watched.
    Down {
        to: u64,
        from: u64,
        tag: i64,
        reason: Vec<u8>,
    },
    /// Ends `to` with `Killed`.
    Kill { to: u64 },
    /// The node's process `process` claims cluster-wide name `name` (see `names`).
    Claim {
        name: String,
        process: u64,
        message_type: u64,
        stamp: u64,
    },
    /// The node's process `process` gives up `name`.
    Unclaim { name: String, process: u64 },
}

/// A question asked on a bidirectional stream of its own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Call {
    /// Spawn a process of module `module` (its SHA-256) running `function` with the
    /// encoded spawn parameters, in an environment like `env` (`None`: the root).
    Spawn {
        module: [u8; 32],
        function: String,
        params: Vec<u8>,
        env: Option<EnvSpec>,
        /// The spawner's process and tag, when the child is to be linked to it.
        link: Option<(u64, i64)>,
    },
    /// The module's bytes, after [`Answer::NeedModule`].
    Module(Vec<u8>),
    /// Whether the process is alive.
    IsAlive { process: u64 },
}

/// The answer to a [`Call`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Answer {
    /// Send the module's bytes ([`Call::Module`]) and wait for the spawn's answer.
    NeedModule,
    Spawned {
        process: u64,
    },
    /// The pool of the node asked is full: `alive` processes run there.
    NoRoom {
        alive: u64,
    },
    /// The child's environment there is at a limit (a `lunatic_abi::Limit`).
    OverLimit {
        limit: u64,
    },
    Failed {
        reason: String,
    },
    Alive(bool),
}

/// The limits of a sandboxed spawner's environment, which a remote child's environment
/// copies. Directories stay behind: they are paths of the spawner's machine.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct EnvSpec {
    pub(crate) max_memory: u64,
    pub(crate) max_fuel: Option<u64>,
    pub(crate) namespaces: Vec<String>,
    pub(crate) limits: Vec<u64>,
}

/// Why a peer's stream could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error("the stream failed: {0}")]
    Read(#[from] quinn::ReadExactError),
    #[error("the stream failed: {0}")]
    Write(#[from] quinn::WriteError),
    #[error("a frame of {0} bytes is longer than allowed")]
    TooLong(usize),
    #[error("a frame does not decode: {0}")]
    Decode(#[from] postcard::Error),
}

/// Appends `item` to `out`, framed.
pub(crate) fn encode_into<T: Serialize>(item: &T, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    // Writing into a Vec cannot fail, and every item type serializes.
    let Ok(()) = postcard::to_io(item, &mut *out).map(drop) else {
        unreachable!("postcard writes every frame type into a Vec")
    };
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// Writes one framed item.
///
/// # Errors
/// The stream failed.
pub(crate) async fn write<T: Serialize>(
    stream: &mut quinn::SendStream,
    item: &T,
) -> Result<(), WireError> {
    let mut bytes = Vec::new();
    encode_into(item, &mut bytes);
    stream.write_all(&bytes).await?;
    Ok(())
}

/// Reads one framed item; `None` at the end of the stream.
///
/// # Errors
/// The stream failed, or the frame is too long or does not decode.
pub(crate) async fn read<T: serde::de::DeserializeOwned>(
    stream: &mut quinn::RecvStream,
) -> Result<Option<T>, WireError> {
    read_limited(stream, MAX_FRAME).await
}

/// [`read`], of a frame at most `max` bytes long. The frame's bytes are taken as they
/// come, so a length a peer claims but does not send is never allocated.
///
/// # Errors
/// As [`read`].
pub(crate) async fn read_limited<T: serde::de::DeserializeOwned>(
    stream: &mut quinn::RecvStream,
    max: usize,
) -> Result<Option<T>, WireError> {
    let mut len = [0; 4];
    match stream.read_exact(&mut len).await {
        Ok(()) => {}
        Err(quinn::ReadExactError::FinishedEarly(0)) => return Ok(None),
        Err(error) => return Err(error.into()),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(WireError::TooLong(len));
    }
    let mut bytes = Vec::with_capacity(len.min(1 << 16));
    let mut chunk = [0; 1 << 14];
    while bytes.len() < len {
        let part = (len - bytes.len()).min(chunk.len());
        stream.read_exact(&mut chunk[..part]).await?;
        bytes.extend_from_slice(&chunk[..part]);
    }
    Ok(Some(postcard::from_bytes(&bytes)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_length_prefixed_postcard() {
        let frame = Frame::Message {
            to: 7,
            tag: -1,
            message_type: 42,
            reply_tag: 0,
            bytes: vec![1, 2, 3],
        };
        let mut out = Vec::new();
        encode_into(&frame, &mut out);
        encode_into(&Frame::Kill { to: 9 }, &mut out);
        let len = u32::from_le_bytes(out[..4].try_into().unwrap()) as usize;
        let first: Frame = postcard::from_bytes(&out[4..4 + len]).unwrap();
        assert_eq!(first, frame);
        let rest = &out[4 + len..];
        let second: Frame = postcard::from_bytes(&rest[4..]).unwrap();
        assert_eq!(second, Frame::Kill { to: 9 });
    }
}
