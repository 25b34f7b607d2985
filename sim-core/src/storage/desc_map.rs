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

impl<K, V> DescMap<K, V> {
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.map.iter().rev().map(|(k, v)| (&k.0, v))
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
    /// The largest key.
    pub(crate) fn last_key(&self) -> Option<&K> {
        self.map.first_key_value().map(|(k, _)| &k.0)
    }
    /// Every entry, in key order, by value.
    pub(crate) fn into_entries(self) -> impl Iterator<Item = (K, V)> {
        self.map.into_iter().rev().map(|(k, v)| (k.0, v))
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
    use super::*;

    crate::storage::map_tests::agrees_with_btreemap!(DescMap, 0x646d);
}
