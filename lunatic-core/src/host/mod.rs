//! The host ABI as the guest sees it. From the one declaration in
//! `lunatic_abi::host_functions!` (see `docs/abi.md` for every function's parameters,
//! results and traps) come the `extern` blocks and a safe wrapper of each import (slices
//! and references for the guest buffers); the files here, one per import module, turn
//! those into what the rest of the crate uses (statuses into `Result`s, errors, addresses).
//! `receive` keeps its own module: the receive strategy. This is the only module with
//! `unsafe` code.
//!
//! Outside wasm32 (for example when this crate is type-checked or documented on the host)
//! the imports do not exist, and calling any wrapper panics.
#![allow(unsafe_code)]

mod distributed;
mod environment;
mod error;
mod message;
mod networking;
mod process;
mod receive;
mod registry;
mod resource;

pub(crate) use distributed::*;
pub(crate) use environment::*;
pub(crate) use message::*;
pub(crate) use networking::*;
pub(crate) use process::*;
pub(crate) use receive::*;
pub(crate) use registry::*;
pub(crate) use resource::*;

/// One safe wrapper of an import, named as the import: its parameter list is munched, a
/// buffer with the `Len` after it becoming a slice, a single `In`/`Out` value a reference,
/// any other kind its value. Sound because every pointer it passes comes from a live
/// reference or slice (with that slice's length) for the duration of the call, which is
/// all the host reads or writes.
macro_rules! safe_wrapper {
    (@munch $name:ident ($($ret:ty)?) [$($out:tt)*] [$($pass:tt)*] $p:ident: In<$t:ty>, $l:ident: Len $(, $($rest:tt)*)?) => {
        safe_wrapper! { @munch $name ($($ret)?) [$($out)* $p: &[$t],] [$($pass)* $p.as_ptr(), super::super::len32($p.len()),] $($($rest)*)? }
    };
    (@munch $name:ident ($($ret:ty)?) [$($out:tt)*] [$($pass:tt)*] $p:ident: Out<$t:ty>, $l:ident: Len $(, $($rest:tt)*)?) => {
        safe_wrapper! { @munch $name ($($ret)?) [$($out)* $p: &mut [$t],] [$($pass)* $p.as_mut_ptr(), super::super::len32($p.len()),] $($($rest)*)? }
    };
    (@munch $name:ident ($($ret:ty)?) [$($out:tt)*] [$($pass:tt)*] $p:ident: In<$t:ty> $(, $($rest:tt)*)?) => {
        safe_wrapper! { @munch $name ($($ret)?) [$($out)* $p: &$t,] [$($pass)* $p as *const $t,] $($($rest)*)? }
    };
    (@munch $name:ident ($($ret:ty)?) [$($out:tt)*] [$($pass:tt)*] $p:ident: Out<$t:ty> $(, $($rest:tt)*)?) => {
        safe_wrapper! { @munch $name ($($ret)?) [$($out)* $p: &mut $t,] [$($pass)* $p as *mut $t,] $($($rest)*)? }
    };
    (@munch $name:ident ($($ret:ty)?) [$($out:tt)*] [$($pass:tt)*] $p:ident: $k:ident $(, $($rest:tt)*)?) => {
        safe_wrapper! { @munch $name ($($ret)?) [$($out)* $p: <$k as AbiType>::Guest,] [$($pass)* $p,] $($($rest)*)? }
    };
    (@munch $name:ident ($($ret:ty)?) [$($out:tt)*] [$($pass:tt)*]) => {
        #[inline]
        #[allow(dead_code, clippy::too_many_arguments)]
        pub(crate) fn $name($($out)*) $(-> <$ret as AbiType>::Guest)? {
            // SAFETY: see the macro.
            unsafe { raw::$name($($pass)*) }
        }
    };
}

/// One raw import: the `extern` declaration on wasm32, a panicking stand-in elsewhere.
macro_rules! raw_import {
    ($module:literal $name:ident ($($arg:ident: $kind:ty),* $(,)?) ($($ret:ty)?)) => {
        #[cfg(target_arch = "wasm32")]
        #[link(wasm_import_module = $module)]
        // The guest library calls most, not all (`data_size`: a receive reports it).
        #[allow(dead_code)]
        extern "C" {
            pub(crate) fn $name($($arg: <$kind as AbiType>::Guest),*) $(-> <$ret as AbiType>::Guest)?;
        }

        #[cfg(not(target_arch = "wasm32"))]
        #[allow(unused_variables, dead_code, clippy::missing_safety_doc, clippy::too_many_arguments)]
        pub(crate) unsafe fn $name($($arg: <$kind as AbiType>::Guest),*) $(-> <$ret as AbiType>::Guest)? {
            panic!(concat!($module, "::", stringify!($name), " exists only in wasm32 guests run by lunatic"))
        }
    };
}

/// Declares the imports (the callback of `lunatic_abi::host_functions!`): a module per
/// import module, with its raw imports in `raw` and a safe wrapper of each beside them.
macro_rules! import_modules {
    ($(
        $(#[doc = $mdoc:literal])*
        mod $rmod:ident = $module:literal {
            $(
                $(#[doc = $doc:literal])*
                #[host($($flag:ident),*)]
                fn $name:ident($($params:tt)*) $(-> $ret:ty)?;
            )*
        }
    )*) => {
        /// The imports, one module per import module of the host.
        mod imports {$(
            $(#[doc = $mdoc])*
            pub(super) mod $rmod {
                #[allow(unused_imports)]
                use lunatic_abi::kind::*;

                /// The raw imports (the few callers that pass uninitialized buffers use
                /// these).
                pub(crate) mod raw {
                    #[allow(unused_imports)]
                    use lunatic_abi::kind::*;

                    $( raw_import!($module $name ($($params)*) ($($ret)?)); )*
                }

                $( safe_wrapper! { @munch $name ($($ret)?) [] [] $($params)* } )*
            }
        )*}
    };
}

lunatic_abi::host_functions!(import_modules);

/// Lengths passed to the host are `u32`; wasm32 memory cannot hold more.
#[inline]
fn len32(len: usize) -> u32 {
    u32::try_from(len).expect("a wasm32 length fits in u32")
}
