//! A node's pending timers: set, looked up when they fire, cancelled, cleared by a crash, and
//! visited in the order they were set (a clock jump reschedules them in that order).
//!
//! Timer ids are handed out in increasing order across the run (`World::set_timer`), so a
//! node's timers, appended as they are set, are always sorted by id: a lookup is a binary
//! search, and setting a timer is a push. A removed timer leaves a hole (`None`) rather than
//! shifting the rest; the holes are dropped when none is pending any more (a node that keeps
//! one election timer, cancelled and set again, never grows) or when they outnumber the
//! pending timers (so a node with many pending timers still removes in amortized constant
//! time). This replaced a `BTreeMap` per node, whose insert and remove cost about 180
//! instructions each for the one to three timers a node usually holds (8% of a Raft sweep).

use crate::ids::TimerId;
use crate::time::{LocalTime, SimTime};

/// One pending timer.
pub(crate) struct TimerEntry<T> {
    pub(crate) deadline: LocalTime,
    /// The earliest time a heap event for this timer is scheduled.
    pub(crate) fire_at: SimTime,
    pub(crate) timer: T,
}

/// A node's pending timers, sorted by id (see the module comment).
pub(crate) struct Timers<T> {
    /// Every timer set since the last compaction, by increasing id; `None` once removed.
    entries: Vec<(TimerId, Option<TimerEntry<T>>)>,
    /// How many entries are `Some`.
    pending: usize,
}

impl<T> Default for Timers<T> {
    fn default() -> Self {
        Timers {
            entries: Vec::new(),
            pending: 0,
        }
    }
}

impl<T> Timers<T> {
    /// Adds a timer. `id` must be above every id added before (ids only grow).
    #[inline]
    pub(crate) fn insert(&mut self, id: TimerId, entry: TimerEntry<T>) {
        debug_assert!(
            self.entries.last().is_none_or(|(last, _)| *last < id),
            "timer ids must increase"
        );
        self.entries.push((id, Some(entry)));
        self.pending += 1;
    }

    /// The index of `id`'s entry, if it was set and not compacted away.
    #[inline]
    fn find(&self, id: TimerId) -> Option<usize> {
        // The newest timers are the likeliest to be asked for: check the last one first.
        match self.entries.last() {
            Some((last, _)) if *last == id => Some(self.entries.len() - 1),
            _ => self.entries.binary_search_by_key(&id, |(i, _)| *i).ok(),
        }
    }

    /// The pending timer `id`.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: &TimerId) -> Option<&mut TimerEntry<T>> {
        let i = self.find(*id)?;
        self.entries[i].1.as_mut()
    }

    /// Removes the pending timer `id` and returns it (`None`: fired, cancelled or unknown).
    #[inline]
    pub(crate) fn remove(&mut self, id: &TimerId) -> Option<TimerEntry<T>> {
        let i = self.find(*id)?;
        let entry = self.entries[i].1.take()?;
        self.pending -= 1;
        if self.pending == 0 {
            self.entries.clear();
        } else if self.entries.len() > 2 * self.pending + 8 {
            self.entries.retain(|(_, e)| e.is_some());
        }
        Some(entry)
    }

    /// Forgets every timer (a crash).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.pending = 0;
    }

    /// The pending timers, by increasing id.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&TimerId, &mut TimerEntry<T>)> {
        (self.entries.iter_mut()).filter_map(|(id, e)| e.as_mut().map(|e| (&*id, e)))
    }

    /// How many timers are pending.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.pending
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::rng::{SimRng, StreamLabel};

    fn entry(n: u64) -> TimerEntry<u64> {
        TimerEntry {
            deadline: LocalTime(n as i64),
            fire_at: SimTime(n),
            timer: n,
        }
    }

    /// Random sets, removals (of pending, removed and unknown ids), lookups and clears behave
    /// exactly as a `BTreeMap` does, and the pending timers are visited in id order.
    #[test]
    fn behaves_as_an_ordered_map() {
        let mut rng = SimRng::new(9, StreamLabel::Custom(0));
        let mut timers = Timers::default();
        let mut model: BTreeMap<TimerId, u64> = BTreeMap::new();
        let mut next = 0u64;
        let mut largest = 0;
        for step in 0..40_000u64 {
            match rng.below(100) {
                // Phases with more sets than removals, and the reverse, so that the number of
                // pending timers rises into the hundreds and falls back to zero.
                r if r < if step % 8_000 < 4_000 { 60 } else { 35 } => {
                    next += 1 + rng.below(3);
                    timers.insert(TimerId(next), entry(next));
                    model.insert(TimerId(next), next);
                }
                r if r < 97 => {
                    let id = TimerId(rng.below(next + 2));
                    let got = timers.remove(&id).map(|e| e.timer);
                    assert_eq!(got, model.remove(&id), "remove {id:?} at step {step}");
                }
                r if r < 99 => {
                    let id = TimerId(rng.below(next + 2));
                    let got = timers.get_mut(&id).map(|e| {
                        e.fire_at = SimTime(e.fire_at.0 + 1);
                        e.timer
                    });
                    assert_eq!(got, model.get(&id).copied(), "get {id:?}");
                }
                _ => {
                    timers.clear();
                    model.clear();
                }
            }
            assert_eq!(timers.len(), model.len());
            largest = largest.max(model.len());
            assert!(
                timers.entries.len() <= 2 * timers.len() + 8,
                "removed timers are compacted away"
            );
        }
        assert!(
            largest > 100,
            "the test reached {largest} pending timers only"
        );
        let visited: Vec<(TimerId, u64)> =
            timers.iter_mut().map(|(id, e)| (*id, e.timer)).collect();
        let want: Vec<(TimerId, u64)> = model.into_iter().collect();
        assert_eq!(visited, want);
    }

    #[test]
    fn a_node_that_resets_one_timer_never_grows() {
        let mut timers = Timers::default();
        timers.insert(TimerId(1), entry(1));
        for id in 2..1_000 {
            assert!(timers.remove(&TimerId(id - 1)).is_some());
            timers.insert(TimerId(id), entry(id));
        }
        assert_eq!(timers.entries.len(), 1);
        assert!(timers.remove(&TimerId(998)).is_none(), "already removed");
        assert_eq!(timers.get_mut(&TimerId(999)).map(|e| e.timer), Some(999));
    }
}
