//! The kit shared by the replicated protocols: pieces of plumbing that Raft, Multi-Paxos,
//! primary-backup, two-phase commit and the leaderless store would otherwise each repeat.
//!
//! - [`timing`]: election timeouts and heartbeats of a leader-based protocol, and their
//!   validation.

pub mod record;
pub mod timing;
