//! Identifiers of the things that exchange messages (nodes and clients) and of timers.
//!
//! Nodes are numbered `0..node_count`, clients `0..client_count`. Both are network endpoints,
//! so partitions apply to clients too; `Endpoint` names either, and `EndpointIndex` packs one
//! into a dense index (nodes first, then clients) for bitsets and tables.

use std::fmt;

/// A simulated server node, `0..node_count`. Shown as `n3`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// A simulated client, `0..client_count`. Shown as `c1`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl ClientId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// Anything with a network address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Endpoint {
    Node(NodeId),
    Client(ClientId),
}

impl Endpoint {
    /// Dense index: nodes `0..node_count`, then clients.
    #[inline]
    pub fn dense(self, node_count: u32) -> usize {
        match self {
            Endpoint::Node(n) => n.0 as usize,
            Endpoint::Client(c) => node_count as usize + c.0 as usize,
        }
    }

    /// The node, if this endpoint is one.
    #[inline]
    pub fn node(self) -> Option<NodeId> {
        match self {
            Endpoint::Node(n) => Some(n),
            Endpoint::Client(_) => None,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Node(n) => n.fmt(f),
            Endpoint::Client(c) => c.fmt(f),
        }
    }
}

/// A client's request number; with the client id it names one logical operation, so that a
/// retried request can be recognised (and deduplicated) by the service.
pub type RequestId = u64;

/// Names a pending timer so it can be cancelled. Numbered from 1 in the order timers are set
/// (across all nodes), so it is also the timer's id in the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);
