//! Raft's three checks over the nodes' logs as the observations rebuild them —
//! `log-matching`, `leader-completeness` and `commit-quorum` — in one pass over one replay.
//! Each was a pass with a replay of its own (5% of a Raft sweep together); each is still
//! registered, listed and reported on its own, and each result is what its own pass gave: the
//! pass steps every check still running and stops stepping one at its first failure. The
//! first of the three to run in a run computes all three into the checks' shared
//! [`Memo`](sim_core::check::Memo); the others read theirs from it.

use sim_core::check::CheckResult;
use sim_core::protocol::{Check, CheckInput, CheckKind, NoParams};
use sim_core::RunResult;

use super::checks::{LeaderCompletenessStep, LogMatchingStep, LogReplay};
use super::commit_quorum::CommitQuorumStep;
use super::node::Raft;
use super::types::Observation;

/// The three log checks' results for one run.
#[derive(Clone, Debug)]
pub struct LogChecks {
    pub log_matching: CheckResult,
    pub leader_completeness: CheckResult,
    pub commit_quorum: CheckResult,
}

/// A check still stepping, or its verdict.
pub(super) enum State<S> {
    Running(S),
    Failed(CheckResult),
}

impl<S> State<S> {
    pub(super) fn step(&mut self, f: impl FnOnce(&mut S) -> Option<CheckResult>) {
        if let State::Running(s) = self {
            if let Some(fail) = f(s) {
                *self = State::Failed(fail);
            }
        }
    }

    pub(super) fn running(&self) -> bool {
        matches!(self, State::Running(_))
    }

    pub(super) fn finish(self, f: impl FnOnce(S) -> CheckResult) -> CheckResult {
        match self {
            State::Running(s) => f(s),
            State::Failed(fail) => fail,
        }
    }
}

impl LogChecks {
    /// The three checks in one pass over `result`'s observations.
    pub fn run(result: &RunResult<Observation>) -> LogChecks {
        let mut replay = LogReplay::new(result.node_count);
        let mut matching = State::Running(LogMatchingStep::new(result));
        let mut complete = State::Running(LeaderCompletenessStep::default());
        let mut quorum = State::Running(CommitQuorumStep::default());
        for o in &result.observations {
            if !concerns_logs(&o.value) {
                // Nothing any of the three steps reads (half a run's observations are
                // `Applied`): skipped at the cost of one comparison.
                continue;
            }
            let appended = replay.step(o.node, &o.value);
            matching.step(|s| s.step(result, o, appended));
            complete.step(|s| s.step(result, o, &replay));
            quorum.step(|s| s.step(result, o, &replay));
            if !(matching.running() || complete.running() || quorum.running()) {
                break;
            }
        }
        LogChecks {
            log_matching: matching.finish(LogMatchingStep::finish),
            leader_completeness: complete.finish(|s| s.finish(result)),
            commit_quorum: quorum.finish(CommitQuorumStep::finish),
        }
    }

    /// The three results for the run `input` judges, computed once per run.
    fn of(input: &CheckInput<'_, Raft>) -> std::rc::Rc<LogChecks> {
        input.memo.get_or_compute(|| LogChecks::run(input.result))
    }
}

/// Whether `o` is one the log replay or any of the three checks reads: every other kind
/// (`Applied`, `Recovered`, …) leaves the replay and all three checks as they are.
fn concerns_logs(o: &Observation) -> bool {
    matches!(
        o,
        Observation::Appended { .. }
            | Observation::Truncated { .. }
            | Observation::Snapshotted { .. }
            | Observation::Committed { .. }
            | Observation::BecameLeader { .. }
    )
}

/// `log-matching`: whenever two nodes' logs hold an entry with the same index and term, the
/// logs are identical up to that index (checked on a hash chained over each log's prefix, each
/// time an entry is appended).
pub fn check_log_matching(result: &RunResult<Observation>) -> CheckResult {
    LogChecks::run(result).log_matching
}

/// `leader-completeness`: every entry committed by the leader of a term is in the log of the
/// leader of every later term when it takes office.
pub fn check_leader_completeness(result: &RunResult<Observation>) -> CheckResult {
    LogChecks::run(result).leader_completeness
}

/// `commit-quorum`: a leader commits an index only once a majority of the nodes hold its log
/// up to there (see [`super::commit_quorum`]).
pub fn check_commit_quorum(result: &RunResult<Observation>) -> CheckResult {
    LogChecks::run(result).commit_quorum
}

/// Declares a check whose result is one field of a result computed once per run and shared
/// through the run's check memo (`$memo::of`): the log checks here, the run checks in
/// [`super::run_checks`].
macro_rules! shared_check {
    ($memo:ident; $(#[$meta:meta])* $ty:ident, $name:literal, $summary:literal, $field:ident) => {
        $(#[$meta])*
        pub struct $ty;

        impl CheckKind for $ty {
            const NAME: &'static str = $name;
            const SUMMARY: &'static str = $summary;
            type Params = NoParams;
            const PREFIX_CLOSED: bool = true;
        }

        impl Check<Raft> for $ty {
            fn run(_: &NoParams, input: &CheckInput<'_, Raft>) -> CheckResult {
                $memo::of(input).$field.clone()
            }
        }
    };
}
pub(super) use shared_check;

shared_check!(
    LogChecks;
    /// Log matching: two logs holding an entry with the same index and term agree up to it.
    LogMatching, "log-matching",
    "two logs holding an entry with the same index and term agree up to it",
    log_matching
);
shared_check!(
    LogChecks;
    /// Leader completeness: every entry committed in a term is in the log of every later
    /// term's leader.
    LeaderCompleteness, "leader-completeness",
    "every entry committed in a term is in the log of every later term's leader",
    leader_completeness
);
shared_check!(
    LogChecks;
    /// Commit quorum: a leader commits an index only once a majority holds its log up to it.
    CommitQuorum, "commit-quorum",
    "a leader commits an index only once a majority of nodes hold its log up to it",
    commit_quorum
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::commit_quorum::tests::observed;
    use sim_core::check::{Memo, Verdict};
    use sim_core::config::SimConfig;

    /// Each check's verdict in the shared pass is the one it reaches alone, also when another
    /// fails first and stops stepping: here `commit-quorum` fails at the commit (only n0 holds
    /// index 1) while `log-matching` fails later (n1 and n2 hold index 2 of term 2 over
    /// different entries at 1, of terms 1 and 3), and `leader-completeness` passes.
    #[test]
    fn each_check_in_the_shared_pass_reaches_its_own_verdict() {
        let a = |t, n, index, term, command_hash| {
            let o = Observation::Appended {
                index,
                term,
                command_hash,
            };
            (t, n, o)
        };
        let r = observed(vec![
            a(1, 0, 1, 2, 11),
            (
                2,
                0,
                Observation::Committed {
                    index: 1,
                    leader_term: 2,
                },
            ),
            a(3, 1, 1, 1, 50),
            a(3, 1, 2, 2, 12),
            a(4, 2, 1, 3, 60),
            a(4, 2, 2, 2, 12),
        ]);
        let all = LogChecks::run(&r);
        assert_eq!(all.commit_quorum.verdict, Verdict::Fail);
        assert!(
            all.commit_quorum.detail.contains("only 1 of 3"),
            "{}",
            all.commit_quorum.detail
        );
        assert_eq!(all.log_matching.verdict, Verdict::Fail);
        assert!(
            all.log_matching.detail.starts_with("index 2, term 2"),
            "{}",
            all.log_matching.detail
        );
        assert_eq!(all.leader_completeness.verdict, Verdict::Pass);
        // Through the registered checks and one memo: the same results, computed once.
        let params = crate::raft::Params::default();
        let config = SimConfig::basic(3, sim_core::SimDuration::from_secs(1));
        let input = CheckInput {
            result: &r,
            params: &params,
            config: &config,
            memo: Memo::new(),
        };
        assert_eq!(LogMatching::run(&NoParams {}, &input), all.log_matching);
        assert!(input.memo.get::<LogChecks>().is_some());
        assert_eq!(CommitQuorum::run(&NoParams {}, &input), all.commit_quorum);
        assert_eq!(
            LeaderCompleteness::run(&NoParams {}, &input),
            all.leader_completeness
        );
    }
}
