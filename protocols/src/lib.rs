//! Protocol implementations that plug into the dsim engine, and the registry that names them.
//!
//! Each protocol module opens with a prose explanation of its algorithm and cites its source.
//! A protocol is a `sim_core::Process` plus its parameters (deserialized from the scenario's
//! `protocol:` field) and the protocol-specific checks it supplies over its own observations.

pub mod forward;
pub mod gossip;
pub mod leaderless;
pub mod liveness;
pub mod paxos;
pub mod primary_backup;
pub mod raft;
pub mod two_phase_commit;

use serde::Deserialize;
use sim_core::Service;

/// The `protocol:` field of a scenario: which protocol, with its own parameters.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum ProtocolSpec {
    /// Epidemic broadcast by anti-entropy (see [`gossip`]).
    Gossip(gossip::Params),
    /// The benchmark forwarder of workloads W1–W3 (see [`forward`]).
    Forward(forward::Params),
    /// Primary-backup replication of a key-value store (see [`primary_backup`]).
    PrimaryBackup(primary_backup::Params),
    /// Raft consensus replicating a key-value store (see [`raft`]).
    Raft(raft::Params),
    /// Multi-Paxos replicating a key-value store (see [`paxos`]).
    Paxos(paxos::Params),
    /// A leaderless Dynamo-style quorum store (see [`leaderless`]).
    Leaderless(leaderless::Params),
    /// Two-phase commit over sharded keys (see [`two_phase_commit`]).
    TwoPhaseCommit(two_phase_commit::Params),
}

/// One entry of the protocol registry, for `dsim list` and validation.
pub struct ProtocolInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub services: &'static [Service],
    /// Names of the protocol-specific checks it supplies.
    pub checks: &'static [&'static str],
}

/// Every protocol dsim knows.
pub const REGISTRY: &[ProtocolInfo] = &[
    ProtocolInfo {
        name: "Gossip",
        summary: "epidemic broadcast: push, pull or push-pull anti-entropy with fanout and period",
        services: &[Service::Broadcast],
        checks: &["convergence"],
    },
    ProtocolInfo {
        name: "Forward",
        summary: "benchmark token forwarder (workloads W1-W3)",
        services: &[],
        checks: &[],
    },
    ProtocolInfo {
        name: "PrimaryBackup",
        summary: "primary-backup key-value store: fixed primary (node 0), batched forwarding, no failover",
        services: &[Service::KeyValue],
        checks: &["linearizable"],
    },
    ProtocolInfo {
        name: "Raft",
        summary: "Raft consensus (leader election, log replication, Figure 8 commit rule) replicating a key-value store",
        services: &[Service::KeyValue],
        checks: &[
            "linearizable",
            "election-safety",
            "state-machine-safety",
            "log-matching",
            "leader-completeness",
            "liveness",
        ],
    },
    ProtocolInfo {
        name: "Paxos",
        summary: "Multi-Paxos (stable leader, phase 1 once for all open slots, no-op gap filling, catch-up) replicating a key-value store",
        services: &[Service::KeyValue],
        checks: &["linearizable", "agreement", "liveness"],
    },
    ProtocolInfo {
        name: "Leaderless",
        summary: "leaderless Dynamo-style quorum store: preference lists, R/W quorums, LWW by local clock, read repair, sloppy quorum with hinted handoff, anti-entropy",
        services: &[Service::KeyValue],
        checks: &["linearizable", "replica-convergence", "no-lost-writes"],
    },
    ProtocolInfo {
        name: "TwoPhaseCommit",
        summary: "two-phase commit (presumed abort): a coordinator (node 0) commits multi-key transactions atomically across sharded participants",
        services: &[Service::Transaction],
        checks: &["atomicity", "validity", "isolation", "blocking"],
    },
];

/// The lower-case names `dsim cap --protocols` accepts, with the protocol each stands for.
pub const CLI_NAMES: &[(&str, &str)] = &[
    ("raft", "Raft"),
    ("primary-backup", "PrimaryBackup"),
    ("paxos", "Paxos"),
    ("leaderless", "Leaderless"),
];

impl ProtocolSpec {
    /// The protocol named `name` (a [`CLI_NAMES`] name, or the registry name in any case)
    /// with its default parameters, for comparing protocols on one scenario.
    pub fn by_name(name: &str) -> Option<ProtocolSpec> {
        let registry = CLI_NAMES
            .iter()
            .find(|(cli, reg)| cli.eq_ignore_ascii_case(name) || reg.eq_ignore_ascii_case(name))
            .map(|(_, reg)| *reg)?;
        Some(match registry {
            "Raft" => ProtocolSpec::Raft(raft::Params::default()),
            "PrimaryBackup" => ProtocolSpec::PrimaryBackup(primary_backup::Params::default()),
            "Paxos" => ProtocolSpec::Paxos(paxos::Params::default()),
            "Leaderless" => ProtocolSpec::Leaderless(leaderless::Params::default()),
            _ => return None,
        })
    }

    /// This protocol's [`CLI_NAMES`] name.
    pub fn cli_name(&self) -> &'static str {
        let reg = self.info().name;
        CLI_NAMES
            .iter()
            .find(|(_, r)| *r == reg)
            .map_or(reg, |(cli, _)| cli)
    }

    pub fn info(&self) -> &'static ProtocolInfo {
        match self {
            ProtocolSpec::Gossip(_) => &REGISTRY[0],
            ProtocolSpec::Forward(_) => &REGISTRY[1],
            ProtocolSpec::PrimaryBackup(_) => &REGISTRY[2],
            ProtocolSpec::Raft(_) => &REGISTRY[3],
            ProtocolSpec::Paxos(_) => &REGISTRY[4],
            ProtocolSpec::Leaderless(_) => &REGISTRY[5],
            ProtocolSpec::TwoPhaseCommit(_) => &REGISTRY[6],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_by_cli_or_registry_name() {
        for (cli, reg) in CLI_NAMES {
            let spec = ProtocolSpec::by_name(cli).expect(cli);
            assert_eq!(spec.info().name, *reg);
            assert_eq!(spec.cli_name(), *cli);
            assert_eq!(ProtocolSpec::by_name(&reg.to_uppercase()), Some(spec));
        }
        assert_eq!(ProtocolSpec::by_name("zab"), None);
        assert_eq!(
            ProtocolSpec::by_name("raft"),
            Some(ProtocolSpec::Raft(raft::Params::default()))
        );
        assert!(raft::Params::default().validate().is_ok());
    }
}
