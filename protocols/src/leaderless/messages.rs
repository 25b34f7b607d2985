//! What the leaderless store's nodes say and report: write versions, node-to-node messages,
//! timers and the observations its checks read. The bottom of the module's dependency order,
//! with `ring.rs`: it imports no sibling.

use sim_core::{Key, NodeId, Value};

/// A write's version: the coordinator's local clock, then its id, then the value. The derived
/// order is lexicographic in that order, a total order every replica agrees on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The coordinator's local clock reading in nanoseconds (strictly increasing per node).
    pub ts: i64,
    pub node: u32,
    pub value: Value,
}

/// Node-to-node messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Store `version` of `key`; `hint`: the intended replica this node stands in for. `op` 0:
    /// a read repair, not acknowledged.
    Write {
        op: u64,
        key: Key,
        version: Version,
        hint: Option<NodeId>,
    },
    /// The write of `op` is durable here.
    WriteAck { op: u64 },
    /// What do you hold for `key`?
    Read { op: u64, key: Key },
    /// The newest version held for the key (hinted writes included).
    ReadReply { op: u64, version: Option<Version> },
    /// A hinted write handed to its intended replica.
    Handoff { key: Key, version: Version },
    /// The intended replica holds `version` (or newer) of `key`.
    HandoffAck { key: Key, version: Version },
    /// Anti-entropy: the sender's versions of the keys both nodes replicate; `reply`: answer
    /// with what you hold that is newer or missing.
    Digest {
        entries: Vec<(Key, Version)>,
        reply: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Request `op`'s one timer: re-send to silent replicas (and ask fallbacks) every
    /// `replica_timeout`, and give the request up at its deadline (`request_timeout` after it
    /// was taken on).
    Replica { op: u64 },
    /// Re-send hinted writes.
    Handoff,
    /// Exchange versions with the other replicas.
    AntiEntropy,
}

/// What a node reports, for the checks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// The node coordinates a put and stamped it with `version`.
    Coordinated { key: Key, version: Version },
    /// The node's own replica of `key` now holds `version`.
    Applied { key: Key, version: Version },
    /// The node restarted holding exactly these versions (what it had synced).
    Recovered { data: Vec<(Key, Version)> },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_by_clock_then_node_then_value() {
        let v = |ts, node, value| Version { ts, node, value };
        assert!(v(1, 9, 9) < v(2, 0, 0));
        assert!(v(1, 0, 9) < v(1, 1, 0));
        assert!(v(1, 1, 1) < v(1, 1, 2));
    }
}
