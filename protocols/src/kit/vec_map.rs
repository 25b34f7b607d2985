//! A small ordered map kept as one vector sorted by key: for tables of a handful of entries
//! that are searched on every message (a coordinator's requests in flight, the answers a
//! request has gathered).
//!
//! A `BTreeMap` of a few entries is one leaf, but every lookup still walks it through the
//! tree's generic search, an insertion into an empty map allocates a leaf of eleven slots and
//! a removal moves the leaf's values about; for values of a hundred bytes or more that is most
//! of a handler's own cost. [`VecMap`] keeps the part of `BTreeMap`'s interface its users need
//! with the same answers and the same (ascending) iteration order, so swapping one for the
//! other changes no run. A key past the last is a push, so a table keyed by an increasing
//! counter never shifts on insertion; other insertions and removals shift the entries after
//! the position, which is cheap only while the map stays small.

/// Values by key, ascending; see the module comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where `key` is (`Ok`) or would go (`Err`); the last position is tried first.
    fn find(&self, key: &K) -> Result<usize, usize> {
        match self.entries.last() {
            None => Err(0),
            Some((last, _)) if *key > *last => Err(self.entries.len()),
            _ => self.entries.binary_search_by(|(k, _)| k.cmp(key)),
        }
    }

    /// Inserts `value` at `key`, returning the value it replaced, as `BTreeMap::insert`.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        match self.find(key) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        match self.find(key) {
            Ok(i) => Some(self.entries.remove(i).1),
            Err(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in ascending key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator + '_ {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The values in ascending key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + '_ {
        self.entries.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use sim_core::rng::{SimRng, StreamLabel};

    /// Random inserts (overwrites and keys past the last included) and removals on a
    /// `VecMap` and a `BTreeMap`: every answer and every iteration agree.
    #[test]
    fn answers_as_a_btreemap_does() {
        let mut rng = SimRng::new(11, StreamLabel::Custom(2));
        let (mut small, mut tree) = (VecMap::new(), BTreeMap::new());
        let mut next = 0u64;
        for step in 0..20_000u64 {
            match rng.below(10) {
                // Mostly an increasing counter, as a coordinator's request ids are.
                0..=3 => {
                    next += rng.range_inclusive(0, 3);
                    assert_eq!(small.insert(next, step), tree.insert(next, step));
                }
                4 | 5 => {
                    let k = rng.range_inclusive(0, next + 2);
                    assert_eq!(small.insert(k, step), tree.insert(k, step));
                }
                _ => {
                    let k = rng.range_inclusive(0, next + 2);
                    assert_eq!(small.remove(&k), tree.remove(&k));
                }
            }
            // Keep it small now and then, as the protocols' tables are.
            if tree.len() > 40 {
                let k = *tree.keys().next().unwrap();
                assert_eq!(small.remove(&k), tree.remove(&k));
            }
            let probe = rng.range_inclusive(0, next + 3);
            assert_eq!(small.get(&probe), tree.get(&probe));
            assert_eq!(small.get_mut(&probe), tree.get_mut(&probe));
            assert_eq!(small.contains_key(&probe), tree.contains_key(&probe));
            assert_eq!(small.len(), tree.len());
            assert_eq!(small.is_empty(), tree.is_empty());
            assert!(small.iter().eq(tree.iter()));
            assert!(small.values().eq(tree.values()));
            assert!(small.iter().rev().eq(tree.iter().rev()));
        }
    }
}
