//! The kit shared by the replicated protocols: pieces of plumbing that Raft, Multi-Paxos,
//! primary-backup, two-phase commit and the leaderless store would otherwise each repeat.
//!
//! - [`client_gate`]: what a client request meets before the protocol acts on it
//!   (unsupported kinds, retries, stale duplicates, redirects).
//! - [`durable`]: sync before a message or a reply leaves.
//! - [`record`]: one durable-record type per protocol, stored under the key it names.
//! - [`slots`]: a map from log positions to values, a vector indexed by the position.
//! - [`vec_map`]: a small ordered map as one sorted vector, for tables of a few entries.
//! - [`timing`]: election timeouts and heartbeats of a leader-based protocol — their timers
//!   and their validation.
//!
//! Dependency order: `durable`, `record`, `slots`, `timing` and `vec_map` stand alone; `client_gate` uses
//! `durable`.

pub mod client_gate;
pub mod durable;
pub mod record;
pub mod slots;
pub mod timing;
pub mod vec_map;
