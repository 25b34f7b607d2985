//! The example's scenario files: each meets its `expect`, runs deterministically, and shows
//! the reconfiguration it is about; each bug scenario passes once its bug is removed (so the
//! checks catch the bug, not the schedule).

mod common;

use chain_replication::{AckedOnEveryReplica, Chain, Params};
use scenarios::harness::{determinism, RunOptions};
use scenarios::{Expect, ProtocolSpec};
use sim_core::protocol::CheckKind;

#[test]
fn every_scenario_meets_its_expect() {
    let files = common::all();
    assert!(files.len() >= 7, "the example's scenarios: {files:?}");
    for path in files {
        let scn = chain_replication::registry()
            .load(&path)
            .unwrap_or_else(|e| panic!("{e}"));
        let report = scenarios::run(&scn, RunOptions::default());
        assert!(
            report.as_expected,
            "{}: expected {:?}, got {:?}",
            path.display(),
            scn.expect,
            report.checks
        );
    }
}

#[test]
fn every_scenario_is_deterministic() {
    for path in common::all() {
        let scn = chain_replication::registry()
            .load(&path)
            .unwrap_or_else(|e| panic!("{e}"));
        let opts = RunOptions {
            record_hashes: true,
            ..RunOptions::default()
        };
        let first = scenarios::run(&scn, opts);
        let divergence = determinism::compare(&scn, scn.config.seed, &first);
        assert!(divergence.is_none(), "{}: {divergence:?}", path.display());
        assert!(first
            .running_hashes
            .as_ref()
            .is_some_and(|h| h.len() > 1000));
    }
}

/// The detail of `acked-on-every-replica` names the final chain: the reconfiguration each
/// crash scenario is about happened.
#[test]
fn crashes_reconfigure_the_chain_as_the_paper_says() {
    for (name, chain) in [
        // The head's successor became the head; n1 rejoined at the tail.
        ("crash-head", "the final chain [n2, n3, n1]"),
        // n1 is now followed by n3; n2 rejoined at the tail.
        ("crash-middle", "the final chain [n1, n3, n2]"),
        // n2 became the tail and the spare n4 joined behind it.
        ("crash-tail", "the final chain [n1, n2, n4]"),
    ] {
        let report = scenarios::run(&common::load(name), RunOptions::default());
        let check = report
            .check(AckedOnEveryReplica::NAME)
            .expect("the check ran");
        assert!(check.detail.contains(chain), "{name}: {}", check.detail);
        let acked = check.metrics.iter().find(|(k, _)| k == "acked_writes");
        assert!(
            acked.is_some_and(|(_, n)| *n > 20.0),
            "{name}: {:?}",
            check.metrics
        );
    }
}

#[test]
fn each_bug_scenario_passes_without_its_bug() {
    for name in ["bug-ack-at-head", "bug-serve-before-caught-up"] {
        let mut scn = common::load(name);
        let buggy = scn
            .protocol
            .params::<Chain>()
            .expect("a chain scenario")
            .clone();
        assert!(buggy.bug.is_some(), "{name} injects a bug");
        let fixed = Params { bug: None, ..buggy };
        scn.protocol = ProtocolSpec::new::<Chain>(fixed);
        scn.expect = Expect::Pass;
        let report = scenarios::run(&scn, RunOptions::default());
        assert!(
            report.as_expected,
            "{name} without its bug: {:?}",
            report.checks
        );
    }
}

/// Coverage through the library API: a sweep counts the seeds that reached each situation the
/// master marks, names the one it never reached, and `expect_reached` names the missing one.
#[test]
fn a_sweep_reports_the_situations_the_master_marks() {
    use chain_replication::master::{CHAIN_LOST, MEMBER_RECRUITED, MEMBER_REMOVED};
    let mut scn = common::load("crash-every-role");
    scn.expect_reached = vec![MEMBER_REMOVED.to_string(), CHAIN_LOST.to_string()];
    let result = scenarios::harness::sweep::sweep(&scn, &[0, 1, 2], 1, &|_| {});
    let rows = result.coverage.rows();
    let seeds = |name: &str| rows.iter().find(|r| r.situation == name).map(|r| r.seeds);
    assert_eq!(seeds(MEMBER_REMOVED), Some(3));
    assert_eq!(seeds(MEMBER_RECRUITED), Some(3));
    assert_eq!(
        seeds(CHAIN_LOST),
        Some(0),
        "declared, so listed though never reached"
    );
    // The engine's: each crash could have lost unsynced writes; the servers keep none.
    let lost = sim_core::coverage::engine::UNSYNCED_WRITES_LOST.to_string();
    assert_eq!(
        result.coverage.never_reached(),
        vec![CHAIN_LOST.to_string(), lost]
    );
    assert_eq!(result.not_reached, vec![CHAIN_LOST.to_string()]);
}
