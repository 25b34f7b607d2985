//! The protocols dsim ships, and [`builtin`], the registry that names them.
//!
//! Each protocol module opens with a prose explanation of its algorithm and cites its source.
//! A protocol is a `sim_core::Process` (its per-node state machine) plus a `sim_core::Protocol`
//! impl: its scenario name, the service it serves, its parameters and their validation, and
//! the checks it supplies over its own observations. Adding a protocol to dsim is its module
//! plus one line in [`builtin`]; a user's protocol is the same impl in the user's crate,
//! registered with `protocols::builtin().with::<TheirProtocol>()`. [`kit`] holds the plumbing
//! the replicated protocols share.

pub mod forward;
pub mod gossip;
pub mod kit;
pub mod leaderless;
pub mod paxos;
pub mod primary_backup;
pub mod raft;
pub mod raft_election;
pub mod replication_bench;
pub mod two_phase_commit;

use scenarios::Registry;

/// Every protocol dsim ships, in the order `dsim list` shows them, and the benchmarks they
/// bring (`dsim bench raft-election`, `dsim bench replication-messages`).
pub fn builtin() -> Registry {
    Registry::new()
        .with::<gossip::Gossip>()
        .with::<forward::Forward>()
        .with::<primary_backup::PrimaryBackup>()
        .with::<raft::Raft>()
        .with::<paxos::Paxos>()
        .with::<leaderless::Leaderless>()
        .with::<two_phase_commit::TwoPhaseCommit>()
        .with_bench(raft_election::BENCH)
        .with_bench(replication_bench::BENCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_protocols_by_scenario_or_cli_name() {
        let r = builtin();
        assert_eq!(
            r.names(),
            [
                "Gossip",
                "Forward",
                "PrimaryBackup",
                "Raft",
                "Paxos",
                "Leaderless",
                "TwoPhaseCommit"
            ]
        );
        for p in r.protocols() {
            assert_eq!(r.find(p.cli_name).map(|f| f.name), Some(p.name));
            assert_eq!(r.find(&p.name.to_uppercase()).map(|f| f.name), Some(p.name));
        }
        assert!(r.find("zab").is_none());
        let raft = r.default_spec("raft").expect("raft has defaults");
        assert_eq!(raft.params::<raft::Raft>(), Some(&raft::Params::default()));
        assert!(r.default_spec("gossip").is_none(), "gossip has no defaults");
    }
}
