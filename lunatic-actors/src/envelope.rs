//! What travels to an actor's process.

use serde::{Deserialize, Serialize};

/// The wire type of every actor's mailbox.
///
/// `Stop` is the first variant on purpose: bincode encodes it as the same bytes whatever
/// `M` is, so a supervisor can stop children of any type through a `Process<Envelope<()>>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Envelope<M> {
    /// Stop: `terminate(Shutdown)`, then a normal exit.
    Stop,
    /// One of the actor's messages (a call carries its `Request`).
    Message(M),
    /// A raw info message, for `Actor::handle_info`.
    Info(Vec<u8>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_is_encoded_the_same_for_every_message_type() {
        let unit = bincode::serialize(&Envelope::<()>::Stop).unwrap();
        let text = bincode::serialize(&Envelope::<String>::Stop).unwrap();
        assert_eq!(unit, text);
        let back: Envelope<Vec<u64>> = bincode::deserialize(&unit).unwrap();
        assert!(matches!(back, Envelope::Stop));
    }
}
