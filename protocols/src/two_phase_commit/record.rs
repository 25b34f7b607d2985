//! The durable log of a two-phase-commit node: one [`Record`] type for everything the
//! coordinator and the participants write to storage and sync, and read back when they
//! recover. Each record is stored under the [`RecordKey`] it names.

use sim_core::{Key, Value};

use super::messages::TxnId;
use crate::kit::record::DurableRecord;

/// Where a record is stored; the order is the order recovery reads the log in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordKey {
    Decision(TxnId),
    Prepared(TxnId),
    Done(TxnId),
    Value(Key),
}

/// One record of a node's durable log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// Coordinator: the decision of a transaction, with its keys and (on commit) its writes.
    Decision {
        txn: TxnId,
        commit: bool,
        keys: Vec<Key>,
        writes: Vec<(Key, Value)>,
    },
    /// Participant: prepared (voted yes) and not yet decided, with the writes it will make.
    Prepared {
        txn: TxnId,
        writes: Vec<(Key, Value)>,
    },
    /// Participant: the decision it applied.
    Done { txn: TxnId, commit: bool },
    /// Participant: a key's committed value.
    Value { key: Key, value: Value },
}

impl DurableRecord for Record {
    type Key = RecordKey;

    fn key(&self) -> RecordKey {
        match *self {
            Record::Decision { txn, .. } => RecordKey::Decision(txn),
            Record::Prepared { txn, .. } => RecordKey::Prepared(txn),
            Record::Done { txn, .. } => RecordKey::Done(txn),
            Record::Value { key, .. } => RecordKey::Value(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys order by kind, then transaction (client, request) or key.
    #[test]
    fn keys_order_by_kind_then_transaction() {
        let t = |client, request| TxnId { client, request };
        let keys = [
            RecordKey::Decision(t(0, 5)),
            RecordKey::Decision(t(0, u64::MAX)),
            RecordKey::Decision(t(1, 0)),
            RecordKey::Decision(t(u32::MAX, 3)),
            RecordKey::Prepared(t(0, 0)),
            RecordKey::Prepared(t(2, 1)),
            RecordKey::Done(t(0, 1)),
            RecordKey::Done(t(u32::MAX, u64::MAX)),
            RecordKey::Value(0),
            RecordKey::Value(u64::MAX),
        ];
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j), "{a:?} against {b:?}");
            }
        }
    }
}
