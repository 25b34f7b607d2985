//! The client passes: fewer clients, fewer keys, fewer operations — delta debugging over each
//! in turn, on the explicit `Script` — and at the end the clients left without operations
//! removed (the others renumbered, partition groups too).
//!
//! Removing a client's operations keeps every other client's as they were (each names its
//! keys and nodes), which is why a shrink writes the workload out as a script first.

use std::collections::BTreeSet;

use sim_core::config::{ClientScript, Fault, Group, Partition, ScriptedRequest, Workload};
use sim_core::{ClientId, Key};

use super::ddmin::ddmin;
use super::eval::Evaluator;
use super::faults::{entries, with_entries};
use crate::Scenario;

fn scripts(s: &Scenario) -> Option<&[ClientScript]> {
    match &s.config.clients.workload {
        Workload::Script { clients, .. } => Some(clients),
        _ => None,
    }
}

fn with_scripts(s: &Scenario, scripts: Vec<ClientScript>) -> Scenario {
    let mut out = s.clone();
    if let Workload::Script { clients, .. } = &mut out.config.clients.workload {
        *clients = scripts;
    }
    out
}

/// The keys an operation touches.
fn keys(op: &ScriptedRequest) -> Vec<Key> {
    match op {
        ScriptedRequest::Get(k)
        | ScriptedRequest::Put(k)
        | ScriptedRequest::Cas(k)
        | ScriptedRequest::Append(k) => vec![*k],
        ScriptedRequest::Txn(keys) => keys.clone(),
        ScriptedRequest::Broadcast => Vec::new(),
    }
}

/// Fewer clients (a removed client keeps its place, with no operations), then fewer keys (the
/// operations on the others removed), then fewer operations.
pub(super) fn reduce(ev: &mut Evaluator<'_>) {
    let Some(all) = scripts(&ev.best).map(<[ClientScript]>::to_vec) else {
        return;
    };
    ev.pass = "clients";
    let base = ev.best.clone();
    let busy: Vec<usize> = (0..all.len()).filter(|&c| !all[c].ops.is_empty()).collect();
    ddmin(ev, &busy, |keep| {
        let s = all
            .iter()
            .enumerate()
            .map(|(c, script)| ClientScript {
                start: script.start,
                ops: if keep.contains(&c) {
                    script.ops.clone()
                } else {
                    Vec::new()
                },
            })
            .collect();
        with_scripts(&base, s)
    });

    ev.pass = "keys";
    let base = ev.best.clone();
    let all = scripts(&base)
        .map(<[ClientScript]>::to_vec)
        .unwrap_or_default();
    let used: BTreeSet<Key> = all
        .iter()
        .flat_map(|c| c.ops.iter().flat_map(|o| keys(&o.op)))
        .collect();
    let used: Vec<Key> = used.into_iter().collect();
    if used.len() > 1 {
        ddmin(ev, &used, |keep| {
            let s = all
                .iter()
                .map(|c| ClientScript {
                    start: c.start,
                    ops: c
                        .ops
                        .iter()
                        .filter(|o| keys(&o.op).iter().all(|k| keep.contains(k)))
                        .cloned()
                        .collect(),
                })
                .collect();
            with_scripts(&base, s)
        });
    }

    ev.pass = "operations";
    let base = ev.best.clone();
    let all = scripts(&base)
        .map(<[ClientScript]>::to_vec)
        .unwrap_or_default();
    let ops: Vec<(usize, usize)> = all
        .iter()
        .enumerate()
        .flat_map(|(c, s)| (0..s.ops.len()).map(move |i| (c, i)))
        .collect();
    ddmin(ev, &ops, |keep| {
        let keep: BTreeSet<(usize, usize)> = keep.iter().copied().collect();
        let s = all
            .iter()
            .enumerate()
            .map(|(c, script)| ClientScript {
                start: script.start,
                ops: script
                    .ops
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| keep.contains(&(c, *i)))
                    .map(|(_, o)| o.clone())
                    .collect(),
            })
            .collect();
        with_scripts(&base, s)
    });
}

/// Removes the clients without operations (renumbering the others in partition groups), or
/// the clients altogether when none has any.
pub(super) fn compact(ev: &mut Evaluator<'_>) {
    let Some(all) = scripts(&ev.best).map(<[ClientScript]>::to_vec) else {
        return;
    };
    let kept: Vec<usize> = (0..all.len()).filter(|&c| !all[c].ops.is_empty()).collect();
    if kept.len() == all.len() {
        return;
    }
    ev.pass = "compact";
    let mut s = ev.best.clone();
    if kept.is_empty() {
        s.config.clients = Default::default();
    } else {
        s.config.clients.count = kept.len() as u32;
        s.config.clients.workload = match &s.config.clients.workload {
            Workload::Script { interval, .. } => Workload::Script {
                interval: *interval,
                clients: kept.iter().map(|&c| all[c].clone()).collect(),
            },
            w => w.clone(),
        };
    }
    let renumber = |g: &Group| Group {
        nodes: g.nodes.clone(),
        clients: g
            .clients
            .iter()
            .filter_map(|c| kept.iter().position(|&k| k == c.index()))
            .map(|i| ClientId(i as u32))
            .collect(),
    };
    let mut es = entries(&s);
    for e in &mut es {
        if let Fault::Partition(p) = &mut e.fault {
            *p = match p {
                Partition::Split(gs) => Partition::Split(gs.iter().map(renumber).collect()),
                Partition::OneWay { from, to } => Partition::OneWay {
                    from: renumber(from),
                    to: renumber(to),
                },
                Partition::Bridge {
                    left,
                    right,
                    bridge,
                } => Partition::Bridge {
                    left: renumber(left),
                    right: renumber(right),
                    bridge: *bridge,
                },
                Partition::Isolate(n) => Partition::Isolate(*n),
            };
        }
    }
    let s = with_entries(&s, &es);
    ev.first(vec![s]);
}
