//! A node's storage image: an ordered map kept in a `BTreeMap` in *descending* key order,
//! with the same answers and the same (ascending) iteration order as a plain `BTreeMap`.
//!
//! A protocol's durable records mostly arrive in key order — the next log index, the next
//! slot — so most writes go past every key held. A `BTreeMap` searches each node on its path
//! linearly from the smallest key, so such a key is compared with every key of every node on
//! the way down (about forty comparisons in an image of a few thousand records: 9–13% of a
//! Paxos or two-phase-commit sweep). Stored in descending order, the same key is the
//! smallest: one comparison per level. Writes elsewhere cost what they cost before, mirrored.
//! A lookup builds the reversed key from a clone of the key (the storage keys are small).
//!
//! (A run of short sorted vectors with an append fast path was also tried: fewer instructions
//! for Raft and Paxos, but more for two-phase commit, whose records are written in several
//! interleaved runs — see `docs/performance.md`.)

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Bound, RangeBounds};

/// A key in reversed order.
#[derive(Clone, PartialEq, Eq)]
struct Desc<K>(K);

impl<K: Ord> PartialOrd for Desc<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<K: Ord> Ord for Desc<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.cmp(&self.0)
    }
}

/// An ordered map whose tree is kept in descending key order (see the module comment).
#[derive(Clone)]
pub(crate) struct DescMap<K, V> {
    map: BTreeMap<Desc<K>, V>,
}

impl<K, V> Default for DescMap<K, V> {
    fn default() -> Self {
        DescMap {
            map: BTreeMap::new(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for DescMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.map.iter().rev().map(|(k, v)| (&k.0, v)))
            .finish()
    }
}

impl<K: Ord + Clone, V> DescMap<K, V> {
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.map.get(&Desc(key.clone()))
    }
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.map.insert(Desc(key), value)
    }
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(&Desc(key.clone()))
    }
    /// Removes and returns every entry with a key `>= from`.
    pub(crate) fn split_off(&mut self, from: &K) -> DescMap<K, V> {
        let from = Desc(from.clone());
        // `split_off` keeps the keys above `from` in descending order (below it in key order).
        let below = self.map.split_off(&from);
        let mut tail = std::mem::replace(&mut self.map, below);
        if let Some(v) = self.map.remove(&from) {
            tail.insert(from, v);
        }
        DescMap { map: tail }
    }
    /// Moves every entry of `other` into this map (its values win on equal keys).
    pub(crate) fn append(&mut self, other: &mut DescMap<K, V>) {
        self.map.append(&mut other.map);
    }
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.map.iter().rev().map(|(k, v)| (&k.0, v))
    }
    pub(crate) fn keys(&self) -> impl DoubleEndedIterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }
    pub(crate) fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
    /// The entries with keys in `range`, in ascending key order (none when the range is
    /// empty or inverted, where a `BTreeMap` would panic).
    pub(crate) fn range<R: RangeBounds<K>>(
        &self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        let flip = |b: Bound<&K>| match b {
            Bound::Included(k) => Bound::Included(Desc(k.clone())),
            Bound::Excluded(k) => Bound::Excluded(Desc(k.clone())),
            Bound::Unbounded => Bound::Unbounded,
        };
        let (lo, hi) = (flip(range.end_bound()), flip(range.start_bound()));
        let empty = match (&lo, &hi) {
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
                a > b || (a == b && !matches!((&lo, &hi), (Bound::Included(_), Bound::Included(_))))
            }
            _ => false,
        };
        let r = if empty {
            None
        } else {
            Some(self.map.range((lo, hi)))
        };
        r.into_iter().flatten().rev().map(|(k, v)| (&k.0, v))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::ops::Bound::{self, Excluded, Included, Unbounded};

    use super::*;
    use crate::rng::{SimRng, StreamLabel};

    fn same(m: &DescMap<u32, u32>, r: &BTreeMap<u32, u32>) {
        assert_eq!(m.len(), r.len());
        assert_eq!(m.is_empty(), r.is_empty());
        assert!(m.iter().eq(r.iter()));
        assert!(m.iter().rev().eq(r.iter().rev()));
        assert!(m.keys().eq(r.keys()));
        assert!(m.values().eq(r.values()));
        assert_eq!(format!("{m:?}"), format!("{r:?}"));
    }

    fn bound(rng: &mut SimRng, span: u64) -> Bound<u32> {
        let k = rng.below(span) as u32;
        match rng.below(3) {
            0 => Included(k),
            1 => Excluded(k),
            _ => Unbounded,
        }
    }

    /// Random inserts (mostly ascending, as logs are written, or anywhere), removals,
    /// truncations and re-appends, compared with a `BTreeMap` after every step, with random
    /// lookups and ranges (both directions, and the ranges a `BTreeMap` refuses).
    #[test]
    fn agrees_with_btreemap_on_random_operations() {
        for seed in 0..40 {
            let mut rng = SimRng::new(seed, StreamLabel::Custom(0x646d));
            let span = [8, 64, 400, 3000][seed as usize % 4];
            let (mut m, mut r) = (DescMap::default(), BTreeMap::new());
            let mut next = 0u32;
            for step in 0..2000u32 {
                match rng.below(12) {
                    0..=4 => {
                        next = (next + 1).min(span as u32 - 1);
                        assert_eq!(m.insert(next, step), r.insert(next, step));
                    }
                    5..=7 => {
                        let k = rng.below(span) as u32;
                        assert_eq!(m.insert(k, step), r.insert(k, step));
                    }
                    8 | 9 => {
                        let k = rng.below(span) as u32;
                        assert_eq!(m.remove(&k), r.remove(&k));
                    }
                    10 => {
                        let k = rng.below(span) as u32;
                        let (mut mt, mut rt) = (m.split_off(&k), r.split_off(&k));
                        same(&m, &r);
                        same(&mt, &rt);
                        if rng.below(2) == 0 {
                            // Put back (as a crash's undo does), or merge overlapping.
                            if rng.below(2) == 0 {
                                m.insert(k, step);
                                r.insert(k, step);
                            }
                            m.append(&mut mt);
                            r.append(&mut rt);
                            assert!(mt.is_empty());
                        }
                        next = r.keys().next_back().copied().unwrap_or(0);
                    }
                    _ => {
                        let (lo, hi) = (bound(&mut rng, span), bound(&mut rng, span));
                        let refused = match (lo, hi) {
                            (Included(a) | Excluded(a), Included(b) | Excluded(b)) => {
                                a > b || (a == b && matches!((lo, hi), (Excluded(_), Excluded(_))))
                            }
                            _ => false,
                        };
                        if refused {
                            assert_eq!(m.range((lo, hi)).count(), 0, "{lo:?}..{hi:?}");
                        } else {
                            assert!(m.range((lo, hi)).eq(r.range((lo, hi))));
                            assert!(m.range((lo, hi)).rev().eq(r.range((lo, hi)).rev()));
                        }
                    }
                }
                let k = rng.below(span) as u32;
                assert_eq!(m.get(&k), r.get(&k));
                same(&m, &r);
            }
        }
    }
}
