//! A map from log positions (slots, indices) to values, dense where a log is: fixed-size
//! chunks of a vector indexed by the position.
//!
//! A replicated log's positions are small consecutive integers that only grow, and its
//! hot operations — record the value at the next position, look up the one after the last
//! applied — are a search and a node split in a `BTreeMap` (hundreds of instructions once a
//! log holds thousands of entries) but an index in a vector. [`SlotMap`] keeps the part of a
//! `BTreeMap<u64, V>`'s interface the protocols use, with the same answers and the same
//! (ascending) iteration order, so swapping one for the other changes no run. Nothing is ever
//! removed from it, as nothing is from the logs it holds; a position costs one `Option<V>`
//! whether or not it holds a value, so it is for positions a protocol allocates one after
//! another (each bounded by the protocol's own limit on a log's length). The positions live
//! in chunks of 256 that never move once allocated: a single vector doubling under a log of
//! thousands of entries copied it again at every doubling (2% of a Paxos sweep).

use std::ops::RangeFrom;

/// Positions per chunk: a full chunk is never moved again, so a long log is not copied each
/// time its vector would have doubled.
const CHUNK: usize = 256;

/// Values by position, ascending; see the module comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotMap<V> {
    /// Position `p` is `chunks[p / CHUNK][p % CHUNK]`; every chunk holds `CHUNK` positions.
    chunks: Vec<Box<[Option<V>]>>,
    /// One past the highest position holding a value (0 when empty).
    end: usize,
    /// How many positions hold a value.
    len: usize,
}

impl<V> Default for SlotMap<V> {
    fn default() -> Self {
        SlotMap {
            chunks: Vec::new(),
            end: 0,
            len: 0,
        }
    }
}

impl<V> SlotMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `value` at `slot`; returns the value it replaced, if any.
    pub fn insert(&mut self, slot: u64, value: V) -> Option<V> {
        let i = usize::try_from(slot).expect("a slot fits in memory");
        let c = i / CHUNK;
        while self.chunks.len() <= c {
            self.chunks.push((0..CHUNK).map(|_| None).collect());
        }
        let old = self.chunks[c][i % CHUNK].replace(value);
        if old.is_none() {
            self.len += 1;
        }
        self.end = self.end.max(i + 1);
        old
    }

    /// Makes room for positions up to `slot` at once (for a map rebuilt from a log whose
    /// last position is known): the chunk table is sized once instead of grown.
    pub fn reserve_to(&mut self, slot: u64) {
        let want = usize::try_from(slot).expect("a slot fits in memory") / CHUNK + 1;
        self.chunks.reserve(want.saturating_sub(self.chunks.len()));
    }

    pub fn get(&self, slot: &u64) -> Option<&V> {
        let i = usize::try_from(*slot).ok()?;
        self.chunks.get(i / CHUNK)?[i % CHUNK].as_ref()
    }

    pub fn get_mut(&mut self, slot: &u64) -> Option<&mut V> {
        let i = usize::try_from(*slot).ok()?;
        self.chunks.get_mut(i / CHUNK)?[i % CHUNK].as_mut()
    }

    pub fn contains_key(&self, slot: &u64) -> bool {
        self.get(slot).is_some()
    }

    /// Number of positions holding a value.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The highest position holding a value (nothing is ever removed).
    pub fn last_key(&self) -> Option<u64> {
        self.end.checked_sub(1).map(|i| i as u64)
    }

    /// Every (position, value) from `range.start` on, ascending.
    pub fn range(&self, range: RangeFrom<u64>) -> impl Iterator<Item = (u64, &V)> {
        let start = usize::try_from(range.start).unwrap_or(usize::MAX);
        let first = start / CHUNK;
        self.chunks
            .iter()
            .enumerate()
            .skip(first)
            .flat_map(move |(c, chunk)| {
                // Only the first chunk visited starts part-way.
                let from = if c == first { start % CHUNK } else { 0 };
                chunk[from..].iter().enumerate().filter_map(move |(j, v)| {
                    v.as_ref().map(|v| ((c * CHUNK + from + j) as u64, v))
                })
            })
    }

    /// Every (position, value), ascending, taken out of the map.
    pub fn into_entries(self) -> Vec<(u64, V)> {
        let mut out = Vec::with_capacity(self.len);
        for (c, chunk) in self.chunks.into_iter().enumerate() {
            for (j, v) in chunk.into_vec().into_iter().enumerate() {
                if let Some(v) = v {
                    out.push(((c * CHUNK + j) as u64, v));
                }
            }
        }
        out
    }

    /// Every (position, value), ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> {
        self.range(0..)
    }
}

impl<V> FromIterator<(u64, V)> for SlotMap<V> {
    fn from_iter<I: IntoIterator<Item = (u64, V)>>(iter: I) -> Self {
        let mut m = SlotMap::new();
        for (slot, v) in iter {
            m.insert(slot, v);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use sim_core::rng::{SimRng, StreamLabel};

    /// Random inserts (overwrites included) into a `SlotMap` and a `BTreeMap`: every answer
    /// and every iteration agree.
    #[test]
    fn answers_as_a_btreemap_does() {
        let mut rng = SimRng::new(7, StreamLabel::Custom(1));
        let (mut dense, mut tree) = (SlotMap::new(), BTreeMap::new());
        for step in 0..4000u64 {
            // Across several chunks, and now and then far past the last one.
            let slot = if step % 97 == 0 {
                rng.range_inclusive(0, 5_000)
            } else {
                rng.range_inclusive(0, 700)
            };
            assert_eq!(dense.insert(slot, step), tree.insert(slot, step));
            let probe = rng.range_inclusive(0, 5_200);
            assert_eq!(dense.get(&probe), tree.get(&probe));
            assert_eq!(dense.get_mut(&probe), tree.get_mut(&probe));
            assert_eq!(dense.contains_key(&probe), tree.contains_key(&probe));
            assert_eq!(dense.len(), tree.len());
            assert_eq!(dense.last_key(), tree.keys().next_back().copied());
            let from = rng.range_inclusive(0, 5_200);
            assert!(dense
                .range(from..)
                .eq(tree.range(from..).map(|(k, v)| (*k, v))));
        }
        assert!(dense.iter().eq(tree.iter().map(|(k, v)| (*k, v))));
        assert!(SlotMap::<u8>::new().is_empty());
        assert_eq!(SlotMap::<u8>::new().last_key(), None);
        assert_eq!(dense.range(u64::MAX..).count(), 0);
        // Reserving room changes no answer.
        let before = dense.clone();
        dense.reserve_to(5_000);
        assert_eq!(dense, before);
        assert_eq!(dense.last_key(), tree.keys().next_back().copied());
        assert_eq!(dense.into_entries(), tree.into_iter().collect::<Vec<_>>());
    }
}
