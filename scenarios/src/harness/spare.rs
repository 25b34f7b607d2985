//! Buffers kept from one run for the next on the same thread: a sweep worker runs seed after
//! seed of one scenario, and each run's observation log and client history grow to about the
//! same length. Handing the previous run's (emptied) vectors to the next run saves their
//! regrowth — the copying of every element at each doubling and fresh pages each seed — which
//! was 2–3% of a protocol sweep's instructions.
//!
//! Only capacity is carried over: a buffer is cleared before reuse, so a run's result never
//! depends on what ran before it on the thread.

use std::any::Any;
use std::cell::RefCell;

use sim_core::{Observed, Operation};

thread_local! {
    /// The last observation log, of whichever protocol's observation type ran last.
    static OBSERVATIONS: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    /// The last client history's operations.
    static OPERATIONS: RefCell<Vec<Operation>> = const { RefCell::new(Vec::new()) };
}

/// An empty observation log, with the capacity of the last one this thread returned if it
/// held the same type.
pub(crate) fn observations<O: 'static>() -> Vec<Observed<O>> {
    OBSERVATIONS
        .with(|s| s.borrow_mut().take())
        .and_then(|b| b.downcast::<Vec<Observed<O>>>().ok())
        .map(|b| *b)
        .unwrap_or_default()
}

/// Keeps `log`'s capacity for the next run on this thread.
pub(crate) fn return_observations<O: 'static>(mut log: Vec<Observed<O>>) {
    log.clear();
    OBSERVATIONS.with(|s| *s.borrow_mut() = Some(Box::new(log)));
}

/// An empty operation list with the capacity of the last one this thread returned.
pub(crate) fn operations() -> Vec<Operation> {
    OPERATIONS.with(|s| std::mem::take(&mut *s.borrow_mut()))
}

/// Keeps `ops`'s capacity for the next run on this thread.
pub(crate) fn return_operations(mut ops: Vec<Operation>) {
    ops.clear();
    OPERATIONS.with(|s| *s.borrow_mut() = ops);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::{NodeId, SimTime};

    #[test]
    fn a_returned_log_comes_back_empty_with_its_capacity_and_only_for_its_type() {
        let mut log: Vec<Observed<u64>> = Vec::with_capacity(1000);
        log.push(Observed {
            time: SimTime(1),
            node: NodeId(0),
            value: 7,
        });
        return_observations(log);
        let again = observations::<u64>();
        assert!(again.is_empty());
        assert!(again.capacity() >= 1000);
        return_observations(again);
        assert_eq!(
            observations::<u32>().capacity(),
            0,
            "another type's log is not reused"
        );
        assert_eq!(observations::<u64>().capacity(), 0, "the slot was emptied");
    }
}
