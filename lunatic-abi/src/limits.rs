//! The limits of an environment beyond memory and fuel, as `lunatic::environment::create`
//! takes them: pairs of ([`Limit`], value) as `u64`s. Each counts what all processes of
//! the environment, and of the environments made inside it, make the host hold.

abi_enum! {
    /// A limit of an environment. Exceeding one is an error to the caller (a spawn, a
    /// registration, a socket) or, for a call that returns nothing, the caller's death
    /// (`TrapKind::OverLimit`).
    Limit: u64 {
        /// Processes alive.
        Processes = 0,
        /// Bytes of the messages its processes sent that are queued and not yet received
        /// (each counts 64 bytes more, for its place in a queue).
        QueuedBytes = 1,
        /// Links and monitors its processes asked for (and their notices until received),
        /// registered names, and the ids of errors, environments, modules and sockets its
        /// processes hold.
        Handles = 2,
        /// File descriptors open: sockets (listeners, streams, UDP sockets) and files
        /// (opened through WASI in a granted directory).
        Descriptors = 3,
        /// Bytes per second of what its processes make the VM log (panic and death
        /// reports); the rest is dropped and counted.
        LogBytesPerSecond = 4,
        /// Bytes of linear memory of all its processes together (each process also has
        /// its own `max_memory`).
        Memory = 5,
        /// Bytes of one message its processes send: the host copies a message on a
        /// worker thread, so a large one delays the processes queued behind it.
        MessageBytes = 6,
    }
}

impl Limit {
    /// Every limit, in order of its number.
    pub const ALL: [Limit; 7] = [
        Limit::Processes,
        Limit::QueuedBytes,
        Limit::Handles,
        Limit::Descriptors,
        Limit::LogBytesPerSecond,
        Limit::Memory,
        Limit::MessageBytes,
    ];

    /// Its name in snake case (`queued_bytes`), as metrics label it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Limit::Processes => "processes",
            Limit::QueuedBytes => "queued_bytes",
            Limit::Handles => "handles",
            Limit::Descriptors => "descriptors",
            Limit::LogBytesPerSecond => "log_bytes_per_second",
            Limit::Memory => "memory",
            Limit::MessageBytes => "message_bytes",
        }
    }

    /// Whether it counts what is held (rather than capping a rate or one message's size).
    #[must_use]
    pub const fn is_held(self) -> bool {
        !matches!(self, Limit::LogBytesPerSecond | Limit::MessageBytes)
    }

    /// The value a new environment has when its `Config` does not set one (and its
    /// parent's is no lower).
    #[must_use]
    pub const fn default_value(self) -> u64 {
        match self {
            Limit::Processes => 1_000,
            Limit::QueuedBytes => 64 << 20,
            Limit::Handles => 10_000,
            Limit::Descriptors => 64,
            Limit::LogBytesPerSecond => 64 << 10,
            Limit::Memory => 1 << 30,
            Limit::MessageBytes => 1 << 20,
        }
    }

    /// What the limit counts, for people ("over the limit of 1000 processes").
    #[must_use]
    pub const fn unit(self) -> &'static str {
        match self {
            Limit::Processes => "processes",
            Limit::QueuedBytes => "queued message bytes",
            Limit::Handles => "handles (links, monitors, names, held ids)",
            Limit::Descriptors => "open sockets and files",
            Limit::LogBytesPerSecond => "log bytes per second",
            Limit::Memory => "bytes of memory",
            Limit::MessageBytes => "bytes in one message",
        }
    }
}

impl core::fmt::Display for Limit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.unit())
    }
}

/// The value of each limit, indexed by its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits(pub [u64; Limit::ALL.len()]);

impl Default for Limits {
    fn default() -> Self {
        Self(Limit::ALL.map(Limit::default_value))
    }
}

impl Limits {
    /// No limit at all (the root environment).
    pub const UNLIMITED: Limits = Limits([u64::MAX; Limit::ALL.len()]);

    /// The value of `limit`.
    #[must_use]
    pub fn get(&self, limit: Limit) -> u64 {
        self.0[limit as usize]
    }

    /// Sets `limit` to `value`.
    pub fn set(&mut self, limit: Limit, value: u64) {
        self.0[limit as usize] = value;
    }

    /// The limits of a child environment of one with `self`: each limit `asked` names
    /// (`lunatic::environment::create`'s pairs), the others at their default or at this
    /// one's value, whichever is lower.
    ///
    /// # Errors
    /// An odd count, or a number that is no [`Limit`] (returned).
    pub fn for_child(&self, asked: &[u64]) -> Result<Limits, u64> {
        let mut limits = *self;
        for limit in Limit::ALL {
            limits.set(limit, limit.default_value().min(self.get(limit)));
        }
        if !asked.len().is_multiple_of(2) {
            return Err(asked.len() as u64);
        }
        for pair in asked.chunks_exact(2) {
            limits.set(Limit::try_from(pair[0])?, pair[1]);
        }
        Ok(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_limits_default_to_the_lower_of_the_default_and_the_parent() {
        let mut parent = Limits::default();
        parent.set(Limit::Processes, 10);
        let child = parent.for_child(&[Limit::Descriptors as u64, 2]).unwrap();
        assert_eq!(child.get(Limit::Processes), 10);
        assert_eq!(child.get(Limit::Descriptors), 2);
        assert_eq!(child.get(Limit::Handles), Limit::Handles.default_value());
        assert_eq!(Limits::UNLIMITED.for_child(&[]), Ok(Limits::default()));
        assert_eq!(parent.for_child(&[77, 1]), Err(77));
    }
}
