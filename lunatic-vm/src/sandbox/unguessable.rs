//! Unguessable numbers: process ids and tags.
//!
//! A process id is the capability to send to, link, monitor and kill a process, and a reply
//! tag is what lets a message pass as the answer to one request. Neither may be guessed: a
//! process can only use an id it was given (in a message, a spawn, its own environment's
//! registry). Messages are opaque bytes to the VM, so it cannot track which ids a process
//! was given; instead every id is sparse. [`Unguessable`] hands out a keyed permutation of a
//! counter: unique like the counter, and without the key (random per VM, never shown to a
//! guest) seeing any number of them tells nothing about the next or about another's.
//!
//! The permutation is a four-round Feistel network over 64 bits whose round function is
//! SipHash keyed per VM (Luby-Rackoff: four rounds of a pseudo-random function give a strong
//! pseudo-random permutation). A guess hits one of `n` live ids with probability `n / 2^64`:
//! with a million processes alive, one in 2^44 tries, far beyond any fuel budget.
//!
//! Tags are made far more often (one a request), so they come from [`random_tag`] instead:
//! 63 bits of the thread's cryptographic generator (ChaCha, seeded by the system), about a
//! hundred instructions each where four SipHashes cost four hundred. Two tags are equal
//! with probability 2^-63, and a tag only has to differ from the few its receiver waits
//! on.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

/// A source of unique, unguessable numbers in `1..=max`.
#[derive(Debug)]
pub(crate) struct Unguessable {
    key: RandomState,
    counter: AtomicU64,
    max: u64,
}

impl Unguessable {
    /// Numbers in `1..=max`; `max` is at least `2^63 - 1`, so skipping the numbers outside
    /// takes at most two tries on average.
    pub(crate) fn new(max: u64) -> Self {
        debug_assert!(max >= i64::MAX as u64);
        Self {
            key: RandomState::new(),
            counter: AtomicU64::new(0),
            max,
        }
    }

    /// A number no other call on this source returns.
    pub(crate) fn next(&self) -> u64 {
        loop {
            let count = self.counter.fetch_add(1, Ordering::Relaxed);
            let number = self.permute(count);
            if (1..=self.max).contains(&number) {
                return number;
            }
        }
    }

    /// The keyed permutation: distinct counts give distinct numbers.
    fn permute(&self, count: u64) -> u64 {
        let (mut left, mut right) = ((count >> 32) as u32, count as u32);
        for round in 0u32..4 {
            let mixed = self.key.hash_one((round, right)) as u32;
            (left, right) = (right, left ^ mixed);
        }
        (u64::from(left) << 32) | u64::from(right)
    }
}

/// A positive, unguessable tag (see the module's docs).
pub(crate) fn random_tag() -> i64 {
    use rand::Rng as _;
    let bits = rand::rng().next_u64() >> 1;
    // Never 0, the tag of plain sends.
    bits.max(1) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn numbers_are_unique_in_range_and_not_sequential() {
        let ids = Unguessable::new(i64::MAX as u64);
        let numbers: Vec<u64> = (0..100_000).map(|_| ids.next()).collect();
        assert!(numbers.iter().all(|&n| (1..=i64::MAX as u64).contains(&n)));
        assert_eq!(numbers.iter().collect::<HashSet<_>>().len(), numbers.len());
        // Neighbours differ in about half their bits, not by one.
        let close = numbers
            .windows(2)
            .filter(|pair| (pair[0] ^ pair[1]).count_ones() < 16)
            .count();
        assert!(close < 10, "{close} neighbours share most bits");
    }

    #[test]
    fn tags_are_positive_and_spread() {
        let tags: HashSet<i64> = (0..10_000).map(|_| random_tag()).collect();
        assert_eq!(tags.len(), 10_000);
        assert!(tags.iter().all(|&tag| tag > 0));
    }

    #[test]
    fn two_sources_give_different_numbers() {
        let (a, b) = (Unguessable::new(u64::MAX), Unguessable::new(u64::MAX));
        let first: HashSet<u64> = (0..1000).map(|_| a.next()).collect();
        assert!((0..1000).all(|_| !first.contains(&b.next())));
    }

    #[test]
    fn the_permutation_is_a_bijection_on_a_sample() {
        let source = Unguessable::new(u64::MAX);
        let images: HashSet<u64> = (0..1u64 << 16)
            .map(|n| source.permute(n.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        assert_eq!(images.len(), 1 << 16);
    }
}
