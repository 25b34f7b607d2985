//! What the nodes exchange, the timers they set, what they store and what they observe.

use sim_core::{ClientId, KvStore, NodeId, Request, RequestId, Response};

/// The master: node 0, always.
pub const MASTER: NodeId = NodeId(0);

/// One configuration: the chain of an epoch, head first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Config {
    /// Numbers configurations; `0`: none known yet (a server that just booted).
    pub epoch: u64,
    pub chain: Vec<NodeId>,
}

impl Config {
    /// Epoch 1: nodes `1..=chain_length`, in order.
    pub fn initial(chain_length: u32) -> Config {
        Config {
            epoch: 1,
            chain: (1..=chain_length).map(NodeId).collect(),
        }
    }

    pub fn position(&self, n: NodeId) -> Option<usize> {
        self.chain.iter().position(|m| *m == n)
    }

    pub fn head(&self) -> Option<NodeId> {
        self.chain.first().copied()
    }

    pub fn tail(&self) -> Option<NodeId> {
        self.chain.last().copied()
    }

    /// `n`'s predecessor (`None` for the head or a non-member).
    pub fn predecessor(&self, n: NodeId) -> Option<NodeId> {
        let i = self.position(n)?;
        i.checked_sub(1).map(|p| self.chain[p])
    }

    /// `n`'s successor (`None` for the tail or a non-member).
    pub fn successor(&self, n: NodeId) -> Option<NodeId> {
        let i = self.position(n)?;
        self.chain.get(i + 1).copied()
    }
}

/// An update as the head ordered it: which client's request, and the request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Update {
    pub client: ClientId,
    pub request_id: RequestId,
    pub request: Request,
}

/// An update a server applied and keeps until it knows the tail holds it (the paper's Sent
/// list), with the response it computed — what the tail answers the client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Logged {
    pub seq: u64,
    pub update: Update,
    pub response: Response,
}

/// A client request that an update executes: `(client, request id)`.
pub type WriteId = (ClientId, RequestId);

/// A server's whole state, sent to a successor that lacks updates its predecessor no longer
/// keeps (a server that joins the chain).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Snapshot {
    pub epoch: u64,
    /// Updates applied, `1..=applied`.
    pub applied: u64,
    /// Updates known to be at the tail.
    pub stable: u64,
    pub store: KvStore,
    /// The sender's Sent list: updates `stable + 1..=applied`.
    pub pending: Vec<Logged>,
    /// The request of every update applied, in order (for the observations).
    pub ids: Vec<WriteId>,
    /// Whether the sender holds everything the chain acknowledged.
    pub caught_up: bool,
}

/// Node-to-node messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Master → server: the chain of an epoch.
    Config(Config),
    /// Server → master, every `heartbeat`: alive, in this incarnation and epoch.
    Heartbeat {
        incarnation: u64,
        epoch: u64,
        caught_up: bool,
    },
    /// Predecessor → successor: the updates numbered `first, first + 1, …`. `upto`: the
    /// sender's last applied update; `caught_up`: whether the sender is.
    Forward {
        epoch: u64,
        first: u64,
        updates: Vec<Update>,
        upto: u64,
        caught_up: bool,
    },
    /// Predecessor → successor: the whole state.
    Snapshot(Box<Snapshot>),
    /// Successor → predecessor: it holds updates `1..=applied`, the tail `1..=stable`.
    Ack {
        epoch: u64,
        applied: u64,
        stable: u64,
        caught_up: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// A server tells the master it is alive.
    Heartbeat,
    /// A server resends what its successor lacks and acknowledges to its predecessor.
    Resend,
    /// The master looks for failed servers and reconfigures.
    Detect,
}

/// Keys of a server's durable store: only its incarnation survives a crash.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// How many times the server has booted.
    Incarnation,
}

/// What the protocol reports, for the `acked-on-every-replica` check (traced and hashed).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// Master: the chain of a new epoch.
    Config(Config),
    /// Master: no server holding the data is left; the chain stops.
    ChainLost { epoch: u64 },
    /// Server: it joined the chain at the tail and dropped whatever it held.
    Joined { epoch: u64 },
    /// Server: it holds everything its predecessor held (or, at the start, the empty store).
    CaughtUp { applied: u64 },
    /// Server: it applied update `seq`, client `client`'s request `request_id`.
    Applied {
        seq: u64,
        client: ClientId,
        request_id: RequestId,
    },
    /// Server: it installed a snapshot of `applied` updates, these ones.
    Installed { applied: u64, ids: Vec<WriteId> },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_knows_each_members_neighbours() {
        let c = Config::initial(3);
        assert_eq!(c.chain, [NodeId(1), NodeId(2), NodeId(3)]);
        assert_eq!((c.head(), c.tail()), (Some(NodeId(1)), Some(NodeId(3))));
        assert_eq!(c.predecessor(NodeId(1)), None);
        assert_eq!(c.predecessor(NodeId(3)), Some(NodeId(2)));
        assert_eq!(c.successor(NodeId(1)), Some(NodeId(2)));
        assert_eq!(c.successor(NodeId(3)), None);
        assert_eq!(
            c.successor(NodeId(4)),
            None,
            "a non-member has no neighbours"
        );
        assert_eq!(Config::default().head(), None);
    }
}
