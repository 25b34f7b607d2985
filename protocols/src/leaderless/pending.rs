//! A request a node coordinates, from the moment it takes it on until it is answered and
//! (for a put) every replica or a stand-in holds it: whom it asked, who answered, and the
//! message that asks a node for its part.
//!
//! Its tables are small vectors, not trees: a request asks a handful of nodes, and each
//! answer, timeout and read repair searches them (the key's ring is arithmetic on its
//! position, not a list).

use sim_core::{ClientId, Key, NodeId, RequestId};

use super::messages::{Msg, Version};
use super::ring::key_position;
use crate::kit::vec_map::VecMap;

#[derive(Clone, Debug)]
pub(super) enum Kind {
    Put(Version),
    Get,
}

/// A request this node coordinates.
#[derive(Clone, Debug)]
pub(super) struct Pending {
    pub(super) client: ClientId,
    pub(super) request_id: RequestId,
    pub(super) key: Key,
    pub(super) kind: Kind,
    /// The key's ring position: the ring from there is `ring(0), ring(1), …` (preference
    /// list first), `nodes` long.
    pub(super) start: u32,
    pub(super) nodes: u32,
    /// Nodes asked so far, each with the replica it stands in for (`None`: itself a replica).
    pub(super) asked: Vec<(NodeId, Option<NodeId>)>,
    /// Nodes that acknowledged the write (puts) or answered (gets), with their answer.
    pub(super) answers: VecMap<NodeId, Option<Version>>,
    /// Fallbacks used so far (the next one is `ring(n + fallbacks)`).
    pub(super) fallbacks: usize,
    pub(super) answered: bool,
    /// The local time (ns) at which the request is given up: `request_timeout` after it was
    /// taken on.
    pub(super) deadline: i64,
    /// Read repairs sent: (node, version), each once.
    pub(super) repaired: Vec<(NodeId, Version)>,
}

impl Pending {
    /// A request for `key` among `nodes` nodes, not yet sent to anyone.
    pub(super) fn new(
        client: ClientId,
        request_id: RequestId,
        key: Key,
        kind: Kind,
        nodes: u32,
        deadline: i64,
    ) -> Pending {
        Pending {
            client,
            request_id,
            key,
            kind,
            start: key_position(key, nodes),
            nodes,
            asked: Vec::new(),
            answers: VecMap::new(),
            fallbacks: 0,
            answered: false,
            deadline,
            repaired: Vec::new(),
        }
    }

    /// The `i`-th node of the key's ring (`ring_from(key, nodes)[i]`).
    pub(super) fn ring(&self, i: usize) -> NodeId {
        debug_assert!(i < self.nodes as usize);
        NodeId((self.start + i as u32) % self.nodes)
    }

    /// The ring's length: every node.
    pub(super) fn ring_len(&self) -> usize {
        self.nodes as usize
    }

    /// Whether `node` is among the ring's first `n` nodes (the preference list).
    pub(super) fn in_first(&self, n: usize, node: NodeId) -> bool {
        node.0 < self.nodes && ((node.0 + self.nodes - self.start) % self.nodes) < n as u32
    }

    /// Whether `replica` answered, or a node standing in for it did.
    pub(super) fn covered(&self, replica: NodeId) -> bool {
        self.answers.contains_key(&replica)
            || self
                .asked
                .iter()
                .any(|(node, h)| *h == Some(replica) && self.answers.contains_key(node))
    }

    /// Whether every replica of the preference list (its first `n` nodes) is covered.
    pub(super) fn all_covered(&self, n: usize) -> bool {
        (0..n).all(|i| self.covered(self.ring(i)))
    }

    /// The message asking a node (standing in for `hint`) for this request's part.
    pub(super) fn request(&self, op: u64, hint: Option<NodeId>) -> Msg {
        match self.kind {
            Kind::Put(version) => Msg::Write {
                op,
                key: self.key,
                version,
                hint,
            },
            Kind::Get => Msg::Read { op, key: self.key },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaderless::ring::ring_from;

    #[test]
    fn the_ring_is_ring_from() {
        for nodes in 1..8u32 {
            for key in 0..50 {
                let p = Pending::new(ClientId(0), 1, key, Kind::Get, nodes, 0);
                let ring = ring_from(key, nodes);
                assert_eq!(p.ring_len(), ring.len());
                for (i, node) in ring.iter().enumerate() {
                    assert_eq!(p.ring(i), *node);
                }
                for n in 0..=nodes as usize {
                    for node in (0..nodes + 2).map(NodeId) {
                        assert_eq!(p.in_first(n, node), ring[..n].contains(&node));
                    }
                }
            }
        }
    }
}
