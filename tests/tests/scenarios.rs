//! Every shipped scenario validates, meets its stated `expect` and reaches its `expect_reached`
//! at its own seed, and runs deterministically.

use std::path::PathBuf;

use scenarios::harness::{self as runner, RunOptions};

/// Benchmark scenarios run a million deliveries; here (debug builds) they are cut short, since
/// they have no checks and the point is that they load and run.
const BENCH_EVENTS_MAX: u64 = 50_000;

fn shipped() -> Vec<PathBuf> {
    let all = scenarios::shipped();
    assert!(
        all.len() >= 15,
        "expected the shipped scenarios, found {}: {all:?}",
        all.len()
    );
    all
}

#[test]
fn every_shipped_scenario_validates_meets_its_expect_and_reaches_its_situations() {
    let mut failures = Vec::new();
    for path in shipped() {
        let mut scn =
            scenarios::load(&path, &protocols::builtin()).unwrap_or_else(|e| panic!("{e}"));
        if path.parent().is_some_and(|p| p.ends_with("bench")) {
            scn.config.events_max = BENCH_EVENTS_MAX;
        }
        let report = runner::run(&scn, RunOptions::default());
        // `expect_reached`: the situations the scenario exists to exercise, at its own seed.
        if !report.not_reached.is_empty() {
            failures.push(format!(
                "{}: did not reach {:?} at seed {}",
                path.display(),
                report.not_reached,
                scn.config.seed
            ));
        }
        if !report.as_expected {
            let checks: Vec<String> = report
                .checks
                .iter()
                .map(|c| format!("{}={} ({})", c.name, c.verdict.name(), c.detail))
                .collect();
            failures.push(format!(
                "{}: expected {:?}, got {}",
                path.display(),
                scn.expect,
                checks.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "scenarios not meeting their expect:\n{}",
        failures.join("\n")
    );
}

#[test]
fn shipped_families_are_covered() {
    let families: std::collections::BTreeSet<String> = shipped()
        .iter()
        .filter_map(|p| p.parent()?.file_name()?.to_str().map(String::from))
        .collect();
    for f in ["gossip", "bench"] {
        assert!(families.contains(f), "no scenarios/{f}/");
    }
    // The gossip family has partitions, crashes and one scenario of at least 1,000 nodes.
    let gossip: Vec<scenarios::Scenario> = shipped()
        .iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("gossip")))
        .map(|p| scenarios::load(p, &protocols::builtin()).unwrap())
        .collect();
    use sim_core::config::Fault;
    assert!(gossip.iter().any(|s| s
        .config
        .faults
        .iter()
        .any(|f| matches!(f.fault, Fault::Partition(_)))));
    assert!(gossip.iter().any(|s| s
        .config
        .faults
        .iter()
        .any(|f| matches!(f.fault, Fault::Crash(_)))));
    assert!(gossip.iter().any(|s| s.config.node_count >= 1000));
    assert!(
        gossip.iter().any(|s| s.expect != scenarios::Expect::Pass),
        "a bug scenario"
    );
}

#[test]
fn gossip_scenarios_are_deterministic_over_100_seeds() {
    let scn = scenarios::load(
        &scenarios::shipped_dir().join("gossip/nemesis-chaos.ron"),
        &protocols::builtin(),
    )
    .unwrap();
    let mut hashes = Vec::new();
    for seed in 0..100 {
        let a = runner::run(
            &scn,
            RunOptions {
                seed: Some(seed),
                ..Default::default()
            },
        );
        let b = runner::run(
            &scn,
            RunOptions {
                seed: Some(seed),
                ..Default::default()
            },
        );
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed}");
        assert_eq!(a.stats, b.stats, "seed {seed}");
        hashes.push(a.trace_hash);
    }
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(
        hashes.len(),
        100,
        "different seeds must give different hashes"
    );
}
