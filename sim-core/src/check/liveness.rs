//! The `liveness` check for leader-based protocols: after the faults heal, a leader is in
//! office within a bound, and the clients' operations complete.
//!
//! A protocol opts in by implementing [`LeaderBased`]: it says how to read its observations as
//! [`Leadership`] changes — when a node gained leadership (of a term or ballot) and when it
//! gave it up — and then lists [`Liveness`] among its checks. A crash ends a node's leadership
//! too. A leader elected before the faults healed counts only if it is still in office at the
//! deadline: one that stepped down in between (a higher term arrived after the heal, say)
//! leaves the cluster leaderless unless someone else was elected.

use serde::{Deserialize, Serialize};

use crate::check::{CheckResult, Verdict};
use crate::protocol::{self, Check, CheckContext, CheckInput, CheckKind, FieldError, Protocol};
use crate::sim::FaultRecord;
use crate::{NodeId, Outcome, RunResult, SimDuration, SimTime};

/// A protocol with leaders, whose observations say who leads: what [`Liveness`] reads.
pub trait LeaderBased: Protocol {
    /// What [`Leadership::Gained`] counts, for reports: `"term"`, `"ballot round"`.
    const TERM: &'static str;
    /// The leadership change `o` reports, if any.
    fn leadership(o: &Self::Observation) -> Option<Leadership>;
}

/// The `liveness` check: `Liveness(within: "2s", min_answered: 0.9)` in a scenario.
pub struct Liveness;

/// [`Liveness`]'s parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessParams {
    /// How long after the last heal (or the liveness phase's start) a leader must be in office.
    pub within: SimDuration,
    /// The share of the operations invoked from then on that must complete (default: all).
    #[serde(default = "all", skip_serializing_if = "is_all")]
    pub min_answered: f64,
}

fn all() -> f64 {
    1.0
}

fn is_all(x: &f64) -> bool {
    *x == 1.0
}

impl CheckKind for Liveness {
    const NAME: &'static str = "liveness";
    const SUMMARY: &'static str =
        "after the faults heal a leader is in office within `within`, and clients are answered";
    type Params = LivenessParams;

    fn validate(p: &LivenessParams, cx: &CheckContext<'_>) -> Result<(), FieldError> {
        protocol::rules::positive(cx.path, "within", p.within)?;
        protocol::rules::probability(cx.path, "min_answered", p.min_answered)
    }
}

impl<P: LeaderBased> Check<P> for Liveness {
    fn run(p: &LivenessParams, input: &CheckInput<'_, P>) -> CheckResult {
        check_liveness(
            input.result,
            p.within,
            p.min_answered,
            P::TERM,
            P::leadership,
        )
    }
}

/// A change of leadership, read from a protocol's observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leadership {
    /// The node became leader of this term, epoch or ballot round (between two leaders of
    /// one number the higher node id wins, as in a ballot order).
    Gained(u64),
    /// The node stopped leading.
    Lost,
}

/// Who leads at `at`: the node in office (leader, term, since) with the highest term, if any.
pub fn leader_at<O>(
    result: &RunResult<O>,
    at: SimTime,
    leadership: impl Fn(&O) -> Option<Leadership>,
) -> Option<(NodeId, u64, SimTime)> {
    // Per node: (term, since) while it leads. Events in time order; at equal times a fault
    // record (crash) is applied before the observations of that instant.
    let mut leading: Vec<Option<(u64, SimTime)>> = vec![None; result.node_count as usize];
    let mut faults = result.fault_log.iter().peekable();
    for o in result.observations.iter().take_while(|o| o.time <= at) {
        while let Some((t, r)) = faults.peek() {
            if *t > o.time {
                break;
            }
            if let FaultRecord::Crash(n) = r {
                leading[n.index()] = None;
            }
            faults.next();
        }
        match leadership(&o.value) {
            Some(Leadership::Gained(term)) => leading[o.node.index()] = Some((term, o.time)),
            Some(Leadership::Lost) => leading[o.node.index()] = None,
            None => {}
        }
    }
    for (t, r) in faults {
        if *t > at {
            break;
        }
        if let FaultRecord::Crash(n) = r {
            leading[n.index()] = None;
        }
    }
    leading
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.map(|(term, since)| (term, NodeId(i as u32), since)))
        .max()
        .map(|(term, node, since)| (node, term, since))
}

/// The deadline of a check judged once the faults have healed: `within` after the later of
/// the last heal and the liveness phase's start, as `(base, deadline)` — or, when the deadline
/// falls after the run's end, check `name`'s `unknown` result saying so.
pub fn deadline_after_heal<O>(
    result: &RunResult<O>,
    within: SimDuration,
    name: &str,
) -> Result<(SimTime, SimTime), Box<CheckResult>> {
    let base = result
        .last_heal()
        .max(result.liveness_start.unwrap_or(SimTime::ZERO));
    let deadline = base + within;
    if deadline > result.end {
        return Err(Box::new(CheckResult::new(
            name,
            Verdict::Unknown,
            format!(
                "cannot judge: the deadline {deadline} ({within} after {base}) falls after the run's end at {}{}; lengthen `liveness` so the run lasts past it",
                result.end,
                if result.hit_events_max { " (it stopped at events_max)" } else { "" }
            ),
        )));
    }
    Ok((base, deadline))
}

/// `liveness`: from the later of the last heal and the liveness phase's start, a leader is in
/// office at the deadline `within` later (`unknown` when the run ended before the deadline); of the client operations invoked from that deadline
/// on (those still pending when the run stops excepted: it may have stopped first) at least
/// `min_answered` complete (`1.0`: all; a lossy network, with clients that do not resend after
/// a timeout, may need less).
/// `term` names what [`Leadership::Gained`] counts in the report (`"term"`, `"ballot round"`).
pub fn check_liveness<O>(
    result: &RunResult<O>,
    within: SimDuration,
    min_answered: f64,
    term: &str,
    leadership: impl Fn(&O) -> Option<Leadership>,
) -> CheckResult {
    let (base, deadline) = match deadline_after_heal(result, within, "liveness") {
        Ok(d) => d,
        Err(unknown) => return *unknown,
    };
    let Some((node, number, since)) = leader_at(result, deadline, leadership) else {
        return CheckResult::new(
            "liveness",
            Verdict::Fail,
            format!(
                "no leader in office at {deadline} ({within} after {base}) (reproduce with seed {})",
                result.seed
            ),
        );
    };
    let (mut due, mut answered) = (0usize, 0usize);
    let mut first_unanswered = None;
    for op in &result.history.ops {
        if op.invoke < deadline || op.completion.is_none() {
            continue;
        }
        due += 1;
        if matches!(
            op.completion,
            Some((_, Outcome::Ok(_))) | Some((_, Outcome::Fail))
        ) {
            answered += 1;
        } else if first_unanswered.is_none() {
            first_unanswered = Some((op.client.0, op.request_id, op.invoke));
        }
    }
    if (answered as f64) < min_answered * due as f64 {
        let (c, r, t) = first_unanswered.unwrap_or_default();
        return CheckResult::new(
            "liveness",
            Verdict::Fail,
            format!(
                "{answered} of {due} operations invoked from {deadline} completed (need {:.0}%); first unanswered: client {c} request {r} invoked at {t} (reproduce with seed {})",
                min_answered * 100.0,
                result.seed
            ),
        )
        .metric("ops_due", due as f64)
        .metric("ops_answered", answered as f64);
    }
    CheckResult::new(
        "liveness",
        Verdict::Pass,
        format!(
            "leader {node} of {term} {number} in office at {deadline} (since {since}); {answered} of {due} operations invoked from then on completed"
        ),
    )
    .metric("ops_due", due as f64)
    .metric("ops_answered", answered as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, Hash)]
    enum Obs {
        Won(u64),
        StepDown,
    }

    fn result(
        observations: Vec<(u64, u32, Obs)>,
        faults: Vec<(u64, FaultRecord)>,
    ) -> RunResult<Obs> {
        let observations = observations
            .into_iter()
            .map(|(t, n, value)| (SimTime(t), NodeId(n), value));
        RunResult {
            seed: 9,
            fault_log: faults.into_iter().map(|(t, r)| (SimTime(t), r)).collect(),
            ..RunResult::observed(3, SimTime(10_000), observations)
        }
    }

    fn read(o: &Obs) -> Option<Leadership> {
        match o {
            Obs::Won(t) => Some(Leadership::Gained(*t)),
            Obs::StepDown => Some(Leadership::Lost),
        }
    }

    fn verdict(r: &RunResult<Obs>) -> Verdict {
        check_liveness(r, SimDuration(100), 1.0, "term", read).verdict
    }

    #[test]
    fn a_leader_from_before_the_heal_counts_only_while_in_office() {
        // n0 leads from t=10; a partition heals at 500; deadline 600.
        let heal = vec![(500, FaultRecord::Heal)];
        assert_eq!(
            verdict(&result(vec![(10, 0, Obs::Won(1))], heal.clone())),
            Verdict::Pass
        );
        // It stepped down after the heal and nobody was elected by the deadline.
        let r = result(
            vec![(10, 0, Obs::Won(1)), (550, 0, Obs::StepDown)],
            heal.clone(),
        );
        assert_eq!(verdict(&r), Verdict::Fail);
        // ... or someone was: n2 of term 2.
        let r = result(
            vec![
                (10, 0, Obs::Won(1)),
                (550, 0, Obs::StepDown),
                (590, 2, Obs::Won(2)),
            ],
            heal.clone(),
        );
        assert_eq!(
            leader_at(&r, SimTime(600), read),
            Some((NodeId(2), 2, SimTime(590)))
        );
        assert_eq!(verdict(&r), Verdict::Pass);
        // Elected after the deadline is too late.
        let r = result(
            vec![
                (10, 0, Obs::Won(1)),
                (550, 0, Obs::StepDown),
                (650, 2, Obs::Won(2)),
            ],
            heal.clone(),
        );
        assert_eq!(verdict(&r), Verdict::Fail);
        // A crash ends leadership; a restart does not bring it back.
        let r = result(
            vec![(10, 0, Obs::Won(1))],
            vec![
                (300, FaultRecord::Crash(NodeId(0))),
                (500, FaultRecord::Restart(NodeId(0))),
            ],
        );
        assert_eq!(verdict(&r), Verdict::Fail);
        // A deadline after the run's end (here 10,000 ns) cannot be judged: unknown, not fail.
        let r = result(vec![], vec![(9_950, FaultRecord::Heal)]);
        let c = check_liveness(&r, SimDuration(100), 1.0, "term", read);
        assert_eq!(c.verdict, Verdict::Unknown, "{}", c.detail);
        assert!(
            c.detail.contains("falls after the run's end"),
            "{}",
            c.detail
        );
        // Two nodes think they lead (an old leader not yet told): the higher term is named.
        let r = result(vec![(10, 0, Obs::Won(1)), (400, 1, Obs::Won(2))], heal);
        assert_eq!(
            leader_at(&r, SimTime(600), read).map(|l| l.0),
            Some(NodeId(1))
        );
    }
}
