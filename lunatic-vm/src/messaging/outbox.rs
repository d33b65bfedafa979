//! The messages a process sent to the process it last sent to, delivered a batch at a time
//! while the receiver is busy.
//!
//! On this kind of machine, putting a message in a mailbox that another core reads costs
//! more than the rest of the send: the mailbox's lock and its queue move between the cores'
//! caches each time (native tokio channels run many-to-one three times slower on 2 threads
//! than on 1 here). A receiver that is busy cannot take a message sooner anyway, so a sender
//! keeps what it sends to one busy process and hands it over in one push:
//!
//! | when | what happens to the outbox |
//! |---|---|
//! | a send to a process that waits in a receive | delivered at once, with anything held before |
//! | the first send to a process since the sender did anything else | delivered at once |
//! | a further send to a busy process (a stream) | held; delivered when [`BATCH`] messages are held |
//! | a send to another process | what was held for the last one is delivered first |
//! | the sender calls the host for anything else that another process could see or that could make it wait (receive, spawn, link, monitor, kill, names, sockets, sleep, WASI) | delivered first |
//! | the sender's time slice ends, or it ends | delivered |
//!
//! So messages between two processes keep their order, a message is never later than the
//! sender's next wait or time slice (1 ms by default), and only streams batch: a request,
//! a reply, a spawn's context or a result sent up a tree goes at once.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::messaging::Message;
use crate::process::{ProcessHandle, ProcessId};

/// Most messages held for one receiver.
pub(crate) const BATCH: usize = 64;

/// One process's undelivered messages and the process they are for.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// The process sent to last, with its id kept beside the handle: reading the id from
    /// the handle would touch the cache line of the target's mailbox lock.
    target: Option<(ProcessId, Arc<ProcessHandle>)>,
    /// Messages for `target`, oldest first (the buffer a batch push moves whole, see
    /// [`crate::messaging::Mailbox::push_batch`]).
    held: VecDeque<Message>,
    /// Whether the last host call was a send to `target`: the next send continues a
    /// stream, and may be held.
    streaming: bool,
}

impl Outbox {
    /// Sends `message` to process `id`, found with `find` unless it is the last target. A
    /// process that is not alive drops the message (and so closes its resources).
    pub(crate) fn send(
        &mut self,
        id: ProcessId,
        message: Message,
        find: impl FnOnce(ProcessId) -> Option<Arc<ProcessHandle>>,
    ) {
        if self.target.as_ref().is_none_or(|(last, _)| *last != id) {
            self.flush();
            let Some(target) = find(id) else {
                return;
            };
            self.target = Some((id, target));
        }
        let Some((_, target)) = &self.target else {
            return;
        };
        if !self.streaming || (self.held.is_empty() && target.mailbox().has_waiting_receiver()) {
            self.streaming = true;
            target.mailbox().push(message);
            return;
        }
        self.held.push_back(message);
        if self.held.len() >= BATCH || target.mailbox().has_waiting_receiver() {
            self.deliver();
            // The sender goes on sending: the receiver it may have woken, waiting in this
            // worker's next slot, is better off on an idle worker.
            crate::scheduler::share_next_with_idle_worker();
        }
    }

    /// Delivers the held messages and frees the buffer (the sender turns to something
    /// else: a process that waits holds no memory here). Called before most host calls,
    /// so the common case, nothing held, is inlined.
    #[inline]
    pub(crate) fn flush(&mut self) {
        self.streaming = false;
        if self.held.capacity() != 0 {
            self.flush_held();
        }
    }

    #[cold]
    fn flush_held(&mut self) {
        if !self.held.is_empty() {
            self.deliver();
        }
        self.held = VecDeque::new();
    }

    /// Delivers the held messages and forgets the target (the sender ends).
    pub(crate) fn close(&mut self) {
        self.flush();
        self.target = None;
    }

    /// Delivers the held messages, keeping a buffer for the next batch (the one the
    /// mailbox's queue traded for it, or this one).
    fn deliver(&mut self) {
        if let Some((_, target)) = &self.target {
            target.mailbox().push_batch(&mut self.held);
        }
        self.held.clear();
    }
}

/// An outbox dropped with messages held (its process's state went without `close`, as when
/// the VM failed while running the process) delivers them: what a process sent reaches
/// its receivers before its end is reported, whatever the end.
impl Drop for Outbox {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::messaging::{Inbox, MessageData, MessageKind};

    fn message(byte: u8) -> Message {
        Message {
            tag: 0,
            kind: MessageKind::Data(MessageData {
                bytes: crate::messaging::MessageBytes::from_slice(&[byte]),
                ..MessageData::default()
            }),
            charge: None,
        }
    }

    /// Takes everything `process`'s mailbox holds.
    fn received(process: &ProcessHandle) -> Vec<u8> {
        let mut inbox = Inbox::default();
        std::iter::from_fn(|| {
            inbox
                .try_receive(process.mailbox(), process.taken(), &[])
                .unwrap()
        })
        .map(|m| m.bytes()[0])
        .collect()
    }

    /// Leaves a waker in `process`'s mailbox, as a receive that found nothing does.
    fn wait_in_receive(process: &ProcessHandle) {
        let taken = Inbox::default().take(
            process.mailbox(),
            process.taken(),
            &[],
            Some(std::task::Waker::noop()),
        );
        assert_eq!(taken, Ok(None));
    }

    #[test]
    fn a_busy_receiver_gets_full_batches_and_the_rest_at_a_flush() {
        let target = Arc::new(ProcessHandle::new(2));
        let mut outbox = Outbox::default();
        let find = |_| Some(Arc::clone(&target));
        outbox.send(2, message(0), find);
        assert_eq!(received(&target), vec![0], "the first send goes at once");
        for n in 1..=BATCH as u8 + 2 {
            outbox.send(2, message(n), find);
        }
        assert_eq!(received(&target), (1..=BATCH as u8).collect::<Vec<_>>());
        outbox.flush();
        assert_eq!(received(&target), vec![65, 66]);
        assert_eq!(outbox.held.capacity(), 0, "a flush frees the buffer");
        // After anything else (a flush), the first send goes at once again.
        outbox.send(2, message(67), find);
        assert_eq!(received(&target), vec![67]);
    }

    #[test]
    fn a_waiting_receiver_gets_each_message_at_once() {
        let target = Arc::new(ProcessHandle::new(2));
        let mut outbox = Outbox::default();
        outbox.send(2, message(0), |_| Some(Arc::clone(&target)));
        assert_eq!(received(&target), vec![0]);
        outbox.send(2, message(1), |_| None);
        assert!(
            received(&target).is_empty(),
            "a stream to a busy receiver is held"
        );
        wait_in_receive(&target);
        // What was held goes first, then the new message, both at once.
        outbox.send(2, message(2), |_| None);
        assert_eq!(received(&target), vec![1, 2]);
        wait_in_receive(&target);
        outbox.send(2, message(3), |_| None);
        assert_eq!(received(&target), vec![3]);
        outbox.flush();
        assert_eq!(outbox.held.capacity(), 0, "a flush frees the buffer");
    }

    #[test]
    fn another_target_or_the_end_delivers_what_is_held() {
        let (a, b) = (
            Arc::new(ProcessHandle::new(2)),
            Arc::new(ProcessHandle::new(3)),
        );
        let mut outbox = Outbox::default();
        outbox.send(2, message(0), |_| Some(Arc::clone(&a)));
        outbox.send(2, message(1), |_| None);
        assert_eq!(received(&a), vec![0]);
        outbox.send(3, message(2), |_| Some(Arc::clone(&b)));
        outbox.send(3, message(3), |_| None);
        assert_eq!(received(&a), vec![1]);
        assert_eq!(received(&b), vec![2]);
        outbox.close();
        assert_eq!(received(&b), vec![3]);
        assert!(outbox.target.is_none(), "the end forgets the target");
        // A process that is not alive drops the message.
        outbox.send(4, message(3), |_| None);
        assert!(outbox.held.is_empty() && outbox.target.is_none());
    }

    #[test]
    fn a_dropped_outbox_delivers_what_it_held() {
        let target = Arc::new(ProcessHandle::new(2));
        let mut outbox = Outbox::default();
        outbox.send(2, message(0), |_| Some(Arc::clone(&target)));
        outbox.send(2, message(1), |_| None);
        assert_eq!(received(&target), vec![0]);
        drop(outbox);
        assert_eq!(received(&target), vec![1]);
    }
}
