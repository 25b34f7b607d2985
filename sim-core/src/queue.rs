//! The event queue: a binary min-heap (std's `BinaryHeap`) of 16-byte keys, with the events
//! themselves in a slab beside it.
//!
//! A key is one `u128`: the event's time in the high 64 bits, then its sequence number
//! (`SEQ_BITS`), then the slab slot that holds the event (`SLOT_BITS`). Comparing keys
//! compares `(time, seq)` — the slot never decides, since sequence numbers are unique — so
//! ties are broken by scheduling order. Keeping the events out of the heap makes each sift
//! step move 16 bytes instead of a whole event (48 bytes before), and keeps the heap small in
//! cache at 10,000+ nodes; freed slots are reused last-in first-out, so the slab stays warm.
//! The slab is bounded (at most [`QUEUED_MAX`] events, or a lower limit the configuration
//! sets): a push past it drops the event and empties the heap, so the run loop finds nothing
//! more to do and stops at once, and [`EventQueue::overflowed`] says why. No `unsafe`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Bits of a key given to the sequence number.
const SEQ_BITS: u32 = 40;
/// Bits of a key given to the slab slot.
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u128 = (1 << SLOT_BITS) - 1;

/// The largest sequence number a queued event may have: about 1.1 × 10¹² events and messages
/// in one run (hours of simulation at tens of millions of events per second).
pub(crate) const SEQ_MAX: u64 = (1 << SEQ_BITS) - 1;
/// Most events queued at once (16,777,216): the limit on the queue's memory, and the default
/// of [`crate::SimConfig::queued_max`].
pub const QUEUED_MAX: usize = 1 << SLOT_BITS;

/// One item taken from the queue, with its ordering key.
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
        (self.key >> SLOT_BITS) as u64 & SEQ_MAX
    }
}

/// A heap key, ordered in reverse: `BinaryHeap` is a max-heap and the earliest key must come
/// out first.
#[derive(PartialEq, Eq)]
struct Key(u128);

impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.cmp(&self.0)
    }
}

/// A min-heap of events ordered by `(time, seq)`.
pub(crate) struct EventQueue<T> {
    heap: BinaryHeap<Key>,
    /// The queued events; `None` in a free slot.
    slots: Vec<Option<T>>,
    /// Free slots, the most recently freed last.
    free: Vec<u32>,
    /// Most events queued at once (at most [`QUEUED_MAX`]).
    limit: usize,
    /// A push found the queue full: its event was dropped and the heap emptied.
    overflowed: bool,
}

impl<T> EventQueue<T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            slots: Vec::with_capacity(n),
            free: Vec::with_capacity(n),
            limit: QUEUED_MAX,
            overflowed: false,
        }
    }

    /// Holds at most `limit` events at once (capped at [`QUEUED_MAX`]).
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit.min(QUEUED_MAX);
    }

    /// Whether a push found the queue full (see the module comment).
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The queued items, in no particular order.
    pub(crate) fn items(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten()
    }

    /// The earliest entry's time.
    #[inline]
    pub(crate) fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|k| (k.0 >> 64) as u64)
    }

    /// Queues `item` at `time` with sequence number `seq`.
    ///
    /// When the queue is full the event is dropped and the heap emptied (see the module
    /// comment).
    ///
    /// # Panics
    ///
    /// When `seq` is above [`SEQ_MAX`].
    #[inline(always)]
    pub(crate) fn push(&mut self, time: u64, seq: u64, item: T) {
        assert!(
            seq <= SEQ_MAX,
            "event sequence number {seq} above SEQ_MAX {SEQ_MAX}"
        );
        let slot = match self.free.pop() {
            Some(s) => {
                // A free slot holds `None`: forgetting it skips the drop code of a `T`.
                let old = self.slots[s as usize].replace(item);
                debug_assert!(old.is_none(), "slot {s} was free");
                std::mem::forget(old);
                s
            }
            None => match self.grow(item) {
                Some(s) => s,
                None => return,
            },
        };
        self.heap.push(Key((u128::from(time) << 64)
            | (u128::from(seq) << SLOT_BITS)
            | u128::from(slot)));
    }

    /// A new slot for `item` when none is free; `None` (and the queue emptied) when the slab
    /// is at its limit.
    #[cold]
    fn grow(&mut self, item: T) -> Option<u32> {
        let slot = self.slots.len();
        if slot >= self.limit {
            self.overflowed = true;
            self.heap.clear();
            return None;
        }
        self.slots.push(Some(item));
        Some(slot as u32)
    }

    /// Removes and returns the earliest entry.
    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<Entry<T>> {
        let key = self.heap.pop()?.0;
        let slot = (key & SLOT_MASK) as u32;
        let item = self.slots[slot as usize]
            .take()
            .expect("a queued key has its event");
        self.free.push(slot);
        Some(Entry { key, item })
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
        let mut queued: Vec<u64> = q.items().copied().collect();
        queued.sort_unstable();
        let mut want_items: Vec<u64> = expect.iter().map(|&(_, seq)| seq).collect();
        want_items.sort_unstable();
        assert_eq!(
            queued, want_items,
            "items() lists exactly the queued events"
        );
        for want in expect {
            let e = q.pop().unwrap();
            assert_eq!((e.time(), e.seq()), want);
        }
        assert!(q.pop().is_none());
        assert_eq!(q.items().count(), 0);
    }

    #[test]
    fn freed_slots_are_reused() {
        let mut q = EventQueue::with_capacity(0);
        for seq in 0..4 {
            q.push(10, seq, seq);
        }
        for _ in 0..1_000u64 {
            let e = q.pop().unwrap();
            q.push(e.time() + 1, e.seq() + 4, e.item + 4);
        }
        assert_eq!(q.slots.len(), 4, "a steady queue never grows its slab");
    }

    #[test]
    fn a_full_queue_drops_the_push_and_empties() {
        let mut q = EventQueue::with_capacity(0);
        q.set_limit(3);
        for seq in 0..3 {
            q.push(10 + seq, seq, seq);
        }
        assert!(!q.overflowed());
        // A freed slot is reused: popping one makes room for one more.
        let e = q.pop().unwrap();
        q.push(20, 3, e.item);
        assert!(!q.overflowed());
        q.push(30, 4, 4);
        assert!(q.overflowed(), "the fourth event at once is one too many");
        assert_eq!(q.peek_time(), None, "the run loop sees an empty queue");
        assert!(q.pop().is_none());
        q.push(40, 5, 5);
        assert_eq!(
            q.peek_time(),
            None,
            "it stays empty: the slab is still full"
        );
        assert_eq!(q.items().count(), 3, "the queued events are still counted");
    }

    #[test]
    fn the_limit_is_capped() {
        let mut q = EventQueue::<()>::with_capacity(0);
        q.set_limit(usize::MAX);
        assert_eq!(q.limit, QUEUED_MAX);
    }

    #[test]
    #[should_panic(expected = "above SEQ_MAX")]
    fn sequence_numbers_are_bounded() {
        let mut q = EventQueue::with_capacity(0);
        q.push(0, SEQ_MAX + 1, ());
    }
}
