//! `commit-quorum`: a leader commits an index only once a majority of the nodes hold its log up
//! to there — the definition of a committed entry (Raft §5.3), checked at the moment the leader
//! reports the commit, from every node's log as the observations rebuild it. The other checks
//! see a premature commit only through what it later costs (a new leader without the entry, two
//! nodes applying different ones), which takes a crash and an election lined up after it; this
//! one sees the commit itself.

use sim_core::check::{CheckResult, Verdict};
use sim_core::{NodeId, Observed, RunResult};

use super::checks::LogReplay;
use super::node::Raft;
use super::types::Observation;

/// `commit-quorum` (a node whose log at the index has an unknown prefix — after a snapshot
/// install, or past a damaged entry — counts as holding it), one observation at a time (see
/// [`super::log_checks::LogChecks`]).
#[derive(Default)]
pub(super) struct CommitQuorumStep {
    commits: u64,
}

impl CommitQuorumStep {
    /// The failure at observation `o`, with `replay` past it.
    pub(super) fn step(
        &mut self,
        result: &RunResult<Observation>,
        o: &Observed<Observation>,
        replay: &LogReplay,
    ) -> Option<CheckResult> {
        let Observation::Committed { index, leader_term } = o.value else {
            return None;
        };
        let need = Raft::majority(result.node_count);
        let at = index.saturating_sub(1) as usize;
        let Some(&Some(chain)) = replay.log(o.node).get(at) else {
            // Unknown prefix, or a commit past the log (`leader-completeness` reports that).
            return None;
        };
        self.commits += 1;
        let holds = |n: &NodeId| match replay.log(*n).get(at) {
            Some(None) => true,
            Some(Some(c)) => *c == chain,
            None => false,
        };
        if (0..result.node_count).map(NodeId).filter(holds).count() >= need {
            return None;
        }
        let holders: Vec<NodeId> = (0..result.node_count).map(NodeId).filter(holds).collect();
        let names: Vec<String> = holders.iter().map(|n| format!("n{}", n.0)).collect();
        Some(CheckResult::new(
            "commit-quorum",
            Verdict::Fail,
            format!(
                "n{} committed index {index} in term {leader_term} at {}, but only {} of {} nodes hold its log up to there ({}; a majority is {need}) (reproduce with seed {})",
                o.node.0,
                o.time,
                holders.len(),
                result.node_count,
                names.join(", "),
                result.seed
            ),
        )
        .metric("index", index as f64)
        .metric("holders", holders.len() as f64)
        .moment(o.time, o.node, format!("committed index {index} held by {} nodes", holders.len())))
    }

    pub(super) fn finish(self) -> CheckResult {
        CheckResult::new(
            "commit-quorum",
            Verdict::Pass,
            format!("{} commits, each of an index a majority held", self.commits),
        )
        .metric("commits", self.commits as f64)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use sim_core::SimTime;

    use super::*;

    /// `commit-quorum` alone over `result` (the registered check runs it beside the other log
    /// checks, in `log_checks`).
    fn check_commit_quorum(result: &RunResult<Observation>) -> CheckResult {
        let mut replay = LogReplay::new(result.node_count);
        let mut check = CommitQuorumStep::default();
        for o in &result.observations {
            replay.step(o.node, &o.value);
            if let Some(fail) = check.step(result, o, &replay) {
                return fail;
            }
        }
        check.finish()
    }

    /// A 3-node run that recorded only these observations: `(ms, node, observation)`.
    pub(in crate::raft) fn observed(obs: Vec<(u64, u32, Observation)>) -> RunResult<Observation> {
        let obs = obs
            .into_iter()
            .map(|(t, n, value)| (SimTime(t * 1_000_000), NodeId(n), value));
        RunResult {
            seed: 7,
            client_count: 1,
            ..RunResult::observed(3, SimTime(1_000_000_000), obs)
        }
    }

    fn appended(
        t: u64,
        node: u32,
        index: u64,
        term: u64,
        command_hash: u64,
    ) -> (u64, u32, Observation) {
        let o = Observation::Appended {
            index,
            term,
            command_hash,
        };
        (t, node, o)
    }

    fn committed(t: u64, node: u32, index: u64) -> (u64, u32, Observation) {
        let o = Observation::Committed {
            index,
            leader_term: 2,
        };
        (t, node, o)
    }

    #[test]
    fn a_commit_held_by_a_majority_passes() {
        let r = observed(vec![
            appended(1, 0, 1, 2, 11),
            appended(2, 1, 1, 2, 11),
            committed(3, 0, 1),
        ]);
        assert_eq!(check_commit_quorum(&r).verdict, Verdict::Pass);
    }

    #[test]
    fn a_commit_held_by_the_leader_alone_fails() {
        let r = observed(vec![appended(1, 0, 1, 2, 11), committed(3, 0, 1)]);
        let c = check_commit_quorum(&r);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.detail.contains("only 1 of 3 nodes"), "{}", c.detail);
    }

    #[test]
    fn a_follower_holding_another_entry_there_does_not_count() {
        // n1 holds a different entry at index 1, and a truncated copy of the right one at 2
        // does not help it either: the prefix differs.
        let r = observed(vec![
            appended(1, 0, 1, 2, 11),
            appended(1, 0, 2, 2, 12),
            appended(2, 1, 1, 1, 99),
            appended(2, 1, 2, 2, 12),
            committed(3, 0, 2),
        ]);
        assert_eq!(check_commit_quorum(&r).verdict, Verdict::Fail);
        // Once n1's log is repaired from index 1 on, the commit is held by a majority.
        let r = observed(vec![
            appended(1, 0, 1, 2, 11),
            appended(1, 0, 2, 2, 12),
            appended(2, 1, 1, 1, 99),
            (3, 1, Observation::Truncated { from: 1 }),
            appended(3, 1, 1, 2, 11),
            appended(3, 1, 2, 2, 12),
            committed(4, 0, 2),
        ]);
        assert_eq!(check_commit_quorum(&r).verdict, Verdict::Pass);
    }

    #[test]
    fn an_unknown_prefix_counts_as_held() {
        // n2 installed a snapshot up to 1: what it holds there is unknown, so not a failure.
        let snap = Observation::Snapshotted {
            last_index: 1,
            last_term: 2,
            installed: true,
        };
        let r = observed(vec![
            appended(1, 0, 1, 2, 11),
            (2, 2, snap),
            committed(3, 0, 1),
        ]);
        assert_eq!(check_commit_quorum(&r).verdict, Verdict::Pass);
    }
}
