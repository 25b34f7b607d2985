//! The `acked-on-every-replica` check: every write acknowledged to a client is held by every
//! replica of the chain at the end of the run.
//!
//! It reads the run as dsim's checks do — the clients' history, the protocol's observations
//! and the fault log — never the protocol's state. Replaying the observations in time order
//! gives what each server held: the updates it `Applied`, replaced by the ids of an
//! `Installed` snapshot, emptied when it crashed or `Joined` the chain anew. The master's last
//! `Config` names the final chain. Every member that is up and caught up (one that joined near
//! the end may still be receiving its predecessor's state; it is named, not checked) must
//! hold every put and successful cas the history records as acknowledged. This is the
//! paper's promise to clients: an acknowledged update survives any t failures of t + 1
//! servers.

use std::collections::BTreeSet;

use sim_core::check::{CheckResult, Verdict};
use sim_core::{FaultRecord, NodeId, NodeStatus, Observed, Operation, Outcome, Request, RunResult};

use crate::msg::{Config, Observation, WriteId};
use crate::Chain;

const NAME: &str = "acked-on-every-replica";

sim_core::check_from_fn!(
    /// `AckedOnEveryReplica()` in a scenario.
    pub AckedOnEveryReplica, "acked-on-every-replica",
    "every write acknowledged to a client is held by every caught-up replica of the final chain",
    Chain, acked_on_every_replica
);

/// What one server held at the end, by the observations.
#[derive(Clone, Debug, Default)]
struct Replica {
    held: BTreeSet<WriteId>,
    caught_up: bool,
}

impl Replica {
    fn observe(&mut self, o: &Observation) {
        match o {
            Observation::Joined { .. } => *self = Replica::default(),
            Observation::CaughtUp { .. } => self.caught_up = true,
            Observation::Applied {
                client, request_id, ..
            } => {
                self.held.insert((*client, *request_id));
            }
            Observation::Installed { ids, .. } => self.held = ids.iter().copied().collect(),
            Observation::Config(_) | Observation::ChainLost { .. } => {}
        }
    }
}

/// The check on a run's result.
pub fn acked_on_every_replica(result: &RunResult<Observation>) -> CheckResult {
    let fail = |detail: String| {
        CheckResult::new(
            NAME,
            Verdict::Fail,
            format!("{detail} (reproduce with seed {})", result.seed),
        )
    };
    let (config, lost) = final_chain(&result.observations);
    let acked = acked_writes(&result.history.ops);
    if let Some(epoch) = lost {
        return fail(format!(
            "the master lost every caught-up replica in epoch {epoch}, with {} acknowledged writes",
            acked.len()
        ));
    }
    let replicas = replay(result);
    let (checked, skipped): (Vec<NodeId>, Vec<NodeId>) = config.chain.iter().partition(|n| {
        result.final_status.get(n.index()) == Some(&NodeStatus::Up) && replicas[n.index()].caught_up
    });
    if checked.is_empty() && !acked.is_empty() {
        return fail(format!(
            "no replica of the final chain {:?} (epoch {}) is up and caught up",
            config.chain, config.epoch
        ));
    }
    if let Some((n, op)) = first_missing(&acked, &replicas, &checked) {
        return fail(format!(
            "{} request {} ({:?}), acknowledged at {}, is missing on {n}, a replica of the final chain {:?} (epoch {})",
            op.client,
            op.request_id,
            op.request,
            op.completion.as_ref().map_or(op.invoke, |c| c.0),
            config.chain,
            config.epoch
        ));
    }
    let not_checked = if skipped.is_empty() {
        String::new()
    } else {
        format!("; {skipped:?} down or still catching up at the end, not checked")
    };
    CheckResult::new(
        NAME,
        Verdict::Pass,
        format!(
            "{} acknowledged writes held by each of {checked:?}, the final chain {:?} (epoch {}){not_checked}",
            acked.len(),
            config.chain,
            config.epoch
        ),
    )
    .metric("acked_writes", acked.len() as f64)
    .metric("replicas_checked", checked.len() as f64)
}

/// The first checked replica lacking an acknowledged write, and the write.
fn first_missing<'a>(
    acked: &[&'a Operation],
    replicas: &[Replica],
    checked: &[NodeId],
) -> Option<(NodeId, &'a Operation)> {
    checked.iter().find_map(|n| {
        let held = &replicas[n.index()].held;
        let missing = acked
            .iter()
            .find(|op| !held.contains(&(op.client, op.request_id)));
        missing.map(|op| (*n, *op))
    })
}

/// The master's last configuration, and the epoch it lost the data in, if it did.
fn final_chain(observations: &[Observed<Observation>]) -> (Config, Option<u64>) {
    let mut config = Config::default();
    let mut lost = None;
    for o in observations {
        match &o.value {
            Observation::Config(c) => config = c.clone(),
            Observation::ChainLost { epoch } => lost = Some(*epoch),
            _ => {}
        }
    }
    (config, lost)
}

/// Puts and successful compare-and-sets that a client saw acknowledged.
fn acked_writes(ops: &[Operation]) -> Vec<&Operation> {
    ops.iter()
        .filter(|op| matches!(op.request, Request::Put { .. } | Request::Cas { .. }))
        .filter(|op| matches!(op.completion, Some((_, Outcome::Ok(_)))))
        .collect()
}

/// Each node's holdings at the end: observations in time order, a crash emptying the node
/// (a crash at the same instant as an observation comes after it).
fn replay(result: &RunResult<Observation>) -> Vec<Replica> {
    let mut replicas = vec![Replica::default(); result.node_count as usize];
    let crash = |replicas: &mut Vec<Replica>, f: &FaultRecord| {
        if let FaultRecord::Crash(n) = f {
            replicas[n.index()] = Replica::default();
        }
    };
    let mut faults = result.fault_log.iter().peekable();
    for o in &result.observations {
        while let Some((_, f)) = faults.next_if(|(t, _)| *t < o.time) {
            crash(&mut replicas, f);
        }
        replicas[o.node.index()].observe(&o.value);
    }
    for (_, f) in faults {
        crash(&mut replicas, f);
    }
    replicas
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::{ClientId, History, Response, SimTime};

    const N1: NodeId = NodeId(1);
    const N2: NodeId = NodeId(2);

    /// A run of 3 nodes (master and chain [n1, n2]) in which client 0's put, request 1, was
    /// acknowledged at t=50; `events` are the servers' observations after the master's
    /// initial configuration.
    fn run(
        events: Vec<(u64, NodeId, Observation)>,
        faults: Vec<(u64, FaultRecord)>,
    ) -> RunResult<Observation> {
        let config = Config {
            epoch: 1,
            chain: vec![N1, N2],
        };
        let observations = std::iter::once((SimTime(0), NodeId(0), Observation::Config(config)))
            .chain(
                events
                    .into_iter()
                    .map(|(t, node, value)| (SimTime(t), node, value)),
            );
        let put = Operation {
            client: ClientId(0),
            request_id: 1,
            node: N1,
            via: Vec::new(),
            request: Request::Put { key: 0, value: 7 },
            invoke: SimTime(10),
            completion: Some((SimTime(50), Outcome::Ok(Response::Ok))),
        };
        RunResult {
            seed: 3,
            history: History { ops: vec![put] },
            fault_log: faults.into_iter().map(|(t, f)| (SimTime(t), f)).collect(),
            final_status: vec![NodeStatus::Up; 3],
            client_count: 1,
            ..RunResult::observed(3, SimTime(1_000), observations)
        }
    }

    fn caught_up(n: NodeId) -> (u64, NodeId, Observation) {
        (0, n, Observation::CaughtUp { applied: 0 })
    }

    fn applied(t: u64, n: NodeId) -> (u64, NodeId, Observation) {
        (
            t,
            n,
            Observation::Applied {
                seq: 1,
                client: ClientId(0),
                request_id: 1,
            },
        )
    }

    fn verdict(r: &RunResult<Observation>) -> Verdict {
        acked_on_every_replica(r).verdict
    }

    #[test]
    fn an_acknowledged_write_must_be_on_every_replica() {
        let both = run(
            vec![
                caught_up(N1),
                caught_up(N2),
                applied(20, N1),
                applied(30, N2),
            ],
            vec![],
        );
        assert_eq!(verdict(&both), Verdict::Pass);
        let only_head = run(vec![caught_up(N1), caught_up(N2), applied(20, N1)], vec![]);
        let r = acked_on_every_replica(&only_head);
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(r.detail.contains("missing on n2"), "{}", r.detail);
        assert!(r.detail.contains("seed 3"), "{}", r.detail);
    }

    #[test]
    fn a_crash_empties_a_replica_until_a_snapshot_refills_it() {
        let base = vec![
            caught_up(N1),
            caught_up(N2),
            applied(20, N1),
            applied(30, N2),
        ];
        let crash = vec![
            (100, FaultRecord::Crash(N2)),
            (200, FaultRecord::Restart(N2)),
        ];
        let rejoin = |with_snapshot: bool| {
            let mut events = base.clone();
            events.push((300, N2, Observation::Joined { epoch: 3 }));
            if with_snapshot {
                let ids = vec![(ClientId(0), 1)];
                events.push((310, N2, Observation::Installed { applied: 1, ids }));
            }
            events.push((310, N2, Observation::CaughtUp { applied: 1 }));
            events
        };
        assert_eq!(verdict(&run(rejoin(true), crash.clone())), Verdict::Pass);
        assert_eq!(verdict(&run(rejoin(false), crash)), Verdict::Fail);
    }

    #[test]
    fn a_replica_still_catching_up_is_named_not_checked() {
        let events = vec![
            caught_up(N1),
            applied(20, N1),
            (30, N2, Observation::Joined { epoch: 2 }),
        ];
        let r = acked_on_every_replica(&run(events, vec![]));
        assert_eq!(r.verdict, Verdict::Pass, "{}", r.detail);
        assert!(
            r.detail.contains("[n2] down or still catching up"),
            "{}",
            r.detail
        );
    }

    #[test]
    fn a_lost_chain_fails() {
        let events = vec![
            caught_up(N1),
            applied(20, N1),
            (40, NodeId(0), Observation::ChainLost { epoch: 4 }),
        ];
        let r = acked_on_every_replica(&run(events, vec![]));
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.detail.contains("lost every caught-up replica in epoch 4"),
            "{}",
            r.detail
        );
    }
}
