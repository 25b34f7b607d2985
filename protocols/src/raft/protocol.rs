//! Raft's registration: what a scenario names (`protocol: Raft(...)`), the validation of its
//! parameters against the scenario (field-located errors), and the checks it supplies.

use sim_core::check::{Linearizable, Liveness};
use sim_core::config::{Fault, FaultKind};
use sim_core::protocol::{CheckList, FieldError, Protocol};
use sim_core::{NodeId, Service, SimConfig};

use crate::kit;

use super::log_checks::{CommitQuorum, LeaderCompleteness, LogMatching};
use super::node::Raft;
use super::params::{Params, Reads};
use super::run_checks::{ApplyOrder, ElectionSafety, StateMachineSafety};
use super::types::Observation;

impl Protocol for Raft {
    const NAME: &'static str = "Raft";
    const CLI_NAME: &'static str = "raft";
    const SUMMARY: &'static str = "Raft consensus (leader election, log replication, Figure 8 commit rule) replicating a key-value store";
    const SERVICES: &'static [Service] = &[Service::KeyValue];
    /// Every node keeps per-peer replication state and a leader sends to every other node on
    /// each heartbeat: cost grows with the square of the cluster (10,000 nodes need gigabytes
    /// and minutes). A thousand nodes run 60 s of random faults in about 20 s and 500 MB.
    const NODE_COUNT: std::ops::RangeInclusive<u32> = 1..=1000;
    const SITUATIONS: &'static [&'static str] = super::situations::ALL;
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> Raft {
        Raft::new(id, params)
    }

    fn validate(p: &Params, config: &SimConfig) -> Result<(), FieldError> {
        kit::timing::validate(
            "raft",
            p.election_timeout_min,
            p.election_timeout_max,
            p.heartbeat,
        )?;
        if p.batch_max == 0 {
            return Err(FieldError::new(
                "batch_max",
                "raft `batch_max` is `0`: no entry would ever be replicated",
            )
            .hint("write e.g. `batch_max: 64`"));
        }
        if p.retransmit == Some(sim_core::SimDuration::ZERO) {
            return Err(FieldError::new(
                "retransmit",
                "raft `retransmit` is `0`: entries would be resent on every heartbeat",
            )
            .hint("leave it out for two heartbeats, or give a duration longer than a round trip"));
        }
        let lease_ok = !matches!(p.reads, Reads::Lease { drift_ppm } if drift_ppm >= 100_000);
        if let Err(e) = p.validate() {
            // The checks above leave two rules: snapshots with bug switches, and the lease bound.
            return Err(if lease_ok {
                FieldError::new("", e).hint("a bug scenario keeps whole logs (the checks replay them): leave `snapshot_threshold` out")
            } else {
                FieldError::new("reads", e).hint(
                    "the bound is in parts per million: real clocks drift by tens to hundreds",
                )
            });
        }
        lease_bounds(p, config)
    }

    fn checks(list: &mut impl CheckList<Self>) {
        list.add::<Linearizable>();
        list.add::<ElectionSafety>();
        list.add::<StateMachineSafety>();
        list.add::<LogMatching>();
        list.add::<LeaderCompleteness>();
        list.add::<CommitQuorum>();
        list.add::<ApplyOrder>();
        list.add::<Liveness>();
    }

    fn default_params() -> Option<Params> {
        Some(Params::default())
    }

    fn marker(o: &Observation) -> Option<String> {
        match o {
            Observation::BecameLeader { term } => Some(format!("leader t{term}")),
            Observation::SteppedDown { term } => Some(format!("steps down (t{term})")),
            Observation::Committed { index, .. } => Some(format!("commit {index}")),
            Observation::Recovered { term, log_len } => {
                Some(format!("recovered t{term}, {log_len} entries"))
            }
            Observation::Truncated { from } => Some(format!("log cut from {from}")),
            _ => None,
        }
    }
}

/// Lease reads are safe only within their clock bound: every node's drift at most the lease's
/// `drift_ppm`, and no clock jumps (scheduled or from the nemesis).
fn lease_bounds(p: &Params, config: &SimConfig) -> Result<(), FieldError> {
    let Reads::Lease { drift_ppm } = p.reads else {
        return Ok(());
    };
    let drift = config.clocks.drift_ppm_max;
    if drift > drift_ppm {
        return Err(FieldError::in_scenario(
            "clocks.drift_ppm_max",
            format!("`clocks.drift_ppm_max` is `{drift}`, above the lease's bound `drift_ppm: {drift_ppm}`"),
        )
        .hint("a lease is only safe if every clock keeps within its drift bound: raise `drift_ppm` or lower the drift"));
    }
    let jumps =
        "lease reads need clocks that only drift; use `reads: ReadIndex` to test clock jumps";
    if let Some(j) = config
        .nemesis
        .as_ref()
        .and_then(|n| n.kinds.iter().position(|k| *k == FaultKind::ClockJump))
    {
        return Err(FieldError::in_scenario(
            format!("nemesis.kinds[{j}]"),
            "the nemesis jumps clocks, which breaks the lease's clock bound",
        )
        .hint(jumps));
    }
    if let Some(i) = config
        .faults
        .iter()
        .position(|f| matches!(f.fault, Fault::ClockJump(..)))
    {
        return Err(FieldError::in_scenario(
            format!("faults[{i}].fault"),
            "a clock jump breaks the lease's clock bound",
        )
        .hint(jumps));
    }
    Ok(())
}
