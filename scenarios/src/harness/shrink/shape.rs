//! The shape passes: an earlier end (the run cut short after the failure, faults after it
//! gone — for safety checks only, `CheckKind::PREFIX_CLOSED`) and fewer nodes.
//!
//! A safety failure that happened by time `T` happens in every run that is the same up to `T`,
//! and cutting the fault phase short leaves everything before the cut as it was — so the end
//! time is searched like a sorted list: a few candidate ends spread over the current one, the
//! earliest that still fails kept, the gap below it searched again, down to a millisecond.

use sim_core::config::{Fault, Group, Partition, Topology, Workload};
use sim_core::{NodeId, SimDuration};

use super::eval::Evaluator;
use super::faults::{entries, with_entries};
use crate::Scenario;

/// Candidate ends tried at once.
const SECTIONS: u64 = 7;

/// `s` with its fault phase ending at `d` (and the liveness phase, if any, after it): faults
/// from `d` on removed, the clients' `stop` no later than the new end.
fn ending_at(s: &Scenario, d: SimDuration, liveness: Option<SimDuration>) -> Scenario {
    let mut out = s.clone();
    out.config.duration = d;
    out.config.liveness = liveness;
    let end = out.config.end_time();
    if let Some(stop) = &mut out.config.clients.stop {
        *stop = (*stop).min(end);
    }
    let es: Vec<_> = entries(s).into_iter().filter(|e| e.at < d).collect();
    with_entries(&out, &es)
}

fn ceil_ms(d: u64) -> SimDuration {
    let ms = 1_000_000;
    SimDuration(d.div_ceil(ms).max(1) * ms)
}

/// An earlier end: first without the liveness phase (if the failure does not need it), then
/// the fault phase cut as early as the failure allows.
pub(super) fn earlier_end(ev: &mut Evaluator<'_>) {
    // Only a safety failure stays the same failure in a run cut short: a check judged on how
    // the run ends would fail for want of time.
    if !ev.best.checks.iter().all(|c| c.prefix_closed) {
        return;
    }
    ev.pass = "time";
    if ev.best.config.liveness.is_some() {
        let s = ending_at(&ev.best, ev.best.config.duration, None);
        ev.first(vec![s]);
    }
    let mut lo = 0u64;
    while !ev.exhausted() {
        let hi = ev.best.config.duration.0;
        if hi <= lo + 1_000_000 {
            break;
        }
        let liveness = ev.best.config.liveness;
        let mut ends: Vec<SimDuration> = (1..=SECTIONS)
            .map(|k| ceil_ms(lo + (hi - lo) * k / (SECTIONS + 1)))
            .filter(|d| d.0 < hi)
            .collect();
        ends.dedup();
        if ends.is_empty() {
            break;
        }
        let candidates = ends
            .iter()
            .map(|&d| ending_at(&ev.best, d, liveness))
            .collect();
        match ev.first(candidates) {
            Some(0) => {}
            Some(i) => lo = ends[i - 1].0,
            None => lo = ends[ends.len() - 1].0,
        }
    }
}

/// Fewer nodes: the highest-numbered node removed while the failure stays (faults that name
/// only it dropped, it taken out of partition groups, operations sent to it sent to node 0).
/// The protocol's own rules (a quorum size, a coordinator and participants) are checked by
/// reading each candidate back, as always.
pub(super) fn fewer_nodes(ev: &mut Evaluator<'_>) {
    ev.pass = "nodes";
    while !ev.exhausted() && ev.best.config.node_count > 1 {
        let Some(s) = without_last_node(&ev.best) else {
            return;
        };
        if ev.first(vec![s]).is_none() {
            return;
        }
    }
}

fn without_last_node(s: &Scenario) -> Option<Scenario> {
    let last = NodeId(s.config.node_count - 1);
    let mut out = s.clone();
    let c = &mut out.config;
    c.node_count -= 1;
    match &mut c.topology {
        Topology::Star { center } if *center == last => return None,
        Topology::Edges(edges) => edges.retain(|(a, b)| *a != last && *b != last),
        _ => {}
    }
    c.network
        .overrides
        .retain(|o| o.from != last && o.to != last);
    if c.clients.target == sim_core::config::TargetPolicy::Fixed(last) {
        return None;
    }
    if let Workload::Script { clients, .. } = &mut c.clients.workload {
        for op in clients.iter_mut().flat_map(|s| s.ops.iter_mut()) {
            if op.node == Some(last) {
                op.node = Some(NodeId(0));
            }
        }
    }
    let without = |g: &Group| Group {
        nodes: g.nodes.iter().copied().filter(|&n| n != last).collect(),
        clients: g.clients.clone(),
    };
    let empty = |g: &Group| g.nodes.is_empty() && g.clients.is_empty();
    let mut es = entries(s);
    es.retain_mut(|e| match &mut e.fault {
        Fault::Crash(n)
        | Fault::Restart(n)
        | Fault::Pause(n, _)
        | Fault::ClockJump(n, _)
        | Fault::Clog(n)
        | Fault::Unclog(n) => *n != last,
        Fault::TornWrite { node, .. }
        | Fault::Corrupt { node, .. }
        | Fault::Misdirect { node, .. }
        | Fault::LoseSync(node) => *node != last,
        Fault::SetLink { from, to, .. } | Fault::Replay { from, to, .. } => {
            *from != Some(last) && *to != Some(last)
        }
        Fault::Partition(p) => match p {
            Partition::Isolate(n) => *n != last,
            Partition::Split(gs) => {
                *gs = gs.iter().map(without).filter(|g| !empty(g)).collect();
                gs.len() >= 2
            }
            Partition::OneWay { from, to } => {
                *from = without(from);
                *to = without(to);
                !empty(from) && !empty(to)
            }
            Partition::Bridge {
                left,
                right,
                bridge,
            } => {
                *left = without(left);
                *right = without(right);
                *bridge != last && !empty(left) && !empty(right)
            }
        },
        Fault::Heal | Fault::ResetLinks | Fault::EndPartition(_) => true,
    });
    Some(with_entries(&out, &es))
}

/// Rounder times: every fault time, partition end, client start and operation time on a
/// grid of 1 ms (or, failing that, 100 µs), so the file reads as a timeline.
pub(super) fn round_times(ev: &mut Evaluator<'_>) {
    ev.pass = "round";
    let candidates = [1_000_000u64, 100_000]
        .iter()
        .map(|&grid| rounded(&ev.best, grid))
        .collect();
    ev.first(candidates);
}

fn rounded(s: &Scenario, grid: u64) -> Scenario {
    let round = |d: SimDuration| SimDuration((d.0 + grid / 2) / grid * grid);
    let mut out = s.clone();
    if let Workload::Script { clients, .. } = &mut out.config.clients.workload {
        for c in clients.iter_mut() {
            c.start = round(c.start);
            for op in &mut c.ops {
                op.at = op.at.map(round);
            }
        }
    }
    let mut es = entries(s);
    for e in &mut es {
        e.at = round(e.at);
        e.until = e.until.map(|u| round(u).max(e.at + SimDuration(grid)));
        if let Fault::Pause(_, d) = &mut e.fault {
            *d = round(*d).max(SimDuration(grid));
        }
    }
    with_entries(&out, &es)
}
