//! The host ABI as the guest sees it: the `extern` blocks, generated from the one
//! declaration in `lunatic_abi::host_functions!` (see `docs/abi.md` for every function's
//! parameters, results and traps), and safe wrappers that every other module of this
//! crate uses, one file per import module. This is the only module with `unsafe` code.
//!
//! Outside wasm32 (for example when this crate is type-checked or documented on the host)
//! the imports do not exist, and calling any wrapper panics.
#![allow(unsafe_code)]

mod environment;
mod error;
mod message;
mod networking;
mod process;
mod receive;
mod registry;
mod resource;

pub(crate) use environment::*;
pub(crate) use message::*;
pub(crate) use networking::*;
pub(crate) use process::*;
pub(crate) use receive::*;
pub(crate) use registry::*;
pub(crate) use resource::*;

/// Declares the imports (the callback of `lunatic_abi::host_functions!`): a module per
/// import module, holding an `extern` block on wasm32 and panicking stand-ins elsewhere.
macro_rules! import_modules {
    ($(
        $(#[doc = $mdoc:literal])*
        mod $rmod:ident = $module:literal {
            $(
                $(#[doc = $doc:literal])*
                #[host($($flag:ident),*)]
                fn $name:ident($($arg:ident: $kind:ty),* $(,)?) $(-> $ret:ty)?;
            )*
        }
    )*) => {
        /// The raw imports, one module per import module of the host.
        mod imports {$(
            $(#[doc = $mdoc])*
            pub(super) mod $rmod {
                #[allow(unused_imports)]
                use lunatic_abi::kind::*;

                // The guest library calls most, not all (`data_size`: a receive reports it).
                #[cfg(target_arch = "wasm32")]
                #[link(wasm_import_module = $module)]
                #[allow(dead_code)]
                extern "C" {
                    $(
                        $(#[doc = $doc])*
                        pub(crate) fn $name($($arg: <$kind as AbiType>::Guest),*) $(-> <$ret as AbiType>::Guest)?;
                    )*
                }

                $(
                    $(#[doc = $doc])*
                    #[cfg(not(target_arch = "wasm32"))]
                    #[allow(unused_variables, dead_code, clippy::missing_safety_doc, clippy::too_many_arguments)]
                    pub(crate) unsafe fn $name($($arg: <$kind as AbiType>::Guest),*) $(-> <$ret as AbiType>::Guest)? {
                        panic!(concat!($module, "::", stringify!($name), " exists only in wasm32 guests run by lunatic"))
                    }
                )*
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
