//! Two-phase commit's checks over its own observations: `atomicity`, `validity`, `isolation`
//! (no lost update) and `blocking` (how long participants stayed prepared), as functions and
//! as the check kinds a scenario names.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sim_core::check::{CheckResult, Verdict};
use sim_core::process::Observed;
use sim_core::protocol::{rules, Check, CheckContext, CheckInput, CheckKind, FieldError};
use sim_core::{Key, NodeId, Outcome, RequestId, Response, RunResult, SimDuration, SimTime, Value};

use super::messages::{participant_of, Observation, TxnId};
use super::node::TwoPhaseCommit;
use super::txn_map::{TxnMap, TxnNodeMap};

/// Decisions by transaction (the first of each), and a conflict if two disagree.
struct Decisions<'a> {
    by_txn: TxnMap<(bool, &'a [Key], SimTime)>,
}

fn decisions(result: &RunResult<Observation>) -> Result<Decisions<'_>, Wrong> {
    let mut by_txn: TxnMap<(bool, &[Key], SimTime)> = TxnMap::new();
    for o in &result.observations {
        if let Observation::Decided { txn, commit, keys } = &o.value {
            match by_txn.get(txn) {
                Some((c, _, at)) if c != commit => {
                    return Err(Wrong::Txn(
                        *txn,
                        format!(
                            "the coordinator decided {txn} twice: {} at {at}, {} at {}",
                            word(*c),
                            word(*commit),
                            o.time
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    by_txn.insert(*txn, (*commit, keys, o.time));
                }
            }
        }
    }
    Ok(Decisions { by_txn })
}

fn word(commit: bool) -> &'static str {
    if commit {
        "commit"
    } else {
        "abort"
    }
}

fn fail(name: &str, seed: u64, what: String) -> CheckResult {
    CheckResult::new(
        name,
        Verdict::Fail,
        format!("{what} (reproduce with seed {seed})"),
    )
}

/// A failure about one transaction, its evidence the client's operation and every decision,
/// vote and outcome learned of it.
fn fail_txn(name: &str, result: &RunResult<Observation>, txn: TxnId, what: String) -> CheckResult {
    let ops = result
        .history
        .ops
        .iter()
        .enumerate()
        .filter(|(_, op)| op.client.0 == txn.client && op.request_id == txn.request)
        .map(|(i, _)| i);
    let mut r = fail(name, result.seed, what).operations(ops);
    for o in &result.observations {
        let said = match &o.value {
            Observation::Decided { txn: t, commit, .. } if *t == txn => {
                format!("decided {} of {txn}", word(*commit))
            }
            Observation::Voted { txn: t, yes } if *t == txn => {
                format!("voted {} on {txn}", if *yes { "yes" } else { "no" })
            }
            Observation::Learned {
                txn: t,
                commit,
                applied,
            } if *t == txn => format!(
                "learned {} of {txn}, applied {} key(s)",
                word(*commit),
                applied.len()
            ),
            _ => continue,
        };
        r = r.moment(o.time, o.node, said);
    }
    r
}

/// A failure about one key, its evidence every committed increment learned on it.
fn fail_key(name: &str, result: &RunResult<Observation>, key: Key, what: String) -> CheckResult {
    let mut r = fail(name, result.seed, what);
    for o in &result.observations {
        if let Observation::Learned {
            txn,
            commit: true,
            applied,
        } = &o.value
        {
            for &(k, prev, new) in applied {
                if k == key {
                    r = r.moment(o.time, o.node, format!("{txn}: key {k} {prev}→{new}"));
                }
            }
        }
    }
    r
}

/// What a check found wrong, and what it is about.
enum Wrong {
    Txn(TxnId, String),
    Key(Key, String),
    Answers(Vec<usize>, String),
}

impl Wrong {
    fn fail(self, name: &str, result: &RunResult<Observation>) -> CheckResult {
        match self {
            Wrong::Txn(txn, what) => fail_txn(name, result, txn, what),
            Wrong::Key(key, what) => fail_key(name, result, key, what),
            Wrong::Answers(ops, what) => fail(name, result.seed, what).operations(ops),
        }
    }
}

/// `atomicity`: every participant of a transaction that learns its outcome learns the
/// coordinator's decision (none commits a transaction the coordinator aborted or never
/// decided, none aborts a committed one), and a participant that learns a commit applies its
/// whole part of it — exactly the transaction's keys on its shard.
pub fn check_atomicity(result: &RunResult<Observation>) -> CheckResult {
    const NAME: &str = "atomicity";
    let decided = match decisions(result) {
        Ok(d) => d,
        Err(e) => return e.fail(NAME, result),
    };
    let mut learned: TxnNodeMap<bool> = TxnNodeMap::new(result.node_count);
    let (mut commits, mut aborts) = (0u64, 0u64);
    for o in &result.observations {
        let Observation::Learned {
            txn,
            commit,
            applied,
        } = &o.value
        else {
            continue;
        };
        let p = o.node;
        if let Some(&before) = learned.get(txn, p) {
            if before != *commit {
                return fail_txn(
                    NAME,
                    result,
                    *txn,
                    format!(
                        "n{} learned {txn} as {} and then as {} at {}",
                        p.0,
                        word(before),
                        word(*commit),
                        o.time
                    ),
                );
            }
            continue;
        }
        learned.insert(*txn, p, *commit);
        if let Err(what) =
            learned_as_decided(&decided, result.node_count, o, *txn, *commit, applied)
        {
            return fail_txn(NAME, result, *txn, what);
        }
        if *commit {
            commits += 1;
        } else {
            aborts += 1;
        }
    }
    let committed = decided.by_txn.values().filter(|d| d.0).count();
    CheckResult::new(
        NAME,
        Verdict::Pass,
        format!(
            "{} transactions decided ({committed} committed); participants learned {commits} commits and {aborts} aborts, all matching",
            decided.by_txn.len()
        ),
    )
    .metric("decided", decided.by_txn.len() as f64)
    .metric("committed", committed as f64)
}

/// Whether participant `o.node`'s first learning of `txn` matches the coordinator's decision
/// and, on commit, applies exactly its part; the failure says how not.
fn learned_as_decided(
    decided: &Decisions<'_>,
    node_count: u32,
    o: &Observed<Observation>,
    txn: TxnId,
    commit: bool,
    applied: &[(Key, Value, Value)],
) -> Result<(), String> {
    let p = o.node;
    match decided.by_txn.get(&txn) {
        None => Err(format!(
            "n{} learned {} for {txn} at {}, which the coordinator never decided",
            p.0,
            word(commit),
            o.time
        )),
        Some((c, _, at)) if *c != commit => Err(format!(
            "n{} learned {} for {txn} at {}, but the coordinator decided {} at {at}",
            p.0,
            word(commit),
            o.time,
            word(*c)
        )),
        Some((_, keys, _)) if commit => {
            let part = || {
                keys.iter()
                    .copied()
                    .filter(move |&k| participant_of(k, node_count) == p)
            };
            // Compared as they come; collected only to say how they differ.
            if !part().eq(applied.iter().map(|a| a.0)) {
                let want: Vec<Key> = part().collect();
                let got: Vec<Key> = applied.iter().map(|a| a.0).collect();
                return Err(format!(
                    "n{} learned commit of {txn} at {} but applied keys {got:?}, not its part {want:?}: the transaction is only partly applied",
                    p.0, o.time
                ));
            }
            Ok(())
        }
        Some(_) => Ok(()),
    }
}

/// `validity`: a transaction commits only if every participant voted yes before the decision.
pub fn check_validity(result: &RunResult<Observation>) -> CheckResult {
    const NAME: &str = "validity";
    let mut yes: TxnNodeMap<()> = TxnNodeMap::new(result.node_count);
    let mut commits = 0u64;
    for o in &result.observations {
        match &o.value {
            Observation::Voted { txn, yes: true } => {
                yes.insert(*txn, o.node, ());
            }
            Observation::Decided {
                txn,
                commit: true,
                keys,
            } => {
                commits += 1;
                let voted = |&k: &Key| yes.contains(txn, participant_of(k, result.node_count));
                if !keys.is_empty() && keys.iter().all(voted) {
                    continue; // The common case, without collecting the participants.
                }
                let parts: BTreeSet<NodeId> = keys
                    .iter()
                    .map(|&k| participant_of(k, result.node_count))
                    .collect();
                if parts.is_empty() {
                    return fail_txn(
                        NAME,
                        result,
                        *txn,
                        format!("{txn} committed at {} with no participant", o.time),
                    );
                }
                let missing: Vec<String> = parts
                    .iter()
                    .filter(|p| !yes.contains(txn, **p))
                    .map(|p| format!("n{}", p.0))
                    .collect();
                if !missing.is_empty() {
                    return fail_txn(
                        NAME,
                        result,
                        *txn,
                        format!(
                            "{txn} committed at {} without a yes vote from {}",
                            o.time,
                            missing.join(", ")
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    CheckResult::new(
        NAME,
        Verdict::Pass,
        format!("{commits} commits, each after a yes vote from every participant"),
    )
    .metric("commits", commits as f64)
}

/// `isolation` (no lost update): on each key, the committed increments are applied one after
/// another — the `i`-th sees the value `i` (so each sees a distinct previous value) and writes
/// `i + 1` — and the key ends at the number of committed transactions that touched it (those
/// whose commit its participant learned before the run stopped); and no two committed
/// transactions answer a client with the same new value of a key.
pub fn check_isolation(result: &RunResult<Observation>) -> CheckResult {
    const NAME: &str = "isolation";
    let checked = serial_increments(result).and_then(|(keys, increments)| {
        keys_end_at_their_commits(result, &keys)?;
        distinct_answers(result)?;
        Ok((keys, increments))
    });
    let (keys, increments) = match checked {
        Ok(k) => k,
        Err(wrong) => return wrong.fail(NAME, result),
    };
    let max = keys.values().map(|v| v.1).max().unwrap_or(0);
    CheckResult::new(
        NAME,
        Verdict::Pass,
        format!(
            "{increments} committed increments over {} keys, applied serially (largest value {max})",
            keys.len()
        ),
    )
    .metric("increments", increments as f64)
    .metric("keys", keys.len() as f64)
}

/// Key → (committed increments applied, last value).
type Increments = BTreeMap<Key, (u64, Value)>;

/// Each key's committed increments, and their number, if they applied one after another.
fn serial_increments(result: &RunResult<Observation>) -> Result<(Increments, u64), Wrong> {
    let mut keys = Increments::new();
    let mut increments = 0u64;
    for o in &result.observations {
        let Observation::Learned {
            txn,
            commit: true,
            applied,
        } = &o.value
        else {
            continue;
        };
        for &(k, prev, new) in applied {
            let (count, last) = keys.entry(k).or_insert((0, 0));
            if prev != *last || new != prev + 1 {
                return Err(Wrong::Key(k, format!(
                    "lost update on key {k}: {txn} at {} (n{}) incremented {prev} to {new}, but the key held {last} after {count} committed increments",
                    o.time, o.node.0
                )));
            }
            *count += 1;
            *last = new;
            increments += 1;
        }
    }
    Ok((keys, increments))
}

/// Each key ends at the number of committed transactions that touched it and whose
/// participant learned the commit (a commit still on its way when the run stopped excepted).
fn keys_end_at_their_commits(
    result: &RunResult<Observation>,
    keys: &Increments,
) -> Result<(), Wrong> {
    let mut learned: TxnNodeMap<()> = TxnNodeMap::new(result.node_count);
    for o in &result.observations {
        if let Observation::Learned {
            txn, commit: true, ..
        } = &o.value
        {
            learned.insert(*txn, o.node, ());
        }
    }
    let mut committed: BTreeMap<Key, u64> = BTreeMap::new();
    for o in &result.observations {
        if let Observation::Decided {
            txn,
            commit: true,
            keys: ks,
        } = &o.value
        {
            for &k in ks {
                if learned.contains(txn, participant_of(k, result.node_count)) {
                    *committed.entry(k).or_default() += 1;
                }
            }
        }
    }
    for (k, n) in &committed {
        let last = keys.get(k).map_or(0, |v| v.1);
        if last != *n {
            return Err(Wrong::Key(*k, format!("lost update on key {k}: it ends at {last}, but {n} committed transactions that touched it were learned by its participant")));
        }
    }
    Ok(())
}

/// Every committed client answer names a distinct new value per key.
fn distinct_answers(result: &RunResult<Observation>) -> Result<(), Wrong> {
    let mut answered: BTreeMap<(Key, Value), (RequestId, usize)> = BTreeMap::new();
    for (i, op) in result.history.ops.iter().enumerate() {
        let Some((at, Outcome::Ok(Response::Committed(kv)))) = &op.completion else {
            continue;
        };
        for &(k, v) in kv {
            if let Some((other, j)) = answered.insert((k, v), (op.request_id, i)) {
                return Err(Wrong::Answers(vec![j, i], format!(
                    "two committed transactions answered key {k} = {v}: client {}'s request {} at {at} and an earlier one (request {other})",
                    op.client.0, op.request_id
                )));
            }
        }
    }
    Ok(())
}

/// What `blocking` measured: per (participant, transaction), the time it stayed prepared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlockingFigures {
    /// Yes votes (prepared states entered).
    pub prepared: u64,
    /// Of those, still prepared when the run stopped.
    pub unresolved: u64,
    pub max: SimDuration,
    pub total: SimDuration,
    /// The participant and transaction of the longest.
    pub longest: Option<(NodeId, TxnId)>,
}

/// Measures how long participants stayed prepared: from the first yes vote of a participant
/// on a transaction to the decision it learned (or to the end of the run).
pub fn measure_blocking(result: &RunResult<Observation>) -> BlockingFigures {
    // Per participant and transaction: prepared since this time (`Some`), or it learned the
    // outcome (`None`: a later vote does not start a new wait). One map, one search per
    // observation.
    let mut state: TxnNodeMap<Option<SimTime>> = TxnNodeMap::new(result.node_count);
    let mut b = BlockingFigures::default();
    let add = |b: &mut BlockingFigures, d: SimDuration, who: (TxnId, NodeId)| {
        b.total = SimDuration(b.total.0 + d.0);
        if d > b.max || b.longest.is_none() {
            b.max = d;
            b.longest = Some((who.1, who.0));
        }
    };
    for o in &result.observations {
        match &o.value {
            Observation::Voted { txn, yes: true } if !state.contains(txn, o.node) => {
                state.insert(*txn, o.node, Some(o.time));
                b.prepared += 1;
            }
            Observation::Learned { txn, .. } => {
                let who = (*txn, o.node);
                if let Some(Some(t)) = state.insert(*txn, o.node, None) {
                    add(&mut b, o.time.saturating_since(t), who);
                }
            }
            _ => {}
        }
    }
    for (who, since) in state.into_entries() {
        if let Some(t) = since {
            b.unresolved += 1;
            add(&mut b, result.end.saturating_since(t), who);
        }
    }
    b
}

/// `blocking`: a measure, not hidden — how many participants were prepared, how many still
/// were at the end, and the longest and total time spent prepared. It fails only when `max`
/// is given and some participant stayed prepared longer.
pub fn check_blocking(result: &RunResult<Observation>, max: Option<SimDuration>) -> CheckResult {
    const NAME: &str = "blocking";
    let b = measure_blocking(result);
    let longest = match b.longest {
        Some((p, txn)) => format!(" (n{} on {txn})", p.0),
        None => String::new(),
    };
    let ms = |d: SimDuration| d.0 as f64 / 1e6;
    let detail = format!(
        "{} prepared states, {} unresolved at the end; longest {:.1}ms{longest}, total {:.1}ms",
        b.prepared,
        b.unresolved,
        ms(b.max),
        ms(b.total)
    );
    let verdict = match max {
        Some(m) if b.max > m => Verdict::Fail,
        _ => Verdict::Pass,
    };
    let detail = match (verdict, max) {
        (Verdict::Fail, Some(m)) => format!(
            "a participant stayed prepared {:.1}ms, above the bound {:.1}ms: {detail} (reproduce with seed {})",
            ms(b.max),
            ms(m),
            result.seed
        ),
        _ => detail,
    };
    CheckResult::new(NAME, verdict, detail)
        .metric("prepared", b.prepared as f64)
        .metric("unresolved", b.unresolved as f64)
        .metric("prepared_ms_max", ms(b.max))
        .metric("prepared_ms_total", ms(b.total))
}

sim_core::check_from_fn!(safety:
    /// Atomicity: every participant that learns a transaction's outcome learns the
    /// coordinator's decision and applies all of its part.
    pub Atomicity, "atomicity",
    "every participant that learns a transaction's outcome learns the coordinator's decision and applies all of its part",
    TwoPhaseCommit, check_atomicity
);
sim_core::check_from_fn!(safety:
    /// Validity: a transaction commits only if every participant voted yes.
    pub Validity, "validity", "a transaction commits only if every participant voted yes",
    TwoPhaseCommit, check_validity
);
sim_core::check_from_fn!(
    /// Isolation (no lost update): each key's committed increments apply serially.
    pub Isolation, "isolation",
    "no lost update: each key's committed increments apply serially",
    TwoPhaseCommit, check_isolation
);

/// `blocking`: how long participants stayed prepared (blocked); fails only above `max`, if
/// given.
pub struct Blocking;

/// [`Blocking`]'s parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<SimDuration>,
}

impl CheckKind for Blocking {
    const NAME: &'static str = "blocking";
    const SUMMARY: &'static str =
        "how long participants stayed prepared (blocked); fails only above `max`, if given";
    type Params = BlockingParams;

    fn validate(p: &BlockingParams, cx: &CheckContext<'_>) -> Result<(), FieldError> {
        match p.max {
            Some(m) => rules::positive(cx.path, "max", m),
            None => Ok(()),
        }
    }
}

impl Check<TwoPhaseCommit> for Blocking {
    fn run(p: &BlockingParams, input: &CheckInput<'_, TwoPhaseCommit>) -> CheckResult {
        check_blocking(input.result, p.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that recorded only these observations: `(ms, node, observation)`.
    fn observed(node_count: u32, obs: Vec<(u64, u32, Observation)>) -> RunResult<Observation> {
        let obs = obs
            .into_iter()
            .map(|(t, n, value)| (SimTime(t * 1_000_000), NodeId(n), value));
        RunResult {
            seed: 9,
            client_count: 1,
            ..RunResult::observed(node_count, SimTime(1_000_000_000), obs)
        }
    }

    const T: TxnId = TxnId {
        client: 0,
        request: 1,
    };

    /// Keys 0 and 2 of a 3-node cluster (2 shards): one on each participant.
    fn two_shard_keys() -> (Key, Key, NodeId, NodeId) {
        let (a, b) = (0, 2);
        let (pa, pb) = (participant_of(a, 3), participant_of(b, 3));
        assert_ne!(pa, pb, "pick keys on different shards");
        (a, b, pa, pb)
    }

    #[test]
    fn the_checks_catch_crafted_violations() {
        let (a, b, pa, pb) = two_shard_keys();
        let voted = |p: NodeId| (1, p.0, Observation::Voted { txn: T, yes: true });
        let decided = |commit| {
            (
                2,
                0,
                Observation::Decided {
                    txn: T,
                    commit,
                    keys: vec![a, b],
                },
            )
        };
        let learned = |t, p: NodeId, commit, applied: Vec<(Key, Value, Value)>| {
            (
                t,
                p.0,
                Observation::Learned {
                    txn: T,
                    commit,
                    applied,
                },
            )
        };
        let good = observed(
            3,
            vec![
                voted(pa),
                voted(pb),
                decided(true),
                learned(3, pa, true, vec![(a, 0, 1)]),
                learned(3, pb, true, vec![(b, 0, 1)]),
            ],
        );
        for c in [
            check_atomicity(&good),
            check_validity(&good),
            check_isolation(&good),
            check_blocking(&good, Some(SimDuration::from_millis(2))),
        ] {
            assert_eq!(c.verdict, Verdict::Pass, "{}: {}", c.name, c.detail);
        }
        // After both votes and a commit, one participant learns `learn`: atomicity's failure.
        let atomicity = |learn| {
            let r = observed(3, vec![voted(pa), voted(pb), decided(true), learn]);
            let c = check_atomicity(&r);
            assert_eq!(c.verdict, Verdict::Fail);
            c.detail
        };
        // A participant aborts a committed transaction.
        let d = atomicity(learned(3, pa, false, vec![]));
        assert!(d.contains("coordinator decided commit"), "{d}");
        // A participant applies only part of a commit ...
        let d = atomicity(learned(3, pb, true, vec![]));
        assert!(d.contains("applied keys [], not its part [2]"), "{d}");
        // ... or a key of another participant's part besides its own.
        let d = atomicity(learned(3, pb, true, vec![(b, 0, 1), (a, 0, 1)]));
        assert!(d.contains("applied keys [2, 0]"), "{d}");
        // A commit without a vote from one participant.
        let r = observed(3, vec![voted(pa), decided(true)]);
        let c = check_validity(&r);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.detail.contains(&format!("n{}", pb.0)), "{}", c.detail);
        // Two commits see the same previous value: a lost update.
        let r = observed(
            3,
            vec![
                learned(3, pa, true, vec![(a, 0, 1)]),
                (
                    4,
                    pa.0,
                    Observation::Learned {
                        txn: TxnId {
                            client: 1,
                            request: 1,
                        },
                        commit: true,
                        applied: vec![(a, 0, 1)],
                    },
                ),
            ],
        );
        let c = check_isolation(&r);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.detail.contains("lost update on key"), "{}", c.detail);
        // Prepared at 1 ms and never resolved: blocked until the end (1 s).
        let r = observed(3, vec![voted(pa)]);
        let c = check_blocking(&r, None);
        assert_eq!(c.verdict, Verdict::Pass);
        let b = measure_blocking(&r);
        assert_eq!((b.prepared, b.unresolved), (1, 1));
        assert_eq!(b.max, SimDuration::from_millis(999));
        assert_eq!(
            check_blocking(&r, Some(SimDuration::from_millis(500))).verdict,
            Verdict::Fail
        );
    }
}
