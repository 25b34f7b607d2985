//! Convergence: after the last fault heals, every live node holds every acknowledged value.
//!
//! This is the safety-and-liveness property of a broadcast (set) service such as gossip: a
//! value whose `Broadcast` a client saw acknowledged (`Outcome::Ok`) must end up at every node
//! that is up when the run ends, however the run partitioned, crashed or slowed them. Values
//! whose broadcast failed or timed out are not required anywhere (they may or may not spread).
//!
//! The checker is protocol-independent. A protocol turns its own observations into [`Fact`]s —
//! "node `n` now holds `v`" ([`Holding::Added`]) or "node `n` now holds exactly these values"
//! ([`Holding::Exactly`], typically what it recovered from storage after a restart) — and the
//! checker replays them against the fault log: a crash empties the node's holdings. Facts and
//! fault records with the same timestamp are applied faults first, so that a restart followed
//! at the same instant by the recovery fact ends with what was recovered.
//!
//! The verdict is pass iff every node whose final status is `Up` holds every acknowledged
//! value at the end of the run, and, when a bound `within` is given, acquired it (for the last
//! time) no later than `within` after the later of the heal time and the value's
//! acknowledgement. The heal time is when the last fault actually ended ([`last_real_heal`]:
//! a restart, a resume, the removal of an active partition, the reset of changed links, or the
//! start of the liveness phase if it healed something).
//!
//! Reported figures:
//! - `time_to_converge_ms`: from the heal time until every live node held every value that had
//!   been acknowledged by then (the backlog of the faulty period); zero if that happened first;
//! - `lag_max_ms`: the slowest arrival, measured from the later of the heal and the value's
//!   acknowledgement — exactly the quantity `within` bounds;
//! - `converged_at_ms` (the last arrival of any acknowledged value), `heal_at_ms`,
//!   `acked_values`, `live_nodes`, and `messages_sent` (every message of the run, client
//!   traffic included). Messages sent *after* the heal are not reported: the engine keeps only
//!   whole-run counters, and counting per send is not worth a cost on the hot path.
//!
//! Memory is one timestamp per (live node, acknowledged value) pair, bounded by
//! [`CELLS_MAX`]; a larger run gets an `unknown` verdict instead of an allocation failure.

use serde::{Deserialize, Serialize};

use crate::check::{CheckResult, Verdict};
use crate::history::{History, Outcome};
use crate::protocol::{rules, Check, CheckContext, CheckInput, CheckKind, FieldError, Protocol};
use crate::sim::{FaultRecord, NodeStatus, RunResult};
use crate::{NodeId, Request, SimDuration, SimTime, Value};

/// The check's name in reports and in a scenario's `expect`.
pub const NAME: &str = "convergence";

/// At most this many (live node, acknowledged value) cells are tracked (8 bytes each).
pub const CELLS_MAX: usize = 1 << 25;

/// Marks a cell whose node does not hold the value.
const NOT_HELD: u64 = u64::MAX;

/// What a protocol reports about one node's holdings at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holding<'a> {
    /// The node now also holds this value.
    Added(Value),
    /// The node now holds exactly these values and no others (e.g. what it recovered from its
    /// storage after a restart).
    Exactly(&'a [Value]),
}

/// One fact about a node's holdings, stamped with the true time it became so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fact<'a> {
    pub time: SimTime,
    pub node: NodeId,
    pub holding: Holding<'a>,
}

/// The parts of a run the checker reads besides the facts.
#[derive(Clone, Copy, Debug)]
pub struct RunView<'r> {
    pub history: &'r History,
    pub fault_log: &'r [(SimTime, FaultRecord)],
    /// One status per node; only `Up` nodes must have converged.
    pub final_status: &'r [NodeStatus],
    /// When the last fault ended ([`last_real_heal`] for a finished run).
    pub heal: SimTime,
    /// When the run stopped.
    pub end: SimTime,
    pub messages_sent: u64,
}

impl<'r> RunView<'r> {
    /// The view of a finished run.
    pub fn of<O>(r: &'r RunResult<O>) -> RunView<'r> {
        RunView {
            history: &r.history,
            fault_log: &r.fault_log,
            final_status: &r.final_status,
            heal: last_real_heal(&r.fault_log),
            end: r.end,
            messages_sent: r.stats.messages_sent,
        }
    }
}

/// When the last fault actually ended: the latest restart, resume, removal of an active
/// partition, or reset of changed links. Unlike [`RunResult::last_heal`], a `Heal` with no
/// partition active and the start of the liveness phase with nothing left to heal do not count:
/// they end nothing, and counting them would measure a fault-free run from the end of its fault
/// phase instead of from each value's acknowledgement.
pub fn last_real_heal(fault_log: &[(SimTime, FaultRecord)]) -> SimTime {
    let mut cuts: Vec<u64> = Vec::new();
    let mut links_changed = false;
    let mut clogs = 0usize;
    let mut last = SimTime::ZERO;
    for (t, rec) in fault_log {
        let ended = match rec {
            FaultRecord::Partition(id, _) => {
                cuts.push(*id);
                false
            }
            FaultRecord::RemoveCut(id) => {
                let before = cuts.len();
                cuts.retain(|c| c != id);
                cuts.len() < before
            }
            FaultRecord::SetLink => {
                links_changed = true;
                false
            }
            FaultRecord::ResetLinks => std::mem::take(&mut links_changed),
            FaultRecord::Heal => {
                let any = !cuts.is_empty();
                cuts.clear();
                any
            }
            FaultRecord::LivenessStart => {
                let any = !cuts.is_empty() || links_changed || clogs > 0;
                cuts.clear();
                links_changed = false;
                clogs = 0;
                any
            }
            FaultRecord::Clog(_) => {
                clogs += 1;
                false
            }
            FaultRecord::Unclog(_) => {
                clogs = clogs.saturating_sub(1);
                true
            }
            FaultRecord::Restart(_) | FaultRecord::Resume(_) => true,
            FaultRecord::Crash(_)
            | FaultRecord::Pause(..)
            | FaultRecord::ClockJump(..)
            | FaultRecord::Replay { .. }
            | FaultRecord::Storage(..) => false,
        };
        if ended {
            last = last.max(*t);
        }
    }
    last
}

/// The acknowledged broadcast values, sorted by value, each with its (earliest) ack time.
fn acknowledged(history: &History) -> Vec<(Value, SimTime)> {
    let mut acked: Vec<(Value, SimTime)> = history
        .ops
        .iter()
        .filter_map(|op| match (&op.request, &op.completion) {
            (Request::Broadcast { value }, Some((at, Outcome::Ok(_)))) => Some((*value, *at)),
            _ => None,
        })
        .collect();
    acked.sort_unstable();
    acked.dedup_by_key(|(v, _)| *v);
    acked
}

/// Checks convergence of `run` given the protocol's `facts` (in nondecreasing time order).
pub fn check<'a>(
    run: &RunView<'_>,
    facts: impl IntoIterator<Item = Fact<'a>>,
    within: Option<SimDuration>,
) -> CheckResult {
    let acked = acknowledged(run.history);
    let (row_of, live) = live_rows(run.final_status);
    let value_count = acked.len();
    let base = |r: CheckResult| {
        r.metric("acked_values", value_count as f64)
            .metric("live_nodes", live.len() as f64)
            .metric("messages_sent", run.messages_sent as f64)
            .metric("heal_at_ms", ms(run.heal.0))
    };
    if live.len().saturating_mul(value_count) > CELLS_MAX {
        return base(CheckResult::new(
            NAME,
            Verdict::Unknown,
            format!(
                "too large to check: {} live nodes × {} acknowledged values exceeds {} cells",
                live.len(),
                value_count,
                CELLS_MAX
            ),
        ));
    }
    let since = replay(run, facts, &row_of, live.len(), &acked);
    let tally = Tally::of(&since, &live, &acked, run.heal.0);
    if let Some(lack) = tally.first_lack {
        let mut detail = lacking_detail(&tally, lack, live.len(), &acked);
        let verdict = match within {
            // Every missing value's deadline is after the run's end, and none is lost: the run
            // was too short to tell.
            Some(w) if tally.lost() == 0 && !overdue(&since, &acked, run.heal.0, w, run.end) => {
                detail = format!(
                    "cannot judge: {detail}, but the run ended at {} before the deadline of any missing value ({} after the later of the last heal and its acknowledgement); lengthen the run",
                    secs(run.end.0),
                    dur_ms(w.0)
                );
                Verdict::Unknown
            }
            _ => Verdict::Fail,
        };
        let value = acked[lack.2].0;
        let broadcast = run
            .history
            .ops
            .iter()
            .position(|op| matches!(op.request, Request::Broadcast { value: v } if v == value));
        return base(CheckResult::new(NAME, verdict, detail))
            .metric("lacking_nodes", tally.lacking_nodes as f64)
            .metric("values_lost", tally.lost() as f64)
            .operations(broadcast);
    }
    let heal = run.heal.0;
    let lag = tally.lag_max.map_or(0, |(l, ..)| l);
    let converged = base(CheckResult::new(NAME, Verdict::Pass, String::new()))
        .metric(
            "time_to_converge_ms",
            ms(tally.backlog_at.saturating_sub(heal)),
        )
        .metric("converged_at_ms", ms(tally.converged_at))
        .metric("lag_max_ms", ms(lag));
    if let (Some(w), Some((lag, node, k, arrival))) = (within, tally.lag_max) {
        if lag > w.0 {
            let (v, acked_at) = acked[k];
            return CheckResult {
                verdict: Verdict::Fail,
                detail: format!(
                    "`{v}` reached n{} at {}, {} after the later of the last heal ({}) and its acknowledgement ({}); the bound is {}",
                    node.0,
                    secs(arrival),
                    dur_ms(lag),
                    secs(heal),
                    secs(acked_at.0),
                    dur_ms(w.0)
                ),
                ..converged
            };
        }
    }
    CheckResult {
        detail: pass_detail(&tally, live.len(), value_count, heal, lag),
        ..converged
    }
}

/// The row of each node that is up at the end (the others are replayed for nothing), and
/// those nodes in id order.
fn live_rows(final_status: &[NodeStatus]) -> (Vec<Option<usize>>, Vec<NodeId>) {
    let mut row_of: Vec<Option<usize>> = vec![None; final_status.len()];
    let mut live: Vec<NodeId> = Vec::new();
    for (i, s) in final_status.iter().enumerate() {
        if *s == NodeStatus::Up {
            row_of[i] = Some(live.len());
            live.push(NodeId(i as u32));
        }
    }
    (row_of, live)
}

/// Replays the facts and the crashes of the fault log: `since[row * values + k]` is when live
/// row `row` last acquired acknowledged value `k`, or `NOT_HELD`.
fn replay<'a>(
    run: &RunView<'_>,
    facts: impl IntoIterator<Item = Fact<'a>>,
    row_of: &[Option<usize>],
    live_count: usize,
    acked: &[(Value, SimTime)],
) -> Vec<u64> {
    let value_count = acked.len();
    let node_count = row_of.len();
    let mut since: Vec<u64> = vec![NOT_HELD; live_count * value_count];
    let index = |v: Value| acked.binary_search_by_key(&v, |(x, _)| *x).ok();
    let mut faults = run.fault_log.iter().peekable();
    let mut last_time = SimTime::ZERO;
    let mut apply_faults_until = |t: SimTime, since: &mut Vec<u64>| {
        while let Some((_, rec)) = faults.next_if(|(ft, _)| *ft <= t) {
            if let FaultRecord::Crash(n) = rec {
                if let Some(Some(row)) = row_of.get(n.index()) {
                    since[row * value_count..(row + 1) * value_count].fill(NOT_HELD);
                }
            }
        }
    };
    for fact in facts {
        assert!(
            fact.time >= last_time,
            "convergence facts out of time order: {:?} after {:?}",
            fact.time,
            last_time
        );
        assert!(
            fact.node.index() < node_count,
            "fact about unknown node {:?}",
            fact.node
        );
        last_time = fact.time;
        apply_faults_until(fact.time, &mut since);
        let Some(row) = row_of[fact.node.index()] else {
            continue;
        };
        let cells = &mut since[row * value_count..(row + 1) * value_count];
        match fact.holding {
            Holding::Added(v) => {
                if let Some(k) = index(v) {
                    if cells[k] == NOT_HELD {
                        cells[k] = fact.time.0;
                    }
                }
            }
            Holding::Exactly(vs) => {
                cells.fill(NOT_HELD);
                for v in vs {
                    if let Some(k) = index(*v) {
                        cells[k] = fact.time.0;
                    }
                }
            }
        }
    }
    apply_faults_until(SimTime::MAX, &mut since);
    since
}

/// What the replay says: who lacks what, when it all arrived, and the slowest arrival.
struct Tally {
    /// Live nodes holding each acknowledged value.
    holders: Vec<u32>,
    lacking_nodes: usize,
    /// The first node lacking values: (node, how many, index of one of them).
    first_lack: Option<(NodeId, usize, usize)>,
    converged_at: u64,
    /// The last arrival of a value acknowledged by the heal: the heal's backlog cleared.
    backlog_at: u64,
    /// The largest delay from the later of heal and acknowledgement (what `within` bounds):
    /// (lag, node, value index, arrival).
    lag_max: Option<(u64, NodeId, usize, u64)>,
}

impl Tally {
    fn of(since: &[u64], live: &[NodeId], acked: &[(Value, SimTime)], heal: u64) -> Tally {
        let value_count = acked.len();
        let mut t = Tally {
            holders: vec![0; value_count],
            lacking_nodes: 0,
            first_lack: None,
            converged_at: 0,
            backlog_at: 0,
            lag_max: None,
        };
        for (row, node) in live.iter().enumerate() {
            let cells = &since[row * value_count..(row + 1) * value_count];
            let mut missing = 0usize;
            let mut example = 0usize;
            for (k, &at) in cells.iter().enumerate() {
                if at == NOT_HELD {
                    if missing == 0 {
                        example = k;
                    }
                    missing += 1;
                    continue;
                }
                t.holders[k] += 1;
                t.converged_at = t.converged_at.max(at);
                let acked_at = acked[k].1 .0;
                if acked_at <= heal {
                    t.backlog_at = t.backlog_at.max(at);
                }
                let lag = at.saturating_sub(heal.max(acked_at));
                if t.lag_max.is_none_or(|(l, ..)| lag > l) {
                    t.lag_max = Some((lag, *node, k, at));
                }
            }
            if missing > 0 {
                t.lacking_nodes += 1;
                if t.first_lack.is_none() {
                    t.first_lack = Some((*node, missing, example));
                }
            }
        }
        t
    }

    /// Acknowledged values no live node holds.
    fn lost(&self) -> usize {
        self.holders.iter().filter(|&&h| h == 0).count()
    }
}

/// Whether some live node lacks a value whose deadline — `within` after the later of the heal
/// and the value's acknowledgement — passed before the run's `end`.
fn overdue(
    since: &[u64],
    acked: &[(Value, SimTime)],
    heal: u64,
    within: SimDuration,
    end: SimTime,
) -> bool {
    let value_count = acked.len().max(1);
    since.iter().enumerate().any(|(cell, &at)| {
        let (_, acked_at) = acked[cell % value_count];
        at == NOT_HELD && heal.max(acked_at.0).saturating_add(within.0) <= end.0
    })
}

/// The failure's words when some live node lacks acknowledged values.
fn lacking_detail(
    tally: &Tally,
    (node, missing, k): (NodeId, usize, usize),
    live_count: usize,
    acked: &[(Value, SimTime)],
) -> String {
    let (v, acked_at) = acked[k];
    let mut detail = if tally.lacking_nodes == 1 {
        format!(
            "n{} lacks {} acknowledged value{}",
            node.0,
            missing,
            plural(missing)
        )
    } else {
        format!(
            "{} of {} live nodes lack acknowledged values; n{} lacks {}",
            tally.lacking_nodes, live_count, node.0, missing
        )
    };
    detail.push_str(&format!(
        " (e.g. `{v}`, acknowledged at {})",
        secs(acked_at.0)
    ));
    let lost = tally.lost();
    if lost > 0 {
        let first_lost = tally
            .holders
            .iter()
            .position(|&h| h == 0)
            .expect("lost > 0");
        detail.push_str(&format!(
            "; {} acknowledged value{} held by no live node (e.g. `{}`)",
            lost,
            if lost == 1 { " is" } else { "s are" },
            acked[first_lost].0
        ));
    }
    detail
}

/// The words of a pass.
fn pass_detail(
    tally: &Tally,
    live_count: usize,
    value_count: usize,
    heal: u64,
    lag: u64,
) -> String {
    if value_count == 0 {
        return format!("no acknowledged values to converge on ({live_count} live nodes; vacuous)");
    }
    if live_count == 0 {
        return format!("no node is up at the end; {value_count} acknowledged values (vacuous)");
    }
    let when = if heal == 0 {
        format!("converged at {}", secs(tally.converged_at))
    } else if tally.backlog_at <= heal {
        format!("converged by the last heal at {}", secs(heal))
    } else {
        format!(
            "converged {} after the last heal at {}",
            dur_ms(tally.backlog_at - heal),
            secs(heal)
        )
    };
    format!(
        "{} live node{} hold{} all {} acknowledged value{}; {}; slowest arrival {} after the later of heal and acknowledgement",
        live_count,
        plural(live_count),
        if live_count == 1 { "s" } else { "" },
        value_count,
        plural(value_count),
        when,
        dur_ms(lag)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Nanoseconds as milliseconds, for metrics.
fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// A duration for a detail line: `412.3ms`.
fn dur_ms(ns: u64) -> String {
    format!("{:.1}ms", ns as f64 / 1e6)
}

/// An instant for a detail line: `5.000s`.
fn secs(ns: u64) -> String {
    format!(
        "{}.{:03}s",
        ns / 1_000_000_000,
        (ns % 1_000_000_000) / 1_000_000
    )
}

/// A protocol that spreads values to every node, whose observations say what each node holds:
/// what [`Convergence`] reads.
pub trait Disseminates: Protocol {
    /// What observation `o` says the node holds, if anything.
    fn holding(o: &Self::Observation) -> Option<Holding<'_>>;
}

/// The `convergence` check: `Convergence()` or `Convergence(within: "5s")` in a scenario.
pub struct Convergence;

/// [`Convergence`]'s parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvergenceParams {
    /// Each acknowledged value must reach every live node this soon after the later of the
    /// last heal and its acknowledgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<SimDuration>,
}

impl CheckKind for Convergence {
    const NAME: &'static str = NAME;
    const SUMMARY: &'static str =
        "after the last heal every live node holds every acknowledged value";
    type Params = ConvergenceParams;

    fn validate(p: &ConvergenceParams, cx: &CheckContext<'_>) -> Result<(), FieldError> {
        match p.within {
            Some(w) => rules::positive(cx.path, "within", w),
            None => Ok(()),
        }
    }
}

impl<P: Disseminates> Check<P> for Convergence {
    fn run(p: &ConvergenceParams, input: &CheckInput<'_, P>) -> CheckResult {
        check_run::<P>(input.result, p.within)
    }
}

/// Convergence of a finished run of `P`, its observations read through [`Disseminates`].
pub fn check_run<P: Disseminates>(
    result: &RunResult<P::Observation>,
    within: Option<SimDuration>,
) -> CheckResult {
    let facts = result.observations.iter().filter_map(|o| {
        P::holding(&o.value).map(|holding| Fact {
            time: o.time,
            node: o.node,
            holding,
        })
    });
    check(&RunView::of(result), facts, within)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Operation;
    use crate::{ClientId, Response};

    const MS: u64 = 1_000_000;

    fn t(ms: u64) -> SimTime {
        SimTime(ms * MS)
    }

    /// A broadcast `(value, invoke ms, completion)`; completion `None` = still pending.
    type BroadcastOp = (Value, u64, Option<(u64, Outcome)>);

    fn history(ops: &[BroadcastOp]) -> History {
        History {
            ops: ops
                .iter()
                .enumerate()
                .map(|(i, (v, at, done))| Operation {
                    client: ClientId(0),
                    request_id: i as u64 + 1,
                    node: NodeId(0),
                    via: Vec::new(),
                    request: Request::Broadcast { value: *v },
                    invoke: t(*at),
                    completion: done.clone().map(|(ms, o)| (t(ms), o)),
                })
                .collect(),
        }
    }

    fn ok(at: u64) -> Option<(u64, Outcome)> {
        Some((at, Outcome::Ok(Response::Ok)))
    }

    fn added(ms: u64, node: u32, v: Value) -> Fact<'static> {
        Fact {
            time: t(ms),
            node: NodeId(node),
            holding: Holding::Added(v),
        }
    }

    struct Case<'a> {
        history: History,
        faults: Vec<(SimTime, FaultRecord)>,
        status: Vec<NodeStatus>,
        heal: SimTime,
        facts: Vec<Fact<'a>>,
        within: Option<SimDuration>,
    }

    impl<'a> Case<'a> {
        fn new(nodes: usize, history: History) -> Case<'a> {
            Case {
                history,
                faults: Vec::new(),
                status: vec![NodeStatus::Up; nodes],
                heal: SimTime::ZERO,
                facts: Vec::new(),
                within: None,
            }
        }
        fn check(&self) -> CheckResult {
            let view = RunView {
                history: &self.history,
                fault_log: &self.faults,
                final_status: &self.status,
                heal: self.heal,
                end: t(10_000),
                messages_sent: 42,
            };
            check(&view, self.facts.iter().copied(), self.within)
        }
    }

    fn metric(r: &CheckResult, key: &str) -> f64 {
        r.metrics
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no metric {key}: {r:?}"))
            .1
    }

    #[test]
    fn everyone_holds_everything_passes_with_time_to_converge() {
        let mut c = Case::new(3, history(&[(10, 0, ok(5)), (20, 10, ok(12))]));
        c.heal = t(100);
        c.faults = vec![(t(50), FaultRecord::Heal), (t(100), FaultRecord::Heal)];
        for (ms, n, v) in [
            (4, 0, 10),
            (11, 1, 20),
            (30, 1, 10),
            (60, 2, 10),
            (150, 0, 20),
            (412, 2, 20),
        ] {
            c.facts.push(added(ms, n, v));
        }
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert_eq!(r.name, "convergence");
        assert_eq!(metric(&r, "time_to_converge_ms"), 312.0);
        assert_eq!(metric(&r, "converged_at_ms"), 412.0);
        assert_eq!(metric(&r, "messages_sent"), 42.0);
        assert_eq!(metric(&r, "acked_values"), 2.0);
        assert_eq!(
            r.detail,
            "3 live nodes hold all 2 acknowledged values; converged 312.0ms after the last heal at 0.100s; slowest arrival 312.0ms after the later of heal and acknowledgement"
        );
    }

    #[test]
    fn a_missing_value_whose_deadline_is_after_the_end_is_unknown() {
        // The run ends at 10 s; value 2 is acknowledged at 9.9 s and n1 lacks it.
        let mut c = Case::new(2, history(&[(1, 0, ok(10)), (2, 9_890, ok(9_900))]));
        c.facts = vec![added(10, 0, 1), added(20, 1, 1), added(9_900, 0, 2)];
        c.within = Some(SimDuration::from_secs(1));
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Unknown, "{r:?}");
        assert!(
            r.detail
                .starts_with("cannot judge: n1 lacks 1 acknowledged value"),
            "{}",
            r.detail
        );
        // With a bound that passed before the end, the same run fails.
        c.within = Some(SimDuration::from_millis(50));
        assert_eq!(c.check().verdict, Verdict::Fail);
        // Without a bound, a value missing at the end is a failure.
        c.within = None;
        assert_eq!(c.check().verdict, Verdict::Fail);
    }

    #[test]
    fn values_acknowledged_after_the_heal_count_for_lag_not_for_time_to_converge() {
        let mut c = Case::new(2, history(&[(1, 0, ok(10)), (2, 450, ok(500))]));
        c.heal = t(100);
        c.facts = vec![
            added(10, 0, 1),
            added(150, 1, 1),
            added(500, 0, 2),
            added(700, 1, 2),
        ];
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert_eq!(metric(&r, "time_to_converge_ms"), 50.0);
        assert_eq!(metric(&r, "lag_max_ms"), 200.0);
        assert_eq!(metric(&r, "converged_at_ms"), 700.0);
        // A bound between the two figures fails on the later value.
        c.within = Some(SimDuration::from_millis(199));
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.detail
                .starts_with("`2` reached n1 at 0.700s, 200.0ms after"),
            "{}",
            r.detail
        );
    }

    #[test]
    fn converging_before_the_heal_reports_zero() {
        let mut c = Case::new(2, history(&[(7, 0, ok(1))]));
        c.heal = t(500);
        c.facts = vec![added(1, 0, 7), added(3, 1, 7)];
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Pass);
        assert_eq!(metric(&r, "time_to_converge_ms"), 0.0);
        assert!(
            r.detail.contains("converged by the last heal at 0.500s"),
            "{}",
            r.detail
        );
    }

    #[test]
    fn a_node_lacking_a_value_fails_and_is_named() {
        let v = 4_294_967_297;
        let mut c = Case::new(4, history(&[(v, 0, ok(2)), (9, 0, ok(3))]));
        for n in 0..4 {
            c.facts.push(added(5 + u64::from(n), n, 9));
            if n != 3 {
                c.facts.push(added(10 + u64::from(n), n, v));
            }
        }
        c.facts.sort_by_key(|f| f.time);
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(
            r.detail,
            "n3 lacks 1 acknowledged value (e.g. `4294967297`, acknowledged at 0.002s)"
        );
        assert_eq!(metric(&r, "lacking_nodes"), 1.0);
        assert_eq!(metric(&r, "values_lost"), 0.0);
    }

    #[test]
    fn a_value_held_by_nobody_is_reported_as_lost() {
        let mut c = Case::new(2, history(&[(1, 0, ok(1)), (2, 0, ok(2))]));
        c.facts = vec![added(1, 0, 1), added(2, 1, 1)];
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.detail
                .starts_with("2 of 2 live nodes lack acknowledged values; n0 lacks 1"),
            "{}",
            r.detail
        );
        assert!(
            r.detail
                .ends_with("1 acknowledged value is held by no live node (e.g. `2`)"),
            "{}",
            r.detail
        );
        assert_eq!(metric(&r, "values_lost"), 1.0);
    }

    #[test]
    fn unacknowledged_values_are_not_required() {
        let h = history(&[
            (1, 0, ok(1)),
            (2, 0, Some((5, Outcome::Unknown))),
            (3, 0, Some((5, Outcome::Fail))),
            (4, 0, None),
        ]);
        let mut c = Case::new(2, h);
        c.facts = vec![added(1, 0, 1), added(2, 1, 1), added(3, 1, 2)];
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert_eq!(metric(&r, "acked_values"), 1.0);
    }

    #[test]
    fn a_crash_empties_the_node_and_recovery_facts_refill_it() {
        let h = history(&[(1, 0, ok(1)), (2, 0, ok(2))]);
        let base = |recovered: &'static [Value]| {
            let mut c = Case::new(2, h.clone());
            c.faults = vec![
                (t(50), FaultRecord::Crash(NodeId(1))),
                (t(60), FaultRecord::Restart(NodeId(1))),
            ];
            c.heal = t(60);
            c.facts = vec![
                added(1, 0, 1),
                added(2, 0, 2),
                added(10, 1, 1),
                added(20, 1, 2),
                Fact {
                    time: t(60),
                    node: NodeId(1),
                    holding: Holding::Exactly(recovered),
                },
            ];
            c
        };
        // It recovered only value 1 and never relearned value 2.
        let r = base(&[1]).check();
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.detail
                .starts_with("n1 lacks 1 acknowledged value (e.g. `2`"),
            "{}",
            r.detail
        );
        // It recovered both: converged at the recovery, i.e. right at the heal.
        let r = base(&[1, 2]).check();
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert_eq!(metric(&r, "converged_at_ms"), 60.0);
        // It recovered nothing but relearned both from peers afterwards.
        let mut c = base(&[]);
        c.facts.push(added(70, 1, 2));
        c.facts.push(added(95, 1, 1));
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert_eq!(metric(&r, "time_to_converge_ms"), 35.0);
    }

    #[test]
    fn a_crash_without_a_recovery_fact_still_empties_the_node() {
        let mut c = Case::new(2, history(&[(1, 0, ok(1))]));
        c.faults = vec![
            (t(50), FaultRecord::Crash(NodeId(1))),
            (t(60), FaultRecord::Restart(NodeId(1))),
        ];
        c.facts = vec![added(1, 0, 1), added(2, 1, 1)];
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
        assert!(r.detail.starts_with("n1 lacks 1"), "{}", r.detail);
    }

    #[test]
    fn nodes_down_at_the_end_are_excluded() {
        let mut c = Case::new(3, history(&[(1, 0, ok(1))]));
        c.faults = vec![(t(50), FaultRecord::Crash(NodeId(2)))];
        c.status[2] = NodeStatus::Crashed;
        c.facts = vec![added(1, 0, 1), added(2, 1, 1)];
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert_eq!(metric(&r, "live_nodes"), 2.0);
        assert!(
            r.detail
                .starts_with("2 live nodes hold all 1 acknowledged value;"),
            "{}",
            r.detail
        );
    }

    #[test]
    fn facts_at_a_crash_instant_are_applied_after_the_crash() {
        // Crash, restart and recovery all at 50 ms: the recovery fact decides.
        let mut c = Case::new(1, history(&[(1, 0, ok(1))]));
        c.faults = vec![
            (t(50), FaultRecord::Crash(NodeId(0))),
            (t(50), FaultRecord::Restart(NodeId(0))),
        ];
        c.facts = vec![
            added(1, 0, 1),
            Fact {
                time: t(50),
                node: NodeId(0),
                holding: Holding::Exactly(&[1]),
            },
        ];
        assert_eq!(c.check().verdict, Verdict::Pass);
        c.facts[1] = Fact {
            time: t(50),
            node: NodeId(0),
            holding: Holding::Exactly(&[]),
        };
        assert_eq!(c.check().verdict, Verdict::Fail);
    }

    #[test]
    fn the_bound_counts_from_the_later_of_heal_and_ack() {
        let h = history(&[(1, 0, ok(10)), (2, 900, ok(1_000))]);
        let mut c = Case::new(2, h);
        c.heal = t(500);
        c.within = Some(SimDuration::from_millis(100));
        // Value 1: deadline 600 ms (heal + 100). Value 2: deadline 1100 ms (ack + 100).
        c.facts = vec![
            added(10, 0, 1),
            added(600, 1, 1),
            added(1_000, 0, 2),
            added(1_100, 1, 2),
        ];
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        c.facts[1] = added(601, 1, 1);
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(
            r.detail,
            "`1` reached n1 at 0.601s, 101.0ms after the later of the last heal (0.500s) and its acknowledgement (0.010s); the bound is 100.0ms"
        );
        // Same arrivals without a bound: pass.
        c.within = None;
        assert_eq!(c.check().verdict, Verdict::Pass);
    }

    #[test]
    fn vacuous_runs_pass_and_say_so() {
        let c = Case::new(2, history(&[(1, 0, Some((3, Outcome::Unknown)))]));
        let r = c.check();
        assert_eq!(r.verdict, Verdict::Pass);
        assert!(r.detail.contains("vacuous"), "{}", r.detail);
    }

    #[test]
    fn the_heal_is_the_last_fault_that_ended_something() {
        use crate::config::Partition;
        let cut = |id| FaultRecord::Partition(id, Partition::Isolate(NodeId(1)));
        let mut log = vec![
            (t(1_000), cut(1)),
            (t(2_000), FaultRecord::RemoveCut(1)),
            (t(2_500), FaultRecord::RemoveCut(1)),
            (t(3_000), FaultRecord::Heal),
            (t(4_000), FaultRecord::SetLink),
            (t(5_000), FaultRecord::ResetLinks),
            (t(6_000), FaultRecord::ResetLinks),
            (t(6_500), FaultRecord::Crash(NodeId(2))),
            (t(6_600), FaultRecord::ClockJump(NodeId(2), -5)),
            (t(7_000), FaultRecord::LivenessStart),
        ];
        assert_eq!(last_real_heal(&log), t(5_000));
        // The liveness phase restarts the crashed node: that is a heal.
        log.push((t(7_000), FaultRecord::Restart(NodeId(2))));
        assert_eq!(last_real_heal(&log), t(7_000));
        // A partition still active when the liveness phase starts: the phase heals it.
        let log = vec![(t(1_000), cut(4)), (t(7_000), FaultRecord::LivenessStart)];
        assert_eq!(last_real_heal(&log), t(7_000));
        let log = vec![
            (t(1_000), cut(4)),
            (t(2_000), FaultRecord::Heal),
            (t(7_000), FaultRecord::LivenessStart),
        ];
        assert_eq!(last_real_heal(&log), t(2_000));
        assert_eq!(last_real_heal(&[]), SimTime::ZERO);
    }

    #[test]
    #[should_panic(expected = "out of time order")]
    fn facts_out_of_order_are_a_bug() {
        let mut c = Case::new(1, history(&[(1, 0, ok(1))]));
        c.facts = vec![added(5, 0, 1), added(4, 0, 1)];
        c.check();
    }
}
