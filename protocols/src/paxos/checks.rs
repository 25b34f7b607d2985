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
    // Sized by a first pass over the observations rather than grown (and copied) as they come.
    let (mut top_slot, mut applications) = (0, 0);
    for o in &result.observations {
        match o.value {
            Observation::Accepted { slot, .. } => top_slot = top_slot.max(slot),
            Observation::Learned { .. } => applications += 1,
            _ => {}
        }
    }
    let top = usize::try_from(top_slot).expect("a slot fits in memory");
    let mut votes: Vec<SlotVotes> = Vec::with_capacity(top + 1);
    let mut chosen: Chosen = SlotMap::new();
    let mut learned: Vec<(u64, u64, NodeId, SimTime)> = Vec::with_capacity(applications);
    for (at_obs, o) in result.observations.iter().enumerate() {
        match o.value {
            Observation::Accepted {
                slot,
                ballot,
                value_hash,
            } => {
                let at = usize::try_from(slot).expect("a slot fits in memory");
                if at >= votes.len() {
                    votes.resize_with(at + 1, SlotVotes::default);
                }
                let voters = votes[at].voters(ballot, value_hash);
                if !voters.add(o.node) || voters.count() != need {
                    continue;
                }
                match chosen.get(&slot) {
                    Some(&(v, b, t, by)) if v != value_hash => {
                        let voters = voters_in_order(result, at_obs, slot, ballot, value_hash);
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

/// The (ballot, value) pairs accepted in one slot, each with its acceptors. A slot almost
/// always sees one pair, kept inline, so counting a slot's votes allocates nothing.
#[derive(Default)]
struct SlotVotes {
    first: Option<(Ballot, u64, Voters)>,
    more: Vec<(Ballot, u64, Voters)>,
}

impl SlotVotes {
    /// The acceptors of `(ballot, value)` in this slot (none yet if it is new).
    fn voters(&mut self, ballot: Ballot, value: u64) -> &mut Voters {
        let first = self.first.get_or_insert((ballot, value, Voters::default()));
        if (first.0, first.1) == (ballot, value) {
            return &mut first.2;
        }
        let k = match self
            .more
            .iter()
            .position(|(b, v, _)| (*b, *v) == (ballot, value))
        {
            Some(k) => k,
            None => {
                self.more.push((ballot, value, Voters::default()));
                self.more.len() - 1
            }
        };
        &mut self.more[k].2
    }
}

/// A set of acceptors: nodes below 64 as bits, any others in a list.
#[derive(Default)]
struct Voters {
    low: u64,
    others: Vec<NodeId>,
}

impl Voters {
    /// Adds `node`; `false` if it was already there.
    fn add(&mut self, node: NodeId) -> bool {
        if node.0 < 64 {
            let bit = 1u64 << node.0;
            let new = self.low & bit == 0;
            self.low |= bit;
            new
        } else if self.others.contains(&node) {
            false
        } else {
            self.others.push(node);
            true
        }
    }

    fn count(&self) -> usize {
        self.low.count_ones() as usize + self.others.len()
    }
}

/// The acceptors of `(ballot, value)` in `slot`, in the order their acceptances appear in
/// the observations up to index `upto` (for a failure's message).
fn voters_in_order(
    result: &RunResult<Observation>,
    upto: usize,
    slot: u64,
    ballot: Ballot,
    value: u64,
) -> Vec<NodeId> {
    let mut voters = Vec::new();
    for o in &result.observations[..=upto] {
        if o.value
            == (Observation::Accepted {
                slot,
                ballot,
                value_hash: value,
            })
            && !voters.contains(&o.node)
        {
            voters.push(o.node);
        }
    }
    voters
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
