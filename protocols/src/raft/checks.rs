//! Raft's invariant checks, each over the nodes' observations: election safety, state-machine
//! safety, log matching and leader completeness (Figure 3), and liveness after the faults
//! heal.

use std::collections::BTreeMap;

use sim_core::check::{CheckResult, LeaderBased, Leadership, Verdict};
use sim_core::trace::stable_hash;
use sim_core::{NodeId, Observed, RunResult, SimDuration, SimTime};

use super::by_index::ByIndex;
use super::node::Raft;
use super::types::Observation;

/// `election-safety`, one `BecameLeader` observation at a time (the shared pass of
/// `run_checks.rs` steps it).
#[derive(Default)]
pub(super) struct ElectionSafetyStep {
    leaders: BTreeMap<u64, (NodeId, SimTime)>,
}

impl ElectionSafetyStep {
    /// The failure at observation `o`, which reports its node leader of `term`.
    pub(super) fn step(
        &mut self,
        result: &RunResult<Observation>,
        o: &Observed<Observation>,
        term: u64,
    ) -> Option<CheckResult> {
        match self.leaders.get(&term) {
            Some(&(node, time)) if node != o.node => {
                return Some(CheckResult::new(
                    "election-safety",
                    Verdict::Fail,
                    format!(
                        "two leaders in term {term}: n{} at {time} and n{} at {} (reproduce with seed {})",
                        node.0, o.node.0, o.time, result.seed
                    ),
                )
                .metric("term", term as f64)
                .moment(time, node, format!("leader of term {term}"))
                .moment(o.time, o.node, format!("also leader of term {term}")));
            }
            Some(_) => {}
            None => {
                self.leaders.insert(term, (o.node, o.time));
            }
        }
        None
    }

    pub(super) fn finish(self) -> CheckResult {
        let leaders = &self.leaders;
        CheckResult::new(
            "election-safety",
            Verdict::Pass,
            format!("{} terms had a leader, one each", leaders.len()),
        )
        .metric("terms_with_leader", leaders.len() as f64)
    }
}

/// `state-machine-safety`, one `Applied` observation at a time (the shared pass of
/// `run_checks.rs` steps it).
pub(super) struct StateMachineSafetyStep {
    at: ByIndex<(u64, u64, NodeId, SimTime)>,
    applies: u64,
}

impl StateMachineSafetyStep {
    pub(super) fn new(result: &RunResult<Observation>) -> StateMachineSafetyStep {
        StateMachineSafetyStep {
            at: ByIndex::new(result.observations.len()),
            applies: 0,
        }
    }

    /// The failure at observation `o`, which reports its node applied the entry of `term`
    /// with command hash `command_hash` at `index`.
    pub(super) fn step(
        &mut self,
        result: &RunResult<Observation>,
        o: &Observed<Observation>,
        (index, term, command_hash): (u64, u64, u64),
    ) -> Option<CheckResult> {
        self.applies += 1;
        match self.at.get(index) {
            Some(&(t, h, node, time)) if (t, h) != (term, command_hash) => {
                return Some(CheckResult::new(
                    "state-machine-safety",
                    Verdict::Fail,
                    format!(
                        "index {index}: n{} applied an entry of term {t} at {time}, n{} one of term {term} at {}{} (reproduce with seed {})",
                        node.0,
                        o.node.0,
                        o.time,
                        if t == term { " with a different command" } else { "" },
                        result.seed
                    ),
                )
                .metric("index", index as f64)
                .moment(time, node, format!("applied index {index} (term {t})"))
                .moment(o.time, o.node, format!("applied index {index} (term {term}): a different entry")));
            }
            Some(_) => {}
            None => self
                .at
                .insert_new(index, (term, command_hash, o.node, o.time)),
        }
        None
    }

    pub(super) fn finish(self) -> CheckResult {
        let (at, applies) = (&self.at, self.applies);
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
}

// ---- log-matching, leader-completeness, liveness ---------------------------------------------

/// A node's log as the checks rebuild it: per index, a hash chained over the whole prefix
/// (equal chains: equal logs up to that index); `None` where the prefix is unknown (an entry
/// reported past the end of the rebuilt log, e.g. after a snapshot was installed).
pub(super) type ReplayedLog = Vec<Option<u64>>;

/// Every node's log rebuilt from the `Appended`/`Truncated` observations.
pub(super) struct LogReplay {
    logs: Vec<ReplayedLog>,
}

impl LogReplay {
    pub(super) fn new(nodes: u32) -> LogReplay {
        LogReplay {
            logs: vec![Vec::new(); nodes as usize],
        }
    }

    pub(super) fn log(&self, node: NodeId) -> &[Option<u64>] {
        self.logs.get(node.index()).map_or(&[], |l| l.as_slice())
    }

    /// Applies one observation; returns the (index, term, chain) of an appended entry.
    pub(super) fn step(
        &mut self,
        node: NodeId,
        o: &Observation,
    ) -> Option<(u64, u64, Option<u64>)> {
        let i = node.index();
        if i >= self.logs.len() {
            self.logs.resize(i + 1, Vec::new());
        }
        let log = &mut self.logs[i];
        match *o {
            Observation::Appended {
                index,
                term,
                command_hash,
            } => {
                let at = index.saturating_sub(1) as usize;
                let prev = if log.len() >= at {
                    log.truncate(at);
                    log.last().copied().unwrap_or(Some(0))
                } else {
                    log.resize(at, None);
                    None
                };
                let chain = prev.map(|p| stable_hash(&(p, at, term, command_hash)));
                log.push(chain);
                Some((index, term, chain))
            }
            Observation::Truncated { from } => {
                log.truncate(from.saturating_sub(1) as usize);
                None
            }
            Observation::Snapshotted { last_index, .. } => {
                if (log.len() as u64) < last_index {
                    log.resize(last_index as usize, None);
                }
                None
            }
            _ => None,
        }
    }
}

/// `log-matching`, one observation at a time (see [`super::log_checks::LogChecks`]).
pub(super) struct LogMatchingStep {
    seen: Held,
    appends: u64,
}

impl LogMatchingStep {
    pub(super) fn new(result: &RunResult<Observation>) -> LogMatchingStep {
        LogMatchingStep {
            seen: Held::new(result.observations.len()),
            appends: 0,
        }
    }

    /// The failure at observation `o`, whose replay step returned `appended`.
    pub(super) fn step(
        &mut self,
        result: &RunResult<Observation>,
        o: &Observed<Observation>,
        appended: Option<(u64, u64, Option<u64>)>,
    ) -> Option<CheckResult> {
        let Some((index, term, Some(chain))) = appended else {
            return None;
        };
        self.appends += 1;
        match self.seen.get(index, term) {
            Some(&(c, node, time)) if c != chain => {
                return Some(CheckResult::new(
                    "log-matching",
                    Verdict::Fail,
                    format!(
                        "index {index}, term {term}: n{} held such an entry at {time} and n{} at {}, but their logs differ before it (reproduce with seed {})",
                        node.0, o.node.0, o.time, result.seed
                    ),
                )
                .metric("index", index as f64)
                .moment(time, node, format!("holds index {index}, term {term}"))
                .moment(o.time, o.node, format!("holds index {index}, term {term}: logs differ before it")));
            }
            Some(_) => {}
            None => self.seen.insert(index, term, (chain, o.node, o.time)),
        }
        None
    }

    pub(super) fn finish(self) -> CheckResult {
        CheckResult::new(
            "log-matching",
            Verdict::Pass,
            format!(
                "{} distinct (index, term) entries over {} appends; logs agree before each",
                self.seen.len(),
                self.appends
            ),
        )
        .metric("entries", self.seen.len() as f64)
    }
}

/// The first holder of each (index, term) and its prefix chain, for `log-matching`: by index
/// the first term seen there, and the other terms (an index rewritten by a later leader) in a
/// tree.
struct Held {
    first: ByIndex<(u64, (u64, NodeId, SimTime))>,
    others: BTreeMap<(u64, u64), (u64, NodeId, SimTime)>,
}

impl Held {
    fn new(observations: usize) -> Held {
        Held {
            first: ByIndex::new(observations),
            others: BTreeMap::new(),
        }
    }

    fn get(&self, index: u64, term: u64) -> Option<&(u64, NodeId, SimTime)> {
        match self.first.get(index) {
            Some((t, held)) if *t == term => Some(held),
            Some(_) => self.others.get(&(index, term)),
            None => None,
        }
    }

    /// Records the first holder of (index, term) (the caller checked there is none).
    fn insert(&mut self, index: u64, term: u64, held: (u64, NodeId, SimTime)) {
        if self.first.get(index).is_some() {
            self.others.insert((index, term), held);
        } else {
            self.first.insert_new(index, (term, held));
        }
    }

    /// Distinct (index, term) pairs held.
    fn len(&self) -> usize {
        self.first.len() + self.others.len()
    }
}

/// `leader-completeness`, one observation at a time (see
/// [`super::log_checks::LogChecks`]).
#[derive(Default)]
pub(super) struct LeaderCompletenessStep {
    committed: Committed,
    leaders: Vec<TookOffice>,
}

impl LeaderCompletenessStep {
    /// The failure at observation `o`, with `replay` past it.
    pub(super) fn step(
        &mut self,
        result: &RunResult<Observation>,
        o: &Observed<Observation>,
        replay: &LogReplay,
    ) -> Option<CheckResult> {
        match o.value {
            Observation::Committed { index, leader_term } => {
                let log = replay.log(o.node);
                let Some(&held) = log.get(index.saturating_sub(1) as usize) else {
                    return Some(CheckResult::new(
                        "leader-completeness",
                        Verdict::Fail,
                        format!(
                            "n{} committed index {index} in term {leader_term} at {} but holds only {} entries (reproduce with seed {})",
                            o.node.0,
                            o.time,
                            log.len(),
                            result.seed
                        ),
                    )
                    .moment(o.time, o.node, format!("committed index {index} without holding it")));
                };
                let Some(chain) = held else {
                    return None; // The committing leader's prefix is unknown.
                };
                let e = (self.committed)
                    .entry(leader_term)
                    .or_insert((index, chain, o.node, o.time));
                if index > e.0 {
                    *e = (index, chain, o.node, o.time);
                }
            }
            Observation::BecameLeader { term } => {
                (self.leaders).push((term, o.node, o.time, replay.log(o.node).to_vec()));
            }
            _ => {}
        }
        None
    }

    pub(super) fn finish(self, result: &RunResult<Observation>) -> CheckResult {
        if let Some(fail) = first_incomplete_leader(result, &self.committed, &self.leaders) {
            return fail;
        }
        CheckResult::new(
            "leader-completeness",
            Verdict::Pass,
            format!(
                "{} leaders took office holding every entry committed in earlier terms ({} terms committed)",
                self.leaders.len(),
                self.committed.len()
            ),
        )
        .metric("leaders", self.leaders.len() as f64)
    }
}

/// Per leader term: the highest index committed, its prefix chain, who and when.
type Committed = BTreeMap<u64, (u64, u64, NodeId, SimTime)>;

/// A leader taking office: its term, node, time and log as rebuilt.
type TookOffice = (u64, NodeId, SimTime, ReplayedLog);

/// `leader-completeness`, second pass: the failure for the first leader that took office
/// without an entry committed in an earlier term.
fn first_incomplete_leader(
    result: &RunResult<Observation>,
    committed: &Committed,
    leaders: &[TookOffice],
) -> Option<CheckResult> {
    for (term, node, time, log) in leaders {
        for (&lt, &(index, chain, cnode, ctime)) in committed.range(..*term) {
            let held = log.get(index.saturating_sub(1) as usize).copied();
            if held == Some(None) {
                continue; // Unknown prefix: cannot tell.
            }
            if held != Some(Some(chain)) {
                return Some(CheckResult::new(
                    "leader-completeness",
                    Verdict::Fail,
                    format!(
                        "n{} committed up to index {index} in term {lt} at {ctime}, but n{} took office in term {term} at {time} {} (reproduce with seed {})",
                        cnode.0,
                        node.0,
                        if log.len() < index as usize {
                            format!("with only {} entries", log.len())
                        } else {
                            "with a different log up to that index".to_string()
                        },
                        result.seed
                    ),
                )
                .metric("term", *term as f64)
                .metric("index", index as f64)
                .moment(ctime, cnode, format!("committed up to index {index} (term {lt})"))
                .moment(*time, *node, format!("leader of term {term} without it")));
            }
        }
    }
    None
}

/// `liveness` (see [`sim_core::check::liveness`]): after the last heal a leader is in office within
/// `within` — elected in the window, or elected earlier and neither stepped down nor crashed —
/// and the operations invoked from then on complete.
pub fn check_liveness(
    result: &RunResult<Observation>,
    within: SimDuration,
    min_answered: f64,
) -> CheckResult {
    sim_core::check::liveness::check_liveness(
        result,
        within,
        min_answered,
        Raft::TERM,
        Raft::leadership,
    )
}

impl LeaderBased for Raft {
    const TERM: &'static str = "term";
    fn leadership(o: &Observation) -> Option<Leadership> {
        match o {
            Observation::BecameLeader { term } => Some(Leadership::Gained(*term)),
            Observation::SteppedDown { .. } => Some(Leadership::Lost),
            _ => None,
        }
    }
}
