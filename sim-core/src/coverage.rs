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
use std::fmt;

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
///
/// Situations are marked on hot paths (a message held for a paused node, every `sometimes` in
/// a handler), so a name is found first by its address: `recent` is a small direct-mapped
/// table from a name's address and length to its record, filled from the name-ordered index
/// on a miss. Equal names at different addresses share one record; the table only saves
/// string comparisons and never decides anything.
#[derive(Clone, Default)]
pub struct Coverage {
    /// Each situation's record in `hits`, by name.
    index: BTreeMap<&'static str, u32>,
    /// The records, in the order their situations were first named.
    hits: Vec<Hit>,
    /// `(address, length, record)` of names seen recently (address 0: empty).
    recent: [(usize, usize, u32); RECENT],
}

/// Entries of [`Coverage`]'s address table (a power of two).
const RECENT: usize = 16;

impl PartialEq for Coverage {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
impl Eq for Coverage {}

impl fmt::Debug for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Hits<'a>(&'a Coverage);
        impl fmt::Debug for Hits<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map().entries(self.0.iter()).finish()
            }
        }
        f.debug_struct("Coverage")
            .field("hits", &Hits(self))
            .finish()
    }
}

impl Coverage {
    /// The record of `name`, created (not reached) when new.
    #[inline]
    fn record(&mut self, name: &'static str) -> &mut Hit {
        let addr = name.as_ptr() as usize;
        let slot = (addr.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) % RECENT;
        let (a, len, i) = self.recent[slot];
        let i = if a == addr && len == name.len() {
            i
        } else {
            self.find(name, slot)
        };
        &mut self.hits[i as usize]
    }

    /// `record`'s index lookup, out of line: the record of `name`, remembered in `slot`.
    #[inline(never)]
    fn find(&mut self, name: &'static str, slot: usize) -> u32 {
        let hits = &mut self.hits;
        let i = *self.index.entry(name).or_insert_with(|| {
            hits.push(Hit {
                count: 0,
                first: None,
            });
            u32::try_from(hits.len() - 1).expect("fewer than 2^32 situations")
        });
        self.recent[slot] = (name.as_ptr() as usize, name.len(), i);
        i
    }

    /// Records that `name` was reached at `time` (on `node`, if a node's).
    #[inline]
    pub fn reach(&mut self, name: &'static str, time: SimTime, node: Option<NodeId>) {
        let hit = self.record(name);
        hit.count += 1;
        if hit.first.is_none() {
            hit.first = Some((time, node));
        }
    }

    /// Records that `name` could have been reached here (a `sometimes` whose condition was
    /// false): it then counts as evaluated, so a sweep names it if no seed reaches it.
    #[inline]
    pub fn evaluate(&mut self, name: &'static str) {
        self.record(name);
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
        self.index.get(name).map(|&i| &self.hits[i as usize])
    }

    /// Every situation reached or evaluated, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Hit)> + '_ {
        self.index
            .iter()
            .map(|(k, &i)| (*k, &self.hits[i as usize]))
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

    /// The address table only finds records: against a plain map of counts, through many more
    /// names than it has entries (so they collide), names that share an address, with copies of the same names at other
    /// addresses (leaked `String`s) that must share the original's record; equality and the
    /// `Debug` text do not depend on the order names were first seen.
    #[test]
    fn names_found_by_address_agree_with_a_plain_map() {
        // Three names at one address (prefixes of one string), told apart by their length.
        let base: &'static str = Box::leak("prefixes".to_string().into_boxed_str());
        let names: Vec<&'static str> = (0..40)
            .map(|i| &*Box::leak(format!("situation {i}").into_boxed_str()))
            .chain([&base[..3], &base[..6], base])
            .collect();
        let copies: Vec<&'static str> = names
            .iter()
            .map(|n| &*Box::leak(n.to_string().into_boxed_str()))
            .collect();
        let (mut c, mut model) = (Coverage::default(), BTreeMap::new());
        for step in 0..2000u64 {
            let i = (step * 7 + step / 13) as usize % names.len();
            let name = if step % 3 == 0 { copies[i] } else { names[i] };
            if step % 5 == 0 {
                c.evaluate(name);
                model.entry(names[i]).or_insert((0, None));
            } else {
                c.reach(name, SimTime(step), None);
                let hit = model.entry(names[i]).or_insert((0, None));
                hit.0 += 1;
                hit.1.get_or_insert(step);
            }
        }
        let seen: Vec<_> = c
            .iter()
            .map(|(n, h)| (n, (h.count, h.first.map(|(t, _)| t.0))))
            .collect();
        assert_eq!(seen, model.into_iter().collect::<Vec<_>>());
        let mut reversed = Coverage::default();
        for (n, h) in c.iter().collect::<Vec<_>>().into_iter().rev() {
            reversed.evaluate(n);
            for _ in 0..h.count {
                let (t, node) = h.first.expect("reached");
                reversed.reach(n, t, node);
            }
        }
        assert_eq!(reversed, c);
        assert_eq!(format!("{reversed:?}"), format!("{c:?}"));
        reversed.reach(names[0], SimTime(0), None);
        assert_ne!(reversed, c);
    }
}
