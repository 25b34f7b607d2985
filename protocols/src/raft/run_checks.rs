//! Raft's three checks over what the nodes report of their terms and state machines —
//! `election-safety`, `state-machine-safety` and `apply-order` — in one pass over the
//! observations, as [`super::log_checks`] does for the log checks. Each was a pass of its own
//! (about 2% of a Raft sweep together); each is still registered, listed and reported on its
//! own, and each result is what its own pass gave: the pass steps every check still running
//! and stops stepping one at its first failure. The first of the three to run in a run
//! computes all three into the checks' shared [`Memo`](sim_core::check::Memo); the others
//! read theirs from it.

use sim_core::check::CheckResult;
use sim_core::protocol::{Check, CheckInput, CheckKind, NoParams};
use sim_core::RunResult;

use super::apply_order::ApplyOrderStep;
use super::checks::{ElectionSafetyStep, StateMachineSafetyStep};
use super::log_checks::{shared_check, State};
use super::node::Raft;
use super::types::Observation;

/// The three checks' results for one run.
#[derive(Clone, Debug)]
pub struct RunChecks {
    pub election_safety: CheckResult,
    pub state_machine_safety: CheckResult,
    pub apply_order: CheckResult,
}

impl RunChecks {
    /// The three checks in one pass over `result`'s observations.
    pub fn run(result: &RunResult<Observation>) -> RunChecks {
        let mut election = State::Running(ElectionSafetyStep::default());
        let mut machine = State::Running(StateMachineSafetyStep::new(result));
        let mut order = State::Running(ApplyOrderStep::new(result));
        for o in &result.observations {
            match o.value {
                Observation::BecameLeader { term } => {
                    election.step(|s| s.step(result, o, term));
                }
                Observation::Applied {
                    index,
                    term,
                    command_hash,
                } => {
                    machine.step(|s| s.step(result, o, (index, term, command_hash)));
                    order.step(|s| s.applied(result, o, index));
                    if !(election.running() || machine.running() || order.running()) {
                        break;
                    }
                }
                Observation::Recovered { .. } => order.step(|s| {
                    s.recovered(o.node);
                    None
                }),
                Observation::Snapshotted { last_index, .. } => order.step(|s| {
                    s.snapshotted(o.node, last_index);
                    None
                }),
                _ => {}
            }
        }
        RunChecks {
            election_safety: election.finish(ElectionSafetyStep::finish),
            state_machine_safety: machine.finish(StateMachineSafetyStep::finish),
            apply_order: order.finish(ApplyOrderStep::finish),
        }
    }

    /// The three results for the run `input` judges, computed once per run.
    fn of(input: &CheckInput<'_, Raft>) -> std::rc::Rc<RunChecks> {
        input.memo.get_or_compute(|| RunChecks::run(input.result))
    }
}

/// `election-safety`: at most one node becomes leader in any term.
pub fn check_election_safety(result: &RunResult<Observation>) -> CheckResult {
    RunChecks::run(result).election_safety
}

/// `state-machine-safety`: no two nodes apply different entries at the same index.
pub fn check_state_machine_safety(result: &RunResult<Observation>) -> CheckResult {
    RunChecks::run(result).state_machine_safety
}

/// `apply-order` over a run's observations: per node, the next index it must apply — 1 after a
/// restart (`Recovered`), past a snapshot's last index after one (`Snapshotted`: restored,
/// installed or taken).
pub fn check_apply_order(result: &RunResult<Observation>) -> CheckResult {
    RunChecks::run(result).apply_order
}

shared_check!(
    RunChecks;
    /// Election safety (Figure 3): at most one leader per term.
    ElectionSafety, "election-safety", "at most one leader per term",
    election_safety
);
shared_check!(
    RunChecks;
    /// State-machine safety: no two nodes apply different entries at the same log index.
    StateMachineSafety, "state-machine-safety",
    "no two nodes apply different entries at the same log index",
    state_machine_safety
);
shared_check!(
    RunChecks;
    /// Apply order: each node applies the log in index order, each index once.
    ApplyOrder, "apply-order",
    "each node applies the log in index order, each index once",
    apply_order
);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use sim_core::check::{Memo, Verdict};
    use sim_core::config::SimConfig;
    use sim_core::{NodeId, SimTime};

    use super::*;
    use crate::raft::commit_quorum::tests::observed;

    /// The three checks as they were, one pass each: the reference the shared pass must match.
    fn election_alone(result: &RunResult<Observation>) -> CheckResult {
        let mut s = ElectionSafetyStep::default();
        for o in &result.observations {
            if let Observation::BecameLeader { term } = o.value {
                if let Some(fail) = s.step(result, o, term) {
                    return fail;
                }
            }
        }
        s.finish()
    }

    fn machine_alone(result: &RunResult<Observation>) -> CheckResult {
        // Written out as the pass was, with a `BTreeMap` for the index map.
        let mut at: BTreeMap<u64, (u64, u64, NodeId, SimTime)> = BTreeMap::new();
        let mut applies = 0u64;
        for o in &result.observations {
            let Observation::Applied {
                index,
                term,
                command_hash,
            } = o.value
            else {
                continue;
            };
            applies += 1;
            match at.get(&index) {
                Some(&(t, h, _, _)) if (t, h) != (term, command_hash) => {
                    let mut s = StateMachineSafetyStep::new(result);
                    let &(t, h, node, time) = at.get(&index).unwrap();
                    let first = sim_core::Observed {
                        time,
                        node,
                        value: Observation::Applied {
                            index,
                            term: t,
                            command_hash: h,
                        },
                    };
                    assert!(s.step(result, &first, (index, t, h)).is_none());
                    return s.step(result, o, (index, term, command_hash)).unwrap();
                }
                Some(_) => {}
                None => {
                    at.insert(index, (term, command_hash, o.node, o.time));
                }
            }
        }
        CheckResult::new(
            "state-machine-safety",
            Verdict::Pass,
            format!(
                "{} indices applied ({applies} applications), every node applied the same entry at each",
                at.len()
            ),
        )
        .metric("indices_applied", at.len() as f64)
    }

    fn order_alone(result: &RunResult<Observation>) -> CheckResult {
        let mut next: Vec<u64> = vec![1; result.node_count as usize];
        let mut applies = 0u64;
        for o in &result.observations {
            let i = o.node.index();
            if i >= next.len() {
                next.resize(i + 1, 1);
            }
            match o.value {
                Observation::Recovered { .. } => next[i] = 1,
                Observation::Snapshotted { last_index, .. } => {
                    next[i] = next[i].max(last_index + 1)
                }
                Observation::Applied { index, .. } => {
                    applies += 1;
                    if index != next[i] {
                        let mut s = ApplyOrderStep::new(result);
                        s.next = next.clone();
                        return s.applied(result, o, index).unwrap();
                    }
                    next[i] = index + 1;
                }
                _ => {}
            }
        }
        let mut s = ApplyOrderStep::new(result);
        s.applies = applies;
        s.finish()
    }

    /// Random runs over few nodes, terms and indices (so that both verdicts of each check
    /// occur): the shared pass gives each check the result of its own pass, and the registered
    /// checks read them from one memo.
    #[test]
    fn the_shared_pass_matches_each_check_alone_on_random_runs() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut fails = [0usize; 3];
        for run in 0..600 {
            let len = 1 + next(40);
            let obs = (0..len)
                .map(|t| {
                    let node = next(4) as u32; // One node beyond the three.
                    let o = match next(6) {
                        0 => Observation::BecameLeader { term: next(6) },
                        1 => Observation::Recovered {
                            term: 1,
                            log_len: 0,
                        },
                        2 => Observation::Snapshotted {
                            last_index: next(5),
                            last_term: 1,
                            installed: false,
                        },
                        3 => Observation::Committed {
                            index: 1,
                            leader_term: 1,
                        },
                        _ => Observation::Applied {
                            index: 1 + next(if run % 2 == 0 { 3 } else { 8 }),
                            term: 1 + next(2),
                            command_hash: next(2),
                        },
                    };
                    (t, node, o)
                })
                .collect();
            let r = observed(obs);
            let all = RunChecks::run(&r);
            let alone = [election_alone(&r), machine_alone(&r), order_alone(&r)];
            assert_eq!(all.election_safety, alone[0]);
            assert_eq!(all.state_machine_safety, alone[1]);
            assert_eq!(all.apply_order, alone[2]);
            for (f, c) in fails.iter_mut().zip(&alone) {
                *f += usize::from(c.verdict == Verdict::Fail);
            }
            let params = crate::raft::Params::default();
            let config = SimConfig::basic(3, sim_core::SimDuration::from_secs(1));
            let input = CheckInput {
                result: &r,
                params: &params,
                config: &config,
                memo: Memo::new(),
            };
            assert_eq!(ApplyOrder::run(&NoParams {}, &input), alone[2]);
            assert!(input.memo.get::<RunChecks>().is_some());
            assert_eq!(ElectionSafety::run(&NoParams {}, &input), alone[0]);
            assert_eq!(StateMachineSafety::run(&NoParams {}, &input), alone[1]);
        }
        for f in fails {
            assert!((20..580).contains(&f), "each verdict occurs: {fails:?}");
        }
    }
}
