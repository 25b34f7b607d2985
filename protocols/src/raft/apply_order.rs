//! `apply-order`: each node applies the log to its state machine in index order, each index
//! once — from 1, or from the end of the snapshot it restarted with or installed. A node that
//! applies an index again has a commit index that went backwards (the state machine filters
//! retried client commands, so a second application leaves no trace in the history); one that
//! skips an index lost an entry's effect.

use sim_core::check::{CheckResult, Verdict};
use sim_core::{NodeId, Observed, RunResult};

use super::types::Observation;

/// `apply-order`, one observation at a time (the shared pass of `run_checks.rs` steps it): only
/// `Recovered`, `Snapshotted` and `Applied` observations move it.
pub(super) struct ApplyOrderStep {
    /// Per node, the next index it must apply.
    pub(super) next: Vec<u64>,
    pub(super) applies: u64,
}

impl ApplyOrderStep {
    pub(super) fn new(result: &RunResult<Observation>) -> ApplyOrderStep {
        ApplyOrderStep {
            next: vec![1; result.node_count as usize],
            applies: 0,
        }
    }

    /// Node `node`'s next index, the vector grown for it if needed.
    fn next(&mut self, node: NodeId) -> &mut u64 {
        let i = node.index();
        if i >= self.next.len() {
            self.next.resize(i + 1, 1);
        }
        &mut self.next[i]
    }

    /// `node` restarted: it applies from 1 again.
    pub(super) fn recovered(&mut self, node: NodeId) {
        *self.next(node) = 1;
    }

    /// `node` holds a snapshot up to `last_index`.
    pub(super) fn snapshotted(&mut self, node: NodeId, last_index: u64) {
        let next = self.next(node);
        *next = (*next).max(last_index + 1);
    }

    /// The failure at observation `o`, which reports its node applied `index`.
    pub(super) fn applied(
        &mut self,
        result: &RunResult<Observation>,
        o: &Observed<Observation>,
        index: u64,
    ) -> Option<CheckResult> {
        self.applies += 1;
        let next = self.next(o.node);
        if index != *next {
            let what = if index < *next {
                "again"
            } else {
                "out of order"
            };
            return Some(fail(result, o.node, o.time, index, *next, what));
        }
        *next = index + 1;
        None
    }

    pub(super) fn finish(self) -> CheckResult {
        let applies = self.applies;
        CheckResult::new(
            "apply-order",
            Verdict::Pass,
            format!("{applies} applications, each node's in index order, each index once"),
        )
        .metric("applies", applies as f64)
    }
}

fn fail(
    result: &RunResult<Observation>,
    node: NodeId,
    time: sim_core::SimTime,
    index: u64,
    next: u64,
    what: &str,
) -> CheckResult {
    CheckResult::new(
        "apply-order",
        Verdict::Fail,
        format!(
            "n{} applied index {index} {what} at {time}: it had applied up to {} (reproduce with seed {})",
            node.0,
            next - 1,
            result.seed
        ),
    )
    .metric("index", index as f64)
    .moment(time, node, format!("applied index {index} {what}"))
}

#[cfg(test)]
mod tests {
    use sim_core::process::Observed;
    use sim_core::SimTime;

    use super::*;
    use crate::raft::check_apply_order;

    fn run(obs: Vec<(u32, Observation)>) -> RunResult<Observation> {
        let mut r = crate::raft::commit_quorum::tests::observed(vec![]);
        r.observations = obs
            .into_iter()
            .enumerate()
            .map(|(t, (n, value))| Observed {
                time: SimTime(t as u64 * 1_000_000),
                node: NodeId(n),
                value,
            })
            .collect();
        r
    }

    fn applied(index: u64) -> Observation {
        Observation::Applied {
            index,
            term: 1,
            command_hash: index,
        }
    }

    #[test]
    fn in_order_and_again_after_a_restart_passes() {
        let recovered = Observation::Recovered {
            term: 1,
            log_len: 2,
        };
        let r = run(vec![
            (0, applied(1)),
            (0, applied(2)),
            (0, recovered),
            (0, applied(1)),
        ]);
        assert_eq!(check_apply_order(&r).verdict, Verdict::Pass);
        // A snapshot installed up to 5: the next is 6.
        let snap = Observation::Snapshotted {
            last_index: 5,
            last_term: 1,
            installed: true,
        };
        let r = run(vec![(1, applied(1)), (1, snap), (1, applied(6))]);
        assert_eq!(check_apply_order(&r).verdict, Verdict::Pass);
    }

    #[test]
    fn an_index_applied_twice_without_a_restart_fails() {
        // A commit index that went back: index 2 again.
        let r = run(vec![(2, applied(1)), (2, applied(2)), (2, applied(2))]);
        let c = check_apply_order(&r);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(
            c.detail.contains("n2 applied index 2 again"),
            "{}",
            c.detail
        );
    }

    #[test]
    fn a_skipped_index_fails() {
        let r = run(vec![(0, applied(1)), (0, applied(3))]);
        assert!(check_apply_order(&r).detail.contains("out of order"));
    }
}
