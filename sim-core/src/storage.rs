//! Per-node durable storage with explicit sync, as a disk behind a page cache — a disk that
//! can take time and can lie.
//!
//! A node reads and writes a typed key-value store. Writes are visible to the node at once but
//! are only durable after `sync`; a crash discards every write not yet durable, and a
//! restarted node finds exactly what is on its disk. This is the model under which protocols
//! must "persist before replying" — forgetting a sync is a bug the simulator can catch.
//!
//! **Timing.** A sync may take time (the engine samples the node's disk model): the writes it
//! covers form an in-flight batch that becomes durable at the sync's completion. A crash before
//! then loses it. Without a disk model every sync completes at once.
//!
//! **Damage.** The engine's storage faults damage records on the disk image (see
//! `Fault::{TornWrite, Corrupt, Misdirect, LoseSync}` in `config.rs`). Damage never loses a
//! record's key — its identity, as protocols keep it redundantly (a log entry's index and
//! term) — only its value: the checksummed API ([`Storage::read`], [`Storage::scan`]) reports
//! it as [`Read::Damaged`], and the plain API ([`Storage::get`], [`Storage::range`],
//! [`Storage::entries`]) skips it, as a failed read. A damaged record heals when it is written
//! again (durably once synced) or removed. A running node reads from its page cache: damage on
//! the disk shows when the node next reads its disk, after a restart.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Debug;
use std::ops::RangeBounds;

use crate::config::Survive;
use crate::rng::{SimRng, StreamLabel};
use crate::time::SimTime;

#[derive(Clone, Debug)]
enum Op<K, V> {
    Put(K, V),
    Remove(K),
    RemoveFrom(K),
}

impl<K: Ord + Clone, V: Clone> Op<K, V> {
    /// Applies the operation to an image and its set of damaged keys.
    fn apply(self, image: &mut BTreeMap<K, V>, bad: &mut BTreeSet<K>) {
        match self {
            Op::Put(k, v) => {
                bad.remove(&k);
                image.insert(k, v);
            }
            Op::Remove(k) => {
                bad.remove(&k);
                image.remove(&k);
            }
            Op::RemoveFrom(k) => {
                let _ = image.split_off(&k);
                let _ = bad.split_off(&k);
            }
        }
    }
}

/// Writes covered by a sync that has not completed yet, and the damage they will do.
#[derive(Clone, Debug)]
struct Batch<K, V> {
    done: SimTime,
    ops: Vec<Op<K, V>>,
    /// Keys damaged once the batch lands (a lying sync, a misdirected write).
    damage: Vec<K>,
}

/// A record read back through the checksummed API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read<V> {
    /// The record as written.
    Intact(V),
    /// The record's checksum fails: its key is known, its value is not.
    Damaged,
}

impl<V> Read<V> {
    pub fn intact(self) -> Option<V> {
        match self {
            Read::Intact(v) => Some(v),
            Read::Damaged => None,
        }
    }
}

/// What a torn crash did to the node's unsynced writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Torn<K> {
    pub kept: usize,
    pub lost: usize,
    /// The record torn, if any.
    pub torn: Option<K>,
}

/// One node's store: a durable image plus the unsynced operations on top of it.
#[derive(Clone, Debug)]
pub struct Storage<K: Ord + Clone, V: Clone> {
    /// What survives a crash.
    durable: BTreeMap<K, V>,
    /// Keys whose durable record is damaged.
    durable_bad: BTreeSet<K>,
    /// What the node sees: `durable` with `inflight` and `pending` applied.
    current: BTreeMap<K, V>,
    /// Keys whose visible record is damaged (after a restart: `durable_bad`).
    current_bad: BTreeSet<K>,
    /// Synced writes whose sync has not completed, oldest first.
    inflight: VecDeque<Batch<K, V>>,
    pending: Vec<Op<K, V>>,
    syncs: u64,
    /// Records read since the engine last asked (read latency).
    reads: Cell<u64>,
    /// Bytes read since the engine last asked, measured only when the disk charges per byte
    /// ([`Storage::meter_reads`]).
    read_bytes: Cell<u64>,
    meter: Option<fn(&V) -> u64>,
}

impl<K: Ord + Clone, V: Clone> Default for Storage<K, V> {
    fn default() -> Self {
        Storage {
            durable: BTreeMap::new(),
            durable_bad: BTreeSet::new(),
            current: BTreeMap::new(),
            current_bad: BTreeSet::new(),
            inflight: VecDeque::new(),
            pending: Vec::new(),
            syncs: 0,
            reads: Cell::new(0),
            read_bytes: Cell::new(0),
            meter: None,
        }
    }
}

impl<K: Ord + Clone, V: Clone> Storage<K, V> {
    fn count_reads(&self, n: usize) {
        self.reads.set(self.reads.get() + n as u64);
    }

    /// Counts one record read, and its size when reads are metered.
    fn count_read(&self, value: &V) {
        self.count_reads(1);
        if let Some(size) = self.meter {
            self.read_bytes.set(self.read_bytes.get() + size(value));
        }
    }

    /// Counts every visible record read (a scan), with their sizes when reads are metered.
    fn count_all_reads(&self) {
        self.count_reads(self.current.len());
        if let Some(size) = self.meter {
            let bytes: u64 = self.current.values().map(size).sum();
            self.read_bytes.set(self.read_bytes.get() + bytes);
        }
    }

    /// Measures the size of every record read with `size`, for a disk that charges reads per
    /// byte (the engine sets it; without it only the count of records read is kept).
    pub(crate) fn meter_reads(&mut self, size: fn(&V) -> u64) {
        self.meter = Some(size);
    }

    /// The visible record under `key`; `None` when absent or damaged.
    pub fn get(&self, key: &K) -> Option<&V> {
        let v = self.current.get(key);
        match v {
            Some(v) => self.count_read(v),
            None => self.count_reads(1),
        }
        if self.current_bad.contains(key) {
            return None;
        }
        v
    }

    /// The checksummed read: the record under `key`, intact or damaged; `None` when absent.
    pub fn read(&self, key: &K) -> Option<Read<&V>> {
        let Some(v) = self.current.get(key) else {
            self.count_reads(1);
            return None;
        };
        self.count_read(v);
        Some(if self.current_bad.contains(key) {
            Read::Damaged
        } else {
            Read::Intact(v)
        })
    }

    /// Every visible record in key order, damaged ones reported as such: what a recovering
    /// process checks itself against.
    pub fn scan(&self) -> Vec<(K, Read<V>)> {
        self.count_all_reads();
        self.current
            .iter()
            .map(|(k, v)| {
                let r = if self.current_bad.contains(k) {
                    Read::Damaged
                } else {
                    Read::Intact(v.clone())
                };
                (k.clone(), r)
            })
            .collect()
    }

    pub fn put(&mut self, key: K, value: V) {
        self.current_bad.remove(&key);
        self.current.insert(key.clone(), value.clone());
        self.pending.push(Op::Put(key, value));
    }

    pub fn remove(&mut self, key: &K) {
        self.current_bad.remove(key);
        self.current.remove(key);
        self.pending.push(Op::Remove(key.clone()));
    }

    /// Removes every key `>= from` (log truncation).
    pub fn remove_from(&mut self, from: &K) {
        let _ = self.current.split_off(from);
        let _ = self.current_bad.split_off(from);
        self.pending.push(Op::RemoveFrom(from.clone()));
    }

    /// The visible, intact entries in `range`, in key order (damaged records are skipped).
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        let bad = &self.current_bad;
        self.current.range(range).filter(move |(k, v)| {
            self.count_read(v);
            bad.is_empty() || !bad.contains(k)
        })
    }

    /// A copy of every visible, intact entry, in key order (damaged records are skipped; see
    /// [`Storage::scan`] to see them).
    pub fn entries(&self) -> Vec<(K, V)> {
        self.count_all_reads();
        self.current
            .iter()
            .filter(|(k, _)| !self.current_bad.contains(k))
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

    /// Makes every write so far durable at once. Returns how many operations it flushed.
    pub fn sync(&mut self) -> usize {
        self.sync_until(SimTime::ZERO, SimTime::ZERO, Vec::new())
    }

    /// A sync started at `now` that completes at `done`: the writes so far land on the disk
    /// then (at once when `done <= now`), and the keys in `damage` are damaged when they do.
    /// Returns how many operations it covers.
    pub(crate) fn sync_until(&mut self, now: SimTime, done: SimTime, damage: Vec<K>) -> usize {
        let n = self.pending.len();
        let ops = std::mem::take(&mut self.pending);
        self.syncs += 1;
        if done <= now && self.inflight.is_empty() {
            for op in ops {
                op.apply(&mut self.durable, &mut self.durable_bad);
            }
            self.durable_bad.extend(damage);
        } else {
            self.inflight.push_back(Batch { done, ops, damage });
        }
        n
    }

    /// Lands every in-flight batch whose sync has completed by `now`.
    pub(crate) fn settle(&mut self, now: SimTime) {
        while self.inflight.front().is_some_and(|b| b.done <= now) {
            let b = self.inflight.pop_front().expect("front");
            for op in b.ops {
                op.apply(&mut self.durable, &mut self.durable_bad);
            }
            self.durable_bad.extend(b.damage);
        }
    }

    /// The keys the writes so far put (not yet synced), in order: what a misdirected write or
    /// a lying sync may hit.
    pub(crate) fn pending_puts(&self) -> impl Iterator<Item = &K> {
        self.pending.iter().filter_map(|op| match op {
            Op::Put(k, _) => Some(k),
            _ => None,
        })
    }

    /// Total size of the unsynced writes, by `size` per value.
    pub(crate) fn pending_bytes(&self, size: impl Fn(&V) -> u64) -> u64 {
        self.pending
            .iter()
            .map(|op| match op {
                Op::Put(_, v) => size(v),
                _ => 0,
            })
            .sum()
    }

    /// Records read since the last call.
    pub(crate) fn take_reads(&self) -> u64 {
        self.reads.replace(0)
    }

    /// Bytes read since the last call (always 0 unless reads are metered).
    pub(crate) fn take_read_bytes(&self) -> u64 {
        self.read_bytes.replace(0)
    }

    /// A crash at `now`: every write not durable by then is lost. Returns how many were lost.
    /// The node then sees its disk (as after a restart).
    pub fn crash_at(&mut self, now: SimTime) -> usize {
        let lost = self.go_down(now);
        self.reload();
        lost
    }

    /// The engine's crash at `now`: [`Storage::crash_at`] without the reload. A crashed node
    /// reads nothing until its restart reloads its disk (`Simulation::restart`), so copying
    /// the disk image here as well would be thrown away: the visible records are dropped
    /// instead (one copy of the image per crash and restart, not two).
    pub(crate) fn go_down(&mut self, now: SimTime) -> usize {
        self.settle(now);
        let lost = self.pending.len() + self.inflight.iter().map(|b| b.ops.len()).sum::<usize>();
        self.pending.clear();
        self.inflight.clear();
        self.current = BTreeMap::new();
        self.current_bad = BTreeSet::new();
        lost
    }

    /// A crash: unsynced writes are lost. Returns how many were lost.
    pub fn crash(&mut self) -> usize {
        self.crash_at(SimTime(u64::MAX))
    }

    /// A crash at `now` that tears the writes not yet durable: a prefix or a subset of them
    /// survives (by `pick`), and with `tear_last` the last surviving put of a record that
    /// `damageable` allows is torn. Like [`Storage::go_down`], the node sees nothing until
    /// [`Storage::reload`].
    pub(crate) fn crash_torn(
        &mut self,
        now: SimTime,
        survive: Survive,
        pick: u64,
        tear_last: bool,
        damageable: impl Fn(&K) -> bool,
    ) -> Torn<K> {
        self.settle(now);
        let mut ops: Vec<Op<K, V>> = self.inflight.drain(..).flat_map(|b| b.ops).collect();
        ops.append(&mut self.pending);
        let total = ops.len();
        let keep: Vec<bool> = match survive {
            Survive::Prefix => {
                let k = (pick % (total as u64 + 1)) as usize;
                (0..total).map(|i| i < k).collect()
            }
            Survive::Subset => {
                let mut rng = SimRng::new(pick, StreamLabel::Custom(0x70_72_6e));
                (0..total).map(|_| rng.next_u64() & 1 == 1).collect()
            }
        };
        let mut torn = None;
        let mut kept = 0;
        for (op, keep) in ops.into_iter().zip(keep) {
            if !keep {
                continue;
            }
            kept += 1;
            match &op {
                Op::Put(k, _) => torn = damageable(k).then(|| k.clone()),
                Op::Remove(k) if torn.as_ref() == Some(k) => torn = None,
                Op::RemoveFrom(k) if torn.as_ref().is_some_and(|t| t >= k) => torn = None,
                Op::Remove(_) | Op::RemoveFrom(_) => {}
            }
            op.apply(&mut self.durable, &mut self.durable_bad);
        }
        let torn = if tear_last { torn } else { None };
        if let Some(k) = &torn {
            self.durable_bad.insert(k.clone());
        }
        self.current = BTreeMap::new();
        self.current_bad = BTreeSet::new();
        Torn {
            kept,
            lost: total - kept,
            torn,
        }
    }

    /// After a crash, and at a restart, the node sees exactly its disk (damage done while it
    /// was down included).
    pub(crate) fn reload(&mut self) {
        self.current = self.durable.clone();
        self.current_bad = self.durable_bad.clone();
    }

    /// The durable records `eligible` allows, intact ones only, in key order: what a
    /// corruption may hit.
    pub(crate) fn durable_intact_keys(&self, eligible: impl Fn(&K) -> bool) -> Vec<K> {
        self.durable
            .keys()
            .filter(|k| !self.durable_bad.contains(k) && eligible(k))
            .cloned()
            .collect()
    }

    /// Damages the durable record under `key` (detectably).
    pub(crate) fn damage(&mut self, key: &K) {
        if self.durable.contains_key(key) {
            self.durable_bad.insert(key.clone());
        }
    }

    /// Replaces the durable record under `key` with a wrong value the checksum passes.
    pub(crate) fn garble(&mut self, key: &K, value: V) {
        if let Some(v) = self.durable.get_mut(key) {
            *v = value;
        }
    }

    /// The durable value under `key` (for garbling it).
    pub(crate) fn durable_value(&self, key: &K) -> Option<&V> {
        self.durable.get(key)
    }

    /// Whether the disk holds a damaged record under `key` (for the fault atlas).
    pub fn is_damaged(&self, key: &K) -> bool {
        self.durable_bad.contains(key)
            || self
                .inflight
                .iter()
                .any(|b| b.damage.iter().any(|d| d == key))
    }

    /// The durable image (what a restart would see), for tests and checkers.
    pub fn durable(&self) -> &BTreeMap<K, V> {
        &self.durable
    }

    /// The damaged keys of the durable image, for tests and checkers.
    pub fn damaged(&self) -> &BTreeSet<K> {
        &self.durable_bad
    }
}

impl<K: Ord + Clone + Debug, V: Clone + Debug> Storage<K, V> {
    /// Size of a record for the disk's per-byte time: the length of its `Debug` text.
    pub fn record_bytes(value: &V) -> u64 {
        format!("{value:?}").len() as u64
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

    #[test]
    fn a_sync_in_flight_at_a_crash_is_lost_and_one_completed_is_kept() {
        let t = SimTime;
        let mut s: Storage<u32, u32> = Storage::default();
        s.put(1, 1);
        s.sync_until(t(0), t(10), Vec::new());
        s.put(2, 2);
        s.sync_until(t(5), t(20), Vec::new());
        assert_eq!(s.crash_at(t(15)), 1, "the second sync had not completed");
        assert_eq!(s.entries(), vec![(1, 1)]);
    }

    #[test]
    fn damage_keeps_the_key_hides_the_value_and_heals_on_rewrite() {
        let mut s: Storage<u32, u32> = Storage::default();
        for i in 0..4 {
            s.put(i, i * 10);
        }
        s.sync();
        s.damage(&2);
        s.crash();
        assert_eq!(s.get(&2), None, "a failed read");
        assert_eq!(s.read(&2), Some(Read::Damaged));
        assert_eq!(s.read(&1), Some(Read::Intact(&10)));
        assert_eq!(s.entries().len(), 3);
        assert_eq!(s.scan()[2], (2, Read::Damaged));
        s.put(2, 21);
        assert_eq!(s.get(&2), Some(&21));
        s.crash();
        assert_eq!(
            s.read(&2),
            Some(Read::Damaged),
            "the rewrite was not synced"
        );
        s.put(2, 22);
        s.sync();
        s.crash();
        assert_eq!(s.read(&2), Some(Read::Intact(&22)));
    }

    #[test]
    fn a_torn_prefix_keeps_the_first_writes_and_tears_the_last_kept() {
        let mut s: Storage<u32, u32> = Storage::default();
        s.put(0, 0);
        s.sync();
        for i in 1..6 {
            s.put(i, i);
        }
        let torn = s.crash_torn(SimTime(0), Survive::Prefix, 3, true, |_| true);
        assert!(
            s.is_empty(),
            "a crashed node sees nothing before its restart"
        );
        s.reload();
        assert_eq!(
            torn,
            Torn {
                kept: 3,
                lost: 2,
                torn: Some(3)
            }
        );
        assert_eq!(s.entries(), vec![(0, 0), (1, 1), (2, 2)]);
        assert_eq!(s.read(&3), Some(Read::Damaged));
        // A subset is drawn from the pick: the same pick, the same subset.
        let mut a: Storage<u32, u32> = Storage::default();
        let mut b: Storage<u32, u32> = Storage::default();
        for st in [&mut a, &mut b] {
            for i in 0..32 {
                st.put(i, i);
            }
            st.crash_torn(SimTime(0), Survive::Subset, 99, false, |_| true);
            st.reload();
        }
        assert_eq!(a.entries(), b.entries());
        assert!(!a.is_empty() && a.len() < 32, "{}", a.len());
    }
}
