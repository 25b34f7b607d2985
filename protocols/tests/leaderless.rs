//! The leaderless Dynamo-style store (`scenarios/leaderless/`): strict quorums without faults
//! pass `linearizable`; weak quorums, sloppy quorums under partition and skewed clocks produce
//! anomalies that the linearizability checker reports on real runs (and a witness found here in
//! the history confirms each is a real stale read or lost update); the store's own promises —
//! `replica-convergence` and `no-lost-writes` — hold under the random nemesis and random fault
//! schedules (proptest); each deliberate bug is caught, and the correct protocol passes the very
//! runs that caught it.

use proptest::prelude::*;
use protocols::leaderless::{self, Bug, Leaderless, Params};
use scenarios::harness::{self as runner, RunReport};
use scenarios::testing::strategies::FaultBounds;
use scenarios::ProtocolSpec;
use scenarios::Scenario;
use sim_core::check::Verdict;
use sim_core::config::*;
use sim_core::{run, History, Outcome, Request, Response, SimConfig, SimDuration};

mod common;
use common::*;

fn load(name: &str) -> Scenario {
    load_shipped("leaderless", name)
}

/// Seeds of `random-faults.ron` checked here (a debug build; the release sweep in
/// `scenarios/leaderless/README.md` covers more).
const SEEDS_RANDOM_FAULTS: u64 = 20;
/// Seeds of `basic.ron`.
const SEEDS_BASIC: u64 = 20;
/// Each bug must be caught by some seed below this.
const SEEDS_BUG_MAX: u64 = 1000;

fn verdict(report: &RunReport, check: &str) -> Verdict {
    report
        .checks
        .iter()
        .find(|c| c.name == check)
        .unwrap_or_else(|| panic!("{}: no check `{check}`", report.scenario))
        .verdict
}

fn params(scn: &Scenario) -> Params {
    match scn.protocol.params::<Leaderless>() {
        Some(p) => p.clone(),
        None => panic!("not a leaderless scenario: {:?}", scn.protocol),
    }
}

/// The same scenario with the correct protocol and every check expected to pass.
fn without_bug(scn: &Scenario) -> Scenario {
    let mut fixed = scn.clone();
    fixed.protocol = ProtocolSpec::new::<Leaderless>(Params {
        bug: None,
        ..params(scn)
    });
    fixed.expect = scenarios::Expect::Pass;
    fixed
}

/// A witness of a stale read or lost update, straight from the history: a get that returned
/// `v` (or nothing) although a put of another value `u` on its key completed before the get
/// began, and that put began after the put of `v` completed (or `v` was never written). No
/// linearization can order it: `u` must follow `v`'s write and precede the get.
fn stale_read(history: &History) -> Option<String> {
    let ops = &history.ops;
    for get in ops {
        let (Request::Get { key }, Some((_, Outcome::Ok(Response::Value(read))))) =
            (&get.request, &get.completion)
        else {
            continue;
        };
        // When the put of the value read completed (`None` read: never written).
        let read_put_done = match read {
            None => None,
            Some(v) => {
                let put = ops.iter().find(|o| {
                    matches!(o.request, Request::Put { key: k, value } if k == *key && value == *v)
                })?;
                match &put.completion {
                    Some((t, Outcome::Ok(_))) => Some(*t),
                    _ => continue,
                }
            }
        };
        for later in ops {
            let (Request::Put { key: k, value: u }, Some((done, Outcome::Ok(_)))) =
                (&later.request, &later.completion)
            else {
                continue;
            };
            if k != key || Some(*u) == *read || *done >= get.invoke {
                continue;
            }
            if read_put_done.is_none_or(|t| t < later.invoke) {
                return Some(format!(
                    "{} read {read:?} at key {key} (invoked {:?}) after {} wrote {u} (acknowledged {done:?})",
                    get.client, get.invoke, later.client
                ));
            }
        }
    }
    None
}

#[test]
fn strict_quorums_without_faults_are_linearizable_and_converge() {
    let scn = load("basic.ron");
    for seed in 0..SEEDS_BASIC {
        let report = run_seed(&scn, seed);
        for c in &report.checks {
            assert_eq!(
                c.verdict,
                Verdict::Pass,
                "seed {seed}: {}: {}",
                c.name,
                c.detail
            );
        }
        assert!(
            report.history.ok_count() * 10 >= report.history.len() * 9,
            "seed {seed}: a fault-free store answers"
        );
        assert!(stale_read(&report.history).is_none());
    }
}

/// Weak quorums, a partition under sloppy quorums, and a clock stepped back: on the shipped
/// seed the checker reports a violation that the history really contains, while the store's
/// own promises hold.
#[test]
fn anomalies_are_caught_by_the_linearizability_checker_on_real_runs() {
    for name in [
        "weak-quorum.ron",
        "partition-available.ron",
        "clock-skew-lww.ron",
    ] {
        let scn = load(name);
        let report = run_seed(&scn, scn.config.seed);
        assert!(report.as_expected, "{name}: {:?}", report.checks);
        assert_eq!(verdict(&report, "linearizable"), Verdict::Fail, "{name}");
        assert_eq!(
            verdict(&report, "replica-convergence"),
            Verdict::Pass,
            "{name}"
        );
        assert_eq!(verdict(&report, "no-lost-writes"), Verdict::Pass, "{name}");
        let witness = stale_read(&report.history);
        assert!(witness.is_some(), "{name}: no stale read in the history");
    }
}

/// Ok answers to the given clients' requests invoked and answered during the cut of
/// `partition-available.ron`.
fn answered_during_cut(report: &RunReport, clients: &[u32]) -> usize {
    let (cut, heal) = (ms(500).0, ms(2500).0);
    report
        .history
        .ops
        .iter()
        .filter(|o| clients.contains(&o.client.0) && o.invoke.0 > cut)
        .filter(|o| matches!(o.completion, Some((t, Outcome::Ok(_))) if t.0 < heal))
        .count()
}

#[test]
fn sloppy_quorums_keep_both_sides_of_a_partition_answering() {
    let scn = load("partition-available.ron");
    let report = run_seed(&scn, scn.config.seed);
    // Clients 4 and 5 sit with nodes 3 and 4, which replicate none of the keys (all on
    // {0, 1, 2}): only sloppy quorums let them be answered.
    let (majority, minority) = (&[0, 1, 2, 3][..], &[4, 5][..]);
    assert!(answered_during_cut(&report, majority) >= 20);
    assert!(answered_during_cut(&report, minority) >= 10);
    // With strict placement the minority side answers nothing: its gets fail, its puts go
    // unanswered (indeterminate), and the history is linearizable.
    let mut strict = scn.clone();
    strict.protocol = ProtocolSpec::new::<Leaderless>(Params {
        sloppy: false,
        ..params(&scn)
    });
    let report = run_seed(&strict, scn.config.seed);
    assert_eq!(answered_during_cut(&report, minority), 0);
    assert!(answered_during_cut(&report, majority) >= 20);
    assert_eq!(verdict(&report, "linearizable"), Verdict::Pass);
}

/// `bug-no-replica-sync.ron` on five nodes: node 2, a replica of both keys, is cut off while
/// the others take writes, and there is neither anti-entropy (the bug) nor a read after the
/// heal. With sloppy quorums the next node on the ring holds node 2's writes as hints and hands
/// them off after the heal, so the replicas converge; without, node 2 stays stale.
#[test]
fn hinted_handoff_alone_repairs_a_replica_cut_off_during_writes() {
    let text = std::fs::read_to_string(
        scenarios::shipped_dir().join("leaderless/bug-no-replica-sync.ron"),
    )
    .unwrap()
    .replace("nodes: 3,", "nodes: 5,")
    .replace(
        "expect: Violation([\"replica-convergence\"]),",
        "expect: Pass,",
    );
    for sloppy in [true, false] {
        let text = text.replace("sloppy: false", &format!("sloppy: {sloppy}"));
        let scn = scenarios::parse(&text, "handoff.ron", &protocols::builtin())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(params(&scn).bug, Some(Bug::NoReplicaSync));
        let mut stale = 0;
        for seed in 0..10 {
            let report = run_seed(&scn, seed);
            assert_eq!(verdict(&report, "no-lost-writes"), Verdict::Pass);
            match verdict(&report, "replica-convergence") {
                Verdict::Fail => stale += 1,
                v => assert_eq!(v, Verdict::Pass, "seed {seed}: {:?}", report.checks),
            }
        }
        if sloppy {
            assert_eq!(stale, 0, "hinted handoff repairs node 2 on every seed");
        } else {
            // A seed whose clients wrote nothing during the cut has nothing to repair.
            assert!(
                stale >= 5,
                "node 2 stays stale on most seeds, not {stale} of 10"
            );
        }
    }
}

#[test]
fn random_faults_converge_and_lose_no_acknowledged_write() {
    let scn = load("random-faults.ron");
    for seed in 0..SEEDS_RANDOM_FAULTS {
        let report = run_seed(&scn, seed);
        assert!(report.as_expected, "seed {seed}: {:?}", report.checks);
        assert!(
            report.history.ok_count() > 500,
            "seed {seed}: the store stays available"
        );
    }
}

/// Each bug scenario is caught by its check at some seed below `SEEDS_BUG_MAX`, and the
/// correct protocol passes that very run.
#[test]
fn each_bug_is_caught_and_the_correct_protocol_passes_the_same_run() {
    for (name, bug, check) in [
        (
            "bug-no-sync-before-ack.ron",
            Bug::NoSyncBeforeAck,
            "no-lost-writes",
        ),
        (
            "bug-ack-before-quorum.ron",
            Bug::AckBeforeQuorum,
            "linearizable",
        ),
        (
            "bug-no-replica-sync.ron",
            Bug::NoReplicaSync,
            "replica-convergence",
        ),
    ] {
        let scn = load(name);
        assert_eq!(params(&scn).bug, Some(bug));
        let seed = (0..SEEDS_BUG_MAX)
            .find(|s| verdict(&run_seed(&scn, *s), check) == Verdict::Fail)
            .unwrap_or_else(|| panic!("{name}: `{check}` never failed"));
        let report = run_seed(&scn, seed);
        assert!(
            report.as_expected,
            "{name} seed {seed}: {:?}",
            report.checks
        );
        let fixed = run_seed(&without_bug(&scn), seed);
        for c in &fixed.checks {
            assert_eq!(
                c.verdict,
                Verdict::Pass,
                "{name} seed {seed} without the bug: {}: {}",
                c.name,
                c.detail
            );
        }
    }
}

/// Random clusters and fault schedules (pauses up to 400 ms, a 3 s liveness phase) with
/// get/put clients.
fn config() -> impl Strategy<Value = SimConfig> {
    scenarios::testing::strategies::cluster(
        FaultBounds {
            pause_max_ms: 400,
            ..scenarios::testing::strategies::FAULTS
        },
        SimDuration::from_secs(3),
        ClientConfig {
            count: 3,
            target: TargetPolicy::Random,
            workload: Workload::KeyValue {
                keys: 3,
                get: 1,
                put: 1,
                cas: 0,
                append: 0,
                interval: ms(20),
                ops_per_client: 80,
            },
            timeout: ms(500),
            ..ClientConfig::default()
        },
    )
}

proptest! {
    #![proptest_config(scenarios::testing::config(128))]

    #[test]
    fn convergence_and_no_lost_writes_hold_under_random_fault_schedules(
        cfg in config(),
        sloppy in any::<bool>(),
    ) {
        let params = Params { sloppy, ..Params::default() };
        let n = params.n;
        let result = run(cfg, move |id| Leaderless::new(id, &params));
        let conv = leaderless::check_replica_convergence(&result, n, SimDuration::from_secs(2));
        prop_assert_eq!(conv.verdict, Verdict::Pass, "{}", conv.detail);
        let lost = leaderless::check_no_lost_writes(&result, n);
        prop_assert_eq!(lost.verdict, Verdict::Pass, "{}", lost.detail);
    }
}

/// `Leaderless()` alone is a valid protocol (what `dsim cap` substitutes) and serves correctly.
#[test]
fn default_parameters_form_a_valid_protocol() {
    let text = std::fs::read_to_string(scenarios::shipped_dir().join("leaderless/basic.ron"))
        .unwrap()
        .replace(
            "Leaderless(n: 3, r: 2, w: 2, sloppy: false, read_repair: true)",
            "Leaderless()",
        );
    let scn = scenarios::parse(&text, "basic-defaults.ron", &protocols::builtin())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(params(&scn), Params::default());
    let report = run_seed(&scn, 1);
    assert_eq!(
        runner::overall(&report.checks),
        Verdict::Pass,
        "{:?}",
        report.checks
    );
}

#[test]
fn bad_parameters_are_clear_errors() {
    let base =
        std::fs::read_to_string(scenarios::shipped_dir().join("leaderless/basic.ron")).unwrap();
    for (params, needle) in [
        ("Leaderless(n: 6)", "`n` is `6`, outside `1..=5`"),
        ("Leaderless(n: 3, r: 4)", "`r` is `4`, outside `1..=3`"),
        ("Leaderless(w: 0)", "`w` is `0`"),
        (
            "Leaderless(replica_timeout: \"1s\", request_timeout: \"500ms\")",
            "`replica_timeout`",
        ),
    ] {
        let text = base.replace(
            "Leaderless(n: 3, r: 2, w: 2, sloppy: false, read_repair: true)",
            params,
        );
        let err = scenarios::parse(&text, "bad.ron", &protocols::builtin()).expect_err(params);
        assert!(err.to_string().contains(needle), "{params}: {err}");
        assert!(
            err.line > 0,
            "{params}: the error points at the value: {err}"
        );
    }
}
