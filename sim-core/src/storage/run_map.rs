//! A node's storage image: an ordered map kept as a [`DescMap`] for the smaller keys and a
//! sorted run of the largest keys in a `VecDeque`, with the answers and the iteration order
//! of a plain `BTreeMap`.
//!
//! A protocol's durable records mostly arrive in key order (Raft's next log index, Paxos's
//! next slot), and a `BTreeMap` pays for such a write in its leaf: the descending tree finds
//! the position in one comparison per level, but then shifts every key and record of the
//! leaf to make room at its front (the records are tens of bytes each, so about a kilobyte a
//! write: most of the 400 instructions a Raft storage write cost). Here a key past every key
//! held is pushed onto the run; a key in the run replaces its record in place; a key below the
//! run goes to the tree. A new key inside the run is inserted there when it is near the run's
//! end, and otherwise the run's part below it moves to the tree first, so each record moves
//! to the tree at most once. A workload whose writes mostly land inside the run rather than
//! past it gives the run up for good ([`GIVE_UP`]) and then costs what the tree alone costs.
//!
//! Invariant: every key in `head` is below every key in `run`.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fmt;
use std::ops::{Bound, RangeBounds};

use super::desc_map::DescMap;

/// A new key this close to the run's end is inserted into the run (a short shift); one
/// further in splits the run (see the module comment).
const NEAR_END: usize = 16;

/// The run is given up (moved into the tree for good) once writes inside it outnumber
/// appends by this many: a workload whose writes do not arrive in order (two-phase
/// commit's per-transaction records under its values) pays the run's shifts and searches
/// without its gain. Each append takes one off, each write inside the run adds one.
const GIVE_UP: u32 = 64;

/// An ordered map with an append-friendly run of its largest keys (see the module comment).
#[derive(Clone)]
pub(crate) struct RunMap<K, V> {
    head: DescMap<K, V>,
    run: VecDeque<(K, V)>,
    /// Writes inside the run not yet paid for by appends (see [`GIVE_UP`]).
    misses: u32,
    /// The run was given up: every write goes to the tree.
    tree_only: bool,
}

impl<K, V> Default for RunMap<K, V> {
    fn default() -> Self {
        RunMap {
            head: DescMap::default(),
            run: VecDeque::new(),
            misses: 0,
            tree_only: false,
        }
    }
}

impl<K, V> RunMap<K, V> {
    /// An empty map whose run starts in `run` (emptied first: only its capacity is kept).
    pub(crate) fn with_run(mut run: VecDeque<(K, V)>) -> Self {
        run.clear();
        RunMap {
            run,
            ..RunMap::default()
        }
    }

    /// Empties the map and hands back its run's deque, empty with its capacity.
    pub(crate) fn take_run(&mut self) -> VecDeque<(K, V)> {
        let mut run = std::mem::take(&mut self.run);
        run.clear();
        *self = RunMap::default();
        run
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for RunMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K, V> RunMap<K, V> {
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.head.iter().chain(self.run.iter().map(|(k, v)| (k, v)))
    }
}

impl<K: Ord + Clone, V> RunMap<K, V> {
    pub(crate) fn len(&self) -> usize {
        self.head.len() + self.run.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_empty() && self.run.is_empty()
    }

    /// Where `key` sits in the run, if it is not below the run.
    fn in_run(&self, key: &K) -> Option<Result<usize, usize>> {
        let (first, _) = self.run.front()?;
        (key >= first).then(|| self.locate(key))
    }

    /// `binary_search` of `key` in the run, looking at its last few keys first: most writes
    /// that are not appends land there.
    fn locate(&self, key: &K) -> Result<usize, usize> {
        let n = self.run.len();
        for (back, (k, _)) in self.run.iter().rev().take(NEAR_END / 2).enumerate() {
            match k.cmp(key) {
                Ordering::Less => return Err(n - back),
                Ordering::Equal => return Ok(n - 1 - back),
                Ordering::Greater => {}
            }
        }
        self.run.binary_search_by(|(k, _)| k.cmp(key))
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        match self.in_run(key) {
            Some(Ok(i)) => Some(&self.run[i].1),
            Some(Err(_)) => None,
            None => self.head.get(key),
        }
    }

    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        if self.tree_only {
            return self.head.insert(key, value);
        }
        let (Some((first, _)), Some((last, _))) = (self.run.front(), self.run.back()) else {
            if self.head.last_key().is_some_and(|last| key <= *last) {
                return self.head.insert(key, value);
            }
            self.run.push_back((key, value));
            return None;
        };
        if key < *first {
            return self.head.insert(key, value);
        }
        if key > *last {
            self.run.push_back((key, value));
            self.misses = self.misses.saturating_sub(1);
            return None;
        }
        let i = match self.locate(&key) {
            Ok(i) => return Some(std::mem::replace(&mut self.run[i].1, value)),
            Err(i) => i,
        };
        self.misses += 1;
        if self.misses > GIVE_UP {
            self.spill(self.run.len());
            self.tree_only = true;
            self.head.insert(key, value)
        } else if self.run.len() - i <= NEAR_END {
            self.run.insert(i, (key, value));
            None
        } else {
            self.spill(i);
            self.run.push_front((key, value));
            None
        }
    }

    /// Moves the run's first `count` entries into the tree.
    fn spill(&mut self, count: usize) {
        for (k, v) in self.run.drain(..count) {
            self.head.insert(k, v);
        }
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        match self.in_run(key) {
            Some(Ok(i)) => self.run.remove(i).map(|(_, v)| v),
            Some(Err(_)) => None,
            None => self.head.remove(key),
        }
    }

    /// Removes and returns every entry with a key `>= from`.
    pub(crate) fn split_off(&mut self, from: &K) -> RunMap<K, V> {
        match self.in_run(from) {
            Some(Ok(i) | Err(i)) => RunMap {
                run: self.run.split_off(i),
                ..RunMap::default()
            },
            None => RunMap {
                head: self.head.split_off(from),
                run: std::mem::take(&mut self.run),
                ..RunMap::default()
            },
        }
    }

    /// Moves every entry of `other` into this map (its values win on equal keys).
    pub(crate) fn append(&mut self, other: &mut RunMap<K, V>) {
        let other = std::mem::take(other);
        let below = match (self.iter().next_back(), other.iter().next()) {
            (Some((last, _)), Some((first, _))) => last < first,
            _ => true,
        };
        if !below || self.tree_only {
            for (k, v) in other.into_entries() {
                self.insert(k, v);
            }
            return;
        }
        // Every key of `other` is past ours (a crash undoing a truncation): keep both runs.
        let RunMap { mut head, run, .. } = other;
        if !head.is_empty() {
            self.spill(self.run.len());
            self.head.append(&mut head);
        }
        self.run.extend(run);
    }

    /// Every entry, in key order, by value.
    fn into_entries(self) -> impl Iterator<Item = (K, V)> {
        self.head.into_entries().chain(self.run)
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
        let (lo, hi) = (range.start_bound().cloned(), range.end_bound().cloned());
        let below = |k: &K, inclusive: bool| {
            self.run
                .partition_point(|(x, _)| if inclusive { x <= k } else { x < k })
        };
        let start = match &lo {
            Bound::Included(k) => below(k, false),
            Bound::Excluded(k) => below(k, true),
            Bound::Unbounded => 0,
        };
        let end = match &hi {
            Bound::Included(k) => below(k, true),
            Bound::Excluded(k) => below(k, false),
            Bound::Unbounded => self.run.len(),
        };
        let run = self.run.range(start.min(end)..end).map(|(k, v)| (k, v));
        self.head.range((lo, hi)).chain(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::storage::map_tests::agrees_with_btreemap!(RunMap, 0x726d);

    /// Raft's pattern: a log appended in order, its first keys rewritten, truncated and
    /// appended again; every write past the end stays in the run.
    #[test]
    fn ordered_writes_stay_in_the_run() {
        let mut m = RunMap::default();
        for k in 0..1000u32 {
            assert_eq!(m.insert(k, k), None);
        }
        assert_eq!(m.insert(0, 7), Some(0));
        let tail = m.split_off(&900);
        assert_eq!((m.len(), tail.len()), (900, 100));
        for k in 900..950u32 {
            m.insert(k, k + 1);
        }
        assert!(m.head.is_empty());
        assert_eq!(m.run.len(), 950);
        assert_eq!(m.get(&0), Some(&7));
    }

    /// A write far inside the run moves the run's lower part to the tree, once.
    #[test]
    fn a_write_inside_the_run_splits_it() {
        let mut m = RunMap::default();
        for k in (0..200u32).map(|k| 2 * k) {
            m.insert(k, k);
        }
        m.insert(101, 0);
        assert_eq!((m.head.len(), m.run.len()), (51, 150));
        let mut want: Vec<u32> = (0..200).map(|k| 2 * k).chain([101]).collect();
        want.sort();
        assert!(m.keys().copied().eq(want));
    }

    /// Two-phase commit's pattern: each new record lands just below the few largest keys,
    /// never past them; the run is given up, and the map still answers like a `BTreeMap`.
    #[test]
    fn writes_inside_the_run_give_it_up() {
        let mut m = RunMap::default();
        for k in [0, 1000, 1001, 1002] {
            m.insert(k, k);
        }
        for k in 1..200u32 {
            m.insert(k, k);
        }
        assert!(m.tree_only && m.run.is_empty());
        assert!(m.keys().copied().eq((0..200).chain(1000..1003)));
        assert_eq!(m.insert(1003, 0), None);
        assert!(m.run.is_empty());
    }
}
