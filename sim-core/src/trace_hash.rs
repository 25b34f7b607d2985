//! The trace hash's fold: how an event's words (its time, then the words `trace::Record`
//! makes) enter the run's 64-bit trace hash.
//!
//! Every word goes through the same step as `StableHasher` — rotate the state, xor the word,
//! multiply by an odd constant — but into one of three independent lanes, chosen by the word's
//! position in its event (the time is position 0, the kind tag 1, …; position `p` goes to lane
//! `p mod 3`). The digest folds the three lanes into one word with the same step and ends with
//! the avalanche of `StableHasher::digest`.
//!
//! Why lanes: one chain of 11 dependent steps per W1 delivery (a deliver and the send it
//! causes) was the engine's floor, about 55 cycles of multiply latency; three lanes cut the
//! longest chain to four steps with the same instructions per word, since the processor runs
//! the lanes side by side.
//!
//! What the hash still guarantees, exactly as the single chain did:
//! - **Any one changed word changes the hash.** Each step is a bijection of the lane state for
//!   a fixed word and of the word for a fixed state (xor, then multiplication by an odd
//!   constant, are both invertible mod 2⁶⁴), so a changed word changes its lane's state and
//!   every later step keeps it different; the final fold is a bijection of each lane given
//!   the other two, and the avalanche is a bijection. So changing any single recorded field of
//!   any one event (time, kind, endpoint, id, payload hash, …) always changes the digest; the
//!   tests check it field by field.
//! - **Order and framing matter.** Each lane is an ordered chain; every event starts its
//!   words at lane 0 with its time, so the same words in other events or at other positions
//!   land in other lanes or at other steps.
//! - **Platform independence.** Words are `u64`; nothing depends on the platform.
//!
//! Changing this file changes every pinned trace hash: regenerate
//! `tests/golden/trace-hashes.txt` in the same commit and say why.

/// The multiplier of every step (the golden ratio's 64-bit odd constant).
pub(crate) const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Lane 0's starting state (`StableHasher`'s) and the other two lanes' (more hex digits of π).
const SEEDS: [u64; LANES] = [
    0x243F_6A88_85A3_08D3,
    0x1319_8A2E_0370_7344,
    0xA409_3822_299F_31D0,
];

/// Number of lanes: a W1 delivery's 11 words then take at most four steps in one lane.
const LANES: usize = 3;

/// One step: rotate, xor the word, multiply. A bijection of `state` for a fixed `word` and of
/// `word` for a fixed `state`.
#[inline(always)]
pub(crate) fn step(state: u64, word: u64) -> u64 {
    (state.rotate_left(23) ^ word).wrapping_mul(K)
}

/// The avalanche that ends a hash, so that close states give unrelated digests (a bijection).
#[inline]
pub(crate) fn avalanche(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The running trace hash: three lanes, see the module comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TraceHash {
    lanes: [u64; LANES],
}

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash { lanes: SEEDS }
    }
}

impl TraceHash {
    /// Folds one event: its time `t` (position 0), then `words` (positions 1, 2, …), each
    /// into lane `position mod 3`. `N` is a constant, so the lane of each word is too.
    #[inline(always)]
    pub(crate) fn event<const N: usize>(&mut self, t: u64, words: [u64; N]) {
        self.lanes[0] = step(self.lanes[0], t);
        for (i, w) in words.into_iter().enumerate() {
            let lane = (i + 1) % LANES;
            self.lanes[lane] = step(self.lanes[lane], w);
        }
    }

    /// The hash of everything folded so far.
    pub(crate) fn digest(&self) -> u64 {
        let [a, b, c] = self.lanes;
        avalanche(step(step(a, b), c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(events: &[(u64, Vec<u64>)]) -> u64 {
        let mut h = TraceHash::default();
        for (t, words) in events {
            match words.as_slice() {
                [a] => h.event(*t, [*a]),
                [a, b] => h.event(*t, [*a, *b]),
                [a, b, c] => h.event(*t, [*a, *b, *c]),
                [a, b, c, d] => h.event(*t, [*a, *b, *c, *d]),
                [a, b, c, d, e] => h.event(*t, [*a, *b, *c, *d, *e]),
                _ => unreachable!("events have one to five words"),
            }
        }
        h.digest()
    }

    /// A W1-like stream (deliver then send) and a stream with every event length.
    fn streams() -> Vec<Vec<(u64, Vec<u64>)>> {
        let w1 = (0..40u64)
            .flat_map(|i| {
                let t = 3_000_000 * i;
                [
                    (t, vec![2, i % 2, 1 - i % 2, i]),
                    (t, vec![1, 1 - i % 2, i % 2, i + 1, 77]),
                ]
            })
            .collect();
        let mixed = (0..30u64)
            .map(|i| (i * 1_000, (0..=(i % 5)).map(|j| i * 10 + j).collect()))
            .collect();
        vec![w1, mixed]
    }

    /// Changing any one word of any one event — its time or any field — changes the digest,
    /// whether the change is one bit (low, middle or top) or a whole new value.
    #[test]
    fn every_single_field_change_changes_the_hash() {
        for events in streams() {
            let base = digest_of(&events);
            for e in 0..events.len() {
                for pos in 0..=events[e].1.len() {
                    for flip in [1u64, 1 << 31, 1 << 32, 1 << 63, u64::MAX, 0x5555] {
                        let mut changed = events.clone();
                        match pos {
                            0 => changed[e].0 ^= flip,
                            p => changed[e].1[p - 1] ^= flip,
                        }
                        assert_ne!(digest_of(&changed), base, "event {e}, position {pos}");
                    }
                }
            }
        }
    }

    /// Two events swapped, an event dropped, or a word moved between events change the hash.
    #[test]
    fn order_and_framing_matter() {
        for events in streams() {
            let base = digest_of(&events);
            for e in 0..events.len() - 1 {
                let mut swapped = events.clone();
                swapped.swap(e, e + 1);
                if swapped != events {
                    assert_ne!(digest_of(&swapped), base, "swap at {e}");
                }
                let mut dropped = events.clone();
                dropped.remove(e);
                assert_ne!(digest_of(&dropped), base, "drop at {e}");
            }
        }
        // The same words, split into events differently.
        let a = digest_of(&[(1, vec![2, 3]), (4, vec![5])]);
        let b = digest_of(&[(1, vec![2]), (3, vec![4, 5])]);
        assert_ne!(a, b);
    }

    /// Pairs of top-bit flips — the change a sum of per-word products would miss — are seen.
    #[test]
    fn paired_top_bit_flips_change_the_hash() {
        let events = &streams()[0];
        let base = digest_of(events);
        for e in 0..4 {
            for p in 0..5 {
                for q in p + 1..=events[e].1.len() {
                    let mut c = events.clone();
                    for pos in [p, q] {
                        match pos {
                            0 => c[e].0 ^= 1 << 63,
                            p => c[e].1[p - 1] ^= 1 << 63,
                        }
                    }
                    assert_ne!(digest_of(&c), base, "event {e}, positions {p} and {q}");
                }
            }
        }
    }

    /// The fold is pinned: an accidental change to it changes every run's hash.
    #[test]
    fn digest_is_pinned() {
        let h = digest_of(&streams()[0]);
        assert_eq!(h, digest_of(&streams()[0]));
        assert_eq!(h, PINNED);
    }
    const PINNED: u64 = 6_701_662_988_248_105_297;
}
