//! Per-node durable storage with explicit sync, as a disk behind a page cache.
//!
//! A node reads and writes a typed key-value store. Writes are visible to the node at once but
//! are only durable after `sync`; a crash discards every write made since the last sync, and a
//! restarted node finds exactly what was synced. This is the model under which protocols must
//! "persist before replying" — forgetting a sync is a bug the simulator can catch.

use std::collections::BTreeMap;
use std::ops::RangeBounds;

#[derive(Clone, Debug)]
enum PendingOp<K, V> {
    Put(K, V),
    Remove(K),
    RemoveFrom(K),
}

/// One node's store: a durable image plus the unsynced operations on top of it.
#[derive(Clone, Debug)]
pub struct Storage<K: Ord + Clone, V: Clone> {
    /// What survives a crash.
    durable: BTreeMap<K, V>,
    /// What the node sees: `durable` with `pending` applied.
    current: BTreeMap<K, V>,
    pending: Vec<PendingOp<K, V>>,
    syncs: u64,
}

impl<K: Ord + Clone, V: Clone> Default for Storage<K, V> {
    fn default() -> Self {
        Storage {
            durable: BTreeMap::new(),
            current: BTreeMap::new(),
            pending: Vec::new(),
            syncs: 0,
        }
    }
}

impl<K: Ord + Clone, V: Clone> Storage<K, V> {
    pub fn get(&self, key: &K) -> Option<&V> {
        self.current.get(key)
    }

    pub fn put(&mut self, key: K, value: V) {
        self.current.insert(key.clone(), value.clone());
        self.pending.push(PendingOp::Put(key, value));
    }

    pub fn remove(&mut self, key: &K) {
        self.current.remove(key);
        self.pending.push(PendingOp::Remove(key.clone()));
    }

    /// Removes every key `>= from` (log truncation).
    pub fn remove_from(&mut self, from: &K) {
        let _ = self.current.split_off(from);
        self.pending.push(PendingOp::RemoveFrom(from.clone()));
    }

    /// The visible entries in `range`, in key order.
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.current.range(range)
    }

    /// A copy of every visible entry, in key order: what a recovering process reads while it
    /// rebuilds itself (the copy lets it mutate its own state while iterating).
    pub fn entries(&self) -> Vec<(K, V)> {
        self.current
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.current.len()
    }

    pub fn is_empty(&self) -> bool {
        self.current.is_empty()
    }

    /// Number of writes not yet synced.
    pub fn unsynced_count(&self) -> usize {
        self.pending.len()
    }

    /// Makes every write so far durable. Returns how many operations it flushed.
    pub fn sync(&mut self) -> usize {
        let n = self.pending.len();
        for op in self.pending.drain(..) {
            match op {
                PendingOp::Put(k, v) => {
                    self.durable.insert(k, v);
                }
                PendingOp::Remove(k) => {
                    self.durable.remove(&k);
                }
                PendingOp::RemoveFrom(k) => {
                    let _ = self.durable.split_off(&k);
                }
            }
        }
        self.syncs += 1;
        n
    }

    /// A crash: unsynced writes are lost. Returns how many were lost.
    pub fn crash(&mut self) -> usize {
        let lost = self.pending.len();
        if lost > 0 {
            self.pending.clear();
            self.current = self.durable.clone();
        }
        lost
    }

    /// The durable image (what a restart would see), for tests and checkers.
    pub fn durable(&self) -> &BTreeMap<K, V> {
        &self.durable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_loses_exactly_the_unsynced_writes() {
        let mut s: Storage<u32, &str> = Storage::default();
        s.put(1, "a");
        s.put(2, "b");
        assert_eq!(s.sync(), 2);
        s.put(2, "B");
        s.put(3, "c");
        s.remove(&1);
        assert_eq!(s.get(&2), Some(&"B"));
        assert_eq!(s.get(&1), None);
        assert_eq!(s.crash(), 3);
        assert_eq!(s.get(&1), Some(&"a"));
        assert_eq!(s.get(&2), Some(&"b"));
        assert_eq!(s.get(&3), None);
    }

    #[test]
    fn truncation_is_durable_only_after_sync() {
        let mut s: Storage<u32, u32> = Storage::default();
        for i in 0..10 {
            s.put(i, i);
        }
        s.sync();
        s.remove_from(&5);
        assert_eq!(s.len(), 5);
        s.crash();
        assert_eq!(s.len(), 10);
        s.remove_from(&5);
        s.sync();
        s.crash();
        assert_eq!(
            s.range(..).map(|(k, _)| *k).collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4]
        );
        assert_eq!(s.entries(), (0..5).map(|i| (i, i)).collect::<Vec<_>>());
    }
}
