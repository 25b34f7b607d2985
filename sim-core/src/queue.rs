//! The event queue: a binary min-heap (std's `BinaryHeap`) of 16-byte keys, with the events
//! themselves in two slabs beside it — one for events that have a compact form (a
//! node-to-node message: [`Compact`]), one for the rest.
//!
//! A key is one `u128`: the event's time in the high 64 bits, then its sequence number
//! (`SEQ_BITS`), one bit that says which slab holds the event, then its slot in that slab
//! (`SLOT_BITS`). Comparing keys compares `(time, seq)` — the slab bit and the slot never
//! decide, since sequence numbers are unique — so ties are broken by scheduling order.
//! Keeping the events out of the heap makes each sift step move 16 bytes instead of a whole
//! event, and keeps the heap small in cache at 10,000+ nodes. The compact slab exists for the
//! same reason: a message of two node ids and an 8-byte payload takes 16 bytes there (four
//! to a cache line, never straddling two) where the event type takes 24, so the slot a pop
//! reads costs one line, and the slab of 40,000 messages in flight takes 640 KB instead of
//! 960 KB. Freed slots are reused last-in first-out, so each slab stays warm. The slabs are
//! bounded together (at most [`QUEUED_MAX`] events, or a lower limit the configuration sets):
//! a push past it drops the event and empties the heap, so the run loop finds nothing more to
//! do and stops at once, and [`EventQueue::overflowed`] says why. No `unsafe`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Bits of a key given to the sequence number.
const SEQ_BITS: u32 = 39;
/// Bits of a key given to a slab slot.
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u128 = (1 << SLOT_BITS) - 1;
/// The key bit set when the event is in the compact slab (just above the slot).
const COMPACT_BIT: u128 = 1 << SLOT_BITS;
/// Where the sequence number starts in a key.
const SEQ_SHIFT: u32 = SLOT_BITS + 1;

/// The largest sequence number a queued event may have: about 5.5 × 10¹¹ events and messages
/// in one run (hours of simulation at tens of millions of events per second).
pub(crate) const SEQ_MAX: u64 = (1 << SEQ_BITS) - 1;
/// Most events queued at once (16,777,216): the limit on the queue's memory, and the default
/// of [`crate::SimConfig::queued_max`].
pub const QUEUED_MAX: usize = 1 << SLOT_BITS;

/// An event that may have a smaller form to wait in the queue as.
pub(crate) trait Compact: Sized {
    /// The compact form.
    type Small;
    /// The compact form of `self`, or `self` back when it has none.
    fn compact(self) -> Result<Self::Small, Self>;
    /// The event a compact form stands for: `expand(compact(e)?)` is `e`.
    #[cfg(test)]
    fn expand(small: Self::Small) -> Self;
}

/// One item taken from the queue, with its ordering key.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Entry<T> {
    key: u128,
    pub(crate) item: T,
}

#[cfg(test)]
impl<T> Entry<T> {
    #[inline]
    pub(crate) fn time(&self) -> u64 {
        key_time(self.key)
    }
    #[inline]
    pub(crate) fn seq(&self) -> u64 {
        key_seq(self.key)
    }
}

/// A heap key's time (its high 64 bits).
#[inline]
fn key_time(key: u128) -> u64 {
    (key >> 64) as u64
}

/// A heap key's sequence number.
#[inline]
fn key_seq(key: u128) -> u64 {
    (key >> SEQ_SHIFT) as u64 & SEQ_MAX
}

/// The key of an entry [`EventQueue::pop_key`] removed: its time and sequence number, and
/// where its event still is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Popped {
    key: u128,
}

impl Popped {
    #[inline]
    pub(crate) fn time(&self) -> u64 {
        key_time(self.key)
    }
    #[inline]
    pub(crate) fn seq(&self) -> u64 {
        key_seq(self.key)
    }
    /// Whether the event waits in its compact form.
    #[inline]
    pub(crate) fn is_compact(&self) -> bool {
        self.key & COMPACT_BIT != 0
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

/// Queued items in numbered slots; `None` in a free slot.
struct Slab<T> {
    slots: Vec<Option<T>>,
    /// Free slots, the most recently freed last.
    free: Vec<u32>,
}

impl<T> Slab<T> {
    fn with_capacity(n: usize) -> Self {
        Slab {
            slots: Vec::with_capacity(n),
            free: Vec::with_capacity(n),
        }
    }

    /// How many items the slab holds.
    fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Stores `item` in a free slot and returns the slot, or gives `item` back when none is
    /// free.
    #[inline(always)]
    fn put(&mut self, item: T) -> Result<u32, T> {
        match self.free.pop() {
            Some(s) => {
                // A free slot holds `None`: forgetting it skips the drop code of a `T`.
                let old = self.slots[s as usize].replace(item);
                debug_assert!(old.is_none(), "slot {s} was free");
                std::mem::forget(old);
                Ok(s)
            }
            None => Err(item),
        }
    }

    /// Stores `item` in a new slot; `None` when `used` slots (this slab's and the other's)
    /// have reached `limit`.
    #[cold]
    fn grow(&mut self, item: T, used: usize, limit: usize) -> Option<u32> {
        if used >= limit {
            return None;
        }
        self.slots.push(Some(item));
        Some((self.slots.len() - 1) as u32)
    }

    /// Takes the item out of `slot` and frees it.
    #[inline(always)]
    fn take(&mut self, slot: u32) -> T {
        let item = self.slots[slot as usize]
            .take()
            .expect("a queued key has its event");
        self.free.push(slot);
        item
    }
}

/// A min-heap of events ordered by `(time, seq)`.
pub(crate) struct EventQueue<T: Compact> {
    heap: BinaryHeap<Key>,
    /// The events queued in their compact form.
    small: Slab<T::Small>,
    /// The other events.
    big: Slab<T>,
    /// Most events queued at once (at most [`QUEUED_MAX`]).
    limit: usize,
    /// A push found the queue full: its event was dropped and the heap emptied.
    overflowed: bool,
}

impl<T: Compact> EventQueue<T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            small: Slab::with_capacity(n),
            big: Slab::with_capacity(n),
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

    /// How many events are queued in their compact form.
    pub(crate) fn compact_len(&self) -> usize {
        self.small.len()
    }

    /// The queued events that have no compact form, in no particular order.
    pub(crate) fn others(&self) -> impl Iterator<Item = &T> {
        self.big.slots.iter().flatten()
    }

    /// The earliest entry's time.
    #[inline]
    pub(crate) fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|k| key_time(k.0))
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
        let slot = match item.compact() {
            Ok(small) => match self.small.put(small) {
                Ok(s) => COMPACT_BIT | u128::from(s),
                Err(small) => match self.small.grow(small, self.used(), self.limit) {
                    Some(s) => COMPACT_BIT | u128::from(s),
                    None => return self.overflow(),
                },
            },
            Err(item) => match self.big.put(item) {
                Ok(s) => u128::from(s),
                Err(item) => match self.big.grow(item, self.used(), self.limit) {
                    Some(s) => u128::from(s),
                    None => return self.overflow(),
                },
            },
        };
        self.heap.push(Key((u128::from(time) << 64)
            | (u128::from(seq) << SEQ_SHIFT)
            | slot));
    }

    /// Slots taken in both slabs, free or not.
    fn used(&self) -> usize {
        self.small.slots.len() + self.big.slots.len()
    }

    /// The slabs are full: the event was dropped; empty the heap.
    #[cold]
    fn overflow(&mut self) {
        self.overflowed = true;
        self.heap.clear();
    }

    /// Queues the compact form of an event at `time` with sequence number `seq`: what
    /// [`EventQueue::push`] does with an event whose `compact()` gives `small`, without
    /// building the event first (the payload is moved once, into its slot).
    ///
    /// # Panics
    ///
    /// When `seq` is above [`SEQ_MAX`].
    #[inline(always)]
    pub(crate) fn push_compact(&mut self, time: u64, seq: u64, small: T::Small) {
        assert!(
            seq <= SEQ_MAX,
            "event sequence number {seq} above SEQ_MAX {SEQ_MAX}"
        );
        let slot = match self.small.put(small) {
            Ok(s) => s,
            Err(small) => match self.small.grow(small, self.used(), self.limit) {
                Some(s) => s,
                None => return self.overflow(),
            },
        };
        self.heap.push(Key((u128::from(time) << 64)
            | (u128::from(seq) << SEQ_SHIFT)
            | COMPACT_BIT
            | u128::from(slot)));
    }

    /// Removes and returns the earliest entry.
    #[cfg(test)]
    pub(crate) fn pop(&mut self) -> Option<Entry<T>> {
        let popped = self.pop_key()?;
        let item = if popped.is_compact() {
            T::expand(self.take_compact(popped))
        } else {
            self.take_other(popped)
        };
        Some(Entry {
            key: popped.key,
            item,
        })
    }

    /// Removes the earliest entry's key; its event stays in its slab until
    /// [`EventQueue::take_compact`] or [`EventQueue::take_other`] (as [`Popped::is_compact`]
    /// says) takes it, which must come before the next push.
    #[inline(always)]
    pub(crate) fn pop_key(&mut self) -> Option<Popped> {
        self.heap.pop().map(|k| Popped { key: k.0 })
    }

    /// Takes the compact form of the event `pop_key` just removed out of its slab, so that the
    /// caller can use its parts without building the event.
    #[inline(always)]
    pub(crate) fn take_compact(&mut self, popped: Popped) -> T::Small {
        debug_assert!(popped.is_compact());
        self.small.take((popped.key & SLOT_MASK) as u32)
    }

    /// Takes the event `pop_key` just removed, one queued whole, out of its slab.
    #[inline(always)]
    pub(crate) fn take_other(&mut self, popped: Popped) -> T {
        debug_assert!(!popped.is_compact());
        self.big.take((popped.key & SLOT_MASK) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{SimRng, StreamLabel};
    use std::collections::BTreeMap;

    /// A test event: `Small` has a compact form (its number, when even), `Big` has none.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Item {
        Small(u64),
        Big(Box<u64>),
    }

    impl Compact for Item {
        type Small = u64;
        fn compact(self) -> Result<u64, Item> {
            match self {
                Item::Small(v) if v % 2 == 0 => Ok(v),
                other => Err(other),
            }
        }
        fn expand(v: u64) -> Item {
            Item::Small(v)
        }
    }

    fn item(rng: &mut SimRng, seq: u64) -> Item {
        if rng.below(3) == 0 {
            Item::Big(Box::new(seq))
        } else {
            Item::Small(seq)
        }
    }

    /// The queued events as the reference sees them and as the queue does, both sorted.
    fn contents(q: &EventQueue<Item>, model: &BTreeMap<(u64, u64), Item>) {
        let compact = model
            .values()
            .filter(|i| matches!(i, Item::Small(v) if v % 2 == 0))
            .count();
        assert_eq!(q.compact_len(), compact);
        let number = |i: &Item| match i {
            Item::Small(v) => *v,
            Item::Big(v) => **v,
        };
        let mut others: Vec<Item> = q.others().cloned().collect();
        others.sort_by_key(number);
        let mut want: Vec<Item> = model
            .values()
            .filter(|i| Item::compact((*i).clone()).is_err())
            .cloned()
            .collect();
        want.sort_by_key(number);
        assert_eq!(others, want, "others() lists exactly the queued big events");
    }

    /// The queue against a sorted map keyed by `(time, seq)`: same pops, same contents, over
    /// a run of pushes (`push` and `push_compact`) and pops of both kinds with many ties in
    /// time.
    #[test]
    fn matches_a_sorted_map() {
        for seed in 0..4 {
            let mut q = EventQueue::with_capacity(0);
            let mut model = BTreeMap::new();
            let mut rng = SimRng::new(seed, StreamLabel::Custom(0));
            let mut now = 0;
            for seq in 0..20_000u64 {
                // Pop about as often as push, in bursts, as a run does.
                if rng.below(2) == 0 {
                    let e = q.pop().map(|e| ((e.time(), e.seq()), e.item));
                    let want = model.pop_first();
                    if let Some(((t, _), _)) = e {
                        now = t;
                    }
                    assert_eq!(e, want);
                }
                let t = now + rng.below(50);
                let it = item(&mut rng, seq);
                // Half the events with a compact form go in through `push_compact`.
                match it.clone().compact() {
                    Ok(small) if rng.below(2) == 0 => q.push_compact(t, seq, small),
                    _ => q.push(t, seq, it.clone()),
                }
                model.insert((t, seq), it);
                assert_eq!(q.peek_time(), model.keys().next().map(|k| k.0));
                if seq % 4_999 == 0 {
                    contents(&q, &model);
                }
            }
            contents(&q, &model);
            while let Some((k, w)) = model.pop_first() {
                let e = q.pop().expect("the model has more");
                assert_eq!(((e.time(), e.seq()), e.item), (k, w));
            }
            assert!(q.pop().is_none());
            assert_eq!(q.compact_len() + q.others().count(), 0);
        }
    }

    #[test]
    fn freed_slots_are_reused() {
        let mut q = EventQueue::with_capacity(0);
        for seq in 0..4 {
            q.push(10, 2 * seq, Item::Small(2 * seq));
            q.push(10, 2 * seq + 1, Item::Big(Box::new(seq)));
        }
        for _ in 0..1_000u64 {
            let e = q.pop().unwrap();
            let (time, seq) = (e.time(), e.seq());
            let next = match e.item {
                Item::Small(v) => Item::Small(v + 8),
                Item::Big(v) => Item::Big(Box::new(*v + 4)),
            };
            q.push(time + 1, seq + 8, next);
        }
        assert_eq!(
            (q.small.slots.len(), q.big.slots.len()),
            (4, 4),
            "a steady queue never grows its slabs"
        );
    }

    #[test]
    fn a_full_queue_drops_the_push_and_empties() {
        let mut q = EventQueue::with_capacity(0);
        q.set_limit(3);
        q.push(10, 0, Item::Small(0));
        q.push(11, 1, Item::Big(Box::new(1)));
        q.push(12, 2, Item::Small(2));
        assert!(!q.overflowed());
        // A freed slot is reused: popping one makes room for one more of its kind.
        let e = q.pop().unwrap();
        q.push(20, 3, e.item);
        assert!(!q.overflowed());
        // Both slabs count toward the limit: a big event finds no free slot and no room.
        q.push(30, 4, Item::Big(Box::new(4)));
        assert!(q.overflowed(), "the fourth event at once is one too many");
        assert_eq!(q.peek_time(), None, "the run loop sees an empty queue");
        assert!(q.pop().is_none());
        q.push(40, 5, Item::Small(6));
        assert_eq!(
            q.peek_time(),
            None,
            "it stays empty: the slabs are still full"
        );
        assert_eq!(
            q.compact_len() + q.others().count(),
            3,
            "the queued events are still counted"
        );
    }

    #[test]
    fn the_limit_is_capped() {
        let mut q = EventQueue::<Item>::with_capacity(0);
        q.set_limit(usize::MAX);
        assert_eq!(q.limit, QUEUED_MAX);
    }

    #[test]
    #[should_panic(expected = "above SEQ_MAX")]
    fn sequence_numbers_are_bounded() {
        let mut q = EventQueue::with_capacity(0);
        q.push(0, SEQ_MAX + 1, Item::Small(0));
    }
}
