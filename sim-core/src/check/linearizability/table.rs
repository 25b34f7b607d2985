//! The search's memo: a set of (linearized-operations bitset, model state) pairs.
//!
//! The Wing–Gong/Lowe search revisits the same configuration through many orders of the same
//! operations; remembering every configuration already explored is what makes it practical.
//! This is a hand-rolled open-addressing hash set (linear probing, power-of-two capacity) over a
//! flat arena of fixed-width bitsets, keyed by a caller-supplied 64-bit hash (the search keeps
//! an incremental Zobrist hash of its bitset). It is deterministic — no random seeds, no
//! iteration — and it accounts for its own memory so the search can stop at a budget instead of
//! exhausting the machine.

/// Initial number of slots (a power of two).
const SLOTS_INITIAL: usize = 1 << 8;
/// Grow when entries exceed this fraction of the slots (numerator / 4).
const LOAD_QUARTERS_MAX: usize = 3;

/// One open-addressing slot. Keeping the full hash and the state next to the entry index means
/// a probe touches one cache line, and the bitset only when the hash and state already match.
#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    /// 0 when empty, otherwise the entry index + 1.
    entry: u32,
    state: u32,
}

pub(super) struct MemoTable {
    /// Bitset width in 64-bit words.
    words: usize,
    slots: Vec<Slot>,
    /// Bitsets of the entries, `words` words each.
    bits: Vec<u64>,
    len: usize,
}

/// The outcome of [`MemoTable::insert`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Insert {
    /// The configuration was new and is now remembered.
    New,
    /// The configuration had been seen before.
    Seen,
    /// Remembering it would exceed the memory limit; nothing changed.
    Full,
}

impl MemoTable {
    pub(super) fn new(words: usize) -> MemoTable {
        assert!(words >= 1);
        MemoTable {
            words,
            slots: vec![Slot::default(); SLOTS_INITIAL],
            bits: Vec::new(),
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held by the table's vectors (capacity, not length: what the allocator gave us).
    pub(super) fn bytes(&self) -> u64 {
        (self.slots.capacity() * std::mem::size_of::<Slot>() + self.bits.capacity() * 8) as u64
    }

    /// Bytes the table would hold after one more insertion.
    fn bytes_after_insert(&self) -> u64 {
        let mut bytes = self.bytes();
        if (self.len + 1) * 4 > self.slots.len() * LOAD_QUARTERS_MAX {
            // Growing: the old slots are freed only after the new ones are allocated.
            bytes += (self.slots.len() * 2 * std::mem::size_of::<Slot>()) as u64;
        }
        if self.bits.len() + self.words > self.bits.capacity() {
            bytes += ((bits_next_capacity(self.bits.capacity(), self.words) - self.bits.capacity())
                * 8) as u64;
        }
        bytes
    }

    /// Remembers `(bits, state)` unless it is already there or `bytes_max` would be exceeded.
    /// `hash` must be a function of both.
    #[inline]
    pub(super) fn insert(&mut self, hash: u64, bits: &[u64], state: u32, bytes_max: u64) -> Insert {
        debug_assert_eq!(bits.len(), self.words);
        let mask = self.slots.len() - 1;
        let mut i = (mix(hash) as usize) & mask;
        loop {
            let slot = self.slots[i];
            if slot.entry == 0 {
                break;
            }
            if slot.hash == hash && slot.state == state {
                let e = (slot.entry - 1) as usize;
                let stored = &self.bits[e * self.words..(e + 1) * self.words];
                if stored.iter().zip(bits).all(|(a, b)| a == b) {
                    return Insert::Seen;
                }
            }
            i = (i + 1) & mask;
        }
        if self.bytes_after_insert() > bytes_max {
            return Insert::Full;
        }
        let e = self.len;
        assert!(e < u32::MAX as usize - 1, "memo table index overflow");
        if self.bits.len() + self.words > self.bits.capacity() {
            let capacity = bits_next_capacity(self.bits.capacity(), self.words);
            self.bits.reserve_exact(capacity - self.bits.len());
        }
        self.bits.extend_from_slice(bits);
        self.slots[i] = Slot {
            hash,
            entry: e as u32 + 1,
            state,
        };
        self.len += 1;
        if self.len * 4 > self.slots.len() * LOAD_QUARTERS_MAX {
            self.grow();
        }
        Insert::New
    }

    fn grow(&mut self) {
        let slot_count = self.slots.len() * 2;
        let mask = slot_count - 1;
        let mut slots = vec![Slot::default(); slot_count];
        for slot in self.slots.iter().filter(|s| s.entry != 0) {
            let mut i = (mix(slot.hash) as usize) & mask;
            while slots[i].entry != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = *slot;
        }
        self.slots = slots;
    }
}

/// The bitset arena's capacity after `capacity` words are used up: doubling, from 64 entries.
fn bits_next_capacity(capacity: usize, words: usize) -> usize {
    (capacity * 2).max(64 * words)
}

/// A 64-bit finalizer (MurmurHash3's fmix64): spreads Zobrist hashes over the slot bits.
#[inline]
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// SplitMix64: deterministic pseudo-random 64-bit values (Zobrist keys for operations).
pub(super) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_finds_duplicates_and_grows() {
        let mut t = MemoTable::new(2);
        for i in 0..5000u64 {
            let bits = [i, i * 7];
            assert_eq!(
                t.insert(splitmix64(i), &bits, (i % 3) as u32, u64::MAX),
                Insert::New
            );
        }
        for i in 0..5000u64 {
            let bits = [i, i * 7];
            assert_eq!(
                t.insert(splitmix64(i), &bits, (i % 3) as u32, u64::MAX),
                Insert::Seen
            );
            // Same bits, different state: a different configuration (even with the same hash).
            assert_eq!(t.insert(splitmix64(i), &bits, 7, u64::MAX), Insert::New);
            // Same hash and state, different bits: also different.
            assert_eq!(
                t.insert(splitmix64(i), &[i, i * 7 + 1], 7, u64::MAX),
                Insert::New
            );
        }
        assert_eq!(t.len(), 15_000);
    }

    #[test]
    fn insert_respects_the_memory_limit() {
        let mut t = MemoTable::new(1);
        let limit = t.bytes() + 64;
        let mut full = false;
        for i in 0..1000u64 {
            match t.insert(splitmix64(i), &[i], 0, limit) {
                Insert::New => assert!(t.bytes() <= limit),
                Insert::Full => {
                    full = true;
                    break;
                }
                Insert::Seen => unreachable!(),
            }
        }
        assert!(full);
    }
}
