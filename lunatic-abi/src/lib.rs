//! The values the host (`lunatic-vm`) and the guest library (`lunatic-core`) must agree on,
//! kept in one place so they cannot drift apart. No logic lives here.
//!
//! | item | used by |
//! |---|---|
//! | [`SpawnStatus`] | `lunatic::process::spawn` |
//! | [`ReceiveStatus`] | `lunatic::message::receive` |
//! | [`RegistryStatus`] | `lunatic::registry::*` |
//! | [`ParamKind`], [`PARAM_SIZE`] | the parameter list of `lunatic::process::spawn` |
//! | [`NO_LINK`], [`THIS_MODULE`], [`NO_FUEL_LIMIT`], [`WAIT_FOREVER`] | sentinel arguments |
//! | [`EnvironmentStatus`] | `lunatic::environment::*` |
//! | [`SPAWN_ENTRY`] | the guest export the host calls to start a spawned closure |
//! | [`TEST_SECTION`] | the custom section that marks a test program for the VM's test runner |
#![no_std]

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

            fn try_from(value: $int) -> Result<Self, $int> {
                match value {
                    $($value => Ok(Self::$variant),)*
                    other => Err(other),
                }
            }
        }
    };
}

abi_enum! {
    /// Result of `lunatic::process::spawn`.
    SpawnStatus: u32 {
        /// The process started; its id was written to the output pointer.
        Spawned = 0,
        /// It did not; an error id was written to the output pointer.
        Failed = 1,
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

/// The export of the guest library that runs a spawned function: `(entry: i32, arg: i32)`.
pub const SPAWN_ENTRY: &str = "lunatic_spawn_entry";

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
    fn numbers_round_trip_and_unknown_ones_are_refused() {
        assert_eq!(
            ReceiveStatus::try_from(ReceiveStatus::Down as u32),
            Ok(ReceiveStatus::Down)
        );
        assert_eq!(RegistryStatus::try_from(9), Err(9));
        assert_eq!(ParamKind::try_from(0x7E), Ok(ParamKind::I64));
        assert_eq!(ParamKind::try_from(0x42), Err(0x42));
    }
}
