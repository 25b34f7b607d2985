//! A request a node coordinates, from the moment it takes it on until it is answered and
//! (for a put) every replica or a stand-in holds it: whom it asked, who answered, and the
//! message that asks a node for its part.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{ClientId, Key, NodeId, RequestId};

use super::messages::{Msg, Version};

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
    /// The key's ring from its position (preference list first).
    pub(super) ring: Vec<NodeId>,
    /// Nodes asked so far, each with the replica it stands in for (`None`: itself a replica).
    pub(super) asked: Vec<(NodeId, Option<NodeId>)>,
    /// Nodes that acknowledged the write (puts) or answered (gets), with their answer.
    pub(super) answers: BTreeMap<NodeId, Option<Version>>,
    /// Fallbacks used so far (the next one is `ring[n + fallbacks]`).
    pub(super) fallbacks: usize,
    pub(super) answered: bool,
    /// Read repairs sent: (node, version).
    pub(super) repaired: BTreeSet<(NodeId, Version)>,
}

impl Pending {
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
        self.ring[..n].iter().all(|r| self.covered(*r))
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
