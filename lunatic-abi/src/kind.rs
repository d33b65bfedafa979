//! The kinds of value that cross the host ABI: what a parameter or result means, its wasm
//! type, and its type in the guest's `extern` block. The declaration
//! ([`host_functions!`](crate::host_functions)) names these; each side maps them with
//! [`AbiType`].

use core::marker::PhantomData;

pub use crate::{
    EnvironmentStatus, IoStatus, ReceiveStatus, RegistryStatus, ResourceStatus, SpawnStatus,
};

/// A [`ReceiveInfo`](crate::ReceiveInfo) as the host writes it.
pub type ReceiveRecord = [u8; crate::ReceiveInfo::SIZE];

/// A socket address as both sides write it ([`encode_socket_addr`](crate::encode_socket_addr)).
pub type SocketAddrRecord = [u8; crate::SOCKET_ADDR_SIZE];

/// How a kind crosses the ABI.
pub trait AbiType {
    /// Its wasm type: what the VM's host function takes or returns.
    type Wasm;
    /// Its type in the guest's `extern` declaration.
    type Guest;
    /// What the VM's implementation of a host function returns for it (a result's type).
    type Host;

    /// The wasm value of a result the implementation returned.
    fn to_wasm(host: Self::Host) -> Self::Wasm;
}

/// Declares kinds that are one number: the wasm, guest and host types are the same.
macro_rules! number_kind {
    ($($(#[$meta:meta])* $name:ident: $ty:ty;)*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        pub enum $name {}

        impl AbiType for $name {
            type Wasm = $ty;
            type Guest = $ty;
            type Host = $ty;

            #[inline(always)]
            fn to_wasm(host: $ty) -> $ty {
                host
            }
        }
    )*};
}

number_kind! {
    /// A process id.
    Process: u64;
    /// A message tag (never 0 when the VM made it).
    Tag: i64;
    /// Milliseconds to wait at most; [`WAIT_FOREVER`](crate::WAIT_FOREVER) for no limit.
    Timeout: u64;
    /// An error id the caller holds (`lunatic::error`).
    ErrorId: u64;
    /// An environment id the caller holds, or 0 for its own where that is allowed.
    EnvironmentId: u64;
    /// A module id the caller holds, or [`THIS_MODULE`](crate::THIS_MODULE).
    ModuleId: u64;
    /// A resource (socket) id the caller holds.
    ResourceId: u64;
    /// A count: of the elements at the `In` or `Out` pointer before it.
    Len: u32;
}

/// Plain numbers (a count, a flag, a capacity): the same type everywhere.
macro_rules! plain_kind {
    ($($ty:ty),*) => {$(
        impl AbiType for $ty {
            type Wasm = $ty;
            type Guest = $ty;
            type Host = $ty;

            #[inline(always)]
            fn to_wasm(host: $ty) -> $ty {
                host
            }
        }
    )*};
}

plain_kind!(u32, u64, i64);

/// No result.
impl AbiType for () {
    type Wasm = ();
    type Guest = ();
    type Host = ();

    #[inline(always)]
    fn to_wasm((): ()) {}
}

/// The address of `T`s in the guest's memory that the host reads (their count follows as a
/// [`Len`], or it is one `T`).
#[derive(Debug)]
pub struct In<T>(PhantomData<T>);

impl<T> AbiType for In<T> {
    type Wasm = u32;
    type Guest = *const T;
    type Host = u32;

    #[inline(always)]
    fn to_wasm(host: u32) -> u32 {
        host
    }
}

/// The address of `T`s in the guest's memory that the host writes (their count follows as
/// a [`Len`], or it is one `T`).
#[derive(Debug)]
pub struct Out<T>(PhantomData<T>);

impl<T> AbiType for Out<T> {
    type Wasm = u32;
    type Guest = *mut T;
    type Host = u32;

    #[inline(always)]
    fn to_wasm(host: u32) -> u32 {
        host
    }
}

/// Status results: the enum in the VM, a `u32` on the wire and in the guest's declaration.
macro_rules! status_kind {
    ($($name:ident),*) => {$(
        impl AbiType for $name {
            type Wasm = u32;
            type Guest = u32;
            type Host = $name;

            #[inline(always)]
            fn to_wasm(host: $name) -> u32 {
                host as u32
            }
        }
    )*};
}

status_kind!(
    SpawnStatus,
    ReceiveStatus,
    RegistryStatus,
    EnvironmentStatus,
    IoStatus,
    ResourceStatus
);
