//! Coverage ("sometimes" assertions): a protocol's `ctx.reached` never changes a run, and the
//! engine marks its fault-level situations (a leader crashed, paused, partitioned, a clock
//! jump on it, a message held for a paused node, one to a crashed node) — for a protocol that
//! says who leads, and never the leader ones for one that does not.

use sim_core::config::{Fault, Partition, ScheduledFault};
use sim_core::coverage::engine;
use sim_core::{Context, NodeId, Process, SimConfig, SimDuration};

/// Every node pings every other node every 10 ms; node 0 leads. With `mark`, each delivery
/// is marked for coverage.
struct Pinger {
    id: NodeId,
    mark: bool,
}

impl Process for Pinger {
    type Msg = u32;
    type Timer = ();
    type StoreKey = u8;
    type StoreValue = u8;
    type Observation = u32;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(SimDuration::from_millis(10), ());
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: u32) {
        if self.mark {
            ctx.reached("ping delivered");
            ctx.sometimes(from.0 == 2, "ping from n2");
            ctx.sometimes(false, "never true");
        }
        ctx.observe(msg);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: ()) {
        for to in 0..ctx.node_count() {
            if to != self.id.0 {
                ctx.send(NodeId(to), self.id.0);
            }
        }
        ctx.set_timer(SimDuration::from_millis(10), ());
    }

    fn leads(&self) -> Option<bool> {
        Some(self.id.0 == 0)
    }
}

fn faulty() -> SimConfig {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    let at = SimDuration::from_millis;
    cfg.faults = vec![
        ScheduledFault {
            at: at(100),
            fault: Fault::ClockJump(NodeId(0), 5_000_000),
        },
        ScheduledFault {
            at: at(200),
            fault: Fault::Partition(Partition::Isolate(NodeId(0))),
        },
        ScheduledFault {
            at: at(300),
            fault: Fault::Heal,
        },
        ScheduledFault {
            at: at(400),
            fault: Fault::Pause(NodeId(0), at(50)),
        },
        ScheduledFault {
            at: at(500),
            fault: Fault::Crash(NodeId(1)),
        },
        ScheduledFault {
            at: at(600),
            fault: Fault::Crash(NodeId(0)),
        },
        ScheduledFault {
            at: at(700),
            fault: Fault::Restart(NodeId(0)),
        },
    ];
    cfg
}

#[test]
fn marking_situations_never_changes_a_run() {
    let plain = sim_core::run(faulty(), |id| Pinger { id, mark: false });
    let marked = sim_core::run(faulty(), |id| Pinger { id, mark: true });
    assert_eq!(plain.trace_hash, marked.trace_hash);
    assert_eq!(plain.stats, marked.stats);
    assert_eq!(plain.observations, marked.observations);
    assert!(!plain.coverage.is_reached("ping delivered"));
    let hit = marked.coverage.hit("ping delivered").expect("marked");
    assert_eq!(hit.count, marked.stats.messages_delivered);
    assert!(marked.coverage.is_reached("ping from n2"));
    // A `sometimes` that was never true is known (evaluated) but not reached.
    let never = marked.coverage.hit("never true").expect("evaluated");
    assert_eq!((never.count, never.first), (0, None));
}

#[test]
fn the_engine_marks_fault_situations_with_the_leader_they_hit() {
    let r = sim_core::run(faulty(), |id| Pinger { id, mark: false });
    let first_node = |s: &str| {
        let hit = r
            .coverage
            .hit(s)
            .unwrap_or_else(|| panic!("{s} not marked"));
        assert!(hit.count > 0, "{s} evaluated but not reached");
        hit.first.expect("reached").1
    };
    assert_eq!(first_node(engine::CLOCK_JUMP_ON_LEADER), Some(NodeId(0)));
    assert_eq!(first_node(engine::LEADER_PARTITIONED), Some(NodeId(0)));
    assert_eq!(first_node(engine::LEADER_PAUSED), Some(NodeId(0)));
    assert_eq!(first_node(engine::LEADER_CRASHED), Some(NodeId(0)));
    assert_eq!(first_node(engine::NODE_RECOVERED), Some(NodeId(0)));
    assert_eq!(first_node(engine::MESSAGE_TO_PAUSED), Some(NodeId(0)));
    assert_eq!(first_node(engine::MESSAGE_TO_CRASHED), Some(NodeId(1)));
    // The crash of n1 (not the leader) was a chance to crash the leader, counted once.
    let crashed = r.coverage.hit(engine::LEADER_CRASHED).expect("marked");
    assert_eq!(crashed.count, 1);
    // No lease: never evaluated. Nothing was unsynced: evaluated at each crash, not reached.
    assert!(r.coverage.hit(engine::CLOCK_JUMP_UNDER_LEASE).is_none());
    let lost = r
        .coverage
        .hit(engine::UNSYNCED_WRITES_LOST)
        .expect("evaluated");
    assert_eq!(lost.count, 0);
}

#[test]
fn a_protocol_without_leaders_gets_no_leader_situations() {
    let r = sim_core::run(faulty(), |id| tests::Probe::new(id, &[]));
    for s in [
        engine::LEADER_CRASHED,
        engine::LEADER_PAUSED,
        engine::LEADER_PARTITIONED,
        engine::CLOCK_JUMP_ON_LEADER,
    ] {
        assert!(r.coverage.hit(s).is_none(), "{s} marked without leaders");
    }
    assert!(r.coverage.is_reached(engine::NODE_RECOVERED));
}

#[test]
fn a_clog_holds_a_nodes_messages_and_releases_them_in_a_burst() {
    let at = SimDuration::from_millis;
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    cfg.faults = vec![
        ScheduledFault {
            at: at(100),
            fault: Fault::Clog(NodeId(2)),
        },
        ScheduledFault {
            at: at(400),
            fault: Fault::Unclog(NodeId(2)),
        },
    ];
    let r = sim_core::run(cfg, |id| Pinger { id, mark: false });
    let into_2: Vec<u64> = r
        .observations
        .iter()
        .filter(|o| o.node == NodeId(2))
        .map(|o| o.time.0)
        .collect();
    // Nothing reaches n2 while it is clogged; at the unclog the backlog arrives at once
    // (a constant 1 ms latency), about 2 × 30 pings.
    assert!(!into_2.iter().any(|&t| t > at(101).0 && t < at(400).0));
    let burst = into_2.iter().filter(|&&t| t == at(401).0).count();
    assert!(burst >= 50, "burst of {burst}");
    // n2's own pings were held too, and nothing was dropped.
    assert_eq!(r.stats.messages_dropped(), 0);
    let released = r.coverage.hit(engine::CLOGGED_RELEASED).expect("released");
    // Held both ways: about 30 pings a node each way over 300 ms (the burst at 401 ms also
    // holds the pings sent at the unclog's own instant).
    assert!(
        (100..=2 * burst).contains(&(released.count as usize)),
        "{released:?}"
    );
}
