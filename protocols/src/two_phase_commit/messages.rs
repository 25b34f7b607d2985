//! What two-phase commit's nodes say and report: transaction ids, node-to-node messages, the
//! timer, the observations its checks read, and where a key lives (the coordinator, the
//! participant of a shard). The bottom of the module's dependency order: it imports no
//! sibling.

use sim_core::txn::shard_of;
use sim_core::{Key, NodeId, RequestId, Value};

/// The coordinator (transaction manager).
pub const COORDINATOR: NodeId = NodeId(0);

/// A transaction: named by its client and the client's request id, so that a retried or
/// duplicated request is the same transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxnId {
    pub client: u32,
    pub request: RequestId,
}

impl std::fmt::Display for TxnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t{}.{}", self.client, self.request)
    }
}

/// Node-to-node messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Coordinator → participant: prepare to increment these keys (all on your shard).
    Prepare { txn: TxnId, keys: Vec<Key> },
    /// Participant → coordinator: the vote; a yes carries the new values it will write.
    Vote {
        txn: TxnId,
        yes: bool,
        writes: Vec<(Key, Value)>,
    },
    /// Coordinator → participant: the (logged) decision.
    Decision { txn: TxnId, commit: bool },
    /// Participant → coordinator: the decision is applied and logged.
    Ack { txn: TxnId },
    /// Participant → coordinator: what was decided? (sent while prepared)
    Inquire { txn: TxnId },
}

impl Msg {
    /// The message's kind, for counting.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Prepare { .. } => "prepare",
            Msg::Vote { .. } => "vote",
            Msg::Decision { .. } => "decision",
            Msg::Ack { .. } => "ack",
            Msg::Inquire { .. } => "inquire",
        }
    }
}

/// The one periodic timer: re-sends, vote timeouts and inquiries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    Tick,
}

/// Facts the checks read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// Coordinator: the decision is logged (it is announced right after). `keys` are the
    /// transaction's keys; empty for a presumed abort of a transaction it no longer knows.
    Decided {
        txn: TxnId,
        commit: bool,
        keys: Vec<Key>,
    },
    /// Participant: it voted (a yes vote only after its `Prepared` record was synced).
    Voted { txn: TxnId, yes: bool },
    /// Participant: it learned and applied the decision. On commit, `applied` lists each key
    /// it incremented as `(key, previous value, new value)`; a participant that learns a commit
    /// of a transaction it has no record of applies nothing.
    Learned {
        txn: TxnId,
        commit: bool,
        applied: Vec<(Key, Value, Value)>,
    },
    /// A restarted node found the log record of `txn` damaged (its decision, or its prepared
    /// writes): it decides and applies nothing from it.
    RecordDamaged { txn: TxnId },
}

/// The participant node holding `key` in a cluster of `node_count` nodes.
pub fn participant_of(key: Key, node_count: u32) -> NodeId {
    assert!(
        node_count >= 2,
        "two-phase commit needs a coordinator and a participant"
    );
    NodeId(1 + shard_of(key, node_count - 1))
}
