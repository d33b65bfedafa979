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

/// Appends `data` to the outgoing message and sends it, of type `message_type` (awaiting a
/// reply under `reply_tag` if that is not 0), to `process` (dropped if it is not alive).
#[inline]
pub(crate) fn write_and_send(process: u64, message_type: u64, reply_tag: i64, data: &[u8]) {
    message::write_data(data);
    message::send(process, message_type, reply_tag);
}

/// Sends `data` with `tag`, of type `message_type` (awaiting a reply under `reply_tag` if
/// that is not 0), to `process` in one call (no resources).
#[inline]
pub(crate) fn send_data(process: u64, tag: i64, message_type: u64, reply_tag: i64, data: &[u8]) {
    message::send_data(process, tag, message_type, reply_tag, data);
}

/// The tag a reply to the incoming data message is awaited under; 0 if it is no request.
pub(crate) fn message_reply_tag() -> i64 {
    message::reply_tag()
}

/// Records `name` as the name of message type `message_type` in the VM's table.
pub(crate) fn name_type(message_type: u64, name: &[u8]) {
    message::name_type(message_type, name);
}

/// The name the VM's table holds for message type `message_type`.
pub(crate) fn type_name(message_type: u64) -> Option<String> {
    let mut name = [0; lunatic_abi::MAX_TYPE_NAME];
    let len = message::type_name(message_type, &mut name) as usize;
    (len > 0).then(|| String::from_utf8_lossy(&name[..len.min(name.len())]).into_owned())
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

/// The process that sent the current incoming data message, and its node.
pub(crate) fn message_sender() -> (u64, u64) {
    (message::sender_node(), message::sender())
}

/// The process the current incoming signal is about, and its node.
#[inline]
pub(crate) fn signal_process() -> (u64, u64) {
    (message::signal_node(), message::signal_process())
}
