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
//! SipHash-1-3 keyed per VM (Luby-Rackoff: four rounds of a pseudo-random function give a
//! strong pseudo-random permutation). SipHash is written out here for its one input, a
//! single 64-bit word: std's keyed hasher, through its general `Hasher` interface, did
//! twice the work at every spawn (docs/performance.md). A guess hits one of `n` live ids
//! with probability `n / 2^64`: with a million processes alive, one in 2^44 tries, far
//! beyond any fuel budget.
//!
//! Tags are made far more often (one a request), so they come from [`random_tag`] instead:
//! 63 bits of the thread's cryptographic generator (ChaCha, seeded by the system), about a
//! hundred instructions each. Two tags are equal with probability 2^-63, and a tag only
//! has to differ from the few its receiver waits on.

use std::sync::atomic::{AtomicU64, Ordering};

/// A source of unique, unguessable numbers in `1..=max`.
pub(crate) struct Unguessable {
    key: SipKey,
    counter: AtomicU64,
    max: u64,
}

impl Unguessable {
    /// Numbers in `1..=max`; `max` is at least `2^63 - 1`, so skipping the numbers outside
    /// takes at most two tries on average.
    pub(crate) fn new(max: u64) -> Self {
        debug_assert!(max >= i64::MAX as u64);
        Self {
            key: SipKey::random(),
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
            let mixed = self.key.sip13((u64::from(round) << 32) | u64::from(right)) as u32;
            (left, right) = (right, left ^ mixed);
        }
        (u64::from(left) << 32) | u64::from(right)
    }
}

impl std::fmt::Debug for Unguessable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("Unguessable")
            .field("counter", &self.counter)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

/// A SipHash key: its 128 bits, as the hash's four starting words.
struct SipKey([u64; 4]);

impl SipKey {
    /// A key from the thread's cryptographic generator (ChaCha, seeded by the system).
    fn random() -> Self {
        use rand::Rng as _;
        let mut rng = rand::rng();
        Self::new(rng.next_u64(), rng.next_u64())
    }

    fn new(k0: u64, k1: u64) -> Self {
        Self([
            k0 ^ 0x736f_6d65_7073_6575,
            k1 ^ 0x646f_7261_6e64_6f6d,
            k0 ^ 0x6c79_6765_6e65_7261,
            k1 ^ 0x7465_6462_7974_6573,
        ])
    }

    /// SipHash-1-3 of the 8 bytes of `word` (little-endian).
    fn sip13(&self, word: u64) -> u64 {
        self.sip::<1, 3>(word)
    }

    /// SipHash-`C`-`D` of the 8 bytes of `word`: one message block, then the block that
    /// holds only the length (8).
    #[inline]
    fn sip<const C: usize, const D: usize>(&self, word: u64) -> u64 {
        let mut v = self.0;
        for block in [word, 8 << 56] {
            v[3] ^= block;
            for _ in 0..C {
                sip_round(&mut v);
            }
            v[0] ^= block;
        }
        v[2] ^= 0xff;
        for _ in 0..D {
            sip_round(&mut v);
        }
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }
}

#[inline(always)]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
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
    fn sip_hash_matches_the_reference() {
        // SipHash-2-4 against std's (the reference rounds); production uses the same code
        // with 1 and 3 rounds.
        #[allow(deprecated)]
        let reference = |k0, k1, word: u64| {
            use std::hash::Hasher as _;
            let mut hasher = std::hash::SipHasher::new_with_keys(k0, k1);
            hasher.write(&word.to_le_bytes());
            hasher.finish()
        };
        for (k0, k1, word) in [
            (0, 0, 0),
            (
                0x0706_0504_0302_0100,
                0x0f0e_0d0c_0b0a_0908,
                0x0706_0504_0302_0100,
            ),
            (u64::MAX, 1, 0xdead_beef),
            (12345, u64::MAX - 7, u64::MAX),
        ] {
            assert_eq!(
                SipKey::new(k0, k1).sip::<2, 4>(word),
                reference(k0, k1, word)
            );
        }
        // The reference paper's vector for the 8-byte input 00..07 under key 00..0f.
        assert_eq!(
            SipKey::new(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908)
                .sip::<2, 4>(0x0706_0504_0302_0100),
            0x93f5_f579_9a93_2462
        );
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
