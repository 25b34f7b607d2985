//! The service interfaces that clients speak.
//!
//! Workloads and checkers are shared across protocols because every protocol serves one of a
//! few interfaces: a broadcast set (gossip), a key-value register (replicated state machines),
//! and a transaction service (two-phase commit). A protocol accepts the subset of `Request` it serves and
//! answers the others with `Response::Unsupported`; scenario validation makes sure a workload
//! only targets a protocol that serves it.

/// Which interface a workload uses and a protocol serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// Add values to a set replicated to every node; read the set.
    Broadcast,
    /// Read, write and compare-and-set registers named by integer keys.
    KeyValue,
    /// Atomic multi-key transactions over sharded keys (see [`crate::txn`]).
    Transaction,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Broadcast => "broadcast",
            Service::KeyValue => "key-value",
            Service::Transaction => "transaction",
        }
    }
}

pub type Key = u64;
pub type Value = u64;

/// A client request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    /// Broadcast: add `value` to the replicated set.
    Broadcast { value: Value },
    /// Broadcast: read the receiving node's current set.
    ReadSet,
    /// Key-value: read `key` (absent keys read as `None`).
    Get { key: Key },
    /// Key-value: set `key` to `value`.
    Put { key: Key, value: Value },
    /// Key-value: set `key` to `new` only if it currently holds `expected`.
    Cas {
        key: Key,
        expected: Option<Value>,
        new: Value,
    },
    /// Key-value: append `value` to the list held at `key` (an absent key holds the empty
    /// list, a register written by `Put` the one-element list).
    Append { key: Key, value: Value },
    /// Transaction: atomically increment each of these (distinct) keys by one; an absent key
    /// counts as `0`. Answered `Committed` or `Fail` (aborted).
    Txn { keys: Vec<Key> },
}

impl Request {
    pub fn service(&self) -> Service {
        match self {
            Request::Broadcast { .. } | Request::ReadSet => Service::Broadcast,
            Request::Get { .. }
            | Request::Put { .. }
            | Request::Cas { .. }
            | Request::Append { .. } => Service::KeyValue,
            Request::Txn { .. } => Service::Transaction,
        }
    }
}

/// A service's answer to a request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Response {
    /// The request took effect (broadcast accepted, put applied, cas succeeded).
    Ok,
    /// A broadcast set, sorted.
    Set(Vec<Value>),
    /// A key's value at the read: absent, or the one value it holds.
    Value(Option<Value>),
    /// A key's value at the read when appends made it a list of two or more values, oldest
    /// first.
    List(Vec<Value>),
    /// A transaction committed: each key with its new value, in key order.
    Committed(Vec<(Key, Value)>),
    /// A definite failure: the request did not take effect (e.g. a compare-and-set whose
    /// expectation did not hold).
    Fail,
    /// This node cannot serve the request; try `leader` if given.
    Redirect { leader: Option<crate::NodeId> },
    /// The protocol does not serve this kind of request.
    Unsupported,
}
