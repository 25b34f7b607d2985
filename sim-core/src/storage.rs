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
use std::fmt::{self, Debug};
use std::ops::RangeBounds;

use crate::config::Survive;
use crate::rng::{SimRng, StreamLabel};
use crate::time::SimTime;

mod desc_map;
#[cfg(test)]
mod map_tests;
mod run_map;

use run_map::RunMap;

/// An ordered image a write can be applied to: the storage's own, or a test's reference.
trait Image<K, V> {
    fn put(&mut self, key: K, value: V);
    fn delete(&mut self, key: &K);
    fn truncate(&mut self, from: &K);
}

/// Both images take a write through their own `insert`, `remove` and `split_off`.
macro_rules! image {
    ($(#[$attr:meta])* $map:ident) => {
        $(#[$attr])*
        impl<K: Ord + Clone, V> Image<K, V> for $map<K, V> {
            fn put(&mut self, key: K, value: V) {
                self.insert(key, value);
            }
            fn delete(&mut self, key: &K) {
                self.remove(key);
            }
            fn truncate(&mut self, from: &K) {
                let _ = self.split_off(from);
            }
        }
    };
}

image!(RunMap);
image!(
    #[cfg(test)]
    BTreeMap
);

/// A write as a crash replays it onto the disk (a torn write keeps some of them).
#[derive(Clone, Debug)]
enum Op<K, V> {
    Put(K, V),
    Remove(K),
    RemoveFrom(K),
}

impl<K: Ord + Clone, V: Clone> Op<K, V> {
    /// Applies the operation to an image and its set of damaged keys.
    fn apply(self, image: &mut impl Image<K, V>, bad: &mut BTreeSet<K>) {
        match self {
            Op::Put(k, v) => {
                bad.remove(&k);
                image.put(k, v);
            }
            Op::Remove(k) => {
                bad.remove(&k);
                image.delete(&k);
            }
            Op::RemoveFrom(k) => {
                image.truncate(&k);
                let _ = bad.split_off(&k);
            }
        }
    }
}

/// A write not yet durable, with what it replaced in the image: a crash puts that back, the
/// sync's completion forgets it.
#[derive(Clone, Debug)]
enum Undo<K, V> {
    /// A put of the key; the record it replaced, if any.
    Put(K, Option<V>),
    /// A removal of the key; the record it removed, if any.
    Remove(K, Option<V>),
    /// A truncation from the key; the records it removed.
    RemoveFrom(K, RunMap<K, V>),
}

impl<K: Ord + Clone, V: Clone> Undo<K, V> {
    /// The record under `key` before this write, if the write touched `key`.
    fn before(&self, key: &K) -> Option<Option<&V>> {
        match self {
            Undo::Put(k, old) | Undo::Remove(k, old) => (k == key).then_some(old.as_ref()),
            Undo::RemoveFrom(from, tail) => (key >= from).then(|| tail.get(key)),
        }
    }

    /// Undoes the write on `image`, which holds the state right after it; returns the write.
    fn undo(self, image: &mut RunMap<K, V>) -> Op<K, V> {
        match self {
            Undo::Put(k, old) => {
                let written = match old {
                    Some(v) => image.insert(k.clone(), v),
                    None => image.remove(&k),
                };
                Op::Put(
                    k,
                    written.expect("a put's record is in the image until undone"),
                )
            }
            Undo::Remove(k, old) => {
                if let Some(v) = old {
                    image.insert(k.clone(), v);
                }
                Op::Remove(k)
            }
            Undo::RemoveFrom(k, mut tail) => {
                image.append(&mut tail);
                Op::RemoveFrom(k)
            }
        }
    }
}

/// The disk's damaged keys and garbled records once `ops` land on it.
fn land<'a, K: Ord + Clone + 'a, V: 'a>(
    ops: impl Iterator<Item = &'a Undo<K, V>>,
    bad: &mut BTreeSet<K>,
    garbled: &mut BTreeMap<K, V>,
) {
    if bad.is_empty() && garbled.is_empty() {
        return;
    }
    for op in ops {
        match op {
            Undo::Put(k, _) | Undo::Remove(k, _) => {
                bad.remove(k);
                garbled.remove(k);
            }
            Undo::RemoveFrom(k, _) => {
                let _ = bad.split_off(k);
                let _ = garbled.split_off(k);
            }
        }
    }
}

/// Which of `total` writes not yet durable survive a torn crash, by `pick`.
fn survivors(survive: Survive, pick: u64, total: usize) -> Vec<bool> {
    match survive {
        Survive::Prefix => {
            let k = (pick % (total as u64 + 1)) as usize;
            (0..total).map(|i| i < k).collect()
        }
        Survive::Subset => {
            let mut rng = SimRng::new(pick, StreamLabel::Custom(0x70_72_6e));
            (0..total).map(|_| rng.next_u64() & 1 == 1).collect()
        }
    }
}

/// Writes covered by a sync that has not completed yet, and the damage they will do.
#[derive(Clone, Debug)]
struct Batch<K, V> {
    done: SimTime,
    ops: Vec<Undo<K, V>>,
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

/// One node's store: the image the node sees, and the undo log of the writes not yet durable.
///
/// The disk is never stored whole: it is the image with every write not yet durable undone
/// (newest first), and with the records a silent corruption garbled on the disk in place of
/// the image's. A write costs one insert into the image and one entry in the undo log; a
/// completed sync forgets its entries; a crash undoes the rest, and what remains is the disk,
/// which the restarted node then reads without a copy.
#[derive(Clone, Debug)]
pub struct Storage<K: Ord + Clone + 'static, V: Clone + 'static> {
    /// What the node sees (after a crash and until the restart: the disk), kept in descending
    /// key order so that a write past every key held is cheap (see `desc_map`).
    image: RunMap<K, V>,
    /// Keys whose visible record is damaged (after a restart: `disk_bad`).
    visible_bad: BTreeSet<K>,
    /// Keys whose record on the disk is damaged.
    disk_bad: BTreeSet<K>,
    /// Disk records garbled by a silent corruption, which the running node's page cache does
    /// not see: on the disk they stand in for what undoing the log gives.
    garbled: BTreeMap<K, V>,
    /// Synced writes whose sync has not completed, oldest first.
    inflight: VecDeque<Batch<K, V>>,
    /// Writes not synced yet, oldest first.
    pending: Vec<Undo<K, V>>,
    /// Size of the puts in `pending`, measured only when reads are metered.
    pending_bytes: u64,
    syncs: u64,
    /// Records read since the engine last asked (read latency).
    reads: Cell<u64>,
    /// Bytes read since the engine last asked, measured only when the disk charges per byte
    /// ([`Storage::meter_reads`]).
    read_bytes: Cell<u64>,
    meter: Option<fn(&V) -> u64>,
}

impl<K: Ord + Clone + 'static, V: Clone + 'static> Default for Storage<K, V> {
    fn default() -> Self {
        Storage {
            image: RunMap::with_run(crate::spare::take()),
            visible_bad: BTreeSet::new(),
            disk_bad: BTreeSet::new(),
            garbled: BTreeMap::new(),
            inflight: VecDeque::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            syncs: 0,
            reads: Cell::new(0),
            read_bytes: Cell::new(0),
            meter: None,
        }
    }
}

/// A dropped store (the run's end) leaves its run's capacity to the next store on the
/// thread (see [`crate::spare`]).
impl<K: Ord + Clone + 'static, V: Clone + 'static> Drop for Storage<K, V> {
    fn drop(&mut self) {
        crate::spare::give_back(self.image.take_run());
    }
}

impl<K: Ord + Clone + 'static, V: Clone + 'static> Storage<K, V> {
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
        self.count_reads(self.image.len());
        if let Some(size) = self.meter {
            let bytes: u64 = self.image.values().map(size).sum();
            self.read_bytes.set(self.read_bytes.get() + bytes);
        }
    }

    /// Measures the size of every record read, and of every record written before its sync,
    /// with `size`, for a disk that charges per byte (the engine sets it; without it only the
    /// count of records read is kept).
    pub(crate) fn meter_reads(&mut self, size: fn(&V) -> u64) {
        self.meter = Some(size);
    }

    /// The visible record under `key`; `None` when absent or damaged.
    pub fn get(&self, key: &K) -> Option<&V> {
        let v = self.image.get(key);
        match v {
            Some(v) => self.count_read(v),
            None => self.count_reads(1),
        }
        if self.visible_bad.contains(key) {
            return None;
        }
        v
    }

    /// The checksummed read: the record under `key`, intact or damaged; `None` when absent.
    pub fn read(&self, key: &K) -> Option<Read<&V>> {
        let Some(v) = self.image.get(key) else {
            self.count_reads(1);
            return None;
        };
        self.count_read(v);
        Some(if self.visible_bad.contains(key) {
            Read::Damaged
        } else {
            Read::Intact(v)
        })
    }

    /// Every visible record in key order, damaged ones reported as such: what a recovering
    /// process checks itself against.
    pub fn scan(&self) -> Vec<(K, Read<V>)> {
        self.count_all_reads();
        self.image
            .iter()
            .map(|(k, v)| {
                let r = if self.visible_bad.contains(k) {
                    Read::Damaged
                } else {
                    Read::Intact(v.clone())
                };
                (k.clone(), r)
            })
            .collect()
    }

    pub fn put(&mut self, key: K, value: V) {
        self.visible_bad.remove(&key);
        if let Some(size) = self.meter {
            self.pending_bytes += size(&value);
        }
        let old = self.image.insert(key.clone(), value);
        self.pending.push(Undo::Put(key, old));
    }

    pub fn remove(&mut self, key: &K) {
        self.visible_bad.remove(key);
        let old = self.image.remove(key);
        self.pending.push(Undo::Remove(key.clone(), old));
    }

    /// Removes every key `>= from` (log truncation).
    pub fn remove_from(&mut self, from: &K) {
        let tail = self.image.split_off(from);
        let _ = self.visible_bad.split_off(from);
        self.pending.push(Undo::RemoveFrom(from.clone(), tail));
    }

    /// The visible, intact entries in `range`, in key order (damaged records are skipped).
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        let bad = &self.visible_bad;
        self.image.range(range).filter(move |(k, v)| {
            self.count_read(v);
            bad.is_empty() || !bad.contains(k)
        })
    }

    /// A copy of every visible, intact entry, in key order (damaged records are skipped; see
    /// [`Storage::scan`] to see them).
    pub fn entries(&self) -> Vec<(K, V)> {
        self.count_all_reads();
        self.image
            .iter()
            .filter(|(k, _)| !self.visible_bad.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.image.len()
    }

    pub fn is_empty(&self) -> bool {
        self.image.is_empty()
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
        self.syncs += 1;
        self.pending_bytes = 0;
        if done <= now && self.inflight.is_empty() {
            // Landed at once: the undo entries are forgotten, the log keeps its capacity.
            land(self.pending.iter(), &mut self.disk_bad, &mut self.garbled);
            self.pending.clear();
            self.disk_bad.extend(damage);
        } else {
            let ops = std::mem::take(&mut self.pending);
            self.inflight.push_back(Batch { done, ops, damage });
        }
        n
    }

    /// Lands every in-flight batch whose sync has completed by `now`.
    pub(crate) fn settle(&mut self, now: SimTime) {
        while self.inflight.front().is_some_and(|b| b.done <= now) {
            let b = self.inflight.pop_front().expect("front");
            land(b.ops.iter(), &mut self.disk_bad, &mut self.garbled);
            self.disk_bad.extend(b.damage);
        }
    }

    /// The keys the writes so far put (not yet synced), in order: what a misdirected write or
    /// a lying sync may hit.
    pub(crate) fn pending_puts(&self) -> impl Iterator<Item = &K> {
        self.pending.iter().filter_map(|op| match op {
            Undo::Put(k, _) => Some(k),
            _ => None,
        })
    }

    /// Total size of the unsynced puts, measured by the size the engine gave
    /// [`Storage::meter_reads`] as each was written (0 when it gave none).
    pub(crate) fn pending_bytes(&self) -> u64 {
        self.pending_bytes
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

    /// The engine's crash at `now`: every write not durable by then is undone, which leaves
    /// the disk in the image; [`Storage::reload`] at the restart makes it visible. Returns how
    /// many writes were lost.
    pub(crate) fn go_down(&mut self, now: SimTime) -> usize {
        self.settle(now);
        self.undo_all().len()
    }

    /// Undoes every write not yet durable, newest first, and puts the garbled records back:
    /// the image is then exactly the disk. Returns the undone writes, oldest first.
    fn undo_all(&mut self) -> Vec<Op<K, V>> {
        let pending = std::mem::take(&mut self.pending);
        let inflight = std::mem::take(&mut self.inflight);
        let undo = pending.into_iter().rev().chain(
            inflight
                .into_iter()
                .rev()
                .flat_map(|b| b.ops.into_iter().rev()),
        );
        let mut ops: Vec<Op<K, V>> = undo.map(|u| u.undo(&mut self.image)).collect();
        ops.reverse();
        for (k, v) in std::mem::take(&mut self.garbled) {
            self.image.insert(k, v);
        }
        self.visible_bad.clear();
        self.pending_bytes = 0;
        ops
    }

    /// A crash: unsynced writes are lost. Returns how many were lost.
    pub fn crash(&mut self) -> usize {
        self.crash_at(SimTime(u64::MAX))
    }

    /// A crash at `now` that tears the writes not yet durable: a prefix or a subset of them
    /// survives (by `pick`), and with `tear_last` the last surviving put of a record that
    /// `damageable` allows is torn. Like [`Storage::go_down`], the node sees its disk only at
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
        let ops = self.undo_all();
        let total = ops.len();
        let keep = survivors(survive, pick, total);
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
            op.apply(&mut self.image, &mut self.disk_bad);
        }
        let torn = if tear_last { torn } else { None };
        if let Some(k) = &torn {
            self.disk_bad.insert(k.clone());
        }
        Torn {
            kept,
            lost: total - kept,
            torn,
        }
    }

    /// At a restart (and after [`Storage::crash_at`]) the node sees exactly its disk, damage
    /// done while it was down included. Only after a crash: the image is then the disk.
    pub(crate) fn reload(&mut self) {
        debug_assert!(self.pending.is_empty() && self.inflight.is_empty());
        for (k, v) in std::mem::take(&mut self.garbled) {
            self.image.insert(k, v);
        }
        self.visible_bad = self.disk_bad.clone();
    }

    /// The undo log, oldest write first.
    fn undo_log(&self) -> impl DoubleEndedIterator<Item = &Undo<K, V>> {
        self.inflight
            .iter()
            .flat_map(|b| b.ops.iter())
            .chain(self.pending.iter())
    }

    /// The keys of the disk's records, in key order.
    fn durable_keys(&self) -> BTreeSet<K> {
        let mut keys: BTreeSet<K> = self.image.keys().cloned().collect();
        for op in self.undo_log().rev() {
            match op {
                Undo::Put(k, old) | Undo::Remove(k, old) => {
                    if old.is_some() {
                        keys.insert(k.clone());
                    } else {
                        keys.remove(k);
                    }
                }
                Undo::RemoveFrom(_, tail) => keys.extend(tail.keys().cloned()),
            }
        }
        keys
    }

    /// The durable records `eligible` allows, intact ones only, in key order: what a
    /// corruption may hit.
    pub(crate) fn durable_intact_keys(&self, eligible: impl Fn(&K) -> bool) -> Vec<K> {
        self.durable_keys()
            .into_iter()
            .filter(|k| !self.disk_bad.contains(k) && eligible(k))
            .collect()
    }

    /// Damages the durable record under `key` (detectably).
    pub(crate) fn damage(&mut self, key: &K) {
        if self.durable_value(key).is_some() {
            self.disk_bad.insert(key.clone());
        }
    }

    /// Replaces the durable record under `key` with a wrong value the checksum passes.
    pub(crate) fn garble(&mut self, key: &K, value: V) {
        if self.durable_value(key).is_some() {
            self.garbled.insert(key.clone(), value);
        }
    }

    /// The durable value under `key`: garbled, or as the oldest write not yet durable that
    /// touched it found it, or the image's.
    pub(crate) fn durable_value(&self, key: &K) -> Option<&V> {
        if let Some(v) = self.garbled.get(key) {
            return Some(v);
        }
        match self.undo_log().find_map(|op| op.before(key)) {
            Some(before) => before,
            None => self.image.get(key),
        }
    }

    /// Whether the disk holds a damaged record under `key` (for the fault atlas).
    pub fn is_damaged(&self, key: &K) -> bool {
        self.disk_bad.contains(key)
            || self
                .inflight
                .iter()
                .any(|b| b.damage.iter().any(|d| d == key))
    }

    /// A copy of the durable image (what a restart would see), for tests and checkers.
    pub fn durable(&self) -> BTreeMap<K, V> {
        self.durable_keys()
            .into_iter()
            .filter_map(|k| {
                let v = self.durable_value(&k)?.clone();
                Some((k, v))
            })
            .collect()
    }

    /// The damaged keys of the durable image, for tests and checkers.
    pub fn damaged(&self) -> &BTreeSet<K> {
        &self.disk_bad
    }
}

/// Counts the bytes written to it.
struct ByteCount(u64);

impl fmt::Write for ByteCount {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len() as u64;
        Ok(())
    }
}

impl<K: Ord + Clone + Debug + 'static, V: Clone + Debug + 'static> Storage<K, V> {
    /// Size of a record for the disk's per-byte time: the length of its `Debug` text
    /// (counted as it is formatted, not kept).
    pub fn record_bytes(value: &V) -> u64 {
        let mut n = ByteCount(0);
        let _ = fmt::write(&mut n, format_args!("{value:?}"));
        n.0
    }
}

#[cfg(test)]
mod model_tests;

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
