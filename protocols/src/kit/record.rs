//! One durable-record type per protocol: the enum of everything a node writes to storage,
//! each variant carrying its value and naming the key it is stored under.
//!
//! Storage is a typed key-value map (`sim_core::Storage`). A protocol with one enum for the
//! keys and another for the values can pair a key with the wrong value, and its recovery must
//! match the pairs and panic on the impossible ones. With a [`DurableRecord`] the value is
//! the record and the key is derived from it ([`DurableRecord::key`]): [`put`] stores a record
//! under its own key, and [`records`] hands a recovering node the records alone, having
//! checked that each sits under its own key. What is stored, and in what order, is exactly
//! what the protocol writes: the trace hash counts storage operations, never their contents.
//!
//! **Checksummed records.** Storage faults (`sim_core::config::Fault::{TornWrite, Corrupt,
//! Misdirect, LoseSync}`) damage records on a node's disk. [`read_all`] is the checksummed
//! read a recovering node makes: every record comes back [`Recovered::Intact`] or
//! [`Recovered::Damaged`] — its key (the record's identity) known, its value not. A record
//! found under another record's key (a misdirected write) is damaged too: a record names its
//! own key, so it identifies itself. [`records`] keeps the intact records only, which is right
//! for a protocol whose synced records no fault damages (it claims no tolerance, so only a torn
//! write — of writes never synced — can damage its records) and wrong for one that claims
//! tolerance: that one must handle [`Recovered::Damaged`] (see Raft and Multi-Paxos).

use std::fmt::Debug;

use sim_core::storage::Read;
use sim_core::{Context, Process};

/// A protocol's durable record: a value that names the storage key it lives under.
pub trait DurableRecord: Clone + Debug + 'static {
    /// The storage key; its order is the order a recovering node reads the records in.
    type Key: Ord + Clone + Debug + 'static;

    /// The key this record is stored under.
    fn key(&self) -> Self::Key;
}

/// Writes `record` under its own key (not synced).
pub fn put<P, R>(ctx: &mut Context<'_, P>, record: R)
where
    P: Process<StoreKey = R::Key, StoreValue = R>,
    R: DurableRecord,
{
    ctx.storage().put(record.key(), record);
}

/// A record read back by a recovering node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovered<R: DurableRecord> {
    Intact(R),
    /// The record under this key is damaged: its checksum fails, or it is another key's
    /// record.
    Damaged(R::Key),
}

/// Every record in storage, in key order, checksummed and checked to sit under its own key:
/// what a recovering node rebuilds itself from (after a restart, exactly what is on its disk).
/// Each record is judged as the caller takes it from the storage scan (no second vector).
pub fn read_all<P, R>(ctx: &mut Context<'_, P>) -> ReadAll<R>
where
    P: Process<StoreKey = R::Key, StoreValue = R>,
    R: DurableRecord,
{
    ReadAll {
        scan: ctx.storage().scan().into_iter(),
    }
}

/// The records of [`read_all`], in key order.
pub struct ReadAll<R: DurableRecord> {
    scan: std::vec::IntoIter<(R::Key, Read<R>)>,
}

impl<R: DurableRecord> ReadAll<R> {
    /// The key the last record sits under (a damaged record's too), if there is a record.
    pub fn last_key(&self) -> Option<&R::Key> {
        self.scan.as_slice().last().map(|(key, _)| key)
    }
}

impl<R: DurableRecord> Iterator for ReadAll<R> {
    type Item = Recovered<R>;

    fn next(&mut self) -> Option<Recovered<R>> {
        let (key, read) = self.scan.next()?;
        Some(match read {
            Read::Intact(record) if record.key() == key => Recovered::Intact(record),
            Read::Intact(_) | Read::Damaged => Recovered::Damaged(key),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.scan.size_hint()
    }
}

impl<R: DurableRecord> ExactSizeIterator for ReadAll<R> {}

/// The intact records of [`read_all`], in key order; damaged ones are dropped as if never
/// written. Only for a protocol that claims no tolerance of storage faults (see the module
/// comment).
pub fn records<P, R>(ctx: &mut Context<'_, P>) -> Vec<R>
where
    P: Process<StoreKey = R::Key, StoreValue = R>,
    R: DurableRecord,
{
    read_all(ctx)
        .filter_map(|r| match r {
            Recovered::Intact(record) => Some(record),
            Recovered::Damaged(_) => None,
        })
        .collect()
}

/// The fault atlas of a majority-quorum protocol: a minority of `node_count` nodes may hold a
/// damaged copy of one record (for `Process::damaged_copies_max`).
pub fn minority(node_count: u32) -> u32 {
    node_count.saturating_sub(1) / 2
}
