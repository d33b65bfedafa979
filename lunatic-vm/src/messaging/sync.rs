//! The synchronization primitives the mailbox uses. The loom model of the mailbox
//! (`loom-models`) compiles `mailbox.rs` itself against loom's versions of these, so the
//! model checks the code that runs, not a copy.
//!
//! The mailbox's [`Mutex`] is a spin lock. Every critical section of a mailbox is a few
//! moves (a push, a swap of two buffers, a waker stored or taken), and each message takes
//! the lock three times (the push, the receiver's wait, its take), so what a lock costs
//! uncontended is on every hop: a lock whose release is a plain store (here) instead of a
//! compare-exchange (`parking_lot`'s) made a round trip 4-5% faster. A waiter spins a
//! little, then yields its thread until the lock is free, so a holder its thread's
//! preemption delays is waited for without a core spinning all along.
//!
//! # Invariants
//!
//! 1. **One holder at a time.** The lock is taken only by a compare-exchange of `locked`
//!    from `false` to `true`, so of the threads that race for it one wins; only the
//!    winner's guard stores `false` again, when it is dropped (also on unwinding: a panic
//!    cannot leave a mailbox half-changed, as every critical section is a few moves: a
//!    message placed, a batch swapped in or appended, a removal, a take; so there is no
//!    poisoning).
//! 2. **What a holder wrote is seen by the next.** The taking exchange is `Acquire` and
//!    the releasing store `Release`.
//!
//! `loom-models` checks both on this file, with loom's atomic (`cfg(loom_model)`).

// The one unsafe item: the guarded value's cell, reached through a guard (invariant 1).
#![allow(unsafe_code)]

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

#[cfg(loom_model)]
use loom::{hint::spin_loop, thread::yield_now};
#[cfg(not(loom_model))]
use std::{hint::spin_loop, thread::yield_now};

// The lock's flag: loom's in the model of the lock itself (`loom-models`), which checks
// invariants 1 and 2 under every interleaving the memory model allows.
#[cfg(loom_model)]
pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
#[cfg(not(loom_model))]
pub(crate) use std::sync::atomic::{AtomicBool, Ordering};

/// `std`'s `UnsafeCell` with loom's interface (access through a closure), so the model
/// sees every access to the mailbox's handoff slot.
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

impl<T> UnsafeCell<T> {
    /// Reads through a pointer to the value.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Writes through a pointer to the value.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// A spin lock around a `T` (see the module's doc).
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    locked: AtomicBool,
    value: std::cell::UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard, and one guard exists at a time
// (invariant 1), so sharing the lock between threads shares the value with one of them
// at a time, as `std`'s `Mutex` does.
unsafe impl<T: Send> Sync for Mutex<T> {}

/// The lock, held: the value is the holder's until the guard is dropped. It is `Sync`
/// only when `T` is, as `std`'s guard (a shared guard gives shared access to the value).
pub(crate) struct MutexGuard<'a, T>(&'a Mutex<T>, PhantomData<&'a mut T>);

/// Spins while the lock is held before yielding the thread instead.
const SPINS_BEFORE_YIELDING: u32 = 64;

impl<T> Mutex<T> {
    /// Takes the lock, waiting for it if another thread holds it.
    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        if !self.try_take() {
            self.lock_contended();
        }
        MutexGuard(self, PhantomData)
    }

    #[inline]
    fn try_take(&self) -> bool {
        self.locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[cold]
    #[inline(never)]
    fn lock_contended(&self) {
        let mut spins = 0u32;
        loop {
            // Read until it looks free: a read keeps the line shared, an exchange would
            // take it from the holder.
            while self.locked.load(Ordering::Relaxed) {
                if spins < SPINS_BEFORE_YIELDING {
                    spins += 1;
                    spin_loop();
                } else {
                    yield_now();
                }
            }
            if self.try_take() {
                return;
            }
        }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.0.locked.store(false, Ordering::Release);
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard is the one holder (invariant 1).
        unsafe { &*self.0.value.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard is the one holder (invariant 1).
        unsafe { &mut *self.0.value.get() }
    }
}

#[cfg(test)]
impl<T> Mutex<T> {
    /// A lock around `value` (the VM makes its locks with `Default`).
    pub(crate) fn new_for_test(value: T) -> Self {
        Self {
            locked: AtomicBool::new(false),
            value: std::cell::UnsafeCell::new(value),
        }
    }
}

#[cfg(all(test, not(loom_model)))]
mod tests {
    use super::*;

    #[test]
    fn threads_that_race_for_the_lock_each_hold_it_alone() {
        const THREADS: usize = 4;
        const TIMES: usize = 20_000;
        // A read and a later write of a plain counter: a second holder between them
        // would lose an increment.
        let counter = Mutex::new_for_test(0usize);
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                scope.spawn(|| {
                    for _ in 0..TIMES {
                        let mut held = counter.lock();
                        let seen = *held;
                        std::hint::black_box(&mut held);
                        *held = seen + 1;
                    }
                });
            }
        });
        assert_eq!(*counter.lock(), THREADS * TIMES);
    }

    #[test]
    fn a_panic_while_holding_the_lock_releases_it() {
        let lock = Mutex::new_for_test(1);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _held = lock.lock();
            panic!("while holding");
        }));
        assert!(result.is_err());
        assert_eq!(*lock.lock(), 1);
    }
}
