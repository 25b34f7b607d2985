//! The fault passes: fewer faults (delta debugging over the schedule), then simpler ones.
//!
//! Entries that belong together are removed together — a crash and the restart that ends it,
//! a link change and the reset that ends it — so that removing a fault never leaves half of
//! it behind. Each surviving fault is then simplified while the failure stays: shorter (a
//! partition's `until`, a pause, a crash's downtime halved), smaller (a clock jump halved, a
//! partition's minority side losing nodes, a split turned into a one-way cut), or gentler (a
//! crash replaced by a pause, or restarted at once).

use sim_core::config::{Fault, Group, Partition};
use sim_core::{NodeId, SimDuration};

use super::ddmin::ddmin_variants;
use super::eval::Evaluator;
use crate::schedule::{self, Entry};
use crate::Scenario;

/// The schedule entries of `s`.
pub(super) fn entries(s: &Scenario) -> Vec<Entry> {
    schedule::from_engine(&s.config.faults)
}

/// `s` with `entries` as its schedule.
pub(super) fn with_entries(s: &Scenario, entries: &[Entry]) -> Scenario {
    let mut out = s.clone();
    out.config.faults = schedule::to_engine(entries);
    out
}

/// The entries grouped into units removed together: a crash with the next restart of its
/// node, a link change with the next link reset; every other entry alone.
fn units(entries: &[Entry]) -> Vec<Vec<usize>> {
    let mut taken = vec![false; entries.len()];
    let mut out = Vec::new();
    for i in 0..entries.len() {
        if taken[i] {
            continue;
        }
        taken[i] = true;
        let ends = |f: &Fault| match (&entries[i].fault, f) {
            (Fault::Crash(a), Fault::Restart(b)) => a == b,
            (Fault::SetLink { .. }, Fault::ResetLinks) => true,
            _ => false,
        };
        let mut unit = vec![i];
        if let Some(j) = (i + 1..entries.len()).find(|&j| !taken[j] && ends(&entries[j].fault)) {
            taken[j] = true;
            unit.push(j);
        }
        out.push(unit);
    }
    out
}

/// Delta debugging over the schedule's units at the run's seed; then, if the evaluator has
/// other seeds to try, again with each subset run at the current seed and at each of them.
///
/// Removing a fault changes every later random draw (latencies, drops, timer jitter), so a
/// failure that needs several faults lined up with an election rarely survives the removal
/// at the same seed even when the faults left are enough for it; the same subset at a few
/// other seeds often fails again. The shrunk file is explicit, so it need not keep the seed
/// it started from: it carries the seed its faults fail at.
pub(super) fn remove(ev: &mut Evaluator<'_>) {
    ev.pass = "faults";
    remove_at(ev, &[]);
    // Few other seeds first (cheap when a subset fails nowhere), then more while the
    // schedule is still longer than a few faults.
    let mut k = SEEDS_FIRST;
    loop {
        let seeds = ev.seeds_to_try(k);
        if seeds.len() <= 1 || ev.exhausted() {
            break;
        }
        ev.pass = "seeds";
        remove_at(ev, &seeds);
        if k >= ev.other_seeds.len() || entries(&ev.best).len() <= FEW {
            break;
        }
        k *= SEEDS_GROWTH;
    }
}

/// Other seeds of the first seed-hopping pass, and the factor between one pass and the next.
const SEEDS_FIRST: usize = 8;
const SEEDS_GROWTH: usize = 8;
/// A schedule this short is read at a glance: more seeds are not spent to shorten it.
const FEW: usize = 5;

/// Delta debugging over the units of the best schedule, each subset at each of `seeds` in
/// order (none: at the best's own seed).
fn remove_at(ev: &mut Evaluator<'_>, seeds: &[u64]) {
    let base = ev.best.clone();
    let all = entries(&base);
    ddmin_variants(ev, &units(&all), |keep| {
        let mut kept: Vec<usize> = keep.iter().flatten().copied().collect();
        kept.sort_unstable();
        let kept: Vec<Entry> = kept.into_iter().map(|i| all[i].clone()).collect();
        let one = with_entries(&base, &kept);
        if seeds.is_empty() {
            return vec![one];
        }
        seeds
            .iter()
            .map(|&seed| {
                let mut s = one.clone();
                s.config.seed = seed;
                s
            })
            .collect()
    });
}

/// Simplifies each fault in turn, keeping each simpler form that still fails.
pub(super) fn simplify(ev: &mut Evaluator<'_>) {
    ev.pass = "simplify";
    let mut u = 0;
    let mut rounds = 0;
    while !ev.exhausted() {
        let all = entries(&ev.best);
        let us = units(&all);
        let Some(unit) = us.get(u) else { break };
        let variants = variants(&all, unit, ev.best.config.node_count);
        let candidates: Vec<Scenario> =
            variants.iter().map(|v| with_entries(&ev.best, v)).collect();
        // The same unit again after a success (it may simplify further), the next after a
        // failure or after enough steps on one unit.
        if ev.first(candidates).is_some() && rounds < 12 {
            rounds += 1;
        } else {
            u += 1;
            rounds = 0;
        }
    }
}

/// The schedules in which `unit` is replaced by a simpler form, most simplifying first.
fn variants(all: &[Entry], unit: &[usize], nodes: u32) -> Vec<Vec<Entry>> {
    let first = &all[unit[0]];
    let second = unit.get(1).map(|&j| &all[j]);
    let mut forms: Vec<Vec<Entry>> = Vec::new();
    let entry = |at, fault, until| Entry { at, fault, until };
    match (&first.fault, second) {
        (Fault::Crash(n), Some(restart)) => {
            let down = SimDuration(restart.at.0.saturating_sub(first.at.0));
            forms.push(vec![entry(
                first.at,
                Fault::Pause(*n, down.max(ms(1))),
                None,
            )]);
            forms.push(vec![
                first.clone(),
                entry(first.at, Fault::Restart(*n), None),
            ]);
            if down >= ms(2) {
                let half = first.at + SimDuration(down.0 / 2);
                forms.push(vec![first.clone(), entry(half, Fault::Restart(*n), None)]);
            }
        }
        (Fault::Pause(n, d), None) if *d >= ms(2) => {
            forms.push(vec![entry(
                first.at,
                Fault::Pause(*n, SimDuration(d.0 / 2)),
                None,
            )]);
        }
        (Fault::ClockJump(n, by), None) if by.unsigned_abs() >= ms(2).0 => {
            forms.push(vec![entry(first.at, Fault::ClockJump(*n, by / 2), None)]);
        }
        (Fault::SetLink { from, to, link }, end) => {
            let mut gentler = link.clone();
            gentler.drop /= 2.0;
            gentler.duplicate /= 2.0;
            if let Some(end) = end {
                let span = SimDuration(end.at.0.saturating_sub(first.at.0));
                if span >= ms(2) {
                    let half = entry(first.at + SimDuration(span.0 / 2), Fault::ResetLinks, None);
                    forms.push(vec![first.clone(), half]);
                }
            }
            if gentler.drop >= 0.01 || gentler.duplicate >= 0.01 {
                let mut f = vec![entry(
                    first.at,
                    Fault::SetLink {
                        from: *from,
                        to: *to,
                        link: gentler,
                    },
                    None,
                )];
                f.extend(end.cloned());
                forms.push(f);
            }
        }
        (Fault::Partition(p), None) => {
            if let Some(until) = first.until {
                let span = SimDuration(until.0.saturating_sub(first.at.0));
                if span >= ms(2) {
                    let half = Some(first.at + SimDuration(span.0 / 2));
                    forms.push(vec![entry(first.at, first.fault.clone(), half)]);
                }
            }
            for shape in smaller_partitions(p, nodes) {
                forms.push(vec![entry(first.at, Fault::Partition(shape), first.until)]);
            }
        }
        _ => {}
    }
    forms
        .into_iter()
        .map(|form| {
            let mut out: Vec<Entry> = Vec::with_capacity(all.len());
            for (i, e) in all.iter().enumerate() {
                if i == unit[0] {
                    out.extend(form.iter().cloned());
                } else if !unit.contains(&i) {
                    out.push(e.clone());
                }
            }
            out
        })
        .collect()
}

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

/// Partitions that cut less than `p`: a split's smaller sides giving up one node at a time to
/// the largest, a two-sided split or an isolation as a one-way cut (each direction), groups
/// without their clients.
fn smaller_partitions(p: &Partition, nodes: u32) -> Vec<Partition> {
    let mut out = Vec::new();
    let nodes_only = |g: &Group| Group {
        nodes: g.nodes.clone(),
        clients: Vec::new(),
    };
    match p {
        Partition::Split(groups) => {
            let largest = (0..groups.len())
                .max_by_key(|&i| (groups[i].nodes.len(), usize::MAX - i))
                .unwrap_or(0);
            for (g, group) in groups.iter().enumerate() {
                if g == largest || group.nodes.len() < 2 {
                    continue;
                }
                for (k, &n) in group.nodes.iter().enumerate() {
                    let mut shape = groups.clone();
                    shape[g].nodes.remove(k);
                    shape[largest].nodes.push(n);
                    shape[largest].nodes.sort_unstable();
                    out.push(Partition::Split(shape));
                }
            }
            if let [a, b] = groups.as_slice() {
                let (a, b) = (nodes_only(a), nodes_only(b));
                out.push(Partition::OneWay {
                    from: a.clone(),
                    to: b.clone(),
                });
                out.push(Partition::OneWay { from: b, to: a });
            }
            if groups.iter().any(|g| !g.clients.is_empty()) {
                out.push(Partition::Split(groups.iter().map(nodes_only).collect()));
            }
        }
        Partition::Isolate(n) => {
            let one = Group {
                nodes: vec![*n],
                clients: Vec::new(),
            };
            let rest = Group {
                nodes: (0..nodes).filter(|&i| i != n.0).map(NodeId).collect(),
                clients: Vec::new(),
            };
            if !rest.nodes.is_empty() {
                out.push(Partition::OneWay {
                    from: one.clone(),
                    to: rest.clone(),
                });
                out.push(Partition::OneWay {
                    from: rest,
                    to: one,
                });
            }
        }
        Partition::OneWay { from, to } => {
            if from.clients.len() + to.clients.len() > 0 {
                out.push(Partition::OneWay {
                    from: nodes_only(from),
                    to: nodes_only(to),
                });
            }
        }
        Partition::Bridge { .. } => {}
    }
    out
}
