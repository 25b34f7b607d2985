//! The fault plan: the scenario's fixed schedule merged with the nemesis's random faults.
//!
//! The nemesis draws its whole schedule from its own seeded stream before the run starts, so
//! the faults of a seed are known up front (and printed, and later shrunk) and never depend on
//! what the protocol does. Each random fault lasts a drawn duration and is then undone by an
//! action of its own (restart, heal of that cut, link reset). A [`FaultRecord`] is what the
//! engine logs when it applies one.

use crate::config::{
    Fault, FaultKind, Group, Latency, LinkConfig, NemesisConfig, Partition, ScheduledFault, Survive,
};
use crate::rng::{SimRng, StreamLabel};
use crate::{NodeId, SimDuration, SimTime};

/// One action the engine applies at a planned time.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A fault from the scenario's schedule or drawn by the nemesis; partitions get a cut id.
    Apply(Fault, u64),
    /// End of one partition (the nemesis's, or a schedule entry's `until`): remove exactly
    /// that cut.
    RemoveCut(u64),
}

/// A planned action at a true time; `origin` says where it came from, for reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    pub at: SimTime,
    pub action: Action,
    pub origin: Origin,
}

impl Planned {
    /// Whether the action starts a fault (rather than undoing one: a restart, the end of a
    /// cut, a link reset, a heal).
    pub fn starts_fault(&self) -> bool {
        !matches!(
            self.action,
            Action::RemoveCut(_)
                | Action::Apply(
                    Fault::Restart(_) | Fault::ResetLinks | Fault::Heal | Fault::Unclog(_),
                    _
                )
        )
    }
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
    Clog(NodeId),
    Unclog(NodeId),
    /// A replay fault: of the `remembered` delivered messages it could pick from (those on
    /// the links it names), `replayed` were sent again (at most the `count` it asked for).
    Replay {
        count: u32,
        remembered: u32,
        replayed: u32,
    },
    /// The fault phase ended and everything healed; the liveness phase starts.
    LivenessStart,
    /// A storage fault on a node's disk, and what it did.
    Storage(NodeId, StorageFault),
}

/// What a storage fault did. Keys are written as the protocol's `Debug` text of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageFault {
    /// A torn write at a crash: of the writes not yet durable, `kept` survived and `lost` did
    /// not; `torn` names the record left half written.
    Torn {
        kept: usize,
        lost: usize,
        torn: Option<String>,
    },
    /// A synced record damaged: detectably, or `silent`ly (a wrong value).
    Corrupted { key: String, silent: bool },
    /// The node's next synced write of a damageable record will land elsewhere.
    MisdirectArmed,
    /// It did: the `intended` record was not written and `victim` (if any) was overwritten.
    Misdirected {
        intended: String,
        victim: Option<String>,
    },
    /// The node's next sync will lie.
    LoseSyncArmed,
    /// It did: `lost` damageable records it covered will read back damaged after a crash.
    SyncLied { lost: usize },
    /// The fault found nothing it may damage within the fault atlas (named by its kind).
    Skipped(&'static str),
}

impl StorageFault {
    /// What the fault did on `node`, for people: named as the scenario names the fault
    /// (`Corrupt(node: 2): damaged Entry(7, 3)`); records are the protocol's `Debug` text of
    /// their keys.
    pub fn describe(&self, node: NodeId) -> String {
        let n = node.0;
        match self {
            StorageFault::Torn { kept, lost, torn } => {
                let tore = torn
                    .as_ref()
                    .map_or(String::new(), |k| format!(", tore {k}"));
                format!("TornWrite(node: {n}): kept {kept} and lost {lost} writes not yet durable{tore}")
            }
            StorageFault::Corrupted { key, silent } => {
                let how = if *silent {
                    "silently garbled"
                } else {
                    "damaged"
                };
                format!("Corrupt(node: {n}): {how} {key}")
            }
            StorageFault::MisdirectArmed => {
                format!("Misdirect(node: {n}): its next synced write will land elsewhere")
            }
            StorageFault::Misdirected { intended, victim } => match victim {
                Some(v) => format!("Misdirect(node: {n}): the write of {intended} landed on {v}"),
                None => format!("Misdirect(node: {n}): the write of {intended} was lost"),
            },
            StorageFault::LoseSyncArmed => format!("LoseSync({n}): its next sync will lie"),
            StorageFault::SyncLied { lost } => {
                format!("LoseSync({n}): a sync reported success and persisted none of its {lost} records")
            }
            StorageFault::Skipped(kind) => {
                let name = match *kind {
                    "corrupt" => format!("Corrupt(node: {n})"),
                    "misdirect" => format!("Misdirect(node: {n})"),
                    other => format!("{other}({n})"),
                };
                format!("{name}: skipped, nothing it may damage within the fault atlas")
            }
        }
    }

    /// A small code per variant, for the trace hash.
    pub(crate) fn code(&self) -> (u64, u64) {
        match self {
            StorageFault::Torn { kept, torn, .. } => (1, *kept as u64 * 2 + torn.is_some() as u64),
            StorageFault::Corrupted { silent, .. } => (2, *silent as u64),
            StorageFault::MisdirectArmed => (3, 0),
            StorageFault::Misdirected { victim, .. } => (4, victim.is_some() as u64),
            StorageFault::LoseSyncArmed => (5, 0),
            StorageFault::SyncLied { lost } => (6, *lost as u64),
            StorageFault::Skipped(_) => (7, 0),
        }
    }
}

impl FaultRecord {
    /// A replay, for people: `Replay(count: 5): sent again 5 of 812 remembered messages`.
    pub fn describe_replay(count: u32, remembered: u32, replayed: u32) -> String {
        format!("Replay(count: {count}): sent again {replayed} of {remembered} remembered messages")
    }

    /// Whether this record ends a fault (something got better).
    pub fn is_heal(&self) -> bool {
        matches!(
            self,
            FaultRecord::Restart(_)
                | FaultRecord::Resume(_)
                | FaultRecord::RemoveCut(_)
                | FaultRecord::Heal
                | FaultRecord::ResetLinks
                | FaultRecord::Unclog(_)
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
            PLAN_NODE_IDS_MAX,
        ));
    }
    // Stable sort: equal times keep schedule-then-nemesis, and each list's own order.
    out.sort_by_key(|p| p.at);
    out
}

/// A nemesis corruption hits one of the last this many damageable records of a node.
const CORRUPT_NTH_MAX: u64 = 8;

/// Makes the liveness phase, starting at `start`, really fault-free: a pause that would last
/// into it ends there (its duration is shortened), and every action planned after it — a
/// restart, the end of a cut, a link reset: the undoing of a fault the liveness start already
/// undid — is dropped. Without this a nemesis pause begun in the fault phase could run on into
/// the liveness phase and its node depose the leader on resuming, seconds after the "heal".
pub fn end_at_liveness(plan: &mut Vec<Planned>, start: SimTime) {
    plan.retain(|p| p.at <= start);
    for p in plan.iter_mut() {
        if let Action::Apply(Fault::Pause(_, d), _) = &mut p.action {
            let left = start.0 - p.at.0;
            if d.0 > left {
                *d = SimDuration(left);
            }
        }
    }
}

fn exponential(rng: &mut SimRng, mean: SimDuration) -> u64 {
    rng.exponential(mean).0
}

/// The most node ids the nemesis's partitions may list over a whole plan (each random split
/// names every node): 10 million, 40 MB. With [`NemesisConfig::faults_max`] it bounds the plan's
/// memory and the time to draw it, whatever the cluster size and rate.
pub const PLAN_NODE_IDS_MAX: u64 = 10_000_000;

/// What a nemesis at `cfg` plans on average over a fault phase of `duration` on `node_count`
/// nodes: (faults, node ids listed by its partitions). Validation compares these with
/// `faults_max` and [`PLAN_NODE_IDS_MAX`] before a run, so that a plan that would be cut short
/// is rejected instead.
pub fn nemesis_expected(cfg: &NemesisConfig, duration: SimDuration, node_count: u32) -> (u64, u64) {
    let faults = duration.0 / cfg.interval_mean.0.max(1);
    let ids = if cfg.kinds.contains(&FaultKind::Partition) && node_count >= 2 {
        // A share `1 / kinds` of the faults are partitions, each listing every node.
        (faults / cfg.kinds.len().max(1) as u64).saturating_mul(u64::from(node_count))
    } else {
        0
    };
    (faults, ids)
}

/// The nemesis's faults, drawn in time order until the fault phase ends — or, bounding the plan
/// whatever the rate, until it holds `cfg.faults_max` faults or its partitions list
/// `ids_max` ([`PLAN_NODE_IDS_MAX`]) node ids (the rest of the phase then has no nemesis
/// faults; validation rejects a nemesis whose mean rate would get there).
fn nemesis_plan(
    rng: &mut SimRng,
    node_count: u32,
    duration: SimDuration,
    cfg: &NemesisConfig,
    base_link: &LinkConfig,
    next_cut: &mut u64,
    ids_max: u64,
) -> Vec<Planned> {
    let mut out = Vec::new();
    if cfg.kinds.is_empty() || node_count == 0 {
        return out;
    }
    // Windows during which a node is down (crashed or paused): (node, start, end). Windows
    // that ended before the current draw are dropped: draws only move forward in time.
    let mut down: Vec<(u32, u64, u64)> = Vec::new();
    let (mut faults, mut ids) = (0u32, 0u64);
    let mut t = 0u64;
    let nem = |at: u64, action: Action| Planned {
        at: SimTime(at),
        action,
        origin: Origin::Nemesis,
    };
    loop {
        t = t.saturating_add(exponential(rng, cfg.interval_mean));
        if t >= duration.0 || faults >= cfg.faults_max || ids >= ids_max {
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
                ids += u64::from(node_count);
                out.push(nem(
                    t,
                    Action::Apply(
                        Fault::Partition(Partition::Split(vec![side(&a), side(&b)])),
                        id,
                    ),
                ));
                out.push(nem(end, Action::RemoveCut(id)));
            }
            FaultKind::Crash
            | FaultKind::Pause
            | FaultKind::TornWrite
            | FaultKind::Corrupt
            | FaultKind::Misdirect
            | FaultKind::LoseSync => {
                down.retain(|&(_, _, e)| e > t);
                let mut busy: Vec<u32> = down
                    .iter()
                    .filter(|&&(_, s, e)| s < end && t < e)
                    .map(|&(m, _, _)| m)
                    .collect();
                if busy.len() as u32 >= cfg.down_max {
                    continue;
                }
                busy.sort_unstable();
                busy.dedup();
                let free = node_count as usize - busy.len();
                if free == 0 {
                    continue;
                }
                // The k-th node not down: the same draw as listing the free nodes, in
                // O(down) rather than O(nodes).
                let mut node = rng.index(free) as u32;
                for &b in &busy {
                    if b <= node {
                        node += 1;
                    } else {
                        break;
                    }
                }
                down.push((node, t, end));
                let n = NodeId(node);
                let apply = |f: Fault| Action::Apply(f, 0);
                match kind {
                    FaultKind::Pause => {
                        out.push(nem(t, apply(Fault::Pause(n, SimDuration(length)))));
                    }
                    FaultKind::Crash => out.push(nem(t, apply(Fault::Crash(n)))),
                    FaultKind::TornWrite => {
                        let survive = if rng.next_u64() & 1 == 0 {
                            Survive::Prefix
                        } else {
                            Survive::Subset
                        };
                        let pick = rng.next_u64() >> 32;
                        let tear_last = rng.next_u64() & 1 == 1;
                        let torn = Fault::TornWrite {
                            node: n,
                            survive,
                            pick,
                            tear_last,
                        };
                        out.push(nem(t, apply(torn)));
                    }
                    FaultKind::Corrupt => {
                        out.push(nem(t, apply(Fault::Crash(n))));
                        let nth_from_end = rng.below(CORRUPT_NTH_MAX) as u32;
                        let corrupt = Fault::Corrupt {
                            node: n,
                            nth_from_end,
                            silent: cfg.silent,
                        };
                        out.push(nem(t, apply(corrupt)));
                    }
                    _ => {
                        // Armed a while before the crash that reveals it.
                        let lead = exponential(rng, cfg.duration_mean).min(t);
                        let arm = if kind == FaultKind::Misdirect {
                            Fault::Misdirect {
                                node: n,
                                pick: (rng.next_u64() >> 48) as u32,
                            }
                        } else {
                            Fault::LoseSync(n)
                        };
                        out.push(nem(t - lead, apply(arm)));
                        out.push(nem(t, apply(Fault::Crash(n))));
                    }
                }
                if kind != FaultKind::Pause {
                    out.push(nem(end, apply(Fault::Restart(n))));
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
            FaultKind::Reorder => {
                let mut link = base_link.clone();
                link.latency = Latency::Uniform {
                    min: SimDuration::ZERO,
                    max: cfg.reorder_window,
                };
                let all = Fault::SetLink {
                    from: None,
                    to: None,
                    link,
                };
                out.push(nem(t, Action::Apply(all, 0)));
                out.push(nem(end, Action::Apply(Fault::ResetLinks, 0)));
            }
            FaultKind::Clog => {
                if node_count < 2 {
                    continue;
                }
                out.extend(swizzle(rng, node_count, t, end).map(|(at, f)| nem(at, f)));
            }
            FaultKind::Replay => {
                let replay = Fault::Replay {
                    from: None,
                    to: None,
                    count: cfg.replay,
                };
                out.push(nem(t, Action::Apply(replay, 0)));
            }
        }
        faults += 1;
    }
    out
}

/// Swizzle-clogging (FoundationDB): a random set of `k` nodes (`1 ≤ k < nodes`) is clogged
/// one by one over the first half of `[start, end]`, then unclogged in another random order
/// over the second half, so that each node's backlog is held for a different time and released
/// in a different order than it built up.
fn swizzle(
    rng: &mut SimRng,
    node_count: u32,
    start: u64,
    end: u64,
) -> impl Iterator<Item = (u64, Action)> {
    let mut order: Vec<u32> = (0..node_count).collect();
    for i in (1..order.len()).rev() {
        let j = rng.index(i + 1);
        order.swap(i, j);
    }
    let k = 1 + rng.index(node_count as usize - 1);
    let clogged = order[..k].to_vec();
    let mut unclog = clogged.clone();
    for i in (1..unclog.len()).rev() {
        let j = rng.index(i + 1);
        unclog.swap(i, j);
    }
    let step = end.saturating_sub(start) / (2 * k as u64).max(1);
    let half = start.saturating_add(end.saturating_sub(start) / 2);
    let clogs = clogged.into_iter().enumerate().map(move |(i, n)| {
        let at = start.saturating_add(step * i as u64);
        (at, Action::Apply(Fault::Clog(NodeId(n)), 0))
    });
    let unclogs = unclog.into_iter().enumerate().map(move |(i, n)| {
        let at = half.saturating_add(step * i as u64).max(start);
        (at, Action::Apply(Fault::Unclog(NodeId(n)), 0))
    });
    clogs.chain(unclogs)
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
            silent: false,
            reorder_window: SimDuration::from_millis(300),
            replay: 0,
            faults_max: NemesisConfig::FAULTS_MAX_DEFAULT,
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
    fn the_liveness_phase_starts_with_every_fault_ended() {
        let c = cfg(
            vec![FaultKind::Crash, FaultKind::Pause, FaultKind::Partition],
            2,
        );
        let start = SimTime(SimDuration::from_secs(30).0);
        for seed in 0..50 {
            let mut p = plan(
                seed,
                5,
                SimDuration::from_secs(30),
                &[],
                Some(&c),
                &LinkConfig::default(),
            );
            end_at_liveness(&mut p, start);
            for x in &p {
                assert!(x.at <= start, "seed {seed}: {x:?} after the liveness start");
                if let Action::Apply(Fault::Pause(_, d), _) = &x.action {
                    assert!(x.at.0 + d.0 <= start.0, "seed {seed}: {x:?} lasts past it");
                }
            }
        }
        // A pause across the start is shortened to end there, not dropped.
        let mut p = vec![Planned {
            at: SimTime(start.0 - 10),
            action: Action::Apply(Fault::Pause(NodeId(1), SimDuration(500)), 0),
            origin: Origin::Nemesis,
        }];
        end_at_liveness(&mut p, start);
        assert_eq!(
            p[0].action,
            Action::Apply(Fault::Pause(NodeId(1), SimDuration(10)), 0)
        );
    }

    #[test]
    fn an_absurd_rate_stops_at_faults_max() {
        // A fault every nanosecond over a minute would be 60 billion faults. (A swizzle-clog
        // is one fault of several actions: left out here, where actions are counted.)
        let kinds = FaultKind::ALL.iter().copied();
        let mut c = cfg(kinds.filter(|k| *k != FaultKind::Clog).collect(), 2);
        c.interval_mean = SimDuration(1);
        c.faults_max = 1_000;
        let p = plan(
            1,
            5,
            SimDuration::from_secs(60),
            &[],
            Some(&c),
            &LinkConfig::default(),
        );
        let starts = p
            .iter()
            .filter(|x| {
                // One action per fault: a storage fault's crash counts, the damage it comes
                // with (or that is armed before it) does not.
                !matches!(
                    x.action,
                    Action::RemoveCut(_)
                        | Action::Apply(
                            Fault::Restart(_)
                                | Fault::ResetLinks
                                | Fault::Corrupt { .. }
                                | Fault::Misdirect { .. }
                                | Fault::LoseSync(_),
                            _
                        )
                )
            })
            .count();
        assert_eq!(starts, 1_000);
        // Partitions stop at the plan's node-id budget (here 10 splits of 1,000 nodes).
        let mut c = cfg(vec![FaultKind::Partition], 1);
        c.interval_mean = SimDuration(1);
        let mut rng = SimRng::new(1, StreamLabel::Nemesis);
        let l = LinkConfig::default();
        let p = nemesis_plan(
            &mut rng,
            1_000,
            SimDuration::from_secs(60),
            &c,
            &l,
            &mut 1,
            10_000,
        );
        assert_eq!(p.len(), 2 * 10);
        assert_eq!(
            nemesis_expected(&c, SimDuration::from_secs(60), 1_000_000),
            (60_000_000_000, 60_000_000_000_000_000)
        );
    }

    #[test]
    fn a_swizzle_clogs_some_nodes_and_unclogs_each_later_in_another_order() {
        let c = cfg(vec![FaultKind::Clog], 1);
        let mut reordered = 0;
        for seed in 0..40 {
            let p = plan(
                seed,
                5,
                SimDuration::from_secs(10),
                &[],
                Some(&c),
                &LinkConfig::default(),
            );
            let clogs: Vec<(u64, NodeId)> = p
                .iter()
                .filter_map(|x| match x.action {
                    Action::Apply(Fault::Clog(n), _) => Some((x.at.0, n)),
                    _ => None,
                })
                .collect();
            let unclogs: Vec<(u64, NodeId)> = p
                .iter()
                .filter_map(|x| match x.action {
                    Action::Apply(Fault::Unclog(n), _) => Some((x.at.0, n)),
                    _ => None,
                })
                .collect();
            assert!(!clogs.is_empty());
            assert_eq!(clogs.len(), unclogs.len());
            for &(t, n) in &clogs {
                let (u, _) = unclogs
                    .iter()
                    .find(|&&(u, m)| m == n && u >= t)
                    .expect("every clog is undone later");
                assert!(*u >= t);
            }
            // No swizzle clogs every node.
            assert!(p.iter().all(|x| x.at.0 < 20_000_000_000));
            let first_order: Vec<NodeId> = clogs.iter().take(4).map(|c| c.1).collect();
            let undo_order: Vec<NodeId> = unclogs.iter().take(4).map(|c| c.1).collect();
            reordered += usize::from(first_order.len() > 1 && first_order != undo_order);
        }
        assert!(reordered > 5, "unclogs follow the clog order too often");
    }

    #[test]
    fn a_replay_fault_asks_for_the_nemesis_replay_count_of_any_link() {
        let mut c = cfg(vec![FaultKind::Replay], 1);
        c.replay = 17;
        let p = plan(
            3,
            5,
            SimDuration::from_secs(10),
            &[],
            Some(&c),
            &LinkConfig::default(),
        );
        assert!(p.len() > 3, "about one a second: {}", p.len());
        for x in &p {
            let replay = Fault::Replay {
                from: None,
                to: None,
                count: 17,
            };
            assert_eq!(x.action, Action::Apply(replay, 0));
            assert!(x.starts_fault());
        }
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
