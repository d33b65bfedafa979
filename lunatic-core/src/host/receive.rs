//! The receive strategy: how a process takes its next message with the fewest host calls
//! (`lunatic::message::try_receive` or `receive`, chosen by whether the last plain receive
//! waited), and reads it.

use std::mem::MaybeUninit;
use std::time::Duration;

use lunatic_abi::{ReceiveInfo, ReceiveStatus, WAIT_FOREVER};

use crate::tag::Tag;

use super::imports::message;
use super::len32;

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

/// Where a receive copies a message that fits: the caller's, on its stack, so that what
/// it reads is no copy of a copy. Not written before the host writes it: a parked process
/// must not dirty a page of its stack.
pub(crate) type ReceiveBuffer = [MaybeUninit<u8>; RECEIVE_BUFFER];

/// A [`ReceiveBuffer`], not written.
#[inline(always)]
pub(crate) fn receive_buffer() -> ReceiveBuffer {
    [MaybeUninit::uninit(); RECEIVE_BUFFER]
}

/// What the host says of a message besides its bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Metadata {
    /// The fingerprint of its type (0 for a signal or a down notice).
    pub(crate) message_type: u64,
    /// Whether resources (sockets) travel with it.
    pub(crate) resources: bool,
}

/// The bytes of what a receive took.
pub(crate) enum ReceivedBytes<'a> {
    /// In the caller's buffer.
    Buffered(&'a [u8]),
    /// Too large for it: read with a second call.
    Large(Vec<u8>),
}

impl std::ops::Deref for ReceivedBytes<'_> {
    type Target = [u8];

    #[inline(always)]
    fn deref(&self) -> &[u8] {
        match self {
            Self::Buffered(bytes) => bytes,
            Self::Large(bytes) => bytes,
        }
    }
}

/// Waits up to `timeout` (`None`: forever) for a message whose tag is in `tags` (any when
/// empty), makes it the incoming message, and returns what it is, its bytes (in `buffer`
/// if they fit) and what the host says of it. Always inlined, with what its caller makes of the bytes: that
/// result (a message or why not) is large, and returned through memory it would be
/// copied again.
#[inline(always)]
pub(crate) fn receive<'a>(
    tags: &[Tag],
    timeout: Option<Duration>,
    buffer: &'a mut ReceiveBuffer,
) -> (Received, ReceivedBytes<'a>, Metadata) {
    let timeout = timeout.map_or(WAIT_FOREVER, |t| {
        u64::try_from(t.as_millis()).unwrap_or(WAIT_FOREVER - 1)
    });
    let (tags_ptr, tags_len) = (tags.as_ptr().cast::<i64>(), len32(tags.len()));
    // Neither buffer is written here: a parked process must not dirty a page of its stack.
    let mut info = MaybeUninit::<[u8; ReceiveInfo::SIZE]>::uninit();
    let (buf_ptr, info_ptr) = (buffer.as_mut_ptr().cast::<u8>(), info.as_mut_ptr());
    let buf_len = len32(RECEIVE_BUFFER);
    // SAFETY (both calls): `Tag` is `repr(transparent)` over `i64`, so `tags` is a live
    // slice of `tags.len()` i64s; `buffer` holds `buf_len` bytes and `info` the
    // `ReceiveInfo::SIZE` the host writes.
    // The raw imports: the safe ones would write the buffers first.
    let wait = |timeout| unsafe {
        message::raw::receive(tags_ptr, tags_len, timeout, buf_ptr, buf_len, info_ptr)
    };
    // A queued message is taken with a plain call; only an empty mailbox costs the
    // suspending one. A selective receive (a reply, a down notice) waits for something
    // that is rarely there yet, so it suspends at once, and so does a plain receive after
    // one that waited (a process answering another's messages waits for each). That hint
    // is not kept in linear memory, which a process parked in its first receive has not
    // touched at all (a byte of it, even on the stack, costs the kernel a page and a page
    // table), but by the VM (see `lunatic_receive_waited`).
    let status = if timeout != 0 && (!tags.is_empty() || last_receive_waited()) {
        wait(timeout)
    } else {
        // SAFETY: as above.
        let status =
            unsafe { message::raw::try_receive(tags_ptr, tags_len, buf_ptr, buf_len, info_ptr) };
        if status == ReceiveStatus::TimedOut as u32 && timeout != 0 {
            wait(timeout)
        } else {
            status
        }
    };
    let (received, size, metadata) = match ReceiveStatus::try_from(status) {
        Ok(ReceiveStatus::TimedOut) => (Received::TimedOut, 0, Metadata::default()),
        Ok(taken) => {
            // SAFETY: the host writes the info record before it returns a message.
            let info = ReceiveInfo::from_bytes(unsafe { info.assume_init() });
            let received = match taken {
                ReceiveStatus::Signal => Received::Signal,
                ReceiveStatus::Down => Received::Down,
                _ => Received::Data,
            };
            let metadata = Metadata {
                message_type: info.message_type,
                resources: info.resources,
            };
            (received, info.size as usize, metadata)
        }
        Err(other) => panic!("lunatic::message::receive returned unknown status {other}"),
    };
    let bytes = if size <= RECEIVE_BUFFER {
        // SAFETY: the host copied the message's `size` bytes to the buffer (none when
        // nothing came).
        ReceivedBytes::Buffered(unsafe {
            core::slice::from_raw_parts(buffer.as_ptr().cast::<u8>(), size)
        })
    } else {
        ReceivedBytes::Large(read_large(size))
    };
    (received, bytes, metadata)
}

/// The `size` bytes of the incoming message, too large for the receive's own buffer.
#[cold]
#[inline(never)]
fn read_large(size: usize) -> Vec<u8> {
    // Not zeroed first: the host writes the bytes it says it wrote.
    let mut data = Vec::with_capacity(size);
    // SAFETY: `data` has room for `size` bytes at its pointer; the host writes at most that
    // many there.
    let written = unsafe { message::raw::read_data(data.as_mut_ptr(), len32(size)) };
    // SAFETY: the host wrote the first `written` bytes (at most `size`, the capacity).
    unsafe { data.set_len((written as usize).min(size)) };
    data
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
    // The raw import, called directly: pre-initialization looks for this call.
    // SAFETY: no memory is passed.
    unsafe { message::raw::receive_waited() }
}
