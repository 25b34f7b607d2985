//! The network's semantics, measured from the outside: loss and duplication rates, partitions
//! (split, one-way, bridge, isolate), messages in flight across a new cut, crashed receivers,
//! and latency bounds.

use sim_core::config::{Fault, Group, Latency, Partition, ScheduledFault};
use sim_core::{run, DropReason, NodeId, SimConfig, SimDuration};
use tests::{received, Probe, Send};

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn group(nodes: &[u32]) -> Group {
    Group {
        nodes: nodes.iter().map(|&n| NodeId(n)).collect(),
        clients: vec![],
    }
}

fn at(t: SimDuration, fault: Fault) -> ScheduledFault {
    ScheduledFault { at: t, fault }
}

/// Every node sends `count` messages to every other node at `when`.
fn all_pairs(n: u32, when: SimDuration, count: u32) -> Vec<Send> {
    let mut v = Vec::new();
    for from in 0..n {
        for to in 0..n {
            if from != to {
                v.push(Send {
                    at: when,
                    from,
                    to,
                    count,
                });
            }
        }
    }
    v
}

fn run_plan(cfg: SimConfig, plan: Vec<Send>) -> sim_core::RunResult<tests::Seen> {
    run(cfg, move |id| Probe::new(id, &plan))
}

/// `count` must lie within `sigmas` standard deviations of a binomial(n, p) mean.
fn assert_binomial(count: u64, n: u64, p: f64, sigmas: f64, what: &str) {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (count as f64 - mean).abs() <= sigmas * sd,
        "{what}: {count} of {n}, expected {mean:.0} ± {:.0}",
        sigmas * sd
    );
}

#[test]
fn loss_rate_matches_the_drop_probability() {
    let n = 200_000u64;
    for p in [0.0, 0.1, 0.5] {
        let mut cfg = SimConfig::basic(2, SimDuration::from_secs(1));
        cfg.network.default.drop = p;
        let r = run_plan(
            cfg,
            vec![Send {
                at: ms(1),
                from: 0,
                to: 1,
                count: n as u32,
            }],
        );
        let lost = r.stats.dropped_by(DropReason::Loss);
        assert_eq!(
            lost + received(&r).len() as u64,
            n,
            "every message is delivered or lost"
        );
        assert_binomial(lost, n, p, 5.0, "lost");
    }
}

#[test]
fn duplicates_happen_at_the_stated_rate() {
    let n = 200_000u64;
    let mut cfg = SimConfig::basic(2, SimDuration::from_secs(1));
    cfg.network.default.duplicate = 0.05;
    let r = run_plan(
        cfg,
        vec![Send {
            at: ms(1),
            from: 0,
            to: 1,
            count: n as u32,
        }],
    );
    let got = received(&r);
    assert_binomial(got.len() as u64 - n, n, 0.05, 5.0, "duplicates");
    assert_eq!(r.stats.duplicated, got.len() as u64 - n);
    // Each duplicate is a second copy of a message that was also delivered once.
    let mut ids: Vec<u64> = got.iter().map(|g| g.3).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len() as u64, n);
}

#[test]
fn latency_stays_within_its_distribution_and_reorders_with_jitter() {
    let mut cfg = SimConfig::basic(2, SimDuration::from_secs(1));
    cfg.network.default.latency = Latency::Uniform {
        min: ms(1),
        max: ms(10),
    };
    let r = run_plan(
        cfg,
        vec![Send {
            at: ms(5),
            from: 0,
            to: 1,
            count: 10_000,
        }],
    );
    let got = received(&r);
    assert_eq!(got.len(), 10_000);
    let sent_at = ms(5).0;
    assert!(got
        .iter()
        .all(|g| g.0 >= sent_at + ms(1).0 && g.0 <= sent_at + ms(10).0));
    // Sent in id order at the same instant, received out of order: jitter reorders.
    assert!(
        got.windows(2).any(|w| w[0].3 > w[1].3),
        "no reordering under jitter"
    );
    let constant = run_plan(
        SimConfig::basic(2, SimDuration::from_secs(1)),
        vec![Send {
            at: ms(5),
            from: 0,
            to: 1,
            count: 100,
        }],
    );
    assert!(
        received(&constant).windows(2).all(|w| w[0].3 < w[1].3),
        "constant latency keeps FIFO order"
    );
}

#[test]
fn a_split_blocks_exactly_the_paths_between_groups() {
    let mut cfg = SimConfig::basic(5, SimDuration::from_secs(1));
    cfg.faults = vec![at(
        ms(1),
        Fault::Partition(Partition::Split(vec![group(&[0, 1]), group(&[2, 3, 4])])),
    )];
    let r = run_plan(cfg, all_pairs(5, ms(10), 3));
    let side = |n: u32| n >= 2;
    for (_, from, to, _) in received(&r) {
        assert_eq!(side(from), side(to), "{from}->{to} crossed the partition");
    }
    // Same-side ordered pairs: 2 + 6 = 8, three messages each.
    assert_eq!(received(&r).len(), 8 * 3);
    assert_eq!(r.stats.dropped_by(DropReason::Partition), (20 - 8) * 3);
}

#[test]
fn a_one_way_cut_is_one_way() {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    cfg.faults = vec![at(
        ms(1),
        Fault::Partition(Partition::OneWay {
            from: group(&[0]),
            to: group(&[1]),
        }),
    )];
    let r = run_plan(cfg, all_pairs(3, ms(10), 1));
    let pairs: Vec<(u32, u32)> = received(&r).iter().map(|g| (g.1, g.2)).collect();
    assert!(!pairs.contains(&(0, 1)));
    assert!(pairs.contains(&(1, 0)));
    assert_eq!(pairs.len(), 5);
}

#[test]
fn a_bridge_node_sees_both_sides() {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    cfg.faults = vec![at(
        ms(1),
        Fault::Partition(Partition::Bridge {
            left: group(&[0]),
            right: group(&[2]),
            bridge: NodeId(1),
        }),
    )];
    let r = run_plan(cfg, all_pairs(3, ms(10), 1));
    let mut pairs: Vec<(u32, u32)> = received(&r).iter().map(|g| (g.1, g.2)).collect();
    pairs.sort_unstable();
    assert_eq!(pairs, vec![(0, 1), (1, 0), (1, 2), (2, 1)]);
}

#[test]
fn an_isolated_node_neither_sends_nor_receives_and_heal_restores_it() {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    cfg.faults = vec![
        at(ms(1), Fault::Partition(Partition::Isolate(NodeId(2)))),
        at(ms(50), Fault::Heal),
    ];
    let mut plan = all_pairs(3, ms(10), 1);
    plan.extend(all_pairs(3, ms(100), 1));
    let r = run_plan(cfg, plan);
    let got = received(&r);
    let early: Vec<_> = got.iter().filter(|g| g.0 < ms(50).0).collect();
    assert!(early.iter().all(|g| g.1 != 2 && g.2 != 2));
    assert_eq!(early.len(), 2);
    assert_eq!(
        got.iter().filter(|g| g.0 > ms(100).0).count(),
        6,
        "after the heal every path works"
    );
}

#[test]
fn messages_in_flight_across_a_new_cut_are_lost() {
    let mut cfg = SimConfig::basic(2, SimDuration::from_secs(1));
    cfg.network.default.latency = Latency::Constant(ms(100));
    // Sent at 10 ms, due at 110 ms; the cut appears at 50 ms and heals at 200 ms.
    cfg.faults = vec![
        at(
            ms(50),
            Fault::Partition(Partition::Split(vec![group(&[0]), group(&[1])])),
        ),
        at(ms(200), Fault::Heal),
    ];
    let plan = vec![
        Send {
            at: ms(10),
            from: 0,
            to: 1,
            count: 5,
        },
        // Due at 250 ms: sent while cut → dropped at send, even though it would arrive healed.
        Send {
            at: ms(150),
            from: 0,
            to: 1,
            count: 3,
        },
        // Sent after the heal: delivered.
        Send {
            at: ms(300),
            from: 0,
            to: 1,
            count: 2,
        },
    ];
    let r = run_plan(cfg, plan);
    assert_eq!(received(&r).len(), 2);
    assert_eq!(r.stats.dropped_by(DropReason::Partition), 8);
    // A cut that appears and heals while a message is in flight does not affect it.
    let mut cfg = SimConfig::basic(2, SimDuration::from_secs(1));
    cfg.network.default.latency = Latency::Constant(ms(100));
    cfg.faults = vec![
        at(ms(50), Fault::Partition(Partition::Isolate(NodeId(1)))),
        at(ms(60), Fault::Heal),
    ];
    let r = run_plan(
        cfg,
        vec![Send {
            at: ms(10),
            from: 0,
            to: 1,
            count: 4,
        }],
    );
    assert_eq!(received(&r).len(), 4);
}

#[test]
fn messages_to_a_crashed_node_are_dropped_and_delivered_again_after_restart() {
    let mut cfg = SimConfig::basic(2, SimDuration::from_secs(1));
    cfg.faults = vec![
        at(ms(5), Fault::Crash(NodeId(1))),
        at(ms(50), Fault::Restart(NodeId(1))),
    ];
    let plan = vec![
        Send {
            at: ms(10),
            from: 0,
            to: 1,
            count: 3,
        },
        Send {
            at: ms(100),
            from: 0,
            to: 1,
            count: 2,
        },
    ];
    let r = run_plan(cfg, plan);
    assert_eq!(r.stats.dropped_by(DropReason::NodeDown), 3);
    assert_eq!(received(&r).len(), 2);
}

#[test]
fn topology_without_a_link_drops_as_no_link() {
    let mut cfg = SimConfig::basic(4, SimDuration::from_secs(1));
    cfg.topology = sim_core::config::Topology::Ring;
    let r = run_plan(cfg, all_pairs(4, ms(1), 1));
    // On a 4-ring, 0-2 and 1-3 are not linked: 4 of the 12 ordered pairs.
    assert_eq!(r.stats.dropped_by(DropReason::NoLink), 4);
    assert_eq!(received(&r).len(), 8);
}

#[test]
fn set_link_changes_loss_for_the_named_link_until_reset() {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    let lossy = sim_core::config::LinkConfig {
        drop: 1.0,
        ..Default::default()
    };
    cfg.faults = vec![
        at(
            ms(1),
            Fault::SetLink {
                from: Some(NodeId(0)),
                to: Some(NodeId(1)),
                link: lossy,
            },
        ),
        at(ms(50), Fault::ResetLinks),
    ];
    let plan = vec![
        Send {
            at: ms(10),
            from: 0,
            to: 1,
            count: 10,
        },
        Send {
            at: ms(10),
            from: 0,
            to: 2,
            count: 10,
        },
        Send {
            at: ms(10),
            from: 1,
            to: 0,
            count: 10,
        },
        Send {
            at: ms(60),
            from: 0,
            to: 1,
            count: 10,
        },
    ];
    let r = run_plan(cfg, plan);
    assert_eq!(r.stats.dropped_by(DropReason::Loss), 10);
    assert_eq!(received(&r).len(), 30);
}
