//! The storage run's deques kept from one node's store for the next on the same thread: a
//! sweep runs seed after seed, each node's run (Raft's log records, Paxos's slots) grows
//! from empty to about the same length every seed, and each doubling copies it — about 1% of
//! a Raft sweep's instructions. A dropped store hands its (emptied) deque to the pool; a new
//! store takes one of its type.
//!
//! Only capacity is carried over: a deque is cleared before it is kept, so no run depends on
//! what ran before it on the thread.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;

/// At most this many deques are kept (a sweep's scenario has a handful of nodes).
const KEPT: usize = 16;

thread_local! {
    static RUNS: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// An empty deque, with the capacity of one of its type a dropped store returned if any.
pub(super) fn run<T: 'static>() -> VecDeque<T> {
    RUNS.try_with(|r| {
        let mut r = r.borrow_mut();
        let i = r.iter().rposition(|b| b.is::<VecDeque<T>>())?;
        r.swap_remove(i).downcast::<VecDeque<T>>().ok().map(|b| *b)
    })
    .ok()
    .flatten()
    .unwrap_or_default()
}

/// Keeps `run`'s capacity for the next store on this thread.
pub(super) fn give_back<T: 'static>(mut run: VecDeque<T>) {
    if run.capacity() == 0 {
        return;
    }
    run.clear();
    // During the thread's teardown the pool may be gone: the deque is then simply dropped.
    let _ = RUNS.try_with(|r| {
        let mut r = r.borrow_mut();
        if r.len() < KEPT {
            r.push(Box::new(run));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_run_comes_back_empty_with_its_capacity_and_only_for_its_type() {
        while run::<(u8, i16)>().capacity() > 0 {}
        let mut d: VecDeque<(u8, i16)> = VecDeque::with_capacity(300);
        d.push_back((1, 2));
        give_back(d);
        assert_eq!(
            run::<(u8, i32)>().capacity(),
            0,
            "another type's is not reused"
        );
        let again = run::<(u8, i16)>();
        assert!(again.is_empty());
        assert!(again.capacity() >= 300);
        assert_eq!(run::<(u8, i16)>().capacity(), 0, "the pool gave it away");
        for _ in 0..KEPT + 3 {
            give_back(VecDeque::<(u8, i16)>::with_capacity(4));
        }
        let mut n = 0;
        while run::<(u8, i16)>().capacity() > 0 {
            n += 1;
        }
        assert!(n <= KEPT, "the pool is bounded");
    }
}
