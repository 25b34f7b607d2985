//! The event queue: a 4-ary min-heap of `(time, seq, item)` entries.
//!
//! A run spends most of its time here, so the queue is specialised: keys are compared as one
//! `u128` (`time` in the high half, `seq` in the low half, so ties are broken by scheduling
//! order), the heap is 4-ary (half the depth of a binary heap, and the four children share a
//! cache line or two), and sifting moves a hole instead of swapping. No `unsafe`.

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

#[inline]
fn key(time: u64, seq: u64) -> u128 {
    (u128::from(time) << 64) | u128::from(seq)
}

const ARITY: usize = 4;

/// A min-heap of entries ordered by `(time, seq)`.
pub(crate) struct EventQueue<T> {
    heap: Vec<Entry<T>>,
}

impl<T> EventQueue<T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        EventQueue { heap: Vec::with_capacity(n) }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry<T>> {
        self.heap.iter()
    }

    /// The earliest entry's time.
    #[inline]
    pub(crate) fn peek_time(&self) -> Option<u64> {
        self.heap.first().map(|e| e.time())
    }

    #[inline]
    pub(crate) fn push(&mut self, time: u64, seq: u64, item: T) {
        let k = key(time, seq);
        self.heap.push(Entry { key: k, item });
        // Sift up: move parents down while they are later than the new entry.
        let mut i = self.heap.len() - 1;
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.heap[parent].key <= k {
                break;
            }
            self.heap.swap(i, parent);
            i = parent;
        }
    }

    /// Removes and returns the earliest entry.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry<T>> {
        let last = self.heap.pop()?;
        if self.heap.is_empty() {
            return Some(last);
        }
        let top = std::mem::replace(&mut self.heap[0], last);
        // Sift the moved entry down: swap with the earliest child while that child is earlier.
        let len = self.heap.len();
        let k = self.heap[0].key;
        let mut i = 0;
        loop {
            let first = i * ARITY + 1;
            if first >= len {
                break;
            }
            let end = (first + ARITY).min(len);
            let mut best = first;
            let mut best_key = self.heap[first].key;
            for c in first + 1..end {
                let ck = self.heap[c].key;
                if ck < best_key {
                    best = c;
                    best_key = ck;
                }
            }
            if best_key >= k {
                break;
            }
            self.heap.swap(i, best);
            i = best;
        }
        Some(top)
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
