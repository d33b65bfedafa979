//! The host ABI: every function a guest may import, declared once in
//! `lunatic_abi::host_functions!` and registered here through one gate ([`call`]).
//!
//! | import module | file | what it does |
//! |---|---|---|
//! | `lunatic::distributed` | `distributed` | processes of other nodes of a cluster |
//! | `lunatic::environment` | `environment` | environments with limits, and modules added to them |
//! | `lunatic::error` | `error` | read and drop errors other calls returned by id |
//! | `lunatic::message` | [`message`] | build, send and receive messages; tags |
//! | `lunatic::networking` | `networking` | TCP, UDP and DNS; sockets are resources |
//! | `lunatic::process` | `process` | spawn, link, monitor, kill, sleep, identity, the end |
//! | `lunatic::registry` | `registry` | names for processes |
//! | `lunatic::resource` | `resource` | drop and clone resource handles; move them through messages |
//! | `wasi_snapshot_preview1` | `wasmtime-wasi` (`path_open`, `fd_close`, `fd_renumber` wrapped by `sandbox::wasi` to count open files) | standard streams, files, args, env, clocks, random, exit |
//!
//! Each file implements its module's functions, one Rust function per host function with
//! the declared name and parameters after a [`call::HostCall`]; a function declared `Wait`
//! returns a future. The reference of every function (parameters, results, traps) is
//! `docs/abi.md`, generated from the declaration.

pub(crate) mod call;
mod distributed;
// An implementation takes the declared parameters, which are many for some functions.
#[allow(clippy::too_many_arguments)]
mod environment;
mod error;
pub(crate) mod message;
#[allow(clippy::too_many_arguments)]
mod networking;
#[allow(clippy::too_many_arguments)]
pub(crate) mod process;
#[allow(clippy::too_many_arguments)]
mod registry;
mod resource;

use lunatic_abi::kind::*;
use lunatic_abi::{Flag, HostFunction};
use wasmtime::{Caller, Engine, Linker};

use crate::process::state::ProcessState;
use call::{HostCall, Killable};

/// The kind of a declared result: `()` when there is none.
macro_rules! result_kind {
    () => {
        ()
    };
    ($ret:ty) => {
        $ret
    };
}

/// The declaration of one function, as the gate reads it (its module, name and flags).
macro_rules! declared {
    ($module:literal, $name:ident, [$($flag:ident),*]) => {
        &HostFunction {
            module: $module,
            name: stringify!($name),
            params: &[],
            result: "",
            flags: &[$(Flag::$flag),*],
            doc: &[],
        }
    };
}

/// Registers one declared function with the linker, through the gate: a call declared
/// `Wait` (which must come first among the flags) is async, and watched for kills unless
/// it waits on the mailbox (`Mailbox`, second: then its implementation returns the boxed
/// future of wasm values itself); any other is a plain call.
macro_rules! register_function {
    ($linker:ident, $rmod:ident, $module:literal, $name:ident,
     [Wait, Mailbox $(, $flag:ident)*], ($($arg:ident: $kind:ty),*), ($($ret:ty)?)) => {{
        const FUNCTION: &HostFunction = declared!($module, $name, [Wait, Mailbox $(, $flag)*]);
        $linker.func_wrap_async(
            $module,
            stringify!($name),
            |caller: Caller<'_, ProcessState>, ($($arg,)*): ($(<$kind as AbiType>::Wasm,)*)| {
                // The implementation boxes its future itself, in place: this is the hottest
                // wait, and moving a future into a box costs more than the box.
                $rmod::$name(HostCall::enter(caller, FUNCTION), $($arg),*)
            },
        )?;
    }};
    ($linker:ident, $rmod:ident, $module:literal, $name:ident,
     [Wait $(, $flag:ident)*], ($($arg:ident: $kind:ty),*), ($($ret:ty)?)) => {{
        const FUNCTION: &HostFunction = declared!($module, $name, [Wait $(, $flag)*]);
        $linker.func_wrap_async(
            $module,
            stringify!($name),
            |caller: Caller<'_, ProcessState>, ($($arg,)*): ($(<$kind as AbiType>::Wasm,)*)| {
                let handle = std::sync::Arc::clone(&caller.data().handle);
                let call = HostCall::enter(caller, FUNCTION);
                Box::new(Killable::<result_kind!($($ret)?), _>::new(handle, $rmod::$name(call, $($arg),*)))
            },
        )?;
    }};
    ($linker:ident, $rmod:ident, $module:literal, $name:ident,
     [$($flag:ident),*], ($($arg:ident: $kind:ty),*), ($($ret:ty)?)) => {{
        const FUNCTION: &HostFunction = declared!($module, $name, [$($flag),*]);
        $linker.func_wrap(
            $module,
            stringify!($name),
            |caller: Caller<'_, ProcessState>, $($arg: <$kind as AbiType>::Wasm),*| {
                let mut call = HostCall::enter(caller, FUNCTION);
                let result = $rmod::$name(&mut call, $($arg),*);
                call.leave::<result_kind!($($ret)?)>(result)
            },
        )?;
    }};
}

/// Registers every declared function (the callback of `lunatic_abi::host_functions!`).
macro_rules! register_declared {
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
        /// Registers every function of the declaration with `linker`.
        fn register_declared(linker: &mut Linker<ProcessState>) -> wasmtime::Result<()> {
            $($(
                register_function!(linker, $rmod, $module, $name, [$($flag),*], ($($arg: $kind),*), ($($ret)?));
            )*)*
            Ok(())
        }
    };
}

lunatic_abi::host_functions!(register_declared);

/// A linker holding every host function and WASI preview 1.
///
/// # Errors
/// Only if two definitions clash, which is a bug in this crate.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<ProcessState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, ProcessState::wasi)?;
    crate::sandbox::wasi::count_open_files(&mut linker)?;
    register_declared(&mut linker)?;
    Ok(linker)
}
