//! A map from transaction ids to values, dense where the ids are: per client, a
//! [`SlotMap`] indexed by the request id.
//!
//! A transaction is named by its client and that client's request id, and the engine's
//! clients number their requests 1, 2, 3, …, so the coordinator's decisions and a
//! participant's `Done` outcomes — one per transaction ever run, looked up on every message
//! about one — and the checks' tables over a run's transactions are vectors, not trees. The
//! answers are a `BTreeMap<TxnId, V>`'s; nothing is removed (those tables only grow).

use std::collections::BTreeMap;

use sim_core::NodeId;

use super::messages::TxnId;
use crate::kit::slots::SlotMap;

/// Values by transaction; see the module comment.
#[derive(Clone, Debug)]
pub struct TxnMap<V> {
    by_client: Vec<SlotMap<V>>,
}

impl<V> Default for TxnMap<V> {
    fn default() -> Self {
        TxnMap {
            by_client: Vec::new(),
        }
    }
}

impl<V> TxnMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `value` for `txn`; returns the value it replaced, if any.
    pub fn insert(&mut self, txn: TxnId, value: V) -> Option<V> {
        let c = txn.client as usize;
        if c >= self.by_client.len() {
            self.by_client.resize_with(c + 1, SlotMap::new);
        }
        self.by_client[c].insert(txn.request, value)
    }

    pub fn get(&self, txn: &TxnId) -> Option<&V> {
        self.by_client.get(txn.client as usize)?.get(&txn.request)
    }

    pub fn get_mut(&mut self, txn: &TxnId) -> Option<&mut V> {
        self.by_client
            .get_mut(txn.client as usize)?
            .get_mut(&txn.request)
    }

    pub fn contains_key(&self, txn: &TxnId) -> bool {
        self.get(txn).is_some()
    }

    /// Number of transactions with a value.
    pub fn len(&self) -> usize {
        self.by_client.iter().map(SlotMap::len).sum()
    }

    /// Every (transaction, value), in `TxnId` order.
    pub fn iter(&self) -> impl Iterator<Item = (TxnId, &V)> {
        self.by_client.iter().enumerate().flat_map(|(c, m)| {
            m.iter().map(move |(request, v)| {
                let txn = TxnId {
                    client: c as u32,
                    request,
                };
                (txn, v)
            })
        })
    }

    /// Every value, in `TxnId` order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
}

/// Values by (transaction, node), for the checks: per client, one flat vector with a place
/// for each of the run's nodes per request id (`request * nodes + node`), so that a
/// transaction costs no allocation of its own. A node outside `0..node_count` (which no run
/// observes) is kept aside in a tree, with the same answers and order.
#[derive(Clone, Debug)]
pub struct TxnNodeMap<V> {
    nodes: usize,
    by_client: Vec<Vec<Option<V>>>,
    beyond: BTreeMap<(TxnId, NodeId), V>,
}

impl<V> TxnNodeMap<V> {
    /// An empty map over nodes `0..node_count`.
    pub fn new(node_count: u32) -> Self {
        TxnNodeMap {
            nodes: node_count as usize,
            by_client: Vec::new(),
            beyond: BTreeMap::new(),
        }
    }

    /// The flat place of (`txn`, `node`), if `node` is one of the run's nodes.
    fn place(&self, txn: &TxnId, node: NodeId) -> Option<(usize, usize)> {
        if node.index() >= self.nodes {
            return None;
        }
        let request = usize::try_from(txn.request).expect("a request id fits in memory");
        let i = request
            .checked_mul(self.nodes)
            .and_then(|r| r.checked_add(node.index()))
            .expect("a request id fits in memory");
        Some((txn.client as usize, i))
    }

    /// Puts `value` for (`txn`, `node`); returns the value it replaced, if any.
    pub fn insert(&mut self, txn: TxnId, node: NodeId, value: V) -> Option<V> {
        let Some((c, i)) = self.place(&txn, node) else {
            return self.beyond.insert((txn, node), value);
        };
        if c >= self.by_client.len() {
            self.by_client.resize_with(c + 1, Vec::new);
        }
        let row = &mut self.by_client[c];
        if i >= row.len() {
            row.resize_with(i + 1, || None);
        }
        row[i].replace(value)
    }

    pub fn get(&self, txn: &TxnId, node: NodeId) -> Option<&V> {
        match self.place(txn, node) {
            Some((c, i)) => self.by_client.get(c)?.get(i)?.as_ref(),
            None => self.beyond.get(&(*txn, node)),
        }
    }

    pub fn contains(&self, txn: &TxnId, node: NodeId) -> bool {
        self.get(txn, node).is_some()
    }

    /// Every ((transaction, node), value), in that order.
    pub fn into_entries(self) -> impl Iterator<Item = ((TxnId, NodeId), V)> {
        let nodes = self.nodes;
        let mut all = Vec::new();
        for (c, row) in self.by_client.into_iter().enumerate() {
            for (i, v) in row.into_iter().enumerate() {
                if let Some(v) = v {
                    let txn = TxnId {
                        client: c as u32,
                        request: (i / nodes) as u64,
                    };
                    all.push(((txn, NodeId((i % nodes) as u32)), v));
                }
            }
        }
        if !self.beyond.is_empty() {
            all.extend(self.beyond);
            all.sort_by_key(|a| a.0);
        }
        all.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use sim_core::rng::{SimRng, StreamLabel};

    /// Random inserts into a `TxnMap` and a `BTreeMap`: every answer and the order agree.
    #[test]
    fn answers_as_a_btreemap_does() {
        let mut rng = SimRng::new(3, StreamLabel::Custom(2));
        let (mut dense, mut tree) = (TxnMap::new(), BTreeMap::new());
        let draw = |rng: &mut SimRng| TxnId {
            client: rng.range_inclusive(0, 5) as u32,
            request: rng.range_inclusive(1, 60),
        };
        for step in 0..1500u64 {
            let txn = draw(&mut rng);
            assert_eq!(dense.insert(txn, step), tree.insert(txn, step));
            let probe = draw(&mut rng);
            assert_eq!(dense.get(&probe), tree.get(&probe));
            assert_eq!(dense.get_mut(&probe), tree.get_mut(&probe));
            assert_eq!(dense.contains_key(&probe), tree.contains_key(&probe));
            assert_eq!(dense.len(), tree.len());
        }
        assert!(dense.iter().eq(tree.iter().map(|(k, v)| (*k, v))));
        assert!(dense.values().eq(tree.values()));
        assert_eq!(TxnMap::<u8>::new().len(), 0);
    }

    /// The same for (transaction, node) keys.
    #[test]
    fn by_node_answers_as_a_btreemap_does() {
        let mut rng = SimRng::new(4, StreamLabel::Custom(3));
        let (mut dense, mut tree) = (TxnNodeMap::new(3), BTreeMap::new());
        let draw = |rng: &mut SimRng| {
            let txn = TxnId {
                client: rng.range_inclusive(0, 3) as u32,
                request: rng.range_inclusive(1, 40),
            };
            (txn, NodeId(rng.range_inclusive(0, 4) as u32))
        };
        for step in 0..1500u64 {
            let (txn, node) = draw(&mut rng);
            assert_eq!(
                dense.insert(txn, node, step),
                tree.insert((txn, node), step)
            );
            let (txn, node) = draw(&mut rng);
            assert_eq!(dense.get(&txn, node), tree.get(&(txn, node)));
            assert_eq!(dense.contains(&txn, node), tree.contains_key(&(txn, node)));
        }
        assert!(dense.into_entries().eq(tree));
    }
}
