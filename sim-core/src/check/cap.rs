//! The CAP report: what a protocol did for the clients on each side of a partition.
//!
//! For every partition window of a run (from the fault that cut the network to the record that
//! healed it, or the end of the run), the clients are split by side: the side holding a
//! majority of the nodes and the other (minority) side. For each side the report gives the
//! share of the client operations invoked in the window that *succeeded* — completed with a
//! definite answer from the service (`ok`, or `fail` such as a compare-and-set whose
//! expectation did not hold), as opposed to timing out (`unknown`) or still pending — and the
//! latency of those (median and 99th percentile). The run's consistency verdict (the
//! linearizability check) comes from the caller; the report only measures availability.
//!
//! Sides: a `Split` partition's group holding more than half of the nodes is the majority
//! side, every other group the minority side; `Isolate(n)` puts `n` alone on the minority side.
//! A client named in a group is on its side: it reaches only that side's nodes, so each of its
//! operations counts there. Any other client reaches every node, and each of its operations
//! counts on the side of the node it was sent to — the node where it ended, if a redirect or a
//! retry moved it (`Operation::via`, `Operation::node`); an operation whose attempts went to
//! nodes on both sides is counted apart, as *crossed*. So a random nemesis's partitions and
//! clients with `target: Random` get a report too. One-way and bridge partitions have no
//! majority/minority reading and are listed without sides.

use crate::config::Partition;
use crate::sim::FaultRecord;
use crate::{ClientId, History, NodeId, Outcome, SimTime};

/// Which side of a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Majority,
    Minority,
}

/// What the clients on one side saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SideStats {
    /// Operations invoked in the window by this side's clients.
    pub ops: u64,
    /// Of those, completed with a definite answer (`ok` or `fail`).
    pub succeeded: u64,
    /// Latencies of the succeeded operations, in nanoseconds, sorted.
    pub latencies_ns: Vec<u64>,
}

impl SideStats {
    /// Share of the operations that succeeded (`None` when the side issued none).
    pub fn availability(&self) -> Option<f64> {
        (self.ops > 0).then(|| self.succeeded as f64 / self.ops as f64)
    }

    /// The `q`-quantile of the succeeded operations' latency in milliseconds (nearest rank).
    pub fn latency_ms(&self, q: f64) -> Option<f64> {
        let n = self.latencies_ns.len();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        Some(self.latencies_ns[rank - 1] as f64 / 1e6)
    }

    fn add(&mut self, other: &SideStats) {
        self.ops += other.ops;
        self.succeeded += other.succeeded;
        self.latencies_ns.extend_from_slice(&other.latencies_ns);
        self.latencies_ns.sort_unstable();
    }
}

/// One partition window.
#[derive(Clone, Debug, PartialEq)]
pub struct CapWindow {
    pub start: SimTime,
    /// When the partition healed (the end of the run if it never did).
    pub end: SimTime,
    pub partition: Partition,
    /// The nodes on the majority side (empty for a partition without sides).
    pub majority_nodes: Vec<NodeId>,
    pub majority: SideStats,
    pub minority: SideStats,
    /// Operations whose attempts went to nodes on both sides (a redirect or a retry across
    /// the cut), counted apart from either side.
    pub crossed: SideStats,
    /// Clients placed in no group whose operations in the window went to both sides.
    pub unsided_clients: u32,
}

impl CapWindow {
    /// Operations counted in the window: both sides and the crossed ones.
    pub fn ops(&self) -> u64 {
        self.majority.ops + self.minority.ops + self.crossed.ops
    }
}

/// The report of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CapReport {
    pub windows: Vec<CapWindow>,
    /// Every window's majority side together.
    pub majority: SideStats,
    /// Every window's minority side together.
    pub minority: SideStats,
    /// Every window's crossed operations together.
    pub crossed: SideStats,
}

/// The sides of `p` among `node_count` nodes: (majority nodes, minority nodes, side of each
/// client named in a group), or `None` for a partition without a majority/minority reading.
#[allow(clippy::type_complexity)]
fn sides(
    p: &Partition,
    node_count: u32,
) -> Option<(Vec<NodeId>, Vec<NodeId>, Vec<(ClientId, Side)>)> {
    match p {
        Partition::Split(groups) => {
            let big = groups
                .iter()
                .position(|g| 2 * g.nodes.len() > node_count as usize);
            let (mut maj, mut min, mut clients) = (Vec::new(), Vec::new(), Vec::new());
            for (i, g) in groups.iter().enumerate() {
                let side = if Some(i) == big {
                    Side::Majority
                } else {
                    Side::Minority
                };
                match side {
                    Side::Majority => maj.extend_from_slice(&g.nodes),
                    Side::Minority => min.extend_from_slice(&g.nodes),
                }
                clients.extend(g.clients.iter().map(|&c| (c, side)));
            }
            Some((maj, min, clients))
        }
        Partition::Isolate(n) => {
            let maj = (0..node_count).map(NodeId).filter(|m| m != n).collect();
            Some((maj, vec![*n], Vec::new()))
        }
        Partition::OneWay { .. } | Partition::Bridge { .. } => None,
    }
}

/// The CAP report of a run: its history and fault log, over `node_count` nodes and
/// `client_count` clients, up to `end`.
pub fn cap_report(
    history: &History,
    fault_log: &[(SimTime, FaultRecord)],
    node_count: u32,
    client_count: u32,
    end: SimTime,
) -> CapReport {
    let mut report = CapReport::default();
    for (start, stop, partition) in windows(fault_log, end) {
        let mut w = CapWindow {
            start,
            end: stop,
            partition: partition.clone(),
            majority_nodes: Vec::new(),
            majority: SideStats::default(),
            minority: SideStats::default(),
            crossed: SideStats::default(),
            unsided_clients: 0,
        };
        if let Some((maj, min, named)) = sides(&partition, node_count) {
            tally(&mut w, history, &maj, &min, &named, client_count);
            w.majority_nodes = maj;
            report.majority.add(&w.majority);
            report.minority.add(&w.minority);
            report.crossed.add(&w.crossed);
        }
        report.windows.push(w);
    }
    report
}

/// The partition windows of a fault log, in start order: each from the fault that cut the
/// network to the record that healed it (its cut removed, a heal, the liveness start) or `end`.
fn windows(
    fault_log: &[(SimTime, FaultRecord)],
    end: SimTime,
) -> Vec<(SimTime, SimTime, Partition)> {
    // Open windows by cut id, closed when their cut is removed or everything heals.
    let mut open: Vec<(u64, SimTime, Partition)> = Vec::new();
    let mut spans: Vec<(SimTime, SimTime, Partition)> = Vec::new();
    for (t, r) in fault_log {
        match r {
            FaultRecord::Partition(id, p) => open.push((*id, *t, p.clone())),
            FaultRecord::RemoveCut(id) => {
                if let Some(i) = open.iter().position(|(o, _, _)| o == id) {
                    let (_, s, p) = open.remove(i);
                    spans.push((s, *t, p));
                }
            }
            FaultRecord::Heal | FaultRecord::LivenessStart => {
                spans.extend(open.drain(..).map(|(_, s, p)| (s, *t, p)));
            }
            _ => {}
        }
    }
    spans.extend(open.into_iter().map(|(_, s, p)| (s, end, p)));
    spans.sort_by_key(|(s, e, _)| (*s, *e));
    spans
}

/// Counts the operations invoked in window `w` on their sides (see the module comment).
fn tally(
    w: &mut CapWindow,
    history: &History,
    maj: &[NodeId],
    min: &[NodeId],
    named: &[(ClientId, Side)],
    client_count: u32,
) {
    let node_side = |n: NodeId| {
        if min.contains(&n) {
            Some(Side::Minority)
        } else if maj.contains(&n) {
            Some(Side::Majority)
        } else {
            None
        }
    };
    // Per client: its group's side, if a group names it; and whether its operations in the
    // window reached each side.
    let mut placed: Vec<Option<Side>> = vec![None; client_count as usize];
    for &(c, side) in named {
        if let Some(p) = placed.get_mut(c.index()) {
            *p = Some(side);
        }
    }
    let mut reached = vec![(false, false); client_count as usize];
    for op in &history.ops {
        if op.invoke < w.start || op.invoke >= w.end {
            continue;
        }
        let placed_side = placed.get(op.client.index()).copied().flatten();
        let stats = match placed_side {
            Some(Side::Majority) => &mut w.majority,
            Some(Side::Minority) => &mut w.minority,
            None => {
                let (mut to_majority, mut to_minority) = (false, false);
                for n in op.nodes() {
                    match node_side(n) {
                        Some(Side::Majority) => to_majority = true,
                        Some(Side::Minority) => to_minority = true,
                        None => {}
                    }
                }
                if let Some(r) = reached.get_mut(op.client.index()) {
                    r.0 |= to_majority;
                    r.1 |= to_minority;
                }
                match (to_majority, to_minority) {
                    (true, true) => &mut w.crossed,
                    (true, false) => &mut w.majority,
                    (false, true) => &mut w.minority,
                    (false, false) => continue,
                }
            }
        };
        stats.ops += 1;
        if let Some((t, Outcome::Ok(_) | Outcome::Fail)) = &op.completion {
            stats.succeeded += 1;
            stats.latencies_ns.push(t.0 - op.invoke.0);
        }
    }
    w.unsided_clients = reached.iter().filter(|&&(a, b)| a && b).count() as u32;
    for s in [&mut w.majority, &mut w.minority, &mut w.crossed] {
        s.latencies_ns.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Group;
    use crate::{Operation, Request, Response};

    /// An operation of `client` sent to `nodes` (the last one where it ended).
    fn op(
        client: u32,
        nodes: &[u32],
        invoke: u64,
        completion: Option<(u64, Outcome)>,
    ) -> Operation {
        let (last, before) = nodes.split_last().expect("a node");
        Operation {
            client: ClientId(client),
            request_id: 1,
            node: NodeId(*last),
            via: before.iter().map(|&n| NodeId(n)).collect(),
            request: Request::Get { key: 0 },
            invoke: SimTime(invoke),
            completion: completion.map(|(t, o)| (SimTime(t), o)),
        }
    }

    #[test]
    fn placed_clients_count_on_their_side_the_others_where_they_sent() {
        let ok = || Outcome::Ok(Response::Value(None));
        let history = History {
            ops: vec![
                op(0, &[0], 50, Some((60, ok()))), // before the partition: not counted
                op(0, &[0], 100, Some((110, ok()))), // majority (placed), 10 ns
                op(1, &[2], 100, Some((400, Outcome::Unknown))), // minority (placed): timed out
                op(2, &[2], 120, Some((150, Outcome::Fail))), // sent to n2: minority, answered
                op(3, &[3], 130, Some((170, ok()))), // sent to n3: majority, 40 ns
                op(1, &[2], 150, None),            // minority (placed), pending at the end
                op(3, &[4, 0], 160, Some((190, ok()))), // redirected from n4 to n0: crossed
                op(0, &[0], 600, Some((610, ok()))), // after the heal
            ],
        };
        let split = Partition::Split(vec![
            Group {
                nodes: vec![NodeId(0), NodeId(1), NodeId(3)],
                clients: vec![ClientId(0)],
            },
            Group {
                nodes: vec![NodeId(2), NodeId(4)],
                clients: vec![ClientId(1)],
            },
        ]);
        let log = vec![
            (SimTime(100), FaultRecord::Partition(1, split)),
            (SimTime(500), FaultRecord::Heal),
        ];
        let r = cap_report(&history, &log, 5, 4, SimTime(1000));
        assert_eq!(r.windows.len(), 1);
        let w = &r.windows[0];
        assert_eq!((w.start, w.end), (SimTime(100), SimTime(500)));
        assert_eq!(w.majority_nodes, vec![NodeId(0), NodeId(1), NodeId(3)]);
        assert_eq!((w.majority.ops, w.majority.succeeded), (2, 2));
        assert_eq!((w.minority.ops, w.minority.succeeded), (3, 1));
        assert_eq!((w.crossed.ops, w.crossed.succeeded), (1, 1));
        assert_eq!(w.ops(), 6);
        // Client 3 (placed nowhere) reached both sides; client 2 only the minority.
        assert_eq!(w.unsided_clients, 1);
        assert_eq!(w.majority.latency_ms(0.5), Some(10.0 / 1e6));
        assert_eq!(w.majority.latency_ms(0.99), Some(40.0 / 1e6));
        assert_eq!(r.minority.availability(), Some(1.0 / 3.0));
        assert_eq!(r.majority.availability(), Some(1.0));
        assert_eq!(r.crossed.availability(), Some(1.0));
    }

    #[test]
    fn a_random_nemesis_split_with_random_targets_is_reported() {
        // What a nemesis draws: two sides, no client placed; the clients pick nodes at random.
        let split = Partition::Split(vec![
            Group {
                nodes: vec![NodeId(1), NodeId(3)],
                clients: vec![],
            },
            Group {
                nodes: vec![NodeId(0), NodeId(2), NodeId(4)],
                clients: vec![],
            },
        ]);
        let log = vec![
            (SimTime(100), FaultRecord::Partition(7, split)),
            (SimTime(200), FaultRecord::RemoveCut(7)),
        ];
        let history = History {
            ops: vec![
                op(0, &[1], 110, Some((190, Outcome::Unknown))),
                op(1, &[2], 120, Some((125, Outcome::Ok(Response::Ok)))),
                op(2, &[4], 130, Some((131, Outcome::Ok(Response::Ok)))),
            ],
        };
        let r = cap_report(&history, &log, 5, 3, SimTime(1000));
        assert_eq!(
            r.windows[0].majority_nodes,
            vec![NodeId(0), NodeId(2), NodeId(4)]
        );
        assert_eq!(r.majority.availability(), Some(1.0));
        assert_eq!(r.minority.availability(), Some(0.0));
        assert_eq!(r.crossed.ops, 0);
    }

    #[test]
    fn windows_close_at_their_cut_or_at_the_end() {
        let log = vec![
            (
                SimTime(10),
                FaultRecord::Partition(1, Partition::Isolate(NodeId(2))),
            ),
            (SimTime(20), FaultRecord::RemoveCut(1)),
            (
                SimTime(30),
                FaultRecord::Partition(2, Partition::Isolate(NodeId(0))),
            ),
        ];
        let history = History {
            ops: vec![
                op(0, &[0], 15, Some((16, Outcome::Unknown))),
                op(1, &[1], 35, None),
            ],
        };
        let r = cap_report(&history, &log, 3, 3, SimTime(99));
        let spans: Vec<_> = r.windows.iter().map(|w| (w.start.0, w.end.0)).collect();
        assert_eq!(spans, vec![(10, 20), (30, 99)]);
        // Sent to n0: majority in the first window; to n1: majority in the second.
        assert_eq!(r.windows[0].majority.ops, 1);
        assert_eq!(r.windows[0].majority.succeeded, 0);
        assert_eq!(r.windows[1].majority.ops, 1);
        assert_eq!(r.minority.ops, 0);
        assert_eq!(r.minority.availability(), None);
    }
}
