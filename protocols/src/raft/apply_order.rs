//! `apply-order`: each node applies the log to its state machine in index order, each index
//! once — from 1, or from the end of the snapshot it restarted with or installed. A node that
//! applies an index again has a commit index that went backwards (the state machine filters
//! retried client commands, so a second application leaves no trace in the history); one that
//! skips an index lost an entry's effect.

use sim_core::check::{CheckResult, Verdict};
use sim_core::{NodeId, RunResult};

use super::node::Raft;
use super::types::Observation;

/// `apply-order` over a run's observations: per node, the next index it must apply — 1 after a
/// restart (`Recovered`), past a snapshot's last index after one (`Snapshotted`: restored,
/// installed or taken).
pub fn check_apply_order(result: &RunResult<Observation>) -> CheckResult {
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
                next[i] = next[i].max(last_index + 1);
            }
            Observation::Applied { index, .. } => {
                applies += 1;
                if index != next[i] {
                    let what = if index < next[i] {
                        "again"
                    } else {
                        "out of order"
                    };
                    return fail(result, o.node, o.time, index, next[i], what);
                }
                next[i] = index + 1;
            }
            _ => {}
        }
    }
    CheckResult::new(
        "apply-order",
        Verdict::Pass,
        format!("{applies} applications, each node's in index order, each index once"),
    )
    .metric("applies", applies as f64)
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

sim_core::check_from_fn!(safety:
    /// Apply order: each node applies the log in index order, each index once.
    pub ApplyOrder, "apply-order",
    "each node applies the log in index order, each index once",
    Raft, check_apply_order
);

#[cfg(test)]
mod tests {
    use sim_core::process::Observed;
    use sim_core::SimTime;

    use super::*;

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
