//! The leaderless store's checks over its own observations: `replica-convergence` (the
//! replicas of each key agree after the heal) and `no-lost-writes` (an acknowledged put is
//! held or superseded at the end), as functions and as the check kinds a scenario names.

use std::rc::Rc;

use serde::{Deserialize, Serialize};
use sim_core::check::convergence::last_real_heal;
use sim_core::check::{CheckResult, Verdict};
use sim_core::protocol::{rules, Check, CheckContext, CheckInput, CheckKind, FieldError, NoParams};
use sim_core::sim::NodeStatus;
use sim_core::{Key, NodeId, Outcome, Request, RunResult, SimDuration, SimTime, Value};

use super::messages::{Observation, Version};
use super::node::Leaderless;
use super::ring::{in_preference_list, preference_list};
use crate::kit::vec_map::VecMap;

/// The version each put was stamped with by its coordinator, by (key, value): what a
/// `BTreeMap` collected from the `Coordinated` observations would answer (the last one of a
/// pair wins). By key, then by value: a run writes a few keys, and within a key the values
/// mostly come in increasing order, so nearly every insertion is a push.
#[derive(Default)]
struct Coordinated(VecMap<Key, VecMap<Value, Version>>);

impl Coordinated {
    fn insert(&mut self, key: Key, version: Version) {
        match self.0.get_mut(&key) {
            Some(values) => {
                values.insert(version.value, version);
            }
            None => {
                let mut values = VecMap::new();
                values.insert(version.value, version);
                self.0.insert(key, values);
            }
        }
    }

    #[cfg(test)]
    fn from_pairs(all: Vec<((Key, Value), Version)>) -> Coordinated {
        let mut c = Coordinated::default();
        for ((key, value), version) in all {
            // The pair's value is the version's in real runs; the test's pairs may differ.
            let values = match c.0.get_mut(&key) {
                Some(values) => values,
                None => {
                    c.0.insert(key, VecMap::new());
                    c.0.get_mut(&key).expect("inserted")
                }
            };
            values.insert(value, version);
        }
        c
    }

    fn get(&self, pair: &(Key, Value)) -> Option<&Version> {
        self.0.get(&pair.0).and_then(|values| values.get(&pair.1))
    }
}

/// Each node's replica state at the end: per key, its version and the time it last changed.
/// A node holds a few keys, so each state is a small sorted vector.
type FinalStates = Vec<VecMap<Key, (Version, SimTime)>>;

/// What both checks read of a run's observations, gathered in one pass and computed once per
/// run through the checks' memo: the final states, the keys applied or coordinated, and the
/// coordinated versions.
struct Replay {
    states: FinalStates,
    /// Keys of `Applied` and `Coordinated` observations, ascending, each once.
    keys: VecMap<Key, ()>,
    coordinated: Coordinated,
}

/// Replays the observations into each node's replica state at the end (with the time of the
/// last change of each key at each node), the keys they name and the coordinated versions.
fn replay(result: &RunResult<Observation>) -> Replay {
    let mut states: FinalStates = vec![VecMap::new(); result.node_count as usize];
    let mut keys: VecMap<Key, ()> = VecMap::new();
    let mut coordinated = Coordinated::default();
    for o in &result.observations {
        match &o.value {
            Observation::Applied { key, version } => {
                states[o.node.index()].insert(*key, (*version, o.time));
                if !keys.contains_key(key) {
                    keys.insert(*key, ());
                }
            }
            Observation::Recovered { data } => {
                let s = &mut states[o.node.index()];
                let before = std::mem::take(s);
                for (key, version) in data {
                    // A key recovered at the version it held keeps its time of change.
                    let t = match before.get(key) {
                        Some((v, t)) if v == version => *t,
                        _ => o.time,
                    };
                    s.insert(*key, (*version, t));
                }
            }
            Observation::Coordinated { key, version } => {
                if !keys.contains_key(key) {
                    keys.insert(*key, ());
                }
                coordinated.insert(*key, *version);
            }
        }
    }
    Replay {
        states,
        keys,
        coordinated,
    }
}

/// Keys written (puts in the history) or named by `replay`'s observations, ascending, each
/// once.
fn keys_of(result: &RunResult<Observation>, replay: &Replay) -> Vec<Key> {
    let mut keys = replay.keys.clone();
    for op in &result.history.ops {
        if let Request::Put { key, .. } = op.request {
            if !keys.contains_key(&key) {
                keys.insert(key, ());
            }
        }
    }
    keys.iter().map(|(k, _)| *k).collect()
}

fn ms(t: u64) -> f64 {
    t as f64 / 1e6
}

/// `replica-convergence`: once the faults have healed and the last put was invoked (the later
/// of the two, "quiet"), every live replica of each key holds the same version by `quiet +
/// within` and until the end. `unknown` if the run ends before `quiet + within`.
pub fn check_replica_convergence(
    result: &RunResult<Observation>,
    n: u32,
    within: SimDuration,
) -> CheckResult {
    replica_convergence(result, n, within, || Rc::new(replay(result)))
}

/// [`check_replica_convergence`], asking `states` for the final states when it needs them.
fn replica_convergence(
    result: &RunResult<Observation>,
    n: u32,
    within: SimDuration,
    replayed: impl FnOnce() -> Rc<Replay>,
) -> CheckResult {
    const NAME: &str = "replica-convergence";
    let heal = last_real_heal(&result.fault_log);
    let last_put = result
        .history
        .ops
        .iter()
        .filter(|op| matches!(op.request, Request::Put { .. }))
        .map(|op| op.invoke)
        .max()
        .unwrap_or(SimTime::ZERO);
    let quiet = heal.max(last_put);
    let deadline = quiet.saturating_add(within);
    if result.end < deadline {
        return CheckResult::new(
            NAME,
            Verdict::Unknown,
            format!(
                "the run ended at {:.1} ms, before the heal/last put ({:.1} ms) + within",
                ms(result.end.0),
                ms(quiet.0)
            ),
        );
    }
    let replayed = replayed();
    let keys = keys_of(result, &replayed);
    let mut converged_at = SimTime::ZERO;
    for &key in &keys {
        match key_converged(result, &replayed.states, n, key, quiet, deadline) {
            Ok(last) => converged_at = converged_at.max(last),
            Err(what) => return CheckResult::new(NAME, Verdict::Fail, what),
        }
    }
    CheckResult::new(
        NAME,
        Verdict::Pass,
        format!(
            "{} keys: every live replica holds the same version; quiet at {:.1} ms, last change at {:.1} ms",
            keys.len(),
            ms(quiet.0),
            ms(converged_at.0)
        ),
    )
    .metric("keys", keys.len() as f64)
    .metric("quiet_at_ms", ms(quiet.0))
    .metric("converged_at_ms", ms(converged_at.0))
}

/// When the live replicas of `key` last changed, if they all hold the same version and
/// changed no later than `deadline`; the failure says how not.
fn key_converged(
    result: &RunResult<Observation>,
    states: &[VecMap<Key, (Version, SimTime)>],
    n: u32,
    key: Key,
    quiet: SimTime,
    deadline: SimTime,
) -> Result<SimTime, String> {
    let live = |node: NodeId| result.final_status[node.index()] == NodeStatus::Up;
    let replicas: Vec<NodeId> = preference_list(key, n, result.node_count)
        .into_iter()
        .filter(|r| live(*r))
        .collect();
    let held: Vec<(NodeId, Option<(Version, SimTime)>)> = replicas
        .iter()
        .map(|r| (*r, states[r.index()].get(&key).copied()))
        .collect();
    let first = held.first().map(|(_, h)| h.map(|(v, _)| v));
    if let Some((node, h)) = held.iter().find(|(_, h)| Some(h.map(|(v, _)| v)) != first) {
        return Err(format!(
            "key {key}: replica {} holds {:?} but replica {node} holds {:?} at the end ({:.1} ms; quiet since {:.1} ms)",
            held[0].0,
            first.flatten(),
            h.map(|(v, _)| v),
            ms(result.end.0),
            ms(quiet.0)
        ));
    }
    let last = held
        .iter()
        .filter_map(|(_, h)| h.map(|(_, t)| t))
        .max()
        .unwrap_or(SimTime::ZERO);
    if last > deadline {
        return Err(format!(
            "key {key}: replicas converged only at {:.1} ms, after quiet ({:.1} ms) + within",
            ms(last.0),
            ms(quiet.0)
        ));
    }
    Ok(last)
}

/// `no-lost-writes`: for every put acknowledged `ok`, the newest version of its key held by a
/// live replica at the end is at least the put's version — an acknowledged write is only ever
/// replaced by a higher-timestamped one, never lost.
pub fn check_no_lost_writes(result: &RunResult<Observation>, n: u32) -> CheckResult {
    no_lost_writes(result, n, &replay(result))
}

/// [`check_no_lost_writes`] on the replayed observations `replayed`.
fn no_lost_writes(result: &RunResult<Observation>, n: u32, replayed: &Replay) -> CheckResult {
    const NAME: &str = "no-lost-writes";
    let states = &replayed.states;
    let versions = &replayed.coordinated;
    let live = |node: NodeId| result.final_status[node.index()] == NodeStatus::Up;
    // Whether `key` has a live replica, and the newest version those hold, found without
    // building the preference list (the failure message does). The same for every put of the
    // key, so found once a key (a run writes a few keys).
    let newest_held = |key: Key| {
        let mut any_live = false;
        let mut newest = None;
        for r in (0..result.node_count).map(NodeId) {
            if in_preference_list(key, n, result.node_count, r) && live(r) {
                any_live = true;
                newest = newest.max(states[r.index()].get(&key).map(|(v, _)| *v));
            }
        }
        (any_live, newest)
    };
    let mut held: VecMap<Key, (bool, Option<Version>)> = VecMap::new();
    let mut acked = 0usize;
    let mut unchecked = 0usize;
    for (index, op) in result.history.ops.iter().enumerate() {
        let (Request::Put { key, value }, Some((t, Outcome::Ok(_)))) =
            (&op.request, &op.completion)
        else {
            continue;
        };
        acked += 1;
        let Some(version) = versions.get(&(*key, *value)) else {
            return CheckResult::new(
                NAME,
                Verdict::Fail,
                format!("put of {value} at key {key} was acknowledged but no node coordinated it"),
            )
            .operations([index]);
        };
        let (any_live, newest) = match held.get(key) {
            Some(h) => *h,
            None => {
                let h = newest_held(*key);
                held.insert(*key, h);
                h
            }
        };
        if !any_live {
            unchecked += 1;
            continue;
        }
        if newest.is_none_or(|v| v < *version) {
            let replicas: Vec<NodeId> = preference_list(*key, n, result.node_count)
                .into_iter()
                .filter(|r| live(*r))
                .collect();
            return CheckResult::new(
                NAME,
                Verdict::Fail,
                format!(
                    "put of {value} at key {key} (version ts {} node {}) acknowledged to {} at {:.1} ms is lost: the live replicas {replicas:?} end with {newest:?}",
                    version.ts,
                    version.node,
                    op.client,
                    ms(t.0),
                ),
            )
            .operations([index]);
        }
    }
    let verdict = if acked > 0 && unchecked == acked {
        Verdict::Unknown
    } else {
        Verdict::Pass
    };
    CheckResult::new(
        NAME,
        verdict,
        format!(
            "{acked} acknowledged puts, each held or superseded at the end ({unchecked} on keys without a live replica)"
        ),
    )
    .metric("acked_puts", acked as f64)
}

/// `replica-convergence`: once faults have healed and puts stopped, every live replica of
/// each key holds the same version within `within`.
pub struct ReplicaConvergence;

/// [`ReplicaConvergence`]'s parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaConvergenceParams {
    pub within: SimDuration,
}

impl CheckKind for ReplicaConvergence {
    const NAME: &'static str = "replica-convergence";
    const SUMMARY: &'static str = "once faults heal and puts stop, every live replica of each key holds the same version within `within`";
    type Params = ReplicaConvergenceParams;

    fn validate(p: &ReplicaConvergenceParams, cx: &CheckContext<'_>) -> Result<(), FieldError> {
        rules::positive(cx.path, "within", p.within)
    }
}

impl Check<Leaderless> for ReplicaConvergence {
    fn run(p: &ReplicaConvergenceParams, input: &CheckInput<'_, Leaderless>) -> CheckResult {
        replica_convergence(input.result, input.params.n, p.within, || {
            input.memo.get_or_compute(|| replay(input.result))
        })
    }
}

/// `no-lost-writes`: every acknowledged put is held, or superseded by a higher version, at the
/// end.
pub struct NoLostWrites;

impl CheckKind for NoLostWrites {
    const NAME: &'static str = "no-lost-writes";
    const SUMMARY: &'static str =
        "every acknowledged put is held, or superseded by a higher version, at the end";
    type Params = NoParams;
}

impl Check<Leaderless> for NoLostWrites {
    fn run(_: &NoParams, input: &CheckInput<'_, Leaderless>) -> CheckResult {
        let replayed = input.memo.get_or_compute(|| replay(input.result));
        no_lost_writes(input.result, input.params.n, &replayed)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use sim_core::rng::{SimRng, StreamLabel};

    #[test]
    fn coordinated_answers_as_the_collected_map() {
        let mut rng = SimRng::new(3, StreamLabel::Custom(4));
        for len in [0usize, 1, 2, 7, 100, 1000] {
            let pairs: Vec<((Key, Value), Version)> = (0..len)
                .map(|i| {
                    let key = rng.range_inclusive(0, 5);
                    let value = rng.range_inclusive(0, 40);
                    let version = Version {
                        ts: i as i64,
                        node: rng.range_inclusive(0, 4) as u32,
                        value,
                    };
                    ((key, value), version)
                })
                .collect();
            let tree: BTreeMap<(Key, Value), Version> = pairs.iter().copied().collect();
            let sorted = Coordinated::from_pairs(pairs);
            for key in 0..7 {
                for value in 0..42 {
                    assert_eq!(sorted.get(&(key, value)), tree.get(&(key, value)));
                }
            }
        }
    }
}
