//! A map keyed by log index for the checks: a vector for the indices a run can reach, a
//! `BTreeMap` beyond them. The checks look up an index for every observation; a vector slot
//! costs a bounds check where a tree costs a search. A correct run appends each index it
//! reaches, and each append is an observation, so the vector is sized by the observations;
//! a broken protocol's wild index lands in the tree instead of growing the vector.

use std::collections::BTreeMap;

pub(super) struct ByIndex<T> {
    dense: Vec<Option<T>>,
    /// Indices at or above `dense_max`.
    sparse: BTreeMap<u64, T>,
    dense_max: u64,
    len: usize,
}

impl<T> ByIndex<T> {
    /// A map whose vector covers the indices below `dense_max`.
    pub(super) fn new(dense_max: usize) -> ByIndex<T> {
        ByIndex {
            dense: Vec::new(),
            sparse: BTreeMap::new(),
            dense_max: dense_max as u64,
            len: 0,
        }
    }

    pub(super) fn get(&self, index: u64) -> Option<&T> {
        if index < self.dense_max {
            self.dense.get(index as usize).and_then(Option::as_ref)
        } else {
            self.sparse.get(&index)
        }
    }

    /// Stores `value` under `index` if the index holds nothing yet.
    pub(super) fn insert_new(&mut self, index: u64, value: T) {
        if index < self.dense_max {
            let i = index as usize;
            if self.dense.len() <= i {
                self.dense.resize_with(i + 1, || None);
            }
            if self.dense[i].is_none() {
                self.dense[i] = Some(value);
                self.len += 1;
            }
        } else if let std::collections::btree_map::Entry::Vacant(e) = self.sparse.entry(index) {
            e.insert(value);
            self.len += 1;
        }
    }

    /// How many indices hold a value.
    pub(super) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_indices_behave_as_one_map() {
        let mut m: ByIndex<&str> = ByIndex::new(4);
        m.insert_new(2, "two");
        m.insert_new(2, "again");
        m.insert_new(1 << 60, "far");
        m.insert_new(4, "four");
        assert_eq!(m.get(2), Some(&"two"), "the first value stays");
        assert_eq!(m.get(1 << 60), Some(&"far"));
        assert_eq!(m.get(4), Some(&"four"));
        assert_eq!((m.get(0), m.get(3), m.get(5)), (None, None, None));
        assert_eq!(m.len(), 3);
        assert!(m.dense.len() <= 4, "a wild index does not grow the vector");
    }
}
