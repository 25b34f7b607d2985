//! Multi-Paxos's checks over the nodes' observations: `agreement` (one chosen value per slot,
//! and every node applies it) and `liveness` after the faults heal.

use sim_core::check::{CheckResult, LeaderBased, Leadership, Verdict};
use sim_core::{NodeId, RunResult, SimDuration, SimTime};

use super::node::Paxos;
use super::types::{Ballot, Observation};
use crate::kit::slots::SlotMap;

/// `agreement`: a value is chosen in a slot when a majority of acceptors accepted it in one
/// ballot; at most one value is chosen per slot, and every value a node applies in a slot is
/// the value chosen there.
pub fn check_agreement(result: &RunResult<Observation>) -> CheckResult {
    let need = Paxos::majority(result.node_count);
    // Per slot: each (ballot, value) accepted there, with the acceptors that accepted it.
    let mut votes: Vec<Vec<(Ballot, u64, Vec<NodeId>)>> = Vec::new();
    let mut chosen: Chosen = SlotMap::new();
    let mut learned: Vec<(u64, u64, NodeId, SimTime)> = Vec::new();
    for o in &result.observations {
        match o.value {
            Observation::Accepted {
                slot,
                ballot,
                value_hash,
            } => {
                let at = usize::try_from(slot).expect("a slot fits in memory");
                if at >= votes.len() {
                    votes.resize_with(at + 1, Vec::new);
                }
                let in_slot = &mut votes[at];
                let k = match in_slot
                    .iter()
                    .position(|(b, v, _)| *b == ballot && *v == value_hash)
                {
                    Some(k) => k,
                    None => {
                        in_slot.push((ballot, value_hash, Vec::new()));
                        in_slot.len() - 1
                    }
                };
                let voters = &mut in_slot[k].2;
                if voters.contains(&o.node) {
                    continue;
                }
                voters.push(o.node);
                if voters.len() != need {
                    continue;
                }
                match chosen.get(&slot) {
                    Some(&(v, b, t, by)) if v != value_hash => {
                        return CheckResult::new(
                            "agreement",
                            Verdict::Fail,
                            format!(
                                "slot {slot}: value {v:016x} chosen in ballot {b} at {t}, and value {value_hash:016x} chosen in ballot {ballot} at {} (accepted by {}) (reproduce with seed {})",
                                o.time,
                                voters.iter().map(|n| format!("n{}", n.0)).collect::<Vec<_>>().join(", "),
                                result.seed
                            ),
                        )
                        .metric("slot", slot as f64)
                        .moment(t, by, format!("slot {slot}: {v:016x} chosen in ballot {b}"))
                        .moment(o.time, o.node, format!("slot {slot}: {value_hash:016x} chosen in ballot {ballot}"));
                    }
                    Some(_) => {}
                    None => {
                        chosen.insert(slot, (value_hash, ballot, o.time, o.node));
                    }
                }
            }
            Observation::Learned { slot, value_hash } => {
                learned.push((slot, value_hash, o.node, o.time));
            }
            _ => {}
        }
    }
    if let Some(fail) = first_wrong_application(result, &chosen, &learned) {
        return fail;
    }
    CheckResult::new(
        "agreement",
        Verdict::Pass,
        format!(
            "{} slots chosen, one value each; {} applications, each of the chosen value",
            chosen.len(),
            learned.len()
        ),
    )
    .metric("slots_chosen", chosen.len() as f64)
}

/// Slot → the value chosen there, the ballot, the time and the acceptor whose acceptance
/// made the majority.
type Chosen = SlotMap<(u64, Ballot, SimTime, NodeId)>;

/// `agreement`, second pass: the failure for the first application of a value that is not
/// the one chosen in its slot (`learned`: slot, value, node, time).
fn first_wrong_application(
    result: &RunResult<Observation>,
    chosen: &Chosen,
    learned: &[(u64, u64, NodeId, SimTime)],
) -> Option<CheckResult> {
    for &(slot, value, node, time) in learned {
        match chosen.get(&slot) {
            Some(&(v, ..)) if v == value => {}
            Some(&(v, b, t, by)) => {
                return Some(CheckResult::new(
                    "agreement",
                    Verdict::Fail,
                    format!(
                        "slot {slot}: n{} applied value {value:016x} at {time}, but value {v:016x} was chosen in ballot {b} at {t} (reproduce with seed {})",
                        node.0, result.seed
                    ),
                )
                .metric("slot", slot as f64)
                .moment(t, by, format!("slot {slot}: {v:016x} chosen in ballot {b}"))
                .moment(time, node, format!("slot {slot}: applied {value:016x}")));
            }
            None => {
                return Some(CheckResult::new(
                    "agreement",
                    Verdict::Fail,
                    format!(
                        "slot {slot}: n{} applied value {value:016x} at {time}, which no majority accepted in one ballot (reproduce with seed {})",
                        node.0, result.seed
                    ),
                )
                .metric("slot", slot as f64)
                .moment(time, node, format!("slot {slot}: applied {value:016x}, never chosen")));
            }
        }
    }
    None
}

/// `liveness` (see [`sim_core::check::liveness`]): after the last heal a leader is in office within
/// `within`, and the operations invoked from then on complete.
pub fn check_liveness(
    result: &RunResult<Observation>,
    within: SimDuration,
    min_answered: f64,
) -> CheckResult {
    sim_core::check::liveness::check_liveness(
        result,
        within,
        min_answered,
        Paxos::TERM,
        Paxos::leadership,
    )
}

impl LeaderBased for Paxos {
    const TERM: &'static str = "ballot round";
    fn leadership(o: &Observation) -> Option<Leadership> {
        match o {
            Observation::BecameLeader { ballot } => Some(Leadership::Gained(ballot.round)),
            Observation::SteppedDown { .. } => Some(Leadership::Lost),
            _ => None,
        }
    }
}

sim_core::check_from_fn!(safety:
    /// Agreement: at most one value is chosen per slot, and every node applies it.
    pub Agreement, "agreement",
    "at most one value is chosen per slot (a majority of acceptors accepting it in one ballot), and every node applies the chosen value",
    Paxos, check_agreement
);
