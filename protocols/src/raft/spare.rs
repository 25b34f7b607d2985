//! Log vectors kept from one Raft node for the next on the same thread: a sweep runs seed
//! after seed, each node's log grows from empty to about the same length every seed (and a
//! restarted node rebuilds its log), and each doubling copies the whole log — about 1% of a
//! Raft sweep's instructions. A dropped node hands its (emptied) log to the pool; a new node
//! takes one.
//!
//! Only capacity is carried over: a vector is cleared before it is kept, so no run depends on
//! what ran before it on the thread.

use std::cell::RefCell;

use super::types::Entry;

/// At most this many logs are kept (a sweep's scenario has a handful of nodes).
const KEPT: usize = 16;

thread_local! {
    static LOGS: RefCell<Vec<Vec<Entry>>> = const { RefCell::new(Vec::new()) };
}

/// An empty log, with the capacity of one a dropped node returned if there is one.
pub(super) fn log() -> Vec<Entry> {
    LOGS.try_with(|l| l.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps `log`'s capacity for the next node on this thread.
pub(super) fn give_back(mut log: Vec<Entry>) {
    if log.capacity() == 0 {
        return;
    }
    log.clear();
    // During the thread's teardown the pool may be gone: the log is then simply dropped.
    let _ = LOGS.try_with(|l| {
        let mut l = l.borrow_mut();
        if l.len() < KEPT {
            l.push(log);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::types::Command;

    #[test]
    fn a_returned_log_comes_back_empty_with_its_capacity() {
        // Drain whatever other tests on this thread left.
        while log().capacity() > 0 {}
        let mut l = Vec::with_capacity(500);
        l.push(Entry {
            term: 3,
            command: Command::Noop,
        });
        give_back(l);
        let again = log();
        assert!(again.is_empty());
        assert!(again.capacity() >= 500);
        assert_eq!(log().capacity(), 0, "the pool was emptied");
        for _ in 0..KEPT + 4 {
            give_back(Vec::with_capacity(8));
        }
        let mut n = 0;
        while log().capacity() > 0 {
            n += 1;
        }
        assert_eq!(n, KEPT, "the pool is bounded");
    }
}
