//! Replay faults, measured from the outside: an already-delivered message arrives a second
//! time, after its original; only the last `REPLAY_REMEMBERED` deliveries can be replayed; the
//! fault log, the stats, the coverage and the trace hash say so; and a run without a replay
//! remembers nothing and draws nothing more.

use sim_core::config::{Fault, ScheduledFault, REPLAY_REMEMBERED};
use sim_core::coverage::engine;
use sim_core::{run, Context, FaultRecord, NodeId, Process, SimConfig, SimDuration, SimTime};

/// Every node sends every other node a numbered message every `every`; each delivery is
/// observed as (sender, number).
struct Counter {
    id: NodeId,
    every: SimDuration,
    sent: u32,
}

impl Process for Counter {
    type Msg = u32;
    type Timer = ();
    type StoreKey = u8;
    type StoreValue = u8;
    type Observation = (u32, u32);

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(self.every, ());
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: u32) {
        ctx.observe((from.0, msg));
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: ()) {
        self.sent += 1;
        for to in 0..ctx.node_count() {
            if to != self.id.0 {
                ctx.send(NodeId(to), self.sent);
            }
        }
        ctx.set_timer(self.every, ());
    }
}

fn counting(every: SimDuration) -> impl FnMut(NodeId) -> Counter {
    move |id| Counter { id, every, sent: 0 }
}

fn config(faults: Vec<ScheduledFault>) -> SimConfig {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    cfg.faults = faults;
    cfg
}

fn replay_at(ms: u64, from: Option<u32>, to: Option<u32>, count: u32) -> ScheduledFault {
    ScheduledFault {
        at: SimDuration::from_millis(ms),
        fault: Fault::Replay {
            from: from.map(NodeId),
            to: to.map(NodeId),
            count,
        },
    }
}

/// The times node `at` received (from, number), in order.
fn arrivals(r: &sim_core::RunResult<(u32, u32)>, at: u32, msg: (u32, u32)) -> Vec<SimTime> {
    r.observations
        .iter()
        .filter(|o| o.node == NodeId(at) && o.value == msg)
        .map(|o| o.time)
        .collect()
}

#[test]
fn a_replayed_message_arrives_again_after_its_original() {
    let every = SimDuration::from_millis(10);
    let r = run(
        config(vec![replay_at(500, Some(1), Some(0), 5)]),
        counting(every),
    );
    let replayed: Vec<(u32, u32)> = (1..=100)
        .map(|k| (1, k))
        .filter(|&m| arrivals(&r, 0, m).len() == 2)
        .collect();
    assert_eq!(
        replayed.len(),
        5,
        "five messages from n1 to n0 arrive twice"
    );
    for m in &replayed {
        let times = arrivals(&r, 0, *m);
        assert!(
            times[0] < SimTime(500_000_000),
            "{m:?} was first delivered before 500 ms"
        );
        assert!(
            times[1] >= SimTime(500_000_000),
            "{m:?} arrives again after the replay"
        );
        assert!(times[1] > times[0]);
    }
    // Nothing else arrived twice: only n1 → n0 was replayed.
    let twice = r
        .observations
        .iter()
        .filter(|o| arrivals(&r, o.node.0, o.value).len() > 1)
        .count();
    assert_eq!(twice, 10);
    assert_eq!(r.stats.replayed, 5);
    let replay = r
        .fault_log
        .iter()
        .find_map(|(t, f)| match f {
            FaultRecord::Replay {
                count,
                remembered,
                replayed,
            } => Some((*t, *count, *remembered, *replayed)),
            _ => None,
        })
        .expect("logged");
    // n1 sent n0 one message every 10 ms from 10 ms on: 49 delivered by 500 ms (the one
    // sent at 500 ms has not arrived yet with a 1 ms latency).
    assert_eq!(replay, (SimTime(500_000_000), 5, 49, 5));
    let hit = r.coverage.hit(engine::MESSAGE_REPLAYED).expect("marked");
    assert_eq!(hit.count, 5);
}

#[test]
fn only_the_last_remembered_deliveries_can_be_replayed() {
    // Six messages a millisecond over 2 s: far more than the engine remembers.
    let every = SimDuration::from_millis(1);
    let count = REPLAY_REMEMBERED as u32;
    let mut cfg = config(vec![replay_at(1_900, None, None, count)]);
    cfg.duration = SimDuration::from_secs(2);
    let r = run(cfg, counting(every));
    let logged = r.fault_log.iter().find_map(|(_, f)| match f {
        FaultRecord::Replay {
            remembered,
            replayed,
            ..
        } => Some((*remembered, *replayed)),
        _ => None,
    });
    assert_eq!(logged, Some((count, count)));
    // The replayed messages are the newest ones: each pair sent one every ms, so the 1024
    // newest deliveries cover the last 1024 / 6 ≈ 171 ms before the replay.
    let oldest_replayed = r
        .observations
        .iter()
        .filter(|o| o.time >= SimTime(1_900_000_000))
        .filter(|o| arrivals(&r, o.node.0, o.value).len() == 2)
        .map(|o| o.value.1)
        .min()
        .expect("some replayed");
    assert!(
        (1_720..1_900).contains(&oldest_replayed),
        "oldest replayed message number {oldest_replayed}"
    );
}

#[test]
fn replays_are_deterministic_and_change_the_run_only_where_they_happen() {
    let every = SimDuration::from_millis(10);
    let faults = || vec![replay_at(300, None, None, 20)];
    let a = run(config(faults()), counting(every));
    let b = run(config(faults()), counting(every));
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.observations, b.observations);
    let plain = run(config(vec![]), counting(every));
    assert_ne!(a.trace_hash, plain.trace_hash);
    assert_eq!(plain.stats.replayed, 0);
    assert!(plain.coverage.hit(engine::MESSAGE_REPLAYED).is_none());
    // Before the replay the two runs are the same run.
    let before = |r: &sim_core::RunResult<(u32, u32)>| {
        r.observations
            .iter()
            .filter(|o| o.time < SimTime(300_000_000))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(before(&a), before(&plain));
    // Another seed picks other messages.
    let mut other = config(faults());
    other.seed = 7;
    let c = run(other, counting(every));
    assert_ne!(a.observations, c.observations);
}
