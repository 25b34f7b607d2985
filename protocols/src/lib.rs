//! Protocol implementations that plug into the dsim engine, and the registry that names them.
//!
//! Each protocol module opens with a prose explanation of its algorithm and cites its source.
//! A protocol is a `sim_core::Process` plus its parameters (deserialized from the scenario's
//! `protocol:` field) and the protocol-specific checks it supplies over its own observations.

pub mod forward;
pub mod gossip;
pub mod liveness;
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
        name: "TwoPhaseCommit",
        summary: "two-phase commit (presumed abort): a coordinator (node 0) commits multi-key transactions atomically across sharded participants",
        services: &[Service::Transaction],
        checks: &["atomicity", "validity", "isolation", "blocking"],
    },
];

impl ProtocolSpec {
    pub fn info(&self) -> &'static ProtocolInfo {
        match self {
            ProtocolSpec::Gossip(_) => &REGISTRY[0],
            ProtocolSpec::Forward(_) => &REGISTRY[1],
            ProtocolSpec::PrimaryBackup(_) => &REGISTRY[2],
            ProtocolSpec::Raft(_) => &REGISTRY[3],
            ProtocolSpec::TwoPhaseCommit(_) => &REGISTRY[4],
        }
    }
}
