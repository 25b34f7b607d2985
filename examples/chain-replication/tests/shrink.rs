//! dsim's shrinker on a protocol written outside dsim, through its public API only: the
//! example's bug scenarios shrink to a few faults, and a failure found by a property test —
//! a generated scenario, never a file — shrinks the same way, with the user's registry.

mod common;

use chain_replication::{AckedOnEveryReplica, Bug, Chain, Params};
use scenarios::harness::shrink::{shrink, ShrinkOptions};
use scenarios::harness::sweep::{outcome_of, SeedOutcome};
use scenarios::{CheckSpec, ProtocolSpec, RunOptions};
use sim_core::check::{Linearizable, Verdict};
use sim_core::config::{ClientConfig, Fault, ScheduledFault, TargetPolicy, Workload};
use sim_core::{NoParams, NodeId, SimConfig, SimDuration};

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn options(seed: u64) -> ShrinkOptions {
    ShrinkOptions {
        budget_runs: 600,
        ..ShrinkOptions::new(seed, "chain test")
    }
}

#[test]
fn the_bug_scenarios_shrink_to_a_few_faults() {
    let registry = chain_replication::registry();
    for name in ["bug-ack-at-head", "bug-serve-before-caught-up"] {
        let scn = common::load(name);
        let seed = (0..100)
            .find(|&s| matches!(outcome_of(&scn, s), SeedOutcome::Fail(_)))
            .expect("fails within 100 seeds");
        let s = shrink(&scn, &registry, &options(seed), &|_| {}).unwrap_or_else(|e| panic!("{e}"));
        println!(
            "{name} seed {seed} `{}`: {} → {}",
            s.check, s.before, s.after
        );
        assert!(s.after.faults <= 5, "{name}: {}", s.after);
        assert!(
            s.after.operations < s.before.operations,
            "{name}: {}",
            s.after
        );
        let back = registry
            .parse(&s.text, "shrunk.ron")
            .unwrap_or_else(|e| panic!("{e}"));
        let r = scenarios::run(&back, RunOptions::default());
        assert_eq!(r.check(&s.check).map(|c| c.verdict), Some(Verdict::Fail));
    }
}

/// What a property test of the user's would generate: a cluster, clients, a crash schedule,
/// the broken variant.
fn generated(bug: Bug) -> scenarios::Scenario {
    let mut config = SimConfig::basic(4, SimDuration::from_secs(2));
    config.seed = 6;
    config.liveness = Some(SimDuration::from_secs(1));
    config.clients = ClientConfig {
        count: 4,
        target: TargetPolicy::Random,
        workload: Workload::KeyValue {
            keys: 3,
            get: 2,
            put: 2,
            cas: 1,
            append: 0,
            interval: ms(20),
            ops_per_client: 40,
        },
        timeout: ms(300),
        stop: None,
        rate: None,
        retries: 1,
    };
    let link = sim_core::config::LinkConfig {
        drop: 0.9,
        ..Default::default()
    };
    config.faults = vec![
        ScheduledFault {
            at: ms(400),
            fault: Fault::SetLink {
                from: Some(NodeId(1)),
                to: Some(NodeId(2)),
                link,
            },
        },
        ScheduledFault {
            at: ms(700),
            fault: Fault::Crash(NodeId(1)),
        },
        ScheduledFault {
            at: ms(900),
            fault: Fault::ResetLinks,
        },
    ];
    let checks = vec![
        CheckSpec::new::<Linearizable>(NoParams {}),
        CheckSpec::new::<AckedOnEveryReplica>(NoParams {}),
    ];
    scenarios::testing::scenario(
        "chain-property",
        config,
        ProtocolSpec::new::<Chain>(Params::new(3, Some(bug))),
        checks,
    )
}

#[test]
fn a_generated_failure_shrinks_with_the_users_registry() {
    let registry = chain_replication::registry();
    let scn = generated(Bug::AckAtHead);
    let seed = scn.config.seed;
    let s = shrink(&scn, &registry, &options(seed), &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.after.operations < s.before.operations,
        "{} → {}",
        s.before,
        s.after
    );
    assert!(s.after.faults <= s.before.faults);
    assert!(s.text.contains("protocol: ChainReplication("), "{}", s.text);
    let back = registry
        .parse(&s.text, "shrunk.ron")
        .unwrap_or_else(|e| panic!("{e}"));
    let r = scenarios::run(&back, RunOptions::default());
    assert!(r.as_expected, "the shrunk failure reproduces:\n{}", s.text);
}
