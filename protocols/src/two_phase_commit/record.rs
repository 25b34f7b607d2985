//! The durable log of a two-phase-commit node: what the coordinator and the participants
//! write to storage and sync, and read back when they recover.

use sim_core::{Key, Value};

use super::messages::TxnId;

/// Keys of a node's durable log.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreKey {
    /// Coordinator: the decision of a transaction.
    Decision(TxnId),
    /// Participant: prepared (voted yes) and not yet decided.
    Prepared(TxnId),
    /// Participant: the decision it applied.
    Done(TxnId),
    /// Participant: a key's committed value.
    Value(Key),
}

/// Values of a node's durable log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreValue {
    Decision {
        commit: bool,
        keys: Vec<Key>,
        writes: Vec<(Key, Value)>,
    },
    Prepared {
        writes: Vec<(Key, Value)>,
    },
    Done {
        commit: bool,
    },
    Value(Value),
}
