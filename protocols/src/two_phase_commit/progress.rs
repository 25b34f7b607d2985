//! `progress`: two-phase commit's liveness once the faults have healed — a transaction over
//! keys no other transaction holds commits.
//!
//! The safety checks (`atomicity`, `validity`, `isolation`) pass a protocol that never commits
//! anything. What they cannot see is a participant that refuses transactions for no reason: a
//! lock kept after its transaction ended, a refusal left over from a fault. After the faults
//! heal, a correct participant votes no only when another transaction is prepared on one of
//! the keys (voted yes there and has not learned its outcome) or when a damaged prepared record
//! leaves it unable to say which keys are locked; and the coordinator aborts only on a no vote
//! (every vote arrives well within the vote timeout on a healed network).
//!
//! A healed network that still loses messages (a link's `drop` above 0) can lose a vote on
//! every resend until the vote timeout, and the check cannot tell that abort from a spurious
//! one: at loss `p`, about `(2p)^(vote_timeout / retry)` per transaction — negligible at the
//! shipped scenarios' 1–3% with 6 resends, frequent over a few hundred transactions at
//! 10%. Judge `progress` on networks that lose little or nothing after the heal.
//!
//! The check rebuilds, from the observations, which transactions each participant holds locks
//! for (from its yes vote to the outcome it learns, across its restarts: the prepared record is
//! durable) and the keys of each transaction (from the client's request). For every
//! transaction whose client invoked it at or after the deadline — `within` after the later of
//! the last heal and the liveness phase's start — each no vote must be explained by a key that
//! another transaction held at that participant at that moment, and an abort must follow a no
//! vote.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sim_core::check::liveness::deadline_after_heal;
use sim_core::check::{CheckResult, Verdict};
use sim_core::protocol::{rules, Check, CheckContext, CheckInput, CheckKind, FieldError};
use sim_core::{Key, NodeId, Request, RunResult, SimDuration, SimTime};

use super::messages::{participant_of, Observation, TxnId};
use super::node::TwoPhaseCommit;
use super::txn_map::TxnMap;

const NAME: &str = "progress";

/// A client's transaction: its index in the history, when it was invoked, its keys.
struct Asked<'a> {
    op: usize,
    invoke: SimTime,
    keys: &'a [Key],
}

/// Every transaction the clients asked for, by id.
fn asked(result: &RunResult<Observation>) -> TxnMap<Asked<'_>> {
    let mut asked = TxnMap::new();
    let all = result
        .history
        .ops
        .iter()
        .enumerate()
        .filter_map(|(op, o)| match &o.request {
            Request::Txn { keys } => Some((
                TxnId {
                    client: o.client.0,
                    request: o.request_id,
                },
                Asked {
                    op,
                    invoke: o.invoke,
                    keys,
                },
            )),
            _ => None,
        });
    for (txn, a) in all {
        asked.insert(txn, a);
    }
    asked
}

/// What one participant holds at a moment of the run.
#[derive(Default)]
struct Holds {
    /// Transactions it voted yes on and has not learned the outcome of.
    prepared: BTreeSet<TxnId>,
    /// Transactions whose prepared record it found damaged, outcome not learned yet.
    damaged: BTreeSet<TxnId>,
    /// Per key: the last transaction that released it, and when.
    released: BTreeMap<Key, (TxnId, SimTime)>,
}

/// Walks the run's observations and judges the transactions invoked from `deadline` on.
struct Judge<'a> {
    result: &'a RunResult<Observation>,
    asked: TxnMap<Asked<'a>>,
    deadline: SimTime,
    holds: BTreeMap<NodeId, Holds>,
    /// Judged transactions some participant voted no on.
    refused: BTreeSet<TxnId>,
    commits: u64,
    aborts: u64,
}

impl<'a> Judge<'a> {
    /// `txn`'s keys on participant `p` (empty if the clients never asked for it).
    fn keys_on(&self, txn: TxnId, p: NodeId) -> Vec<Key> {
        let n = self.result.node_count;
        self.asked.get(&txn).map_or(Vec::new(), |a| {
            a.keys
                .iter()
                .copied()
                .filter(|&k| participant_of(k, n) == p)
                .collect()
        })
    }

    fn judged(&self, txn: TxnId) -> bool {
        self.asked
            .get(&txn)
            .is_some_and(|a| a.invoke >= self.deadline)
    }

    /// Whether `p` had a reason to vote no on `txn`: another transaction prepared there on
    /// one of its keys (one whose keys are unknown counts), or a damaged prepared record.
    fn explained(&self, p: NodeId, txn: TxnId, keys: &[Key]) -> bool {
        let Some(h) = self.holds.get(&p) else {
            return false;
        };
        !h.damaged.is_empty()
            || h.prepared.iter().any(|&other| {
                other != txn
                    && match self.asked.get(&other) {
                        Some(a) => a.keys.iter().any(|k| keys.contains(k)),
                        None => true,
                    }
            })
    }

    fn run(mut self) -> CheckResult {
        let result = self.result;
        for o in &result.observations {
            let p = o.node;
            match &o.value {
                Observation::Voted { txn, yes: true } => {
                    self.holds.entry(p).or_default().prepared.insert(*txn);
                }
                Observation::Voted { txn, yes: false } if self.judged(*txn) => {
                    self.refused.insert(*txn);
                    let keys = self.keys_on(*txn, p);
                    if !self.explained(p, *txn, &keys) {
                        return self.unexplained_no(o.time, p, *txn, &keys);
                    }
                }
                Observation::Learned { txn, .. } => {
                    let h = self.holds.entry(p).or_default();
                    h.damaged.remove(txn);
                    if h.prepared.remove(txn) {
                        // `keys_on`'s keys, walked without collecting them.
                        let keys = self.asked.get(txn).map_or(&[][..], |a| a.keys);
                        let n = result.node_count;
                        for &k in keys.iter().filter(|&&k| participant_of(k, n) == p) {
                            h.released.insert(k, (*txn, o.time));
                        }
                    }
                }
                Observation::RecordDamaged { txn } => {
                    self.holds.entry(p).or_default().damaged.insert(*txn);
                }
                Observation::Decided { txn, commit, .. } if self.judged(*txn) => {
                    if *commit {
                        self.commits += 1;
                    } else if self.refused.contains(txn) {
                        self.aborts += 1;
                    } else {
                        return self.abort_without_no(o.time, *txn);
                    }
                }
                _ => {}
            }
        }
        self.pass()
    }

    fn fail(&self, txn: TxnId, detail: String) -> CheckResult {
        let ops = self.asked.get(&txn).map(|a| a.op);
        CheckResult::new(
            NAME,
            Verdict::Fail,
            format!("{detail} (reproduce with seed {})", self.result.seed),
        )
        .operations(ops)
    }

    fn unexplained_no(&self, at: SimTime, p: NodeId, txn: TxnId, keys: &[Key]) -> CheckResult {
        let released = self.holds.get(&p).map(|h| &h.released);
        let last: Vec<String> = keys
            .iter()
            .map(|k| match released.and_then(|r| r.get(k)) {
                Some((by, t)) => {
                    format!("key {k}'s last holder there, {by}, learned its outcome at {t}")
                }
                None => format!("key {k} was never prepared there"),
            })
            .collect();
        let mut r = self.fail(
            txn,
            format!(
                "n{} voted no on {txn} at {at}, after the faults healed ({}), but no other transaction held its keys {keys:?} there ({}): a participant refused a transaction over free keys",
                p.0,
                self.healed(),
                last.join("; ")
            ),
        )
        .moment(at, p, format!("voted no on {txn}"));
        for k in keys {
            if let Some((by, t)) = released.and_then(|r| r.get(k)) {
                r = r.moment(
                    *t,
                    p,
                    format!("learned the outcome of {by}, which held key {k}"),
                );
                r = r.operations(self.asked.get(by).map(|a| a.op));
            }
        }
        r
    }

    fn abort_without_no(&self, at: SimTime, txn: TxnId) -> CheckResult {
        let mut r = self.fail(
            txn,
            format!(
                "the coordinator aborted {txn} at {at}, after the faults healed ({}), though no participant voted no: a vote that never came (vote timeout) on a healed network",
                self.healed()
            ),
        )
        .moment(at, NodeId(0), format!("decided abort of {txn}"));
        for o in &self.result.observations {
            if let Observation::Voted { txn: t, yes: true } = &o.value {
                if *t == txn {
                    r = r.moment(o.time, o.node, format!("voted yes on {txn}"));
                }
            }
        }
        r
    }

    fn healed(&self) -> String {
        format!("transactions invoked from {} on are judged", self.deadline)
    }

    fn pass(self) -> CheckResult {
        let detail = if self.commits + self.aborts == 0 {
            format!(
                "no transaction invoked from {} on was decided: nothing to judge",
                self.deadline
            )
        } else {
            format!(
                "of the transactions invoked from {} on, {} committed and {} aborted, each abort after a no vote while another transaction held one of its keys",
                self.deadline, self.commits, self.aborts
            )
        };
        let verdict = if self.commits + self.aborts == 0 {
            Verdict::Unknown
        } else {
            Verdict::Pass
        };
        CheckResult::new(NAME, verdict, detail)
            .metric("committed", self.commits as f64)
            .metric("aborted", self.aborts as f64)
    }
}

/// `progress`: from `within` after the later of the last heal and the liveness phase's start,
/// every transaction the clients invoke commits unless a participant votes no while another
/// transaction holds one of its keys there (or a damaged prepared record leaves the
/// participant unsure which keys are locked). `unknown` when the deadline falls after the
/// run's end, or when no transaction invoked from then on was decided.
pub fn check_progress(result: &RunResult<Observation>, within: SimDuration) -> CheckResult {
    let deadline = match deadline_after_heal(result, within, NAME) {
        Ok((_, deadline)) => deadline,
        Err(unknown) => return *unknown,
    };
    Judge {
        result,
        asked: asked(result),
        deadline,
        holds: BTreeMap::new(),
        refused: BTreeSet::new(),
        commits: 0,
        aborts: 0,
    }
    .run()
}

/// The `progress` check: `Progress(within: "1s")` in a scenario.
pub struct Progress;

/// [`Progress`]'s parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressParams {
    /// How long after the last heal (or the liveness phase's start) transactions are judged.
    pub within: SimDuration,
}

impl CheckKind for Progress {
    const NAME: &'static str = NAME;
    const SUMMARY: &'static str =
        "after the faults heal, a transaction over keys no other transaction holds commits";
    type Params = ProgressParams;

    fn validate(p: &ProgressParams, cx: &CheckContext<'_>) -> Result<(), FieldError> {
        rules::positive(cx.path, "within", p.within)
    }
}

impl Check<TwoPhaseCommit> for Progress {
    fn run(p: &ProgressParams, input: &CheckInput<'_, TwoPhaseCommit>) -> CheckResult {
        check_progress(input.result, p.within)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::history::{History, Operation};
    use sim_core::ClientId;

    /// Transaction `r` of client 0 over `keys`, invoked at `at` ms.
    fn asked_txn(r: u64, keys: Vec<Key>, at: u64) -> Operation {
        Operation {
            client: ClientId(0),
            request_id: r,
            node: NodeId(0),
            via: Vec::new(),
            request: Request::Txn { keys },
            invoke: SimTime(at * 1_000_000),
            completion: None,
        }
    }

    fn t(r: u64) -> TxnId {
        TxnId {
            client: 0,
            request: r,
        }
    }

    /// A 2-node run (coordinator n0, participant n1 holding every key) ending at 1 s with
    /// these client requests and observations `(ms, node, observation)`.
    fn run(ops: Vec<Operation>, obs: Vec<(u64, u32, Observation)>) -> RunResult<Observation> {
        let obs = obs
            .into_iter()
            .map(|(t, n, o)| (SimTime(t * 1_000_000), NodeId(n), o));
        RunResult {
            history: History { ops },
            ..RunResult::observed(2, SimTime(1_000_000_000), obs)
        }
    }

    fn voted(ms: u64, r: u64, yes: bool) -> (u64, u32, Observation) {
        (ms, 1, Observation::Voted { txn: t(r), yes })
    }

    fn learned(ms: u64, r: u64, commit: bool) -> (u64, u32, Observation) {
        let txn = t(r);
        let applied = Vec::new();
        (
            ms,
            1,
            Observation::Learned {
                txn,
                commit,
                applied,
            },
        )
    }

    fn decided(ms: u64, r: u64, commit: bool) -> (u64, u32, Observation) {
        let (txn, keys) = (t(r), Vec::new());
        (ms, 0, Observation::Decided { txn, commit, keys })
    }

    /// t0.1 on key 3 at 50 ms, t0.2 on key 3 at `second` ms, t0.3 on key 4 at 300 ms.
    fn three_txns(second: u64) -> Vec<Operation> {
        vec![
            asked_txn(1, vec![3], 50),
            asked_txn(2, vec![3], second),
            asked_txn(3, vec![4], 300),
        ]
    }

    fn verdict(r: &RunResult<Observation>) -> (Verdict, String) {
        let c = check_progress(r, SimDuration::from_millis(100));
        (c.verdict, c.detail)
    }

    #[test]
    fn a_refusal_needs_a_key_held_by_another_prepared_transaction() {
        let ops = three_txns(200);
        // t0.1 is prepared on key 3 when t0.2 is refused: a reason. t0.3 (key 4) commits.
        let held = vec![
            voted(60, 1, true),
            voted(210, 2, false),
            decided(212, 2, false),
            voted(310, 3, true),
            decided(312, 3, true),
            learned(320, 1, true),
        ];
        let (v, d) = verdict(&run(ops.clone(), held));
        assert_eq!(v, Verdict::Pass, "{d}");
        assert!(d.contains("1 committed and 1 aborted"), "{d}");
        // t0.1 learned its abort before t0.2's prepare: the refusal has no reason (a kept lock).
        let leaked = vec![
            voted(60, 1, true),
            learned(70, 1, false),
            voted(210, 2, false),
            decided(212, 2, false),
        ];
        let (v, d) = verdict(&run(ops.clone(), leaked));
        assert_eq!(v, Verdict::Fail, "{d}");
        assert!(
            d.contains("n1 voted no on t0.2") && d.contains("last holder there, t0.1"),
            "{d}"
        );
        // A refusal before the deadline (100 ms) is not judged.
        let early = three_txns(60);
        let refused_early = vec![
            voted(70, 2, false),
            decided(72, 2, false),
            voted(310, 3, true),
            decided(312, 3, true),
        ];
        assert_eq!(verdict(&run(early, refused_early)).0, Verdict::Pass);
        // A damaged prepared record leaves the participant unsure which keys are locked.
        let damaged = vec![
            (40, 1, Observation::RecordDamaged { txn: t(9) }),
            voted(210, 2, false),
            decided(212, 2, false),
        ];
        assert_eq!(verdict(&run(ops.clone(), damaged)).0, Verdict::Pass);
        // An abort with every vote yes: a vote timeout on a healed network.
        let timed_out = vec![voted(310, 3, true), decided(700, 3, false)];
        let (v, d) = verdict(&run(ops.clone(), timed_out));
        assert_eq!(v, Verdict::Fail, "{d}");
        assert!(d.contains("no participant voted no"), "{d}");
        // Nothing decided after the deadline: nothing to judge.
        assert_eq!(verdict(&run(ops, vec![])).0, Verdict::Unknown);
    }

    #[test]
    fn the_deadline_follows_the_last_heal_and_must_fall_in_the_run() {
        let ops = vec![asked_txn(1, vec![3], 50), asked_txn(2, vec![3], 200)];
        let leaked = vec![
            voted(60, 1, true),
            learned(70, 1, false),
            voted(210, 2, false),
            decided(212, 2, false),
        ];
        // A heal at 150 ms moves the deadline to 250 ms: t0.2 (invoked at 200) is not judged,
        // and no transaction is left to judge.
        let healed = RunResult {
            fault_log: vec![(SimTime(150_000_000), sim_core::sim::FaultRecord::Heal)],
            ..run(ops.clone(), leaked)
        };
        assert_eq!(verdict(&healed).0, Verdict::Unknown);
        let late = RunResult {
            fault_log: vec![(SimTime(950_000_000), sim_core::sim::FaultRecord::Heal)],
            ..run(ops, vec![])
        };
        let (v, d) = verdict(&late);
        assert_eq!(v, Verdict::Unknown);
        assert!(d.contains("falls after the run's end"), "{d}");
    }
}
