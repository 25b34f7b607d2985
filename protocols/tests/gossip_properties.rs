//! Property tests over random network and fault parameters: a run never panics, is
//! deterministic, and correct gossip converges once the faults heal.

use proptest::prelude::*;
use protocols::gossip::{self, Gossip};
use sim_core::check::Verdict;
use sim_core::config::*;
use sim_core::{run, SimConfig, SimDuration};

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn fault(nodes: u32) -> impl Strategy<Value = ScheduledFault> {
    scenarios::testing::strategies::fault(
        nodes,
        scenarios::testing::strategies::FaultBounds {
            horizon_ms: 4_000,
            pause_max_ms: 800,
            jump_max_ms: 500,
            loss_max: 0.6,
            duplicate: 0.0,
            ..scenarios::testing::FAULTS
        },
    )
}

fn config() -> impl Strategy<Value = (SimConfig, gossip::Params)> {
    (2u32..9, any::<u64>()).prop_flat_map(|(nodes, seed)| {
        (
            scenarios::testing::latency(),
            0.0f64..0.3,
            0.0f64..0.2,
            proptest::collection::vec(fault(nodes), 0..8),
            proptest::option::of(proptest::sample::subsequence(FaultKind::ALL.to_vec(), 1..6)),
            prop_oneof![
                Just(gossip::Mode::Push),
                Just(gossip::Mode::Pull),
                Just(gossip::Mode::PushPull)
            ],
            1u32..4,
        )
            .prop_map(
                move |(latency, drop, duplicate, faults, kinds, mode, fanout)| {
                    let mut c = SimConfig::basic(nodes, SimDuration::from_secs(4));
                    c.seed = seed;
                    c.liveness = Some(SimDuration::from_secs(10));
                    c.network.default = LinkConfig {
                        latency,
                        drop,
                        duplicate,
                    };
                    c.clocks = ClockConfig {
                        offset_max: ms(50),
                        drift_ppm_max: 500,
                    };
                    c.faults = faults;
                    c.nemesis = kinds.map(|kinds| NemesisConfig {
                        kinds,
                        interval_mean: ms(500),
                        duration_mean: ms(300),
                        down_max: nodes.div_ceil(2),
                        clock_jump_max: ms(200),
                        loss: 0.5,
                        duplicate: 0.3,
                        silent: false,
                        reorder_window: sim_core::SimDuration::ZERO,
                        replay: 8,
                        faults_max: NemesisConfig::FAULTS_MAX_DEFAULT,
                    });
                    c.clients = ClientConfig {
                        count: 3,
                        target: TargetPolicy::Random,
                        workload: Workload::Broadcast {
                            interval: ms(150),
                            ops_per_client: 12,
                        },
                        timeout: ms(500),
                        stop: None,
                        ..Default::default()
                    };
                    (c, gossip::Params::new(mode, fanout, ms(50)))
                },
            )
    })
}

proptest! {
    #![proptest_config(scenarios::testing::config(128))]

    #[test]
    fn runs_are_deterministic_and_gossip_converges_after_heal((cfg, params) in config()) {
        let p1 = params.clone();
        let a = run(cfg.clone(), move |id| Gossip::new(id, &p1));
        let p2 = params.clone();
        let b = run(cfg.clone(), move |id| Gossip::new(id, &p2));
        prop_assert_eq!(a.trace_hash, b.trace_hash);
        prop_assert_eq!(&a.stats, &b.stats);
        let check = gossip::check_convergence(&a, None);
        prop_assert_eq!(check.verdict, Verdict::Pass, "{}", check.detail);
        // The liveness phase restarted every crashed node.
        prop_assert!(a.final_status.iter().all(|s| *s != sim_core::NodeStatus::Crashed));
    }
}
