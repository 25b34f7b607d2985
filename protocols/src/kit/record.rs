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

use std::fmt::Debug;

use sim_core::{Context, Process};

/// A protocol's durable record: a value that names the storage key it lives under.
pub trait DurableRecord: Clone + Debug {
    /// The storage key; its order is the order a recovering node reads the records in.
    type Key: Ord + Clone + Debug;

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

/// Every record in storage, in key order, each checked to sit under its own key: what a
/// recovering node rebuilds itself from (after a restart, exactly what was synced).
pub fn records<P, R>(ctx: &mut Context<'_, P>) -> Vec<R>
where
    P: Process<StoreKey = R::Key, StoreValue = R>,
    R: DurableRecord,
{
    ctx.storage()
        .entries()
        .into_iter()
        .map(|(key, record)| {
            assert!(
                key == record.key(),
                "storage key {key:?} holds the record {record:?} of another key"
            );
            record
        })
        .collect()
}
