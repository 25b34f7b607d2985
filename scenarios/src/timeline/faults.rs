//! The fault log read as spans, instants and bands: a crash until its restart, a pause until
//! it resumes, a partition until its cut is removed (or every cut healed, or the liveness
//! phase starts, or the run ends); restarts, clock jumps and link changes as instants.

use sim_core::config::{Fault, Group, Partition};
use sim_core::faults::Action;
use sim_core::{ClientId, Endpoint, FaultRecord, NodeId, SimTime};

use super::{Band, Down, Instant, Lane};
use crate::harness::RunReport;
use crate::write;

/// The words of a restart instant (the timeline's recovery handlers look for them).
pub(super) const RESTART: &str = "restart";

fn lanes_of(g: &Group) -> Vec<Lane> {
    g.nodes
        .iter()
        .map(|&n| Endpoint::Node(n))
        .chain(g.clients.iter().map(|&c| Endpoint::Client(c)))
        .collect()
}

/// The sides of a partition, as lanes.
fn groups(p: &Partition, nodes: u32, clients: u32) -> Vec<Vec<Lane>> {
    match p {
        Partition::Split(gs) => gs.iter().map(lanes_of).collect(),
        Partition::Isolate(n) => {
            let rest: Vec<Lane> = (0..nodes)
                .filter(|&i| i != n.0)
                .map(|i| Endpoint::Node(NodeId(i)))
                .chain((0..clients).map(|c| Endpoint::Client(ClientId(c))))
                .collect();
            vec![vec![Endpoint::Node(*n)], rest]
        }
        Partition::OneWay { from, to } => vec![lanes_of(from), lanes_of(to)],
        Partition::Bridge { left, right, .. } => vec![lanes_of(left), lanes_of(right)],
    }
}

/// The words for a link change at `at`, from the plan (the log records only that one
/// happened).
fn link_change(report: &RunReport, at: SimTime) -> String {
    report
        .plan
        .iter()
        .filter(|p| p.at == at)
        .find_map(|p| match &p.action {
            Action::Apply(f @ Fault::SetLink { .. }, _) => Some(write::fault(f)),
            _ => None,
        })
        .unwrap_or_else(|| "SetLink".into())
}

pub(super) fn read(report: &RunReport) -> (Vec<Down>, Vec<Instant>, Vec<Band>) {
    let end = report.sim_time_ns;
    let (nodes, clients) = (report.node_count, report.client_count);
    let mut downs: Vec<Down> = Vec::new();
    let mut instants: Vec<Instant> = Vec::new();
    let mut bands: Vec<Band> = Vec::new();
    // Open spans: (node, since, crashed) and (cut id, band index).
    let mut down: Vec<(NodeId, u64, bool)> = Vec::new();
    let mut cuts: Vec<(u64, usize)> = Vec::new();
    let close_down = |down: &mut Vec<(NodeId, u64, bool)>, downs: &mut Vec<Down>, n, t| {
        if let Some(i) = down.iter().position(|(m, ..)| *m == n) {
            let (node, from, crashed) = down.remove(i);
            downs.push(Down {
                node,
                crashed,
                from,
                to: t,
            });
        }
    };
    for (at, r) in &report.fault_log {
        let t = at.0;
        let node = |n: &NodeId, what: String| Instant {
            at: t,
            lane: Some(Endpoint::Node(*n)),
            what,
        };
        let global = |what: &str| Instant {
            at: t,
            lane: None,
            what: what.to_string(),
        };
        match r {
            FaultRecord::Crash(n) => down.push((*n, t, true)),
            FaultRecord::Restart(n) => {
                close_down(&mut down, &mut downs, *n, t);
                instants.push(node(n, RESTART.into()));
            }
            FaultRecord::Pause(n, until) => {
                downs.push(Down {
                    node: *n,
                    crashed: false,
                    from: t,
                    to: until.0.min(end),
                });
            }
            FaultRecord::Resume(_) => {}
            FaultRecord::Clog(n) => instants.push(node(n, "clogged".into())),
            FaultRecord::Unclog(n) => instants.push(node(n, "unclogged".into())),
            FaultRecord::Replay {
                count,
                remembered,
                replayed,
            } => instants.push(global(&FaultRecord::describe_replay(
                *count,
                *remembered,
                *replayed,
            ))),
            FaultRecord::ClockJump(n, d) => {
                let sign = if *d < 0 { "-" } else { "+" };
                let by = sim_core::SimDuration(d.unsigned_abs());
                instants.push(node(n, format!("clock {sign}{by}")));
            }
            FaultRecord::Partition(id, p) => {
                cuts.push((*id, bands.len()));
                bands.push(Band {
                    from: t,
                    to: end,
                    what: write::partition(p),
                    groups: groups(p, nodes, clients),
                });
            }
            FaultRecord::RemoveCut(id) => {
                if let Some(i) = cuts.iter().position(|(c, _)| c == id) {
                    let (_, b) = cuts.remove(i);
                    bands[b].to = t;
                }
            }
            FaultRecord::Heal | FaultRecord::LivenessStart => {
                for (_, b) in cuts.drain(..) {
                    bands[b].to = t;
                }
                instants.push(global(if matches!(r, FaultRecord::Heal) {
                    "heal"
                } else {
                    "liveness phase"
                }));
            }
            FaultRecord::SetLink => instants.push(global(&link_change(report, *at))),
            FaultRecord::ResetLinks => instants.push(global("ResetLinks")),
            FaultRecord::Storage(n, f) => instants.push(node(n, f.describe(*n))),
        }
    }
    for (node, from, crashed) in down {
        downs.push(Down {
            node,
            crashed,
            from,
            to: end,
        });
    }
    downs.sort_by_key(|d| (d.from, d.node));
    (downs, instants, bands)
}
