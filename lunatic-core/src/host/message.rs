//! Imports of `lunatic::message`: tags, and building and sending messages.

use crate::tag::Tag;

use super::imports::message;

/// A fresh tag (positive, unguessable).
pub(crate) fn new_tag() -> i64 {
    message::new_tag()
}

/// Starts a new outgoing message with `tag` (resources are moved into it while its value
/// is serialized), dropping an unsent one.
#[inline]
pub(crate) fn create_message(tag: i64) {
    message::create_data(tag, 0);
}

/// Appends `parts` to the outgoing message and sends it to `process` (dropped if it is
/// not alive).
#[inline]
pub(crate) fn write_and_send(process: u64, parts: [&[u8]; 3]) {
    for part in parts {
        message::write_data(part);
    }
    message::send(process);
}

/// Sends `head`, `data` and `tail`, joined, with `tag` to `process` in one call (no
/// resources).
#[inline]
pub(crate) fn send_data(process: u64, tag: i64, head: &[u8], data: &[u8], tail: &[u8]) {
    message::send_data(process, tag, head, data, tail);
}

/// Drops the caller's queued messages with `tag`, and every later one.
pub(crate) fn abandon_tag(tag: Tag) {
    message::abandon_tag(tag.id());
}

/// The tag of the current incoming message.
#[inline]
pub(crate) fn message_tag() -> i64 {
    message::get_tag()
}

/// The process that sent the current incoming data message.
pub(crate) fn message_sender() -> u64 {
    message::sender()
}

/// The process the current incoming signal is about.
#[inline]
pub(crate) fn signal_process() -> u64 {
    message::signal_process()
}
