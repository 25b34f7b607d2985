//! Two-phase commit on the transaction service: the shipped scenarios pass `atomicity`,
//! `validity` and `isolation` over a range of seeds and random fault schedules (proptest); the
//! normal case costs the textbook messages, delays and stable writes; `blocking` measures the
//! participants left prepared by a coordinator crash; each deliberate bug is caught by the
//! check meant to catch it, and the correct protocol passes the very run that caught it.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use protocols::two_phase_commit::{
    self as tpc, Blocking, BlockingParams, Observation, Params, TwoPhaseCommit,
};
use scenarios::harness::RunReport;
use scenarios::ProtocolSpec;
use scenarios::Scenario;
use sim_core::check::{CheckResult, Verdict};
use sim_core::config::*;
use sim_core::{run, NodeId, Outcome, Response, SimConfig, SimDuration, Simulation};

mod common;
use common::*;

fn load(name: &str) -> Scenario {
    load_shipped("two-phase-commit", name)
}

/// Seeds of `random-faults.ron` the correct protocol must pass here (a debug build; `dsim
/// sweep` covers 0..1000 in release, all passing).
const SEEDS_RANDOM_FAULTS: u64 = 20;
/// Seeds of each other correct scenario.
const SEEDS_CORRECT: u64 = 20;
/// Each bug must be caught by some seed below this.
const SEEDS_BUG_MAX: u64 = 1000;

fn metric(c: &CheckResult, name: &str) -> f64 {
    c.metrics
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("{}: no metric `{name}`", c.name))
        .1
}

fn assert_all_pass(report: &RunReport, what: &str) {
    for c in &report.checks {
        assert_eq!(
            c.verdict,
            Verdict::Pass,
            "{what}: {} — {}",
            c.name,
            c.detail
        );
    }
}

fn without_bug(scn: &Scenario) -> Scenario {
    let mut fixed = scn.clone();
    match scn.protocol.params::<TwoPhaseCommit>() {
        Some(p) => {
            fixed.protocol = ProtocolSpec::new::<TwoPhaseCommit>(Params {
                bug: None,
                ..p.clone()
            })
        }
        None => panic!("not a two-phase commit scenario: {:?}", scn.protocol),
    }
    fixed
}

#[test]
fn correct_scenarios_pass_over_seeds() {
    for (name, seeds) in [
        ("basic.ron", SEEDS_CORRECT),
        ("participant-crash.ron", SEEDS_CORRECT),
        ("coordinator-crash-blocks.ron", SEEDS_CORRECT),
        ("random-faults.ron", SEEDS_RANDOM_FAULTS),
    ] {
        let scn = load(name);
        assert_eq!(scn.expect, scenarios::Expect::Pass, "{name}");
        for seed in 0..seeds {
            let report = run_seed(&scn, seed);
            assert_all_pass(&report, &format!("{name} seed {seed}"));
            // Work got done: transactions committed and others aborted.
            let committed = metric(check(&report, "atomicity"), "committed");
            assert!(committed > 50.0, "{name} seed {seed}: {committed} commits");
            // `progress` judged transactions after the heal, and some committed.
            let after_heal = metric(check(&report, "progress"), "committed");
            assert!(
                after_heal > 0.0,
                "{name} seed {seed}: {after_heal} commits after the heal"
            );
        }
    }
}

/// One transaction over `keys` keys on `nodes` nodes, no faults, every link a constant
/// `latency`: the run's result and its trace events.
fn one_transaction(
    nodes: u32,
    keys: u32,
    latency: SimDuration,
) -> (sim_core::RunResult<Observation>, Vec<serde_json::Value>) {
    let mut c = SimConfig::basic(nodes, SimDuration::from_secs(2));
    c.network.default.latency = Latency::Constant(latency);
    c.clients = ClientConfig {
        count: 1,
        target: TargetPolicy::Fixed(NodeId(0)),
        workload: Workload::Transactions {
            keys,
            keys_per_txn: keys,
            interval: ms(10),
            ops_per_client: 1,
        },
        timeout: SimDuration::from_secs(1),
        stop: None,
        ..ClientConfig::default()
    };
    let params = Params::default();
    let mut sim = Simulation::new(c, move |id| TwoPhaseCommit::new(id, &params));
    let buf = Buf::default();
    sim.trace_to(Box::new(buf.clone()));
    let (result, io) = sim.run();
    io.unwrap();
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let events = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (result, events)
}

/// Gray and Lamport (2006), §3 and the cost comparison of §6: in the normal case Two-Phase
/// Commit takes four message delays and `N + 1` stable-storage writes, two of them on the
/// critical path (each RM's prepared record, then the TM's decision), and `3N − 1` messages
/// when the first RM initiates; here the client's request initiates, so the commit path is `N`
/// prepares, `N` votes and `N` decisions, and `N` acknowledgements follow it.
#[test]
fn the_normal_case_costs_the_textbook_messages_delays_and_writes() {
    let latency = ms(10);
    for (nodes, keys) in [(3, 4), (4, 6), (6, 10)] {
        let (result, events) = one_transaction(nodes, keys, latency);
        let k = (0..u64::from(keys))
            .map(|key| tpc::participant_of(key, nodes))
            .collect::<BTreeSet<_>>()
            .len() as u64;
        assert!(k >= 2, "{nodes} nodes, {keys} keys: only {k} participants");
        // Messages between nodes, by kind.
        let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
        for e in &events {
            let node = |f: &str| e[f].as_str().is_some_and(|s| s.starts_with('n'));
            if e["ev"] == "send" && node("from") && node("to") {
                let msg = e["msg"].as_str().unwrap();
                let kind = msg.split([' ', '{']).next().unwrap().to_string();
                *kinds.entry(kind).or_default() += 1;
            }
        }
        let want: BTreeMap<String, u64> = ["Prepare", "Vote", "Decision", "Ack"]
            .iter()
            .map(|s| (s.to_string(), k))
            .collect();
        assert_eq!(kinds, want, "{k} participants");
        // Plus the client's request and its answer.
        assert_eq!(result.stats.messages_sent, 4 * k + 2);
        // Four message delays from the client's request to its answer: request, prepare,
        // vote, answer (sent with the decisions, which reach the participants at that time).
        let op = &result.history.ops[0];
        let (done, outcome) = op.completion.clone().expect("answered");
        assert!(
            matches!(outcome, Outcome::Ok(Response::Committed(ref kv)) if kv.len() == keys as usize),
            "{outcome:?}"
        );
        assert_eq!(done.0 - op.invoke.0, 4 * latency.0, "four message delays");
        let learned: Vec<u64> = result
            .observations
            .iter()
            .filter(|o| matches!(o.value, Observation::Learned { commit: true, .. }))
            .map(|o| o.time.0 - op.invoke.0)
            .collect();
        assert_eq!(learned, vec![4 * latency.0; k as usize]);
        // Stable writes: one prepared record per participant and the decision before anyone
        // learns the outcome (N + 1); each participant's commit record after it.
        let syncs: Vec<u64> = events
            .iter()
            .filter(|e| e["ev"] == "sync")
            .map(|e| e["t"].as_u64().unwrap() - op.invoke.0)
            .collect();
        let before = syncs.iter().filter(|&&t| t < 4 * latency.0).count() as u64;
        assert_eq!(before, k + 1, "forced writes before the decision is known");
        assert_eq!(syncs.len() as u64, 2 * k + 1);
        assert_eq!(
            syncs.iter().copied().collect::<BTreeSet<_>>(),
            [2 * latency.0, 3 * latency.0, 4 * latency.0].into(),
            "prepared records at 2 delays, the decision at 3, commit records at 4"
        );
    }
}

#[test]
fn a_coordinator_crash_blocks_prepared_participants_until_it_recovers() {
    // The coordinator is down from 1.5 s to 4.5 s.
    let scn = load("coordinator-crash-blocks.ron");
    for seed in 0..3 {
        let report = run_seed(&scn, seed);
        let b = check(&report, "blocking");
        assert_eq!(b.verdict, Verdict::Pass, "{}", b.detail);
        let max = metric(b, "prepared_ms_max");
        assert!(
            (2900.0..3300.0).contains(&max),
            "seed {seed}: longest prepared {max} ms: {}",
            b.detail
        );
        assert_eq!(metric(b, "unresolved"), 0.0, "seed {seed}: {}", b.detail);
        // A bound below the blocking time turns the measure into a failure.
        let mut bounded = scn.clone();
        for c in &mut bounded.checks {
            if c.params::<Blocking>().is_some() {
                *c = scenarios::CheckSpec::new::<Blocking>(BlockingParams {
                    max: Some(SimDuration::from_secs(1)),
                });
            }
        }
        let report = run_seed(&bounded, seed);
        let b = check(&report, "blocking");
        assert_eq!(b.verdict, Verdict::Fail, "{}", b.detail);
        assert!(b.detail.contains("above the bound"), "{}", b.detail);
    }
    // Without the crash, no participant waits more than a few message delays.
    let report = run_seed(&load("basic.ron"), 1);
    let max = metric(check(&report, "blocking"), "prepared_ms_max");
    assert!(max < 30.0, "{max}");
}

/// Runs the bug scenario from seed 0 until `intended` fails (at most [`SEEDS_BUG_MAX`] seeds);
/// the correct protocol must pass that run. Returns the seed.
fn first_catching_seed(name: &str, intended: &str) -> u64 {
    let scn = load(name);
    common::first_catching_seed(
        &scn,
        &without_bug(&scn),
        intended,
        SEEDS_BUG_MAX,
        |r, what| {
            assert_all_pass(r, what);
        },
    )
}

#[test]
fn commit_without_all_votes_breaks_validity() {
    first_catching_seed("bug-commit-without-all-votes.ron", "validity");
}

#[test]
fn commit_without_all_votes_breaks_atomicity() {
    first_catching_seed("bug-commit-without-all-votes.ron", "atomicity");
}

#[test]
fn forgetting_prepared_state_breaks_atomicity() {
    first_catching_seed("bug-forget-prepared-on-restart.ron", "atomicity");
}

#[test]
fn forgetting_prepared_state_breaks_isolation() {
    first_catching_seed("bug-forget-prepared-on-restart.ron", "isolation");
}

/// A participant that keeps an aborted transaction's locks breaks no safety property: the
/// outcomes stay atomic, valid and isolated, so only `progress` sees it (with the protocol's
/// lock asserts on; `scripts/mutants.sh` measures the same mutation with them off).
#[test]
fn keeping_aborted_locks_breaks_progress_and_nothing_else() {
    let name = "bug-keep-aborted-locks.ron";
    let seed = first_catching_seed(name, "progress");
    let report = run_seed(&load(name), seed);
    let c = check(&report, "progress");
    assert!(
        c.detail.contains("refused a transaction over free keys")
            && c.detail.contains("last holder there"),
        "{}",
        c.detail
    );
    for safe in ["atomicity", "validity", "isolation"] {
        let c = check(&report, safe);
        assert_eq!(c.verdict, Verdict::Pass, "{safe}: {}", c.detail);
    }
}

#[test]
fn runs_are_deterministic() {
    let scn = load("random-faults.ron");
    let a = run_seed(&scn, 3);
    let b = run_seed(&scn, 3);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.stats, b.stats);
    assert_ne!(a.trace_hash, run_seed(&scn, 4).trace_hash);
}

#[test]
fn scenario_errors_name_the_rule() {
    let base = |protocol: &str, nodes: u32, workload: &str, checks: &str| {
        format!(
            "Scenario(name: \"t\", seed: 0, duration: \"1s\", nodes: {nodes}, protocol: {protocol}, \
             clients: (count: 1, workload: {workload}), checks: [{checks}])"
        )
    };
    let txns = "Transactions(keys: 4, keys_per_txn: 2, interval: \"10ms\", ops_per_client: 5)";
    // Every parameter has a default.
    let scn = scenarios::parse(
        &base("TwoPhaseCommit()", 3, txns, "Atomicity(), Blocking()"),
        "t.ron",
        &protocols::builtin(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scn.protocol,
        ProtocolSpec::new::<TwoPhaseCommit>(Params::default())
    );
    let err = |text: String| {
        scenarios::parse(&text, "t.ron", &protocols::builtin())
            .unwrap_err()
            .to_string()
    };
    let e = err(base("TwoPhaseCommit()", 1, txns, ""));
    assert!(e.contains("at least `2` nodes"), "{e}");
    let e = err(base("TwoPhaseCommit(retry: \"0s\")", 3, txns, ""));
    assert!(e.contains("protocol.retry") || e.contains("retry"), "{e}");
    let e = err(base(
        "TwoPhaseCommit(retry: \"100ms\", vote_timeout: \"50ms\")",
        3,
        txns,
        "",
    ));
    assert!(e.contains("vote_timeout"), "{e}");
    let e = err(base(
        "TwoPhaseCommit()",
        3,
        "Transactions(keys: 4, keys_per_txn: 5, interval: \"10ms\", ops_per_client: 5)",
        "",
    ));
    assert!(e.contains("keys_per_txn"), "{e}");
    let e = err(base("TwoPhaseCommit()", 3, txns, "Linearizable()"));
    assert!(
        e.contains("check `linearizable` is not supplied by protocol `TwoPhaseCommit`"),
        "{e}"
    );
    let e = err(base("TwoPhaseCommit()", 3, txns, "Blocking(max: \"0s\")"));
    assert!(e.contains("checks[0].max") || e.contains("max"), "{e}");
    // The transaction workload needs a protocol that serves it.
    let e = err(base(
        "Raft(election_timeout_min: \"150ms\", election_timeout_max: \"300ms\", heartbeat: \"50ms\", batch_max: 8)",
        3,
        txns,
        "",
    ));
    assert!(e.contains("`transaction` service"), "{e}");
}

// ---- random fault schedules ------------------------------------------------------------------

/// Random clusters and fault schedules with transaction clients, which keep invoking
/// transactions until 4.5 s, well into the liveness phase that starts at 3 s (clients stop at
/// the fault phase's end by default), so `progress` has some to judge. Half the clusters lose
/// no messages (see the test for why).
fn config() -> impl Strategy<Value = SimConfig> {
    let cluster = scenarios::testing::strategies::cluster(
        scenarios::testing::strategies::FAULTS,
        SimDuration::from_secs(2),
        ClientConfig {
            count: 3,
            target: TargetPolicy::Random,
            workload: Workload::Transactions {
                keys: 5,
                keys_per_txn: 2,
                interval: ms(10),
                ops_per_client: 450,
            },
            timeout: ms(400),
            stop: Some(ms(4_500)),
            ..ClientConfig::default()
        },
    );
    (cluster, any::<bool>()).prop_map(|(mut c, lossless)| {
        if lossless {
            c.network.default.drop = 0.0;
        }
        c
    })
}

proptest! {
    #![proptest_config(scenarios::testing::config(64))]

    #[test]
    fn atomicity_validity_isolation_and_progress_hold_under_random_fault_schedules(
        cfg in config()
    ) {
        let params = Params {
            retry: ms(20),
            vote_timeout: ms(100),
            inquiry: ms(50),
            bug: None,
        };
        let lossless = cfg.network.default.drop == 0.0;
        let result = run(cfg, move |id| TwoPhaseCommit::new(id, &params));
        for c in [
            tpc::check_atomicity(&result),
            tpc::check_validity(&result),
            tpc::check_isolation(&result),
        ] {
            prop_assert_eq!(c.verdict, Verdict::Pass, "{}: {}", c.name, c.detail);
        }
        // `progress` holds an abort without a no vote against the coordinator, which is only
        // fair when the healed network loses nothing: at up to 10% loss, a vote lost on every
        // resend until the vote timeout (5 tries) happens in about one case in two.
        if lossless {
            let c = tpc::check_progress(&result, ms(300));
            prop_assert_eq!(c.verdict, Verdict::Pass, "{}: {}", c.name, c.detail);
        }
    }
}

/// Two-phase commit on disks that lie: the nemesis crashes nodes, tears their unsynced writes,
/// corrupts synced log records, misdirects writes and makes syncs lie, on any node (the
/// protocol keeps no second copy of its log, so the atlas allows every node). A node that finds
/// a decision or prepared record damaged decides and applies nothing from it, so atomicity,
/// validity and isolation hold; the faults do reach the log.
#[test]
fn no_decision_is_taken_from_a_damaged_log_record() {
    let params = Params {
        retry: ms(20),
        vote_timeout: ms(100),
        inquiry: ms(50),
        bug: None,
    };
    let mut damaged = 0;
    for seed in 0..12 {
        let mut c = SimConfig::basic(4, SimDuration::from_secs(4));
        c.seed = seed;
        c.clients = ClientConfig {
            count: 4,
            target: TargetPolicy::Random,
            workload: Workload::Transactions {
                keys: 6,
                keys_per_txn: 2,
                interval: ms(5),
                ops_per_client: 1000,
            },
            timeout: ms(400),
            ..ClientConfig::default()
        };
        c.nemesis = Some(NemesisConfig {
            kinds: vec![
                FaultKind::Crash,
                FaultKind::TornWrite,
                FaultKind::Corrupt,
                FaultKind::Misdirect,
                FaultKind::LoseSync,
            ],
            interval_mean: ms(150),
            duration_mean: ms(200),
            down_max: 1,
            clock_jump_max: SimDuration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder_window: SimDuration::ZERO,
            replay: 0,
            silent: false,
            faults_max: NemesisConfig::FAULTS_MAX_DEFAULT,
        });
        let p = params.clone();
        let result = run(c, move |id| TwoPhaseCommit::new(id, &p));
        for check in [
            tpc::check_atomicity(&result),
            tpc::check_validity(&result),
            tpc::check_isolation(&result),
        ] {
            assert_eq!(
                check.verdict,
                Verdict::Pass,
                "seed {seed}: {}",
                check.detail
            );
        }
        damaged += result
            .observations
            .iter()
            .filter(|o| matches!(o.value, Observation::RecordDamaged { .. }))
            .count();
    }
    assert!(damaged > 0, "no log record was damaged");
    println!("{damaged} damaged decision or prepared records found on restart");
}
