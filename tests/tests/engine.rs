//! Engine semantics beyond the network: storage across crashes, clocks (drift, offset, jumps),
//! pauses, the events limit, and determinism of the trace hash.

use sim_core::config::{ClockConfig, Fault, FaultKind, Latency, NemesisConfig, ScheduledFault};
use sim_core::{run, NodeId, SimConfig, SimDuration, Simulation};
use tests::{received, Probe, Seen, Send};

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn at(t: SimDuration, fault: Fault) -> ScheduledFault {
    ScheduledFault { at: t, fault }
}

#[test]
fn a_crash_loses_exactly_the_unsynced_writes() {
    let mut cfg = SimConfig::basic(1, SimDuration::from_secs(1));
    cfg.faults = vec![
        at(ms(10), Fault::Crash(NodeId(0))),
        at(ms(20), Fault::Restart(NodeId(0))),
    ];
    // Keys 1 and 2 are synced (the sync after 2 covers 1 too); 3 and 4 are written after the
    // last sync and must be lost.
    let r = run(cfg, |id| Probe {
        writes: vec![(1, false), (2, true), (3, false), (4, false)],
        ..Probe::new(id, &[])
    });
    let recovered: Vec<&Seen> = r
        .observations
        .iter()
        .map(|o| &o.value)
        .filter(|v| matches!(v, Seen::Recovered(_)))
        .collect();
    assert_eq!(recovered, vec![&Seen::Recovered(vec![1, 2])]);
}

#[test]
fn drift_and_offset_are_visible_in_local_time_and_timers() {
    let mut cfg = SimConfig::basic(8, SimDuration::from_secs(5));
    cfg.clocks = ClockConfig {
        offset_max: ms(50),
        drift_ppm_max: 1000,
    };
    let sim = Simulation::new(cfg.clone(), |id| Probe {
        ticks: vec![SimDuration::from_secs(2)],
        ..Probe::new(id, &[])
    });
    let clocks: Vec<_> = (0..8).map(|i| sim.clock(NodeId(i))).collect();
    let (r, _) = sim.run();
    assert!(clocks.iter().any(|c| c.drift_ppm != 0) && clocks.iter().any(|c| c.offset_ns != 0));
    assert!(clocks
        .iter()
        .all(|c| c.drift_ppm.abs() <= 1000 && c.offset_ns.abs() <= ms(50).0 as i64));
    let mut fired = 0;
    for o in &r.observations {
        if let Seen::Timer {
            local,
            set_at_local,
        } = o.value
        {
            fired += 1;
            let c = clocks[o.node.index()];
            // Timers run on local time: exactly 2 s of local time passed...
            assert!(local - set_at_local >= 2_000_000_000 && local - set_at_local <= 2_000_000_001);
            // ...which is 2 s / (1 + drift) of true time: a fast clock fires early.
            let expect_true = 2e9 / (1.0 + c.drift_ppm as f64 * 1e-6);
            assert!(
                (o.time.0 as f64 - expect_true).abs() <= 2.0,
                "node {} drift {}: fired at {}",
                o.node.0,
                c.drift_ppm,
                o.time.0
            );
            assert_eq!(local, c.local(o.time).0);
        }
    }
    assert_eq!(fired, 8);
}

#[test]
fn a_forward_clock_jump_fires_pending_timers_early_and_a_backward_jump_delays_them() {
    for (jump, expect_ms) in [(500_000_000i64, 500u64), (-300_000_000, 1300)] {
        let mut cfg = SimConfig::basic(1, SimDuration::from_secs(5));
        cfg.faults = vec![
            at(ms(0), Fault::ClockJump(NodeId(0), 0)),
            at(ms(100), Fault::ClockJump(NodeId(0), jump)),
        ];
        let r = run(cfg, |id| Probe {
            ticks: vec![SimDuration::from_secs(1)],
            ..Probe::new(id, &[])
        });
        let fired: Vec<u64> = r
            .observations
            .iter()
            .filter(|o| matches!(o.value, Seen::Timer { .. }))
            .map(|o| o.time.0)
            .collect();
        // A 1 s timer set at 0; the clock steps by `jump` at 100 ms.
        let want = if jump > 0 {
            ms(expect_ms).0.max(ms(100).0)
        } else {
            ms(expect_ms).0
        };
        assert_eq!(fired, vec![want], "jump {jump}");
    }
}

#[test]
fn a_paused_node_receives_late_and_its_timers_fire_late() {
    let mut cfg = SimConfig::basic(2, SimDuration::from_secs(2));
    cfg.faults = vec![at(ms(5), Fault::Pause(NodeId(1), ms(300)))];
    let plan = vec![Send {
        at: ms(10),
        from: 0,
        to: 1,
        count: 3,
    }];
    let r = run(cfg, move |id| Probe {
        ticks: if id.0 == 1 { vec![ms(100)] } else { vec![] },
        ..Probe::new(id, &plan)
    });
    let got = received(&r);
    assert_eq!(got.len(), 3, "nothing is lost by a pause");
    assert!(
        got.iter().all(|g| g.0 == ms(305).0),
        "held messages arrive when the node resumes"
    );
    assert_eq!(
        got.iter().map(|g| g.3).collect::<Vec<_>>(),
        vec![0, 1, 2],
        "in their original order"
    );
    let timer = r
        .observations
        .iter()
        .find(|o| matches!(o.value, Seen::Timer { .. }))
        .expect("timer fired");
    assert_eq!(timer.time, sim_core::SimTime(ms(305).0));
}

#[test]
fn the_run_stops_at_events_max() {
    let mut cfg = SimConfig::basic(2, SimDuration::from_secs(100));
    cfg.events_max = 1_000;
    let p = protocols::forward::Params {
        mode: protocols::forward::Mode::PingPong,
        tokens_per_node: 1,
        starters: Some(1),
    };
    let r = run(cfg, move |id| protocols::forward::Forward::new(id, &p));
    assert!(r.hit_events_max);
    assert_eq!(r.stats.events, 1_000);
    assert_eq!(r.stats.messages_delivered, 1_000);
    // Ping-pong at a constant 1 ms: the 1,000th delivery happens at exactly 1 s.
    assert_eq!(r.end, sim_core::SimTime(SimDuration::from_secs(1).0));
}

fn faulty_config(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::basic(5, SimDuration::from_secs(3));
    cfg.seed = seed;
    cfg.network.default.latency = Latency::Exponential {
        min: ms(1),
        mean: ms(4),
    };
    cfg.network.default.drop = 0.02;
    cfg.network.default.duplicate = 0.01;
    // Duplication multiplies hot-potato tokens without bound: cap the run by events.
    cfg.events_max = 20_000;
    cfg.clocks = ClockConfig {
        offset_max: ms(20),
        drift_ppm_max: 200,
    };
    cfg.nemesis = Some(NemesisConfig {
        kinds: FaultKind::ALL.to_vec(),
        interval_mean: ms(300),
        duration_mean: ms(400),
        down_max: 2,
        clock_jump_max: ms(100),
        loss: 0.3,
        duplicate: 0.2,
        silent: false,
        reorder_window: sim_core::SimDuration::ZERO,
        replay: 8,
        faults_max: NemesisConfig::FAULTS_MAX_DEFAULT,
    });
    cfg
}

fn hot_potato(cfg: SimConfig) -> u64 {
    let p = protocols::forward::Params {
        mode: protocols::forward::Mode::HotPotato,
        tokens_per_node: 3,
        starters: None,
    };
    run(cfg, move |id| protocols::forward::Forward::new(id, &p)).trace_hash
}

#[test]
fn same_seed_same_hash_and_different_seeds_differ_over_100_seeds() {
    let mut hashes = Vec::new();
    for seed in 0..100 {
        let a = hot_potato(faulty_config(seed));
        let b = hot_potato(faulty_config(seed));
        assert_eq!(a, b, "seed {seed} is not deterministic");
        hashes.push(a);
    }
    let mut distinct = hashes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        hashes.len(),
        "two seeds gave the same trace hash"
    );
}

#[test]
fn attaching_a_trace_file_does_not_change_the_hash() {
    let p = protocols::forward::Params {
        mode: protocols::forward::Mode::HotPotato,
        tokens_per_node: 3,
        starters: None,
    };
    let plain = hot_potato(faulty_config(3));
    let mut sim = Simulation::new(faulty_config(3), move |id| {
        protocols::forward::Forward::new(id, &p)
    });
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    sim.trace_to(Box::new(Shared(buf.clone())));
    let (r, io) = sim.run();
    io.unwrap();
    assert_eq!(r.trace_hash, plain);
    let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() as u64 >= r.stats.messages_sent);
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}"));
        assert!(v["t"].is_u64() && v["ev"].is_string(), "{l}");
    }
    // Every delivery names the id of a send, so a space-time diagram can pair them.
    let ids = |kind: &str| -> std::collections::BTreeSet<u64> {
        lines
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["ev"] == kind)
            .map(|v| v["id"].as_u64().unwrap())
            .collect()
    };
    let sends = ids("send");
    let dups = ids("duplicate");
    assert!(ids("deliver")
        .iter()
        .all(|id| sends.contains(id) || dups.contains(id)));
}

/// A deliberately nondeterministic protocol: its destination depends on a process-wide counter
/// that survives between runs, exactly the kind of bug `--check-determinism` exists to find.
struct Leaky;

static LEAK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl sim_core::Process for Leaky {
    type Msg = u64;
    type Timer = ();
    type StoreKey = ();
    type StoreValue = ();
    type Observation = ();
    fn on_start(&mut self, ctx: &mut sim_core::Context<'_, Self>) {
        if ctx.id().0 == 0 {
            ctx.send(NodeId(1), 0);
        }
    }
    fn on_message(&mut self, ctx: &mut sim_core::Context<'_, Self>, _from: NodeId, hops: u64) {
        if hops < 50 {
            let n = ctx.node_count();
            // The 30th hop of each run goes wherever the leaked counter says.
            let to = if hops == 30 {
                LEAK.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as u32 % n
            } else {
                (ctx.id().0 + 1) % n
            };
            ctx.send(NodeId(to), hops + 1);
        }
    }
    fn on_timer(&mut self, _ctx: &mut sim_core::Context<'_, Self>, _t: ()) {}
}

#[test]
fn running_hashes_locate_the_first_divergent_event() {
    let run_once = |capture: Option<u64>| {
        let mut sim = Simulation::new(SimConfig::basic(3, SimDuration::from_secs(1)), |_| Leaky);
        sim.record_running_hashes();
        if let Some(i) = capture {
            sim.capture_event(i);
        }
        sim.run().0
    };
    let a = run_once(None);
    let b = run_once(None);
    let ha = a.running_hashes.clone().unwrap();
    let hb = b.running_hashes.clone().unwrap();
    assert_ne!(
        a.trace_hash, b.trace_hash,
        "the leak must make the runs differ"
    );
    let i = scenarios::harness::determinism::first_divergence(&ha, &hb).expect("a divergence");
    // Event 0 is the first send; hop h is delivered at event 1 + 2h and forwarded at 2 + 2h.
    // The forward after hop 30 is the first event whose destination differs.
    assert_eq!(i, 2 + 2 * 30);
    let one = run_once(Some(i as u64));
    let two = run_once(Some(i as u64));
    assert_eq!(one.captured.len(), 1);
    assert!(
        one.captured[0].contains("\"ev\":\"send\""),
        "{:?}",
        one.captured
    );
    assert_ne!(
        one.captured, two.captured,
        "the captured events show the difference"
    );
    // Identical sequences report no divergence.
    assert_eq!(
        scenarios::harness::determinism::first_divergence(&ha, &ha),
        None
    );
}

impl sim_core::Protocol for Leaky {
    const NAME: &'static str = "Leaky";
    const CLI_NAME: &'static str = "leaky";
    const SUMMARY: &'static str = "a nondeterministic token ring (a test's deliberate bug)";
    const SERVICES: &'static [sim_core::Service] = &[];
    type Params = sim_core::NoParams;
    fn new_node(_: NodeId, _: &sim_core::NoParams) -> Leaky {
        Leaky
    }
    fn checks(_: &mut impl sim_core::CheckList<Self>) {}
}

#[test]
fn the_determinism_check_describes_the_diverging_event_of_the_two_runs_it_compares() {
    use scenarios::harness::{determinism, run, RunOptions};
    let scn = scenarios::Scenario {
        name: "leaky".into(),
        description: String::new(),
        config: SimConfig::basic(3, SimDuration::from_secs(1)),
        protocol: scenarios::ProtocolSpec::new::<Leaky>(sim_core::NoParams {}),
        checks: Vec::new(),
        expect: scenarios::Expect::Pass,
        expect_reached: Vec::new(),
        swarm: None,
    };
    let first = run(
        &scn,
        RunOptions {
            record_hashes: true,
            ..RunOptions::default()
        },
    );
    let d = determinism::compare(&scn, 0, &first).expect("the leak makes the runs differ");
    assert_eq!(d.index, 2 + 2 * 30, "the forward after hop 30");
    let (one, two) = (d.first.clone().unwrap(), d.second.clone().unwrap());
    assert!(one.starts_with("at ") && one.contains(": send n"), "{one}");
    assert!(two.contains(": send n"), "{two}");
    assert_ne!(one, two, "each run's own event is shown");
    let text = d.to_string();
    assert!(text.contains("run 1: ") && text.contains(&one), "{text}");
}

// `Simulation::new` asserts its configuration: a bad field is named at construction instead of
// surfacing later as an index out of bounds in the middle of a run.

fn probe(id: NodeId) -> Probe {
    Probe::new(id, &[])
}

#[test]
#[should_panic(
    expected = "invalid SimConfig: faults[1].fault: node n3 is out of range (node_count 3)"
)]
fn a_fault_on_a_node_out_of_range_is_refused() {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    cfg.faults = vec![
        at(ms(10), Fault::Crash(NodeId(0))),
        at(ms(20), Fault::Crash(NodeId(3))),
    ];
    let _ = Simulation::new(cfg, probe);
}

#[test]
#[should_panic(expected = "invalid SimConfig: faults[0].fault.groups[1].nodes[0]: node n9")]
fn a_partition_naming_a_node_out_of_range_is_refused() {
    use sim_core::config::{Group, Partition};
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    let group = |nodes: &[u32]| Group {
        nodes: nodes.iter().map(|&i| NodeId(i)).collect(),
        clients: Vec::new(),
    };
    cfg.faults = vec![at(
        ms(10),
        Fault::Partition(Partition::Split(vec![group(&[0, 1]), group(&[9])])),
    )];
    let _ = Simulation::new(cfg, probe);
}

#[test]
#[should_panic(
    expected = "invalid SimConfig: network.default.drop: probability 1.5 is outside [0, 1]"
)]
fn a_drop_probability_above_one_is_refused() {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    cfg.network.default.drop = 1.5;
    let _ = Simulation::new(cfg, probe);
}

#[test]
#[should_panic(expected = "invalid SimConfig: nemesis.loss: probability -0.1 is outside [0, 1]")]
fn a_negative_nemesis_loss_is_refused() {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    cfg.nemesis = Some(NemesisConfig {
        kinds: vec![FaultKind::Loss],
        interval_mean: ms(100),
        duration_mean: ms(50),
        down_max: 1,
        clock_jump_max: ms(1),
        loss: -0.1,
        duplicate: 0.0,
        silent: false,
        reorder_window: sim_core::SimDuration::ZERO,
        replay: 0,
        faults_max: NemesisConfig::FAULTS_MAX_DEFAULT,
    });
    let _ = Simulation::new(cfg, probe);
}

#[test]
#[should_panic(expected = "invalid SimConfig: topology.center: node n4 is out of range")]
fn a_star_centred_outside_the_cluster_is_refused() {
    let mut cfg = SimConfig::basic(4, SimDuration::from_secs(1));
    cfg.topology = sim_core::config::Topology::Star { center: NodeId(4) };
    let _ = Simulation::new(cfg, probe);
}

#[test]
fn a_valid_config_passes_the_check() {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(1));
    cfg.faults = vec![at(ms(10), Fault::Crash(NodeId(2)))];
    cfg.network.default.drop = 1.0;
    assert_eq!(cfg.check(), Ok(()));
}
