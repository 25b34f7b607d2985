//! Valid scenarios: what they become (the engine's `SimConfig`), the documented defaults and
//! alternative spellings, the examples in `README.md`, and the benchmark files.

use protocols::{forward::Forward, gossip::Gossip, primary_backup::PrimaryBackup};
use scenarios::{CheckSpec, Expect, ProtocolSpec, Registry, Scenario};
use sim_core::check::convergence::{Convergence, ConvergenceParams};
use sim_core::check::Linearizable;
use sim_core::NoParams;

fn registry() -> Registry {
    protocols::builtin()
}
use sim_core::config::{
    Fault, FaultKind, Group, Latency, LinkConfig, Partition, ScheduledFault, TargetPolicy,
    Topology, Workload,
};
use sim_core::{ClientId, NodeId, SimDuration};

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn secs(n: u64) -> SimDuration {
    SimDuration::from_secs(n)
}

#[track_caller]
fn parse(text: &str) -> Scenario {
    scenarios::parse(text, "t.ron", &registry())
        .unwrap_or_else(|e| panic!("{e}\n--- text ---\n{text}"))
}

/// A minimal scenario with `extra` fields added.
fn minimal(extra: &str) -> String {
    format!(
        "Scenario(name: \"t\", seed: 7, duration: \"10s\", nodes: 5,\n\
         protocol: Gossip(mode: PushPull, fanout: 2, period: \"100ms\"),\n{extra}\n)"
    )
}

fn readme() -> String {
    std::fs::read_to_string(scenarios::shipped_dir().join("README.md")).unwrap()
}

/// The ```ron blocks of the README.
fn readme_blocks() -> Vec<String> {
    let text = readme();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```ron") => current = Some(String::new()),
            (Some(b), "```") => {
                blocks.push(std::mem::take(b));
                current = None;
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn defaults_are_as_documented() {
    let s = parse(&minimal(""));
    let c = &s.config;
    assert_eq!((s.name.as_str(), s.description.as_str()), ("t", ""));
    assert_eq!(
        (c.seed, c.node_count, c.duration, c.liveness),
        (7, 5, secs(10), None)
    );
    assert_eq!(c.events_max, scenarios::EVENTS_MAX_DEFAULT);
    assert_eq!(c.topology, Topology::FullMesh);
    assert_eq!(
        c.network.default,
        LinkConfig {
            latency: Latency::Constant(ms(1)),
            drop: 0.0,
            duplicate: 0.0
        }
    );
    assert!(c.network.overrides.is_empty());
    assert_eq!(
        (c.clocks.offset_max, c.clocks.drift_ppm_max),
        (SimDuration::ZERO, 0)
    );
    assert_eq!(c.clients.count, 0);
    assert_eq!(c.clients.workload, Workload::None);
    assert!(c.faults.is_empty() && c.nemesis.is_none());
    assert!(s.checks.is_empty());
    assert_eq!(s.expect, Expect::Pass);
    assert!(
        matches!(s.protocol.params::<Gossip>(), Some(p) if p.fanout == 2 && p.period == ms(100))
    );

    let s = parse(&minimal(
        "clients: (count: 2, workload: Broadcast(interval: \"1s\", ops_per_client: 3)),",
    ));
    assert_eq!(s.config.clients.target, TargetPolicy::Random);
    assert_eq!(s.config.clients.timeout, secs(1));
    assert_eq!(s.config.clients.stop, None);

    let s = parse(&minimal(
        "nemesis: (kinds: [Crash], interval_mean: \"1s\", duration_mean: \"2s\"),",
    ));
    let n = s.config.nemesis.unwrap();
    assert_eq!(
        (n.down_max, n.clock_jump_max, n.loss, n.duplicate),
        (1, SimDuration::ZERO, 0.0, 0.0)
    );
    assert_eq!(
        (n.kinds, n.interval_mean, n.duration_mean),
        (vec![FaultKind::Crash], secs(1), secs(2))
    );
}

#[test]
fn optional_values_may_be_bare_or_wrapped() {
    for (a, b) in [
        ("liveness: \"5s\",", "liveness: Some(\"5s\"),"),
        (
            "checks: [Convergence(within: \"3s\")],",
            "checks: [Convergence(within: Some(\"3s\"))],",
        ),
        (
            "nemesis: (kinds: [Pause], interval_mean: \"1s\", duration_mean: \"1s\"),",
            "nemesis: Some((kinds: [Pause], interval_mean: \"1s\", duration_mean: \"1s\")),",
        ),
    ] {
        let (x, y) = (parse(&minimal(a)), parse(&minimal(b)));
        assert_eq!(x.config.liveness, y.config.liveness);
        assert_eq!(x.checks, y.checks);
        assert_eq!(x.config.nemesis, y.config.nemesis);
    }
    let s = parse(&minimal(
        "clients: Some((count: 1, workload: Broadcast(interval: \"1s\", ops_per_client: 1), stop: Some(\"2s\"))),\n\
         network: (overrides: [(from: 0, to: 1, latency: Some(Constant(\"5ms\")), drop: Some(0.5))]),",
    ));
    assert_eq!(
        (s.config.clients.count, s.config.clients.stop),
        (1, Some(secs(2)))
    );
    assert_eq!(
        s.config.network.overrides[0].link,
        LinkConfig {
            latency: Latency::Constant(ms(5)),
            drop: 0.5,
            duplicate: 0.0
        }
    );
    let s = parse(&minimal("liveness: None, checks: [Convergence()],"));
    assert_eq!(s.config.liveness, None);
    assert_eq!(
        s.checks,
        vec![CheckSpec::new::<Convergence>(ConvergenceParams {
            within: None
        })]
    );
    assert_eq!(
        parse(&minimal("liveness: \"5s\",")).config.end_time(),
        secs(15)
    );
}

#[test]
fn partitions_may_be_wrapped_or_bare() {
    let shapes = [
        (
            "Split([[0, 1], [2, 3, 4]])",
            Partition::Split(vec![group(&[0, 1], &[]), group(&[2, 3, 4], &[])]),
        ),
        ("Isolate(2)", Partition::Isolate(NodeId(2))),
        (
            "OneWay(from: [0], to: [1, 2])",
            Partition::OneWay {
                from: group(&[0], &[]),
                to: group(&[1, 2], &[]),
            },
        ),
        (
            "Bridge(left: [0, 1], right: [3, 4], bridge: 2)",
            Partition::Bridge {
                left: group(&[0, 1], &[]),
                right: group(&[3, 4], &[]),
                bridge: NodeId(2),
            },
        ),
    ];
    for (text, want) in shapes {
        for written in [text.to_string(), format!("Partition({text})")] {
            let s = parse(&minimal(&format!(
                "faults: [(at: \"1s\", fault: {written})],"
            )));
            assert_eq!(
                s.config.faults,
                vec![ScheduledFault {
                    at: secs(1),
                    fault: Fault::Partition(want.clone())
                }]
            );
        }
    }
}

fn group(nodes: &[u32], clients: &[u32]) -> Group {
    Group {
        nodes: nodes.iter().map(|&n| NodeId(n)).collect(),
        clients: clients.iter().map(|&c| ClientId(c)).collect(),
    }
}

#[test]
fn groups_place_clients() {
    let s = parse(&minimal(
        "clients: (count: 3, workload: Broadcast(interval: \"1s\", ops_per_client: 3)),\n\
         faults: [(at: \"1s\", fault: Split([(nodes: [0, 1], clients: [0, 2]), [2, 3], (nodes: [4])])),\n\
                  (at: \"2s\", fault: OneWay(from: (clients: [1]), to: [0]))],",
    ));
    assert_eq!(
        s.config.faults[0].fault,
        Fault::Partition(Partition::Split(vec![
            group(&[0, 1], &[0, 2]),
            group(&[2, 3], &[]),
            group(&[4], &[])
        ]))
    );
    assert_eq!(
        s.config.faults[1].fault,
        Fault::Partition(Partition::OneWay {
            from: group(&[], &[1]),
            to: group(&[0], &[])
        })
    );
}

#[test]
fn other_faults() {
    let s = parse(&minimal(
        "network: (latency: Uniform(min: \"1ms\", max: \"5ms\"), drop: 0.1,\n\
                   overrides: [(from: 0, to: 1, latency: Constant(\"50ms\"), both_ways: true)]),\n\
         faults: [\n\
           (at: \"1s\", fault: Crash(3)), (at: \"2s\", fault: Restart(3)),\n\
           (at: \"1s\", fault: Pause(node: 2, duration: \"500ms\")),\n\
           (at: \"1s\", fault: ClockJump(node: 2, by: \"-50ms\")),\n\
           (at: \"1s\", fault: ClockJump(node: 2, by: \"+1.5ms\")),\n\
           (at: \"3s\", fault: SetLink(from: 1, to: 0, duplicate: 0.5)),\n\
           (at: \"3s\", fault: SetLink(from: Some(4), to: None, drop: 1.0)),\n\
           (at: \"4s\", fault: ResetLinks), (at: \"5s\", fault: Heal),\n\
         ],",
    ));
    let f: Vec<Fault> = s.config.faults.into_iter().map(|f| f.fault).collect();
    assert_eq!(f[0], Fault::Crash(NodeId(3)));
    assert_eq!(f[1], Fault::Restart(NodeId(3)));
    assert_eq!(f[2], Fault::Pause(NodeId(2), ms(500)));
    assert_eq!(f[3], Fault::ClockJump(NodeId(2), -50_000_000));
    assert_eq!(f[4], Fault::ClockJump(NodeId(2), 1_500_000));
    // Unset fields come from the link's override (both ways) ...
    let link = LinkConfig {
        latency: Latency::Constant(ms(50)),
        drop: 0.1,
        duplicate: 0.5,
    };
    assert_eq!(
        f[5],
        Fault::SetLink {
            from: Some(NodeId(1)),
            to: Some(NodeId(0)),
            link
        }
    );
    // ... or the network's default.
    let link = LinkConfig {
        latency: Latency::Uniform {
            min: ms(1),
            max: ms(5),
        },
        drop: 1.0,
        duplicate: 0.0,
    };
    assert_eq!(
        f[6],
        Fault::SetLink {
            from: Some(NodeId(4)),
            to: None,
            link
        }
    );
    assert_eq!(f[7..], [Fault::ResetLinks, Fault::Heal]);
    assert_eq!(s.config.network.overrides.len(), 2);
}

#[test]
fn topologies_and_latencies() {
    let s = parse(&minimal("topology: Edges([(0, 1), (1, 2), (4, 3)]),"));
    assert_eq!(
        s.config.topology,
        Topology::Edges(vec![
            (NodeId(0), NodeId(1)),
            (NodeId(1), NodeId(2)),
            (NodeId(4), NodeId(3))
        ])
    );
    assert_eq!(
        parse(&minimal("topology: Star(center: 4),"))
            .config
            .topology,
        Topology::Star { center: NodeId(4) }
    );
    assert_eq!(
        parse(&minimal("topology: Ring,")).config.topology,
        Topology::Ring
    );
    for (text, want) in [
        (
            "Normal(mean: \"5ms\", stddev: \"1ms\")",
            Latency::Normal {
                mean: ms(5),
                stddev: ms(1),
                min: SimDuration::ZERO,
            },
        ),
        (
            "Exponential(mean: \"5ms\", min: \"1ms\")",
            Latency::Exponential {
                mean: ms(5),
                min: ms(1),
            },
        ),
        (
            "Pareto(scale: \"1ms\", shape: 1.5, max: \"1s\")",
            Latency::Pareto {
                scale: ms(1),
                shape: 1.5,
                max: secs(1),
            },
        ),
    ] {
        assert_eq!(
            parse(&minimal(&format!("network: (latency: {text}),")))
                .config
                .network
                .default
                .latency,
            want
        );
    }
}

#[test]
fn a_nemesis_that_crashes_lifts_the_crash_restart_rule() {
    let faults = "faults: [(at: \"1s\", fault: Restart(1))],";
    assert!(scenarios::parse(&minimal(faults), "t.ron", &registry()).is_err());
    parse(&minimal(&format!(
        "{faults} nemesis: (kinds: [Crash], interval_mean: \"1s\", duration_mean: \"1s\"),"
    )));
}

#[test]
fn expectations() {
    let s = parse(&minimal(
        "checks: [Convergence(within: \"2s\")], expect: Violation([\"convergence\"]),",
    ));
    assert_eq!(
        s.checks,
        vec![CheckSpec::new::<Convergence>(ConvergenceParams {
            within: Some(secs(2))
        })]
    );
    assert_eq!(s.expect, Expect::Violation(vec!["convergence".into()]));
    assert!(registry().check_names().contains(&"convergence"));
}

#[test]
fn readme_examples_are_valid() {
    let blocks = readme_blocks();
    assert!(
        blocks.len() >= 5,
        "expected the README's examples, found {}",
        blocks.len()
    );
    let mut complete = 0;
    for b in &blocks {
        if b.contains("Scenario(") {
            let s = parse(b);
            assert_eq!(s.name, "gossip-partition-heal");
            complete += 1;
        } else {
            // A field snippet: it must fit into a scenario as written.
            parse(&minimal(b));
        }
    }
    assert_eq!(complete, 1);
}

#[test]
fn readme_complete_example_means_what_it_says() {
    let block = readme_blocks()
        .into_iter()
        .find(|b| b.contains("Scenario("))
        .unwrap();
    let s = parse(&block);
    let c = &s.config;
    assert_eq!(
        (c.node_count, c.duration, c.liveness),
        (5, secs(10), Some(secs(5)))
    );
    assert_eq!(
        c.network.default.latency,
        Latency::Uniform {
            min: ms(1),
            max: ms(10)
        }
    );
    assert_eq!(c.clients.count, 2);
    assert_eq!(
        c.faults[0].fault,
        Fault::Partition(Partition::Split(vec![
            group(&[0, 1, 2], &[0]),
            group(&[3, 4], &[1])
        ]))
    );
    assert_eq!(
        s.checks,
        vec![CheckSpec::new::<Convergence>(ConvergenceParams {
            within: Some(secs(3))
        })]
    );
}

/// The benchmark files follow `shared/bench/WORKLOADS.md`.
#[test]
fn bench_scenarios_match_the_workloads() {
    use protocols::forward::Mode;
    let cases = [
        (
            "w1-ping-pong",
            2,
            Mode::PingPong,
            1,
            Some(1),
            Latency::Constant(ms(1)),
        ),
        (
            "w2-hot-potato",
            64,
            Mode::HotPotato,
            4,
            None,
            Latency::Uniform {
                min: ms(1),
                max: ms(10),
            },
        ),
        (
            "w3-hot-potato-1k",
            1_000,
            Mode::HotPotato,
            4,
            None,
            Latency::Uniform {
                min: ms(1),
                max: ms(10),
            },
        ),
        (
            "w3-hot-potato-10k",
            10_000,
            Mode::HotPotato,
            4,
            None,
            Latency::Uniform {
                min: ms(1),
                max: ms(10),
            },
        ),
        (
            "w3-hot-potato-100k",
            100_000,
            Mode::HotPotato,
            4,
            None,
            Latency::Uniform {
                min: ms(1),
                max: ms(10),
            },
        ),
    ];
    let shipped = scenarios::shipped();
    for (name, nodes, mode, tokens, starters, latency) in cases {
        let path = scenarios::shipped_dir()
            .join("bench")
            .join(format!("{name}.ron"));
        assert!(shipped.contains(&path), "{} is not shipped", path.display());
        let s = scenarios::load(&path, &registry()).unwrap_or_else(|e| panic!("{e}"));
        let c = &s.config;
        assert_eq!(s.name, name);
        assert_eq!((c.seed, c.node_count, c.events_max), (42, nodes, 1_000_000));
        assert!(
            c.duration >= secs(3000),
            "{name}: the duration must never stop the run first"
        );
        assert_eq!((c.liveness, &c.topology), (None, &Topology::FullMesh));
        assert_eq!(
            c.network.default,
            LinkConfig {
                latency,
                drop: 0.0,
                duplicate: 0.0
            }
        );
        assert!(c.network.overrides.is_empty() && c.faults.is_empty() && c.nemesis.is_none());
        assert_eq!(c.clients.count, 0);
        assert_eq!(
            (c.clocks.offset_max, c.clocks.drift_ppm_max),
            (SimDuration::ZERO, 0)
        );
        assert!(s.checks.is_empty());
        assert_eq!(s.expect, Expect::Pass);
        match s.protocol.params::<Forward>() {
            Some(p) => assert_eq!(
                (p.mode, p.tokens_per_node, p.starters),
                (mode, tokens, starters)
            ),
            None => panic!("{name}: protocol {:?}", s.protocol),
        }
    }
}

#[test]
fn load_reports_unreadable_files() {
    let e = scenarios::load(std::path::Path::new("/nonexistent/x.ron"), &registry()).unwrap_err();
    assert_eq!((e.line, e.col), (0, 0));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/x.ron: cannot read the file: "),
        "{e}"
    );
}

#[test]
fn key_value_workload_primary_backup_and_linearizable() {
    use protocols::primary_backup::{Bug, Params};
    let text = |protocol: &str, workload: &str| {
        format!(
            "Scenario(name: \"t\", seed: 7, duration: \"10s\", nodes: 3,\n\
             protocol: {protocol},\n\
             clients: (count: 2, workload: {workload}),\n\
             checks: [Linearizable()], expect: Violation([\"linearizable\"]))"
        )
    };
    let s = parse(&text(
        "PrimaryBackup(replication_delay: \"50ms\", bug: StaleBackupReads)",
        "KeyValue(keys: 3, get: 2, put: 3, cas: 1, interval: \"20ms\", ops_per_client: 50)",
    ));
    assert_eq!(
        s.config.clients.workload,
        Workload::KeyValue {
            keys: 3,
            get: 2,
            put: 3,
            cas: 1,
            append: 0,
            interval: ms(20),
            ops_per_client: 50
        }
    );
    assert_eq!(
        s.protocol,
        ProtocolSpec::new::<PrimaryBackup>(Params {
            replication_delay: ms(50),
            bug: Some(Bug::StaleBackupReads)
        })
    );
    assert_eq!(s.checks, vec![CheckSpec::new::<Linearizable>(NoParams {})]);
    assert_eq!(
        s.expect,
        Expect::Violation(vec!["linearizable".to_string()])
    );
    // The weights default to 1 each, the bug to none.
    let s = parse(&text(
        "PrimaryBackup(replication_delay: \"1s\")",
        "KeyValue(keys: 1, interval: \"0\", ops_per_client: 1)",
    ));
    assert_eq!(
        s.config.clients.workload,
        Workload::KeyValue {
            keys: 1,
            get: 1,
            put: 1,
            cas: 1,
            append: 0,
            interval: SimDuration::ZERO,
            ops_per_client: 1
        }
    );
    assert_eq!(
        s.protocol,
        ProtocolSpec::new::<PrimaryBackup>(Params::new(secs(1)))
    );
}

#[test]
fn storage_models_and_storage_faults() {
    use sim_core::config::{DiskModel, Survive};
    // The default: free disks.
    assert!(parse(&minimal("")).config.storage.is_free());
    let s = parse(&minimal(
        "storage: (sync: Uniform(min: \"1ms\", max: \"3ms\"), per_byte: \"2ns\",\n\
                   overrides: [(node: 2, sync: Constant(\"40ms\"), read: Constant(\"100us\"))]),\n\
         faults: [\n\
           (at: \"1s\", fault: TornWrite(node: 1, survive: Subset, pick: 9, tear_last: false)),\n\
           (at: \"1s\", fault: TornWrite(node: 3)),\n\
           (at: \"2s\", fault: Restart(1)), (at: \"2s\", fault: Restart(3)),\n\
           (at: \"2s\", fault: Corrupt(node: 0)),\n\
           (at: \"2s\", fault: Corrupt(node: 0, nth_from_end: 3, silent: true)),\n\
           (at: \"3s\", fault: Misdirect(node: 4, pick: 2)),\n\
           (at: \"3s\", fault: LoseSync(4)),\n\
         ],\n\
         nemesis: (kinds: [TornWrite, Corrupt, Misdirect, LoseSync], interval_mean: \"1s\",\n\
                   duration_mean: \"100ms\", silent: true),",
    ));
    let st = &s.config.storage;
    let uniform = Latency::Uniform {
        min: ms(1),
        max: ms(3),
    };
    assert_eq!(
        st.default,
        DiskModel {
            sync: uniform,
            read: Latency::Constant(SimDuration::ZERO),
            per_byte: SimDuration(2),
        }
    );
    // An override's unset fields are the default's.
    assert_eq!(
        st.disk(NodeId(2)),
        &DiskModel {
            sync: Latency::Constant(ms(40)),
            read: Latency::Constant(SimDuration::from_micros(100)),
            per_byte: SimDuration(2),
        }
    );
    assert_eq!(st.disk(NodeId(1)), &st.default);
    let f: Vec<Fault> = s.config.faults.iter().map(|f| f.fault.clone()).collect();
    assert_eq!(
        f[0],
        Fault::TornWrite {
            node: NodeId(1),
            survive: Survive::Subset,
            pick: 9,
            tear_last: false
        }
    );
    // Documented defaults: a prefix, pick 0, the last kept write torn.
    assert_eq!(
        f[1],
        Fault::TornWrite {
            node: NodeId(3),
            survive: Survive::Prefix,
            pick: 0,
            tear_last: true
        }
    );
    assert_eq!(
        f[4..],
        [
            Fault::Corrupt {
                node: NodeId(0),
                nth_from_end: 0,
                silent: false
            },
            Fault::Corrupt {
                node: NodeId(0),
                nth_from_end: 3,
                silent: true
            },
            Fault::Misdirect {
                node: NodeId(4),
                pick: 2
            },
            Fault::LoseSync(NodeId(4)),
        ]
    );
    let n = s.config.nemesis.as_ref().unwrap();
    assert!(n.silent);
    assert_eq!(
        n.kinds,
        [
            FaultKind::TornWrite,
            FaultKind::Corrupt,
            FaultKind::Misdirect,
            FaultKind::LoseSync
        ]
    );
    // Written back in the scenario's vocabulary, it reads back the same.
    let text = scenarios::write::scenario(&s, &[]);
    let again = parse(&text);
    assert_eq!(again.config.storage, s.config.storage);
    assert_eq!(again.config.faults, s.config.faults);
    assert_eq!(again.config.nemesis, s.config.nemesis);
}

#[test]
fn a_torn_write_is_a_crash_for_the_crash_restart_rule() {
    let text = minimal(
        "faults: [(at: \"1s\", fault: TornWrite(node: 1)), (at: \"2s\", fault: Crash(1))],",
    );
    let e = scenarios::parse(&text, "t.ron", &registry()).unwrap_err();
    assert!(e.message.contains("already down"), "{e}");
}
