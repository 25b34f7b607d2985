//! Emptied containers kept from one simulated node for the next on the same thread: a sweep
//! runs seed after seed, and a node's log or storage run grows from empty to about the same
//! length every seed (a restarted node rebuilds it too), each doubling copying it all —
//! about 1% of a Raft sweep's instructions each for Raft's log and the storage's run. A
//! dropped owner hands its container to the pool with [`give_back`]; a new one takes one of
//! the same type with [`take`].
//!
//! Only capacity is carried over: a container is cleared before it is kept, so no run
//! depends on what ran before it on the thread. A protocol of its own crate may use it the
//! same way for its large per-node vectors.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;

/// At most this many containers are kept, of all types together (a sweep's scenario has a
/// handful of nodes).
const KEPT: usize = 16;

thread_local! {
    static KEPT_ONES: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// A container whose capacity can outlive its contents.
pub trait Reusable: Default + 'static {
    /// Its capacity, in elements.
    fn capacity(&self) -> usize;
    /// Removes every element, keeping the capacity.
    fn clear(&mut self);
}

impl<T: 'static> Reusable for Vec<T> {
    fn capacity(&self) -> usize {
        Vec::capacity(self)
    }
    fn clear(&mut self) {
        Vec::clear(self)
    }
}

impl<T: 'static> Reusable for VecDeque<T> {
    fn capacity(&self) -> usize {
        VecDeque::capacity(self)
    }
    fn clear(&mut self) {
        VecDeque::clear(self)
    }
}

/// An empty container, with the capacity of one of its type given back on this thread if
/// there is one.
pub fn take<C: Reusable>() -> C {
    KEPT_ONES
        .try_with(|k| {
            let mut k = k.borrow_mut();
            let i = k.iter().rposition(|b| b.is::<C>())?;
            k.swap_remove(i).downcast::<C>().ok().map(|b| *b)
        })
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps `c`'s capacity (not its contents) for the next [`take`] of its type on this thread.
pub fn give_back<C: Reusable>(mut c: C) {
    if c.capacity() == 0 {
        return;
    }
    c.clear();
    // During the thread's teardown the pool may be gone: the container is then dropped.
    let _ = KEPT_ONES.try_with(|k| {
        let mut k = k.borrow_mut();
        if k.len() < KEPT {
            k.push(Box::new(c));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_container_comes_back_empty_with_its_capacity_and_only_for_its_type() {
        // Drain whatever other tests on this thread left.
        while take::<VecDeque<(u8, i16)>>().capacity() > 0 {}
        while take::<Vec<(u8, i16)>>().capacity() > 0 {}
        let mut d: VecDeque<(u8, i16)> = VecDeque::with_capacity(300);
        d.push_back((1, 2));
        give_back(d);
        assert_eq!(
            take::<VecDeque<(u8, i32)>>().capacity(),
            0,
            "another element type's is not reused"
        );
        assert_eq!(
            take::<Vec<(u8, i16)>>().capacity(),
            0,
            "another container's is not reused"
        );
        let again = take::<VecDeque<(u8, i16)>>();
        assert!(again.is_empty());
        assert!(again.capacity() >= 300);
        assert_eq!(
            take::<VecDeque<(u8, i16)>>().capacity(),
            0,
            "the pool gave it away"
        );
        let mut v = Vec::with_capacity(500);
        v.push((7u8, 9i16));
        give_back(v);
        let again = take::<Vec<(u8, i16)>>();
        assert!(again.is_empty() && again.capacity() >= 500);
        for _ in 0..KEPT + 3 {
            give_back(Vec::<(u8, i16)>::with_capacity(4));
        }
        let mut n = 0;
        while take::<Vec<(u8, i16)>>().capacity() > 0 {
            n += 1;
        }
        assert_eq!(n, KEPT, "the pool is bounded");
    }
}
