//! The gate every host call passes: [`HostCall`], built by the registration that
//! `lunatic_abi::host_functions!` generates (`register_declared` in `host/mod.rs`), around an
//! implementation function that only does the function's own work.
//!
//! What the gate applies, from the function's declaration, so no implementation keeps
//! these rules by hand:
//! - **Flush.** A function declared `Flush` delivers what the caller sent and its outbox
//!   still holds before the implementation runs (see `crate::messaging::outbox`).
//! - **Guest memory.** Implementations reach guest memory only through [`HostCall`]'s
//!   accessors, which check every range and name the function in the trap.
//! - **Kills.** A call declared `Wait` ends, and its caller with it, as soon as the caller
//!   is told to die while it waits ([`Killable`]), or by itself when it is declared to wait
//!   on the caller's mailbox (`Mailbox`: a kill is queued there and wakes it); every call,
//!   once done, ends a caller that was told to die meanwhile, rather than letting it run on
//!   to the next preemption tick.
//! - **Permission** is applied before any call: a program linked for an environment has
//!   the functions its environment does not allow replaced by stubs that trap
//!   (`crate::program::NotAllowed`).
//! - **Host-side work** of a process with a fuel limit is charged to its fuel: every byte
//!   the host copies for it ([`HostCall::charge_copy`], which the memory accessors call),
//!   and each spawn and compile. Running out ends the process with `OutOfFuel`, as a loop
//!   would; a process without a fuel limit pays nothing (one branch).
//!
//! The sandbox's capability checks belong here too, where every call passes with its
//! declaration in hand.
//!
//! Invariant (kill wake-ups): a waiting call's [`Killable`] leaves its task's waker in the
//! mailbox under the lock a kill takes, after checking for a death under that lock, so a
//! kill either is seen by the call or wakes it.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use lunatic_abi::kind::AbiType;
use lunatic_abi::{Flag, HostFunction};
use wasmtime::{format_err, AsContextMut, Caller};

use crate::process::state::ProcessState;
use crate::process::{ProcessHandle, Terminated};

/// Bytes the host copies for one unit of raw fuel (about one wasm instruction): a copy of
/// 8 bytes costs the host about what an instruction costs the guest.
const BYTES_PER_FUEL: u64 = 8;

/// A charge of at least this much raw fuel is taken from the environment's at once.
const DIRECT_CHARGE: u64 = SPAWN_FUEL;

/// Raw fuel a spawn costs its caller (the instance, its memory image, the process's
/// entries): about what 100,000 wasm instructions cost.
pub(crate) const SPAWN_FUEL: u64 = 100_000;

/// One host call in progress: the caller's store and the declaration of what it called.
pub(crate) struct HostCall<'a> {
    caller: Caller<'a, ProcessState>,
    function: &'static HostFunction,
}

impl<'a> HostCall<'a> {
    /// Starts a call of `function`, applying its flush rule.
    #[inline(always)]
    pub(super) fn enter(caller: Caller<'a, ProcessState>, function: &'static HostFunction) -> Self {
        if function.has(Flag::Flush) {
            caller.data().deliver_sent();
        }
        Self { caller, function }
    }

    /// Ends a call that did not wait: its result as wasm, unless the caller was told to
    /// die meanwhile (then it ends now).
    #[inline(always)]
    pub(super) fn leave<K: AbiType>(
        &self,
        result: wasmtime::Result<K::Host>,
    ) -> wasmtime::Result<K::Wasm> {
        let value = result?;
        if let Some(reason) = self.caller.data().handle.mailbox().pending_death() {
            return Err(Terminated(reason).into());
        }
        Ok(K::to_wasm(value))
    }

    /// Charges the copy of `bytes` bytes to the caller's fuel, if it has a fuel limit.
    ///
    /// # Errors
    /// The fuel ran out: the caller ends with `OutOfFuel`.
    #[inline(always)]
    pub(crate) fn charge_copy(&mut self, bytes: usize) -> wasmtime::Result<()> {
        if !self.caller.data().metered {
            return Ok(());
        }
        self.charge_fuel(bytes as u64 / BYTES_PER_FUEL + 1)
    }

    /// Charges `cost` raw fuel to the caller, if it has a fuel limit. A large charge (a
    /// spawn, a compile, a large copy) is taken from the environment's fuel at once, not
    /// at the next tick, so processes that share the fuel cannot each spend what the
    /// environment had at their last draw.
    ///
    /// # Errors
    /// The fuel ran out: the caller ends with `OutOfFuel`, and the work it asked for is
    /// not charged (it is not done).
    #[inline(never)]
    pub(crate) fn charge_fuel(&mut self, cost: u64) -> wasmtime::Result<()> {
        if !self.caller.data().metered {
            return Ok(());
        }
        let large = cost >= DIRECT_CHARGE;
        if large {
            crate::runtime::draw_fuel(&mut self.caller.as_context_mut())?;
        }
        let fuel = self.caller.get_fuel()?;
        match fuel.checked_sub(cost) {
            Some(left) => {
                self.caller.set_fuel(left)?;
                if large {
                    crate::runtime::draw_fuel(&mut self.caller.as_context_mut())?;
                }
                Ok(())
            }
            None => {
                // What it ran since its last draw is charged; the work refused is not.
                crate::runtime::draw_fuel(&mut self.caller.as_context_mut())?;
                self.caller.set_fuel(0)?;
                self.caller.data_mut().fuel_drawn = 0;
                Err(wasmtime::Trap::OutOfFuel.into())
            }
        }
    }

    /// The caller's state.
    #[inline(always)]
    pub(crate) fn state(&self) -> &ProcessState {
        self.caller.data()
    }

    /// The caller's state, to change.
    #[inline(always)]
    pub(crate) fn state_mut(&mut self) -> &mut ProcessState {
        self.caller.data_mut()
    }

    /// The caller's store (for the few calls that set a global of the instance).
    pub(crate) fn caller(&mut self) -> &mut Caller<'a, ProcessState> {
        &mut self.caller
    }

    /// The declaration of the function called.
    pub(crate) fn function(&self) -> &'static HostFunction {
        self.function
    }

    /// A trap of this call: `text` after the function's name.
    #[cold]
    #[inline(never)]
    pub(crate) fn fail(&self, text: impl std::fmt::Display) -> wasmtime::Error {
        fail(self.function, text)
    }

    /// The caller's linear memory and its state, borrowed together (to copy between a
    /// message and the guest without an intermediate buffer).
    ///
    /// # Errors
    /// The module exports no memory.
    #[inline]
    pub(crate) fn memory_and_state(&mut self) -> wasmtime::Result<(&mut [u8], &mut ProcessState)> {
        crate::process::state::guest_memory(&mut self.caller)
            .ok_or_else(|| fail(self.function, "the module exports no memory named `memory`"))
    }

    /// The caller's linear memory.
    ///
    /// # Errors
    /// The module exports no memory.
    #[inline]
    pub(crate) fn memory(&mut self) -> wasmtime::Result<&mut [u8]> {
        self.memory_and_state().map(|(memory, _)| memory)
    }

    /// Copies `len` bytes at `ptr` out of guest memory.
    ///
    /// # Errors
    /// The range is not inside memory.
    pub(crate) fn read(&mut self, ptr: u32, len: u32) -> wasmtime::Result<Vec<u8>> {
        self.charge_copy(len as usize)?;
        let function = self.function;
        Ok(slice(self.memory()?, ptr, len, function)?.to_vec())
    }

    /// Reads the `count` little-endian `u64`s at `ptr`.
    ///
    /// # Errors
    /// The range is not inside memory.
    pub(crate) fn read_u64s(&mut self, ptr: u32, count: u32) -> wasmtime::Result<Vec<u64>> {
        let len = count
            .checked_mul(8)
            .ok_or_else(|| self.fail("too many numbers"))?;
        let bytes = self.read(ptr, len)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|chunk| u64::from_le_bytes(chunk.try_into().unwrap_or_default()))
            .collect())
    }

    /// Reads `len` bytes at `ptr` as UTF-8 text.
    ///
    /// # Errors
    /// The range is not inside memory, or the bytes are not UTF-8.
    pub(crate) fn read_string(&mut self, ptr: u32, len: u32) -> wasmtime::Result<String> {
        let bytes = self.read(ptr, len)?;
        String::from_utf8(bytes).map_err(|_| self.fail("a string is not UTF-8"))
    }

    /// Copies `bytes` into guest memory at `ptr`.
    ///
    /// # Errors
    /// The range is not inside memory.
    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> wasmtime::Result<()> {
        self.charge_copy(bytes.len())?;
        let function = self.function;
        let len = u32::try_from(bytes.len()).map_err(|_| self.fail("value too large"))?;
        slice_mut(self.memory()?, ptr, len, function)?.copy_from_slice(bytes);
        Ok(())
    }

    /// Copies `text` to `ptr`, cut to `len` bytes; returns its whole length (0: none), so the
    /// guest can ask again with room for all of it.
    ///
    /// # Errors
    /// The bytes copied would land outside memory.
    pub(crate) fn write_text(&mut self, ptr: u32, len: u32, text: &str) -> wasmtime::Result<u32> {
        let count = text.len().min(len as usize);
        self.write(ptr, &text.as_bytes()[..count])?;
        Ok(u32::try_from(text.len()).unwrap_or(u32::MAX))
    }

    /// Checks that the `len` bytes at `ptr` are inside guest memory: an output buffer the
    /// call may fill only in part, checked whole so a bad one traps every time.
    ///
    /// # Errors
    /// The range is not inside memory.
    pub(crate) fn check_range(&mut self, ptr: u32, len: u32) -> wasmtime::Result<()> {
        let function = self.function;
        slice(self.memory()?, ptr, len, function).map(drop)
    }

    /// Writes `value` as a little-endian `u64` at `ptr` (the ids and counts calls report).
    ///
    /// # Errors
    /// The range is not inside memory.
    pub(crate) fn write_u64(&mut self, ptr: u32, value: u64) -> wasmtime::Result<()> {
        self.write(ptr, &value.to_le_bytes())
    }
}

/// A trap of a call of `function`: `text` after its name.
#[cold]
#[inline(never)]
pub(crate) fn fail(function: &HostFunction, text: impl std::fmt::Display) -> wasmtime::Error {
    format_err!("{}::{}: {text}", function.module, function.name)
}

/// The `len` bytes at `ptr` in `memory`.
///
/// # Errors
/// The range is not inside the memory; the trap names `function`.
#[inline]
pub(crate) fn slice<'m>(
    memory: &'m [u8],
    ptr: u32,
    len: u32,
    function: &HostFunction,
) -> wasmtime::Result<&'m [u8]> {
    let start = ptr as usize;
    start
        .checked_add(len as usize)
        .and_then(|end| memory.get(start..end))
        .ok_or_else(|| out_of_bounds(function, ptr, len, memory.len()))
}

/// The `len` bytes at `ptr` in `memory`, writable.
///
/// # Errors
/// As [`slice`].
#[inline]
pub(crate) fn slice_mut<'m>(
    memory: &'m mut [u8],
    ptr: u32,
    len: u32,
    function: &HostFunction,
) -> wasmtime::Result<&'m mut [u8]> {
    let size = memory.len();
    let start = ptr as usize;
    start
        .checked_add(len as usize)
        .and_then(|end| memory.get_mut(start..end))
        .ok_or_else(|| out_of_bounds(function, ptr, len, size))
}

#[cold]
#[inline(never)]
fn out_of_bounds(function: &HostFunction, ptr: u32, len: u32, size: usize) -> wasmtime::Error {
    fail(
        function,
        format_args!(
            "the range of {len} bytes at {ptr:#x} is outside the guest's memory of {size} bytes"
        ),
    )
}

pin_project_lite::pin_project! {
    /// The future of a call declared `Wait`: its implementation's future, which ends with
    /// the caller's death reason as soon as the caller is told to die, and whose result
    /// becomes the wasm value of kind `K`.
    pub(super) struct Killable<K, F> {
        process: Arc<ProcessHandle>,
        #[pin]
        call: F,
        // Whether the call had to wait (so the process's profile shows it blocked).
        waited: bool,
        kind: PhantomData<fn() -> K>,
    }
}

impl<K, F> Killable<K, F> {
    /// Waits on `call`, made by a call from a process whose handle is `process`.
    pub(super) fn new(process: Arc<ProcessHandle>, call: F) -> Self {
        Self {
            process,
            call,
            waited: false,
            kind: PhantomData,
        }
    }
}

impl<K: AbiType, F: Future<Output = wasmtime::Result<K::Host>>> Future for Killable<K, F> {
    type Output = wasmtime::Result<K::Wasm>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mailbox = this.process.mailbox();
        if let Some(reason) = mailbox.pending_death() {
            return Poll::Ready(Err(Terminated(reason).into()));
        }
        match this.call.poll(cx) {
            Poll::Ready(result) => {
                if *this.waited {
                    this.process.profile().set_blocked(false);
                }
                Poll::Ready(result.map(K::to_wasm))
            }
            Poll::Pending => {
                if !*this.waited {
                    *this.waited = true;
                    this.process.profile().set_blocked(true);
                }
                // A kill from now on wakes this task; one that came meanwhile is seen here.
                if mailbox.watch_for_kill(cx.waker()) {
                    if let Some(reason) = mailbox.pending_death() {
                        return Poll::Ready(Err(Terminated(reason).into()));
                    }
                }
                Poll::Pending
            }
        }
    }
}
