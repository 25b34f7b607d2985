//! Chain replication of dsim's key-value service, written outside dsim against its public API.
//!
//! # The algorithm
//!
//! Robbert van Renesse and Fred B. Schneider, "Chain Replication for Supporting High
//! Throughput and Availability", OSDI 2004. The servers that hold the data are arranged in a
//! *chain*. Every update enters at the **head**, which executes it and forwards it to its
//! successor; each server applies what it receives and forwards it further; the **tail**, last
//! in the chain, applies it and answers the client. Queries go to the tail alone. Because a
//! server only ever receives updates from its predecessor, each server holds a prefix of what
//! its predecessor holds (the paper's *update propagation invariant*), and the tail holds
//! exactly the updates that were answered: a query at the tail sees every acknowledged write
//! and nothing unacknowledged, so the service is linearizable with no extra round for reads.
//!
//! A **master** (here node 0) watches the servers and reconfigures the chain when one fails
//! (the paper's §3; it runs Paxos there, here it is assumed not to fail):
//!
//! - **head removed**: its successor becomes the head. Updates the old head had not forwarded
//!   are lost, which is harmless: nobody acknowledged them, and the clients resend.
//! - **tail removed**: its predecessor becomes the tail. It holds everything the old tail held
//!   (and maybe more), so it answers every update it holds that the old tail had not (its
//!   *Sent* list, below) and takes over the queries.
//! - **middle server removed**: its predecessor sends the new successor the updates in its
//!   Sent list that the successor may lack.
//! - **a server joins** (here: a crashed server that restarted, or a spare) at the tail: its
//!   predecessor, the old tail, transfers its whole state; until that has arrived the new
//!   tail answers nothing (§3, "extending a chain").
//!
//! Each server keeps the updates it has applied but does not yet know to be at the tail: the
//! paper's *Sent* list. The tail acknowledges what it applied to its predecessor, which drops
//! those updates from its list and passes the acknowledgement on upstream.
//!
//! # Over dsim's network
//!
//! Links reorder, lose and duplicate messages, so every update carries a sequence number
//! assigned by the head: a server applies updates strictly in order and ignores duplicates
//! and gaps. A successor acknowledges the highest sequence number it holds (`Ack`), with the
//! highest one the tail holds (*stable*); the predecessor resends everything after the
//! successor's acknowledgement every `resend`, until acknowledged. A successor that lacks
//! updates the predecessor no longer keeps (they are stable, so trimmed) gets a snapshot.
//!
//! Configurations are numbered (`epoch`). The master sends the chain of each epoch to every
//! server and again to any server whose heartbeat names an older epoch; servers accept chain
//! traffic only from their neighbours of their own epoch. Each server sends the master a
//! heartbeat every `heartbeat`; the master removes a member it has not heard from for
//! `failure_timeout`, or whose heartbeat shows it restarted (its *incarnation*, counted in
//! storage, grew), and appends a live non-member at the tail while the chain is shorter than
//! `chain_length`.
//!
//! Clients use dsim's key-value service. A server that is not the head redirects updates
//! (`Put`, `Cas`) to the head of its epoch and one that is not the tail redirects `Get`s to
//! the tail; the master redirects both. Appends and the other services are `Unsupported`.
//! [`sim_core::KvStore`] is the state machine and gives at-most-once execution: the head
//! screens retries with it (a retry of an update the tail acknowledged is answered from the
//! session; one still on its way down the chain is left to the tail), and since every server
//! applies the same updates in the same order, they all hold the same sessions.
//!
//! # Failure model
//!
//! Fail-stop servers, as in the paper: a server fails by crashing, and the master detects the
//! crash. The master (node 0) never fails. A chain of `chain_length` = t + 1 servers tolerates
//! t failures at once; a restarted server comes back empty and rejoins at the tail. Faults
//! that make a live server look crashed — partitions, pauses, clock jumps — break fail-stop
//! and are rejected by [`Params::check`]; message loss and duplication are allowed (the
//! failure detector needs `failure_timeout` to span several heartbeats, also checked). With
//! more than t servers down, or no server holding the data left (every caught-up server
//! crashed), the master stops with [`Observation::ChainLost`].
//!
//! # Checks and bugs
//!
//! [`AckedOnEveryReplica`]: every write acknowledged to a client is held by every replica of
//! the final chain. With `Linearizable` (sim-core) on the clients' history. [`Bug`] lists the
//! deliberately broken variants those checks catch.

pub mod checks;
pub mod failure_model;
pub mod master;
pub mod msg;
pub mod node;
pub mod params;
pub mod replication;
pub mod server;

pub use checks::{acked_on_every_replica, AckedOnEveryReplica};
pub use msg::{Config, Msg, Observation, Timer};
pub use node::Chain;
pub use params::{Bug, Params};

/// The registry the `chain-replication` binary runs: dsim's own protocols and this one.
pub fn registry() -> scenarios::Registry {
    protocols::builtin()
        .with::<Chain>()
        .with_scenarios(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
}
