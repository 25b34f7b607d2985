//! The durable store of a leaderless node: one [`Record`] type for its boot count, its own
//! replica's versions and the hinted writes it holds for others, each stored under the
//! [`RecordKey`] it names.

use sim_core::{Key, NodeId};

use super::messages::Version;
use crate::kit::record::DurableRecord;

/// Where a [`Record`] is stored; the order is the order recovery reads them in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordKey {
    Boot,
    Data(Key),
    Hint { intended: NodeId, key: Key },
}

/// One record of a node's durable store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// How many times the node has booted (makes request ids unique across restarts).
    Boot(u64),
    /// The node's version of a key it replicates.
    Data { key: Key, version: Version },
    /// A hinted write held for `intended`.
    Hint {
        intended: NodeId,
        key: Key,
        version: Version,
    },
}

impl DurableRecord for Record {
    type Key = RecordKey;

    fn key(&self) -> RecordKey {
        match *self {
            Record::Boot(_) => RecordKey::Boot,
            Record::Data { key, .. } => RecordKey::Data(key),
            Record::Hint { intended, key, .. } => RecordKey::Hint { intended, key },
        }
    }
}
