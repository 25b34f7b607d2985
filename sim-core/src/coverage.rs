//! Coverage: the situations a run reached — "sometimes" assertions in the manner of
//! Antithesis's `Sometimes` and FoundationDB's `CODE_PROBE`.
//!
//! A protocol names an interesting situation when it happens, through its `Context`:
//! `ctx.reached("vote denied for a stale log")`, or `ctx.sometimes(cond, "…")`, which also
//! records that the situation was *possible* here (evaluated) even when `cond` is false. The
//! engine marks fault-level situations itself ([`engine`]: a leader crashed, a message held for
//! a paused node, …), asking the process [`Process::leads`](crate::Process::leads)
//! where it needs to know who leads.
//!
//! Coverage is a side record: it is never folded into the trace hash and nothing in a run reads
//! it, so adding a `reached` to a protocol never changes a run (the pinned hashes prove it).
//! A run's [`Coverage`] is in [`RunResult::coverage`](crate::RunResult::coverage) for checks
//! and reports; a sweep adds up, per situation, the seeds that reached it.

use std::collections::BTreeMap;

use crate::ids::NodeId;
use crate::time::SimTime;

/// One situation's record in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// How many times it was reached (0: only evaluated by a `sometimes` that was false, or by
    /// the engine where it could have happened).
    pub count: u64,
    /// When and where it was first reached (`None` for the node: the engine's, not a node's).
    pub first: Option<(SimTime, Option<NodeId>)>,
}

/// The situations of one run, by name (in name order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    hits: BTreeMap<&'static str, Hit>,
}

impl Coverage {
    /// Records that `name` was reached at `time` (on `node`, if a node's).
    #[inline]
    pub fn reach(&mut self, name: &'static str, time: SimTime, node: Option<NodeId>) {
        let hit = self.hits.entry(name).or_insert(Hit {
            count: 0,
            first: None,
        });
        hit.count += 1;
        if hit.first.is_none() {
            hit.first = Some((time, node));
        }
    }

    /// Records that `name` could have been reached here (a `sometimes` whose condition was
    /// false): it then counts as evaluated, so a sweep names it if no seed reaches it.
    #[inline]
    pub fn evaluate(&mut self, name: &'static str) {
        self.hits.entry(name).or_insert(Hit {
            count: 0,
            first: None,
        });
    }

    /// `reach` when `cond`, else `evaluate`.
    #[inline]
    pub fn sometimes(
        &mut self,
        cond: bool,
        name: &'static str,
        time: SimTime,
        node: Option<NodeId>,
    ) {
        if cond {
            self.reach(name, time, node);
        } else {
            self.evaluate(name);
        }
    }

    /// Whether `name` was reached at least once.
    pub fn is_reached(&self, name: &str) -> bool {
        self.hit(name).is_some_and(|h| h.count > 0)
    }

    /// The record of `name`, if it was reached or evaluated.
    pub fn hit(&self, name: &str) -> Option<&Hit> {
        self.hits.get(name)
    }

    /// Every situation reached or evaluated, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Hit)> + '_ {
        self.hits.iter().map(|(k, v)| (*k, v))
    }

    /// The situations reached at least once, in name order.
    pub fn reached(&self) -> impl Iterator<Item = (&'static str, &Hit)> + '_ {
        self.iter().filter(|(_, h)| h.count > 0)
    }
}

/// The situations the engine marks by itself, for every protocol. The ones about a leader are
/// marked only for a protocol whose nodes answer [`Process::leads`](crate::Process::leads)
/// with `Some`, the one about a lease only for one answering
/// [`Process::holds_lease`](crate::Process::holds_lease) with `Some`.
pub mod engine {
    /// A crash hit the node that believed it led.
    pub const LEADER_CRASHED: &str = "leader crashed";
    /// A pause froze the node that believed it led.
    pub const LEADER_PAUSED: &str = "leader paused";
    /// A partition began that cut the node that believed it led from at least one other node.
    pub const LEADER_PARTITIONED: &str = "leader partitioned";
    /// The clock of the node that believed it led was stepped.
    pub const CLOCK_JUMP_ON_LEADER: &str = "clock jump on the leader";
    /// A node's clock was stepped while it held a lease measured by that clock.
    pub const CLOCK_JUMP_UNDER_LEASE: &str = "clock jump under a lease";
    /// A message reached a paused node and was held until it resumed.
    pub const MESSAGE_TO_PAUSED: &str = "message held for a paused node";
    /// A message reached a crashed node and was dropped.
    pub const MESSAGE_TO_CRASHED: &str = "message to a crashed node";
    /// A crash lost writes that had not been synced.
    pub const UNSYNCED_WRITES_LOST: &str = "unsynced writes lost in a crash";
    /// A crashed node restarted and recovered from its storage.
    pub const NODE_RECOVERED: &str = "node restarted from storage";
    /// A network copy of a message was delivered besides the original.
    pub const DUPLICATE_DELIVERED: &str = "duplicate message delivered";
    /// A message was held back by a clogged link and released later in a burst.
    pub const CLOGGED_RELEASED: &str = "clogged message released";
    /// A replay fault sent an already-delivered message again.
    pub const MESSAGE_REPLAYED: &str = "message replayed";

    /// Every situation the engine may mark, in the order reports list them.
    pub const ALL: &[&str] = &[
        LEADER_CRASHED,
        LEADER_PAUSED,
        LEADER_PARTITIONED,
        CLOCK_JUMP_ON_LEADER,
        CLOCK_JUMP_UNDER_LEASE,
        MESSAGE_TO_PAUSED,
        MESSAGE_TO_CRASHED,
        UNSYNCED_WRITES_LOST,
        NODE_RECOVERED,
        DUPLICATE_DELIVERED,
        CLOGGED_RELEASED,
        MESSAGE_REPLAYED,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach_counts_and_keeps_the_first() {
        let mut c = Coverage::default();
        c.evaluate("b");
        assert!(!c.is_reached("b"));
        c.sometimes(false, "a", SimTime(1), None);
        c.sometimes(true, "a", SimTime(5), Some(NodeId(2)));
        c.reach("a", SimTime(9), Some(NodeId(1)));
        let a = c.hit("a").expect("reached");
        assert_eq!(a.count, 2);
        assert_eq!(a.first, Some((SimTime(5), Some(NodeId(2)))));
        assert_eq!(c.reached().map(|(n, _)| n).collect::<Vec<_>>(), ["a"]);
        assert_eq!(c.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["a", "b"]);
        assert!(c.hit("c").is_none());
    }
}
