//! The event queue: a binary min-heap of `(time, seq, item)` entries (std's `BinaryHeap`).
//!
//! Keys are compared as one `u128` (`time` in the high half, `seq` in the low half, so ties are
//! broken by scheduling order); std's heap sifts to the bottom and back up, which costs about
//! one comparison per level. No `unsafe`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One queued item with its ordering key.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    key: u128,
    pub(crate) item: T,
}

impl<T> Entry<T> {
    #[inline]
    pub(crate) fn time(&self) -> u64 {
        (self.key >> 64) as u64
    }
    #[inline]
    pub(crate) fn seq(&self) -> u64 {
        self.key as u64
    }
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Entry<T> {
    /// Reversed: `BinaryHeap` is a max-heap and the earliest key must come out first.
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        o.key.cmp(&self.key)
    }
}

/// A min-heap of entries ordered by `(time, seq)`.
pub(crate) struct EventQueue<T> {
    heap: BinaryHeap<Entry<T>>,
}

impl<T> EventQueue<T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry<T>> {
        self.heap.iter()
    }

    /// The earliest entry's time.
    #[inline]
    pub(crate) fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|e| e.time())
    }

    #[inline]
    pub(crate) fn push(&mut self, time: u64, seq: u64, item: T) {
        self.heap.push(Entry {
            key: (u128::from(time) << 64) | u128::from(seq),
            item,
        });
    }

    /// Removes and returns the earliest entry.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry<T>> {
        self.heap.pop()
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{SimRng, StreamLabel};

    #[test]
    fn pops_in_time_then_sequence_order() {
        let mut q = EventQueue::with_capacity(0);
        let mut rng = SimRng::new(1, StreamLabel::Custom(0));
        let mut expect = Vec::new();
        for seq in 0..5_000u64 {
            let t = rng.below(100);
            q.push(t, seq, seq);
            expect.push((t, seq));
            // Interleave pops with pushes, as a run does.
            if seq % 3 == 0 {
                let e = q.pop().unwrap();
                expect.sort_unstable();
                let want = expect.remove(0);
                assert_eq!((e.time(), e.seq()), want);
                assert_eq!(e.item, want.1);
            }
        }
        expect.sort_unstable();
        for want in expect {
            let e = q.pop().unwrap();
            assert_eq!((e.time(), e.seq()), want);
        }
        assert!(q.pop().is_none());
    }
}
