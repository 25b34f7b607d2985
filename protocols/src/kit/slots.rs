//! A map from log positions (slots, indices) to values, dense where a log is: a vector indexed
//! by the position.
//!
//! A replicated log's positions are small consecutive integers that only grow, and its
//! hot operations — record the value at the next position, look up the one after the last
//! applied — are a search and a node split in a `BTreeMap` (hundreds of instructions once a
//! log holds thousands of entries) but an index in a vector. [`SlotMap`] keeps the part of a
//! `BTreeMap<u64, V>`'s interface the protocols use, with the same answers and the same
//! (ascending) iteration order, so swapping one for the other changes no run. Nothing is ever
//! removed from it, as nothing is from the logs it holds; a position costs one `Option<V>`
//! whether or not it holds a value, so it is for positions a protocol allocates one after
//! another (each bounded by the protocol's own limit on a log's length).

use std::ops::RangeFrom;

/// Values by position, ascending; see the module comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotMap<V> {
    /// `slots[p]` is the value at position `p`, if any.
    slots: Vec<Option<V>>,
    /// How many positions hold a value.
    len: usize,
}

impl<V> Default for SlotMap<V> {
    fn default() -> Self {
        SlotMap {
            slots: Vec::new(),
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
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        let old = self.slots[i].replace(value);
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Makes room for positions up to `slot` without moving the values again as they are
    /// inserted (for a map rebuilt from a log whose last position is known).
    pub fn reserve_to(&mut self, slot: u64) {
        let want = usize::try_from(slot).expect("a slot fits in memory") + 1;
        self.slots.reserve(want.saturating_sub(self.slots.len()));
    }

    pub fn get(&self, slot: &u64) -> Option<&V> {
        let i = usize::try_from(*slot).ok()?;
        self.slots.get(i)?.as_ref()
    }

    pub fn get_mut(&mut self, slot: &u64) -> Option<&mut V> {
        let i = usize::try_from(*slot).ok()?;
        self.slots.get_mut(i)?.as_mut()
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

    /// The highest position holding a value.
    pub fn last_key(&self) -> Option<u64> {
        // Nothing is removed and the vector only grows to hold an inserted value, so its last
        // position holds one.
        self.slots.len().checked_sub(1).map(|i| i as u64)
    }

    /// Every (position, value) from `range.start` on, ascending.
    pub fn range(&self, range: RangeFrom<u64>) -> impl Iterator<Item = (u64, &V)> {
        let start = usize::try_from(range.start).unwrap_or(usize::MAX);
        self.slots
            .iter()
            .enumerate()
            .skip(start)
            .filter_map(|(i, v)| v.as_ref().map(|v| (i as u64, v)))
    }

    /// Every (position, value), ascending, taken out of the map.
    pub fn into_entries(self) -> Vec<(u64, V)> {
        let values = self.slots.into_iter().enumerate();
        values
            .filter_map(|(i, v)| v.map(|v| (i as u64, v)))
            .collect()
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
        for step in 0..2000u64 {
            let slot = rng.range_inclusive(0, 300);
            assert_eq!(dense.insert(slot, step), tree.insert(slot, step));
            let probe = rng.range_inclusive(0, 320);
            assert_eq!(dense.get(&probe), tree.get(&probe));
            assert_eq!(dense.get_mut(&probe), tree.get_mut(&probe));
            assert_eq!(dense.contains_key(&probe), tree.contains_key(&probe));
            assert_eq!(dense.len(), tree.len());
            assert_eq!(dense.last_key(), tree.keys().next_back().copied());
            let from = rng.range_inclusive(0, 320);
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
