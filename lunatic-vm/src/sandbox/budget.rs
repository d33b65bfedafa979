//! What an environment's processes make the host hold, counted and capped ([`Limit`]), and
//! the fuel they share.
//!
//! Each environment but the root has a [`Budget`]; a budget counts for its environment and
//! for every environment made inside it, so nesting never renews a limit: a charge is
//! taken from the budget and each of its ancestors, and refused if any would go over.
//! What is held is a [`Held`], which gives its charge back when dropped: a process's
//! charge with its state, a message's bytes with the message, a monitor's with the
//! monitor. No code path releases a charge by hand.
//!
//! Fuel is an environment's budget too: every process of the environment (and of those
//! inside it) burns the same fuel, so spawning never makes more. A process draws on it
//! at each preemption tick, at each large host charge (a spawn, a compile, a large copy)
//! and when it ends ([`Budget::burn`]), and runs meanwhile on what was left at its last
//! draw: the environment can overrun by at most what the processes running at once burn
//! in one tick.
//!
//! The root environment has no budget: its processes pay nothing (one branch).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use lunatic_abi::{Limit, Limits};

/// The counters of one environment.
#[derive(Debug)]
pub(crate) struct Budget {
    limits: Limits,
    used: [AtomicU64; Limit::ALL.len()],
    /// Raw fuel left, for a fuel-limited environment.
    fuel: Option<AtomicU64>,
    log: Mutex<LogBucket>,
    parent: Option<Arc<Budget>>,
}

/// A refused charge: which limit, at what value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("over the environment's limit of {max} {limit}")]
pub(crate) struct OverLimit {
    pub(crate) limit: Limit,
    pub(crate) max: u64,
}

impl Budget {
    /// A budget with `limits` and `fuel` (raw units), inside `parent`'s.
    pub(crate) fn new(limits: Limits, fuel: Option<u64>, parent: Option<Arc<Budget>>) -> Arc<Self> {
        Arc::new(Self {
            limits,
            used: Default::default(),
            fuel: fuel.map(AtomicU64::new),
            log: Mutex::new(LogBucket::new(limits.get(Limit::LogBytesPerSecond))),
            parent,
        })
    }

    /// This budget and its ancestors, innermost first.
    fn chain(&self) -> impl Iterator<Item = &Budget> {
        std::iter::successors(Some(self), |budget| budget.parent.as_deref())
    }

    /// Takes `amount` of `limit` from this budget and every ancestor, until the returned
    /// [`Held`] is dropped.
    ///
    /// # Errors
    /// One of them would go over its limit; nothing is taken.
    pub(crate) fn hold(self: &Arc<Self>, limit: Limit, amount: u64) -> Result<Held, OverLimit> {
        self.take(limit, amount)?;
        Ok(Held {
            budget: Arc::clone(self),
            limit,
            amount,
        })
    }

    /// Adds `amount` to `limit`'s count here and in every ancestor, or nothing if one would
    /// go over. Taking nothing always succeeds (a concurrent refusal may leave a count
    /// over its limit for a moment).
    fn take(&self, limit: Limit, amount: u64) -> Result<(), OverLimit> {
        if amount == 0 {
            return Ok(());
        }
        let i = limit as usize;
        for (taken, budget) in self.chain().enumerate() {
            let max = budget.limits.get(limit);
            let before = budget.used[i].fetch_add(amount, Ordering::Relaxed);
            if before.saturating_add(amount) > max {
                for undo in self.chain().take(taken + 1) {
                    undo.used[i].fetch_sub(amount, Ordering::Relaxed);
                }
                return Err(OverLimit { limit, max });
            }
        }
        Ok(())
    }

    /// How much of `limit` is held now.
    #[must_use]
    pub(crate) fn used(&self, limit: Limit) -> u64 {
        self.used[limit as usize].load(Ordering::Relaxed)
    }

    /// The value of `limit`.
    #[must_use]
    pub(crate) fn limit(&self, limit: Limit) -> u64 {
        self.limits.get(limit)
    }

    /// Raw fuel left to this budget itself (`None`: no fuel limit of its own).
    #[must_use]
    pub(crate) fn fuel_left(&self) -> Option<u64> {
        self.fuel.as_ref().map(|fuel| fuel.load(Ordering::Relaxed))
    }

    /// Takes `burned` raw fuel from this budget and each fuel-limited ancestor; returns
    /// what is left to the tightest of them (`None`: no fuel limit).
    pub(crate) fn burn(&self, burned: u64) -> Option<u64> {
        let mut left: Option<u64> = None;
        for budget in self.chain() {
            if let Some(fuel) = &budget.fuel {
                let before = fuel
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |fuel| {
                        Some(fuel.saturating_sub(burned))
                    })
                    .unwrap_or(0);
                let after = before.saturating_sub(burned);
                left = Some(left.map_or(after, |left| left.min(after)));
            }
        }
        left
    }

    /// Whether `bytes` more of log text fit this second's allowance of this environment
    /// and its ancestors; what does not fit is counted as suppressed.
    pub(crate) fn may_log(&self, bytes: u64) -> LogVerdict {
        let now = Instant::now();
        let mut verdict = LogVerdict::Log { suppressed: 0 };
        for budget in self.chain() {
            let mut bucket = budget.log.lock().unwrap_or_else(|e| e.into_inner());
            match bucket.take(now, bytes) {
                LogVerdict::Drop => return LogVerdict::Drop,
                LogVerdict::Log { suppressed } if suppressed > 0 => {
                    verdict = LogVerdict::Log { suppressed };
                }
                LogVerdict::Log { .. } => {}
            }
        }
        verdict
    }
}

/// A charge on a [`Budget`] (and its ancestors), given back when dropped.
#[derive(Debug)]
pub(crate) struct Held {
    budget: Arc<Budget>,
    limit: Limit,
    amount: u64,
}

impl Held {
    /// Takes `more` of the same limit, from the same budgets.
    ///
    /// # Errors
    /// One of them would go over its limit; nothing more is taken.
    pub(crate) fn grow(&mut self, more: u64) -> Result<(), OverLimit> {
        self.budget.take(self.limit, more)?;
        self.amount += more;
        Ok(())
    }

    /// Gives back `less` of it (at most all it holds).
    pub(crate) fn shrink(&mut self, less: u64) {
        let less = less.min(self.amount);
        for budget in self.budget.chain() {
            budget.used[self.limit as usize].fetch_sub(less, Ordering::Relaxed);
        }
        self.amount -= less;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.shrink(self.amount);
    }
}

impl PartialEq for Held {
    /// Charges are bookkeeping, not content: two messages that differ only in who pays
    /// for them are equal.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Held {}

/// Whether a line may be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogVerdict {
    /// Log it; `suppressed` lines were dropped since the last one logged.
    Log { suppressed: u64 },
    /// Drop it (counted).
    Drop,
}

/// A token bucket of log bytes: refilled at the limit per second, holding at most one
/// second's worth.
#[derive(Debug)]
struct LogBucket {
    per_second: u64,
    tokens: u64,
    refilled: Instant,
    suppressed: u64,
}

impl LogBucket {
    fn new(per_second: u64) -> Self {
        Self {
            per_second,
            tokens: per_second,
            refilled: Instant::now(),
            suppressed: 0,
        }
    }

    fn take(&mut self, now: Instant, bytes: u64) -> LogVerdict {
        let elapsed = now.saturating_duration_since(self.refilled);
        let refill = (elapsed.as_micros() as u64).saturating_mul(self.per_second) / 1_000_000;
        if refill > 0 {
            self.tokens = self.tokens.saturating_add(refill).min(self.per_second);
            self.refilled = now;
        }
        if bytes > self.tokens {
            self.suppressed += 1;
            return LogVerdict::Drop;
        }
        self.tokens -= bytes;
        LogVerdict::Log {
            suppressed: std::mem::take(&mut self.suppressed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(processes: u64) -> Limits {
        let mut limits = Limits::default();
        limits.set(Limit::Processes, processes);
        limits
    }

    #[test]
    fn charges_count_up_the_chain_and_come_back_on_drop() {
        let parent = Budget::new(limits(3), None, None);
        let child = Budget::new(limits(10), None, Some(Arc::clone(&parent)));
        let held: Vec<Held> = (0..3)
            .map(|_| child.hold(Limit::Processes, 1).unwrap())
            .collect();
        assert_eq!(parent.used(Limit::Processes), 3);
        let refused = child.hold(Limit::Processes, 1).unwrap_err();
        assert_eq!(
            refused,
            OverLimit {
                limit: Limit::Processes,
                max: 3
            }
        );
        assert_eq!(child.used(Limit::Processes), 3, "a refusal takes nothing");
        drop(held);
        assert_eq!(
            (parent.used(Limit::Processes), child.used(Limit::Processes)),
            (0, 0)
        );
        assert!(parent.hold(Limit::Processes, 3).is_ok());
    }

    #[test]
    fn a_charge_grows_within_the_limit_and_comes_back_whole() {
        let mut limits = Limits::default();
        limits.set(Limit::Memory, 100);
        let budget = Budget::new(limits, None, None);
        let mut held = budget.hold(Limit::Memory, 0).unwrap();
        held.grow(60).unwrap();
        held.grow(40).unwrap();
        assert!(held.grow(1).is_err());
        assert_eq!(budget.used(Limit::Memory), 100);
        drop(held);
        assert_eq!(budget.used(Limit::Memory), 0);
        assert_eq!(
            Arc::strong_count(&budget),
            1,
            "no charge keeps the budget alive"
        );
    }

    #[test]
    fn fuel_is_shared_and_the_tightest_ancestor_counts() {
        let parent = Budget::new(Limits::default(), Some(1_000), None);
        let child = Budget::new(Limits::default(), Some(5_000), Some(Arc::clone(&parent)));
        assert_eq!(child.burn(400), Some(600));
        assert_eq!(parent.burn(100), Some(500));
        assert_eq!(child.burn(600), Some(0));
        let unmetered = Budget::new(Limits::default(), None, None);
        assert_eq!(unmetered.burn(10), None);
    }

    #[test]
    fn log_bytes_are_rate_limited_and_drops_counted() {
        let mut bucket = LogBucket::new(100);
        let start = bucket.refilled;
        assert_eq!(bucket.take(start, 60), LogVerdict::Log { suppressed: 0 });
        assert_eq!(bucket.take(start, 60), LogVerdict::Drop);
        assert_eq!(bucket.take(start, 60), LogVerdict::Drop);
        let later = start + Duration::from_millis(500);
        assert_eq!(bucket.take(later, 60), LogVerdict::Log { suppressed: 2 });
        let much_later = start + Duration::from_secs(3600);
        assert_eq!(
            bucket.take(much_later, 100),
            LogVerdict::Log { suppressed: 0 }
        );
    }
}
