//! The fault plan: the scenario's fixed schedule merged with the nemesis's random faults.
//!
//! The nemesis draws its whole schedule from its own seeded stream before the run starts, so
//! the faults of a seed are known up front (and printed, and later shrunk) and never depend on
//! what the protocol does. Each random fault lasts a drawn duration and is then undone by an
//! action of its own (restart, heal of that cut, link reset). A [`FaultRecord`] is what the
//! engine logs when it applies one.

use crate::config::{
    Fault, FaultKind, Group, LinkConfig, NemesisConfig, Partition, ScheduledFault,
};
use crate::rng::{SimRng, StreamLabel};
use crate::{NodeId, SimDuration, SimTime};

/// One action the engine applies at a planned time.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A fault from the scenario's schedule or drawn by the nemesis; partitions get a cut id.
    Apply(Fault, u64),
    /// End of one nemesis partition: remove exactly that cut.
    RemoveCut(u64),
}

/// A planned action at a true time; `origin` says where it came from, for reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    pub at: SimTime,
    pub action: Action,
    pub origin: Origin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Schedule,
    Nemesis,
}

/// A fault-related change of the world, as recorded for checkers and reports.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultRecord {
    Crash(NodeId),
    Restart(NodeId),
    Pause(NodeId, SimTime),
    Resume(NodeId),
    ClockJump(NodeId, i64),
    Partition(u64, Partition),
    RemoveCut(u64),
    Heal,
    SetLink,
    ResetLinks,
    /// The fault phase ended and everything healed; the liveness phase starts.
    LivenessStart,
}

impl FaultRecord {
    /// Whether this record ends a fault (something got better).
    pub fn is_heal(&self) -> bool {
        matches!(
            self,
            FaultRecord::Restart(_)
                | FaultRecord::Resume(_)
                | FaultRecord::RemoveCut(_)
                | FaultRecord::Heal
                | FaultRecord::ResetLinks
                | FaultRecord::LivenessStart
        )
    }
}

/// Builds the complete fault plan of a run, sorted by time (schedule before nemesis at a tie).
pub fn plan(
    seed: u64,
    node_count: u32,
    duration: SimDuration,
    schedule: &[ScheduledFault],
    nemesis: Option<&NemesisConfig>,
    base_link: &LinkConfig,
) -> Vec<Planned> {
    let mut out: Vec<Planned> = Vec::new();
    let mut next_cut = 1u64;
    // Schedule entry `i` adds its partition (if it is one) as cut `i + 1`, so that
    // `EndPartition(i)` removes exactly that cut.
    for f in schedule {
        let action = match f.fault {
            Fault::EndPartition(index) => Action::RemoveCut(index as u64 + 1),
            ref fault => Action::Apply(fault.clone(), next_cut),
        };
        out.push(Planned {
            at: SimTime(f.at.0),
            action,
            origin: Origin::Schedule,
        });
        next_cut += 1;
    }
    if let Some(n) = nemesis {
        let mut rng = SimRng::new(seed, StreamLabel::Nemesis);
        out.extend(nemesis_plan(
            &mut rng,
            node_count,
            duration,
            n,
            base_link,
            &mut next_cut,
        ));
    }
    // Stable sort: equal times keep schedule-then-nemesis, and each list's own order.
    out.sort_by_key(|p| p.at);
    out
}

fn exponential(rng: &mut SimRng, mean: SimDuration) -> u64 {
    rng.exponential(mean).0
}

fn nemesis_plan(
    rng: &mut SimRng,
    node_count: u32,
    duration: SimDuration,
    cfg: &NemesisConfig,
    base_link: &LinkConfig,
    next_cut: &mut u64,
) -> Vec<Planned> {
    let mut out = Vec::new();
    if cfg.kinds.is_empty() || node_count == 0 {
        return out;
    }
    // Windows during which a node is down (crashed or paused): (node, start, end).
    let mut down: Vec<(u32, u64, u64)> = Vec::new();
    let mut t = 0u64;
    let nem = |at: u64, action: Action| Planned {
        at: SimTime(at),
        action,
        origin: Origin::Nemesis,
    };
    loop {
        t = t.saturating_add(exponential(rng, cfg.interval_mean));
        if t >= duration.0 {
            break;
        }
        let kind = cfg.kinds[rng.index(cfg.kinds.len())];
        let length = exponential(rng, cfg.duration_mean);
        let end = t.saturating_add(length);
        match kind {
            FaultKind::Partition => {
                if node_count < 2 {
                    continue;
                }
                // A random split into two non-empty sides.
                let mut order: Vec<u32> = (0..node_count).collect();
                for i in (1..order.len()).rev() {
                    let j = rng.index(i + 1);
                    order.swap(i, j);
                }
                let cut_at = 1 + rng.index(node_count as usize - 1);
                let side = |v: &[u32]| Group {
                    nodes: v.iter().map(|&i| NodeId(i)).collect(),
                    clients: vec![],
                };
                let mut a = order[..cut_at].to_vec();
                let mut b = order[cut_at..].to_vec();
                a.sort_unstable();
                b.sort_unstable();
                let id = *next_cut;
                *next_cut += 1;
                out.push(nem(
                    t,
                    Action::Apply(
                        Fault::Partition(Partition::Split(vec![side(&a), side(&b)])),
                        id,
                    ),
                ));
                out.push(nem(end, Action::RemoveCut(id)));
            }
            FaultKind::Crash | FaultKind::Pause => {
                let overlapping = |n: Option<u32>, down: &[(u32, u64, u64)]| {
                    down.iter()
                        .filter(|&&(m, s, e)| s < end && t < e && n.is_none_or(|n| n == m))
                        .count()
                };
                if overlapping(None, &down) as u32 >= cfg.down_max {
                    continue;
                }
                let candidates: Vec<u32> = (0..node_count)
                    .filter(|&n| overlapping(Some(n), &down) == 0)
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                let node = candidates[rng.index(candidates.len())];
                down.push((node, t, end));
                if kind == FaultKind::Crash {
                    out.push(nem(t, Action::Apply(Fault::Crash(NodeId(node)), 0)));
                    out.push(nem(end, Action::Apply(Fault::Restart(NodeId(node)), 0)));
                } else {
                    out.push(nem(
                        t,
                        Action::Apply(Fault::Pause(NodeId(node), SimDuration(length)), 0),
                    ));
                }
            }
            FaultKind::ClockJump => {
                let node = rng.index(node_count as usize) as u32;
                let max = cfg.clock_jump_max.0.min(i64::MAX as u64);
                let delta = rng.range_inclusive(0, 2 * max) as i64 - max as i64;
                out.push(nem(
                    t,
                    Action::Apply(Fault::ClockJump(NodeId(node), delta), 0),
                ));
            }
            FaultKind::Loss | FaultKind::Duplicate => {
                let mut link = base_link.clone();
                if kind == FaultKind::Loss {
                    link.drop = cfg.loss;
                } else {
                    link.duplicate = cfg.duplicate;
                }
                out.push(nem(
                    t,
                    Action::Apply(
                        Fault::SetLink {
                            from: None,
                            to: None,
                            link,
                        },
                        0,
                    ),
                ));
                out.push(nem(end, Action::Apply(Fault::ResetLinks, 0)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(kinds: Vec<FaultKind>, down_max: u32) -> NemesisConfig {
        NemesisConfig {
            kinds,
            interval_mean: SimDuration::from_millis(200),
            duration_mean: SimDuration::from_secs(1),
            down_max,
            clock_jump_max: SimDuration::from_millis(100),
            loss: 0.3,
            duplicate: 0.1,
        }
    }

    #[test]
    fn nemesis_is_deterministic_and_seed_dependent() {
        let c = cfg(FaultKind::ALL.to_vec(), 2);
        let l = LinkConfig::default();
        let a = plan(5, 5, SimDuration::from_secs(30), &[], Some(&c), &l);
        let b = plan(5, 5, SimDuration::from_secs(30), &[], Some(&c), &l);
        let d = plan(6, 5, SimDuration::from_secs(30), &[], Some(&c), &l);
        assert!(!a.is_empty());
        assert_eq!(a, b);
        assert_ne!(a, d);
        assert!(a.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn never_more_than_down_max_nodes_down() {
        let c = cfg(vec![FaultKind::Crash, FaultKind::Pause], 1);
        let p = plan(
            11,
            5,
            SimDuration::from_secs(120),
            &[],
            Some(&c),
            &LinkConfig::default(),
        );
        let mut down: i64 = 0;
        let mut windows = Vec::new();
        for x in &p {
            match &x.action {
                Action::Apply(Fault::Crash(_), _) => windows.push((x.at.0, 1i64)),
                Action::Apply(Fault::Restart(_), _) => windows.push((x.at.0, -1)),
                Action::Apply(Fault::Pause(_, d), _) => {
                    windows.push((x.at.0, 1));
                    windows.push((x.at.0 + d.0, -1));
                }
                _ => {}
            }
        }
        assert!(windows.len() > 10);
        windows.sort_by_key(|&(t, d)| (t, d));
        for (_, d) in windows {
            down += d;
            assert!(down <= 1, "more than one node down at once");
        }
    }
}
