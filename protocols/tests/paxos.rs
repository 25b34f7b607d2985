//! Multi-Paxos on the key-value service: the correct protocol passes `linearizable`,
//! `agreement` and `liveness` on every shipped scenario over a range of seeds and on random
//! fault schedules (proptest); the scenarios do what their comments say (leaders change, gaps
//! are filled with no-ops, a lagging replica catches up, crashed nodes recover from storage);
//! each deliberate bug is caught by `agreement`, and the correct protocol passes the very run
//! that caught it.

use proptest::prelude::*;
use protocols::paxos::{self, Observation, Params, Paxos};
use scenarios::harness::{self as runner, RunOptions, RunReport};
use scenarios::ProtocolSpec;
use scenarios::Scenario;
use sim_core::check::Verdict;
use sim_core::config::*;
use sim_core::{run, NodeId, RunResult, SimConfig, SimDuration, SimTime};

mod common;
use common::*;

fn load(name: &str) -> Scenario {
    load_shipped("paxos", name)
}

/// Seeds of `random-faults.ron` the correct protocol must pass here (a debug build; `dsim sweep`
/// covers thousands in release).
const SEEDS_RANDOM_FAULTS: u64 = 20;
/// Seeds of each other correct scenario.
const SEEDS_CORRECT: u64 = 10;
/// Each bug must be caught by some seed below this.
const SEEDS_BUG_MAX: u64 = 1000;

fn params(scn: &Scenario) -> Params {
    match scn.protocol.params::<Paxos>() {
        Some(p) => p.clone(),
        None => panic!("not a paxos scenario: {:?}", scn.protocol),
    }
}

fn without_bug(scn: &Scenario) -> Scenario {
    let mut fixed = scn.clone();
    fixed.protocol = ProtocolSpec::new::<Paxos>(Params {
        bug: None,
        ..params(scn)
    });
    fixed
}

/// Runs `scn` at `seed` for its observations.
fn observe(scn: &Scenario, seed: u64) -> RunResult<Observation> {
    let p = params(scn);
    run(runner::config_for(scn, Some(seed)), move |id| {
        Paxos::new(id, &p)
    })
}

/// Every check passes (agreement and linearizable at least); returns (operations, ok, indeterminate).
fn assert_all_pass(report: &RunReport, what: &str) -> (u64, u64, u64) {
    assert_kv_pass(report, what, 2)
}

/// (time, node, ballot) of every `BecameLeader`.
fn leaders(result: &RunResult<Observation>) -> Vec<(SimTime, NodeId, paxos::Ballot)> {
    result
        .observations
        .iter()
        .filter_map(|o| match o.value {
            Observation::BecameLeader { ballot } => Some((o.time, o.node, ballot)),
            _ => None,
        })
        .collect()
}

/// The node that led last before `at`.
fn leader_before(result: &RunResult<Observation>, at: SimTime) -> Option<NodeId> {
    leaders(result)
        .into_iter()
        .filter(|(t, _, _)| *t < at)
        .map(|(_, n, _)| n)
        .next_back()
}

/// Per node: the last slot it applied.
fn applied(result: &RunResult<Observation>) -> Vec<u64> {
    let mut out = vec![0; result.node_count as usize];
    for o in &result.observations {
        if let Observation::Learned { slot, .. } = o.value {
            out[o.node.index()] = out[o.node.index()].max(slot);
        }
    }
    out
}

/// The highest slot any node applied 100 ms before the end (later decisions may still be in
/// flight when the run stops).
fn settled_slots(result: &RunResult<Observation>) -> u64 {
    let settled = SimTime(result.end.0 - 100_000_000);
    result
        .observations
        .iter()
        .take_while(|o| o.time < settled)
        .filter_map(|o| match o.value {
            Observation::Learned { slot, .. } => Some(slot),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn every_paxos_scenario_meets_its_expect_at_its_seed() {
    let mut count = 0;
    for path in scenarios::shipped() {
        if !path.parent().is_some_and(|p| p.ends_with("paxos")) {
            continue;
        }
        count += 1;
        let scn = scenarios::load(&path, &protocols::builtin()).unwrap();
        let report = runner::run(&scn, RunOptions::default());
        assert!(
            report.as_expected,
            "{}: {:?}",
            path.display(),
            report.checks
        );
    }
    assert!(count >= 8, "only {count} paxos scenarios");
}

#[test]
fn correct_paxos_passes_random_faults_over_seeds() {
    let scn = load("random-faults.ron");
    let (mut ops, mut ok, mut unknown, mut elected) = (0, 0, 0, 0);
    for seed in 0..SEEDS_RANDOM_FAULTS {
        let report = run_seed(&scn, seed);
        let (o, k, u) = assert_all_pass(&report, &format!("random-faults seed {seed}"));
        assert!(report.as_expected);
        ops += o;
        ok += k;
        unknown += u;
        if seed < 3 {
            elected += leaders(&observe(&scn, seed)).len();
        }
    }
    println!("random-faults: {ops} operations, {ok} ok, {unknown} indeterminate, {elected} leaders over {SEEDS_RANDOM_FAULTS} seeds");
    // The faults do what they claim: leaders change, some operations are indeterminate, and
    // the service stays mostly available.
    assert!(elected >= 3 * 3, "{elected} leaders over 3 seeds");
    assert!(unknown > 0);
    assert!(ok * 10 >= ops * 6, "only {ok} of {ops} operations ok");
}

#[test]
fn correct_paxos_scenarios_pass_over_seeds() {
    for name in [
        "basic.ron",
        "leader-crash.ron",
        "leader-partition.ron",
        "lagging-replica.ron",
        "crash-all.ron",
    ] {
        let scn = load(name);
        let mut ok_total = 0;
        for seed in 0..SEEDS_CORRECT {
            let report = run_seed(&scn, seed);
            let (ops, ok, _) = assert_all_pass(&report, &format!("{name} seed {seed}"));
            assert!(ok * 2 > ops, "{name} seed {seed}: only {ok} of {ops} ok");
            ok_total += ok;
        }
        println!("{name}: {ok_total} operations ok over {SEEDS_CORRECT} seeds");
    }
}

#[test]
fn basic_has_one_leader_and_every_node_applies_every_chosen_slot() {
    let scn = load("basic.ron");
    for seed in 0..SEEDS_CORRECT {
        let result = observe(&scn, seed);
        assert_eq!(leaders(&result).len(), 1, "seed {seed}: one election");
        let chosen = paxos::check_agreement(&result);
        assert_eq!(chosen.verdict, Verdict::Pass, "{}", chosen.detail);
        // Decisions reach every node: each applies every slot applied anywhere 100 ms before
        // the end (later decisions may still be in flight).
        let slots = settled_slots(&result);
        assert!(slots > 100, "seed {seed}: only {slots} slots");
        assert!(
            applied(&result).iter().all(|&a| a >= slots),
            "seed {seed}: {:?} of {slots}",
            applied(&result)
        );
    }
}

#[test]
fn leader_partition_elects_new_leaders_that_fill_gaps() {
    let scn = load("leader-partition.ron");
    let result = observe(&scn, scn.config.seed);
    // The comment's story at the shipped seed: n0 leads when isolated at 0.7 s, n3 when
    // isolated at 2.2 s, and each time the majority elects someone else.
    assert_eq!(
        leader_before(&result, SimTime(700_000_000)),
        Some(NodeId(0))
    );
    assert_eq!(
        leader_before(&result, SimTime(2_200_000_000)),
        Some(NodeId(3))
    );
    let after = |from: u64, to: u64| {
        leaders(&result)
            .into_iter()
            .filter(|(t, _, _)| t.0 > from && t.0 < to)
            .map(|(_, n, _)| n)
            .collect::<Vec<_>>()
    };
    assert!(!after(700_000_000, 1_500_000_000).is_empty());
    assert!(!after(700_000_000, 1_500_000_000).contains(&NodeId(0)));
    assert!(!after(2_200_000_000, 3_000_000_000).is_empty());
    assert!(!after(2_200_000_000, 3_000_000_000).contains(&NodeId(3)));
    // The isolated leaders step down once the partition heals.
    let stepped: Vec<NodeId> = result
        .observations
        .iter()
        .filter(|o| matches!(o.value, Observation::SteppedDown { .. }))
        .map(|o| o.node)
        .collect();
    assert!(stepped.contains(&NodeId(0)) && stepped.contains(&NodeId(3)));
    // Over seeds, new leaders adopt accepted values and fill gaps with no-ops.
    let (mut adopted, mut noops) = (0, 0);
    for seed in 0..SEEDS_CORRECT {
        for o in observe(&scn, seed).observations {
            if let Observation::Filled { noop, .. } = o.value {
                if noop {
                    noops += 1;
                } else {
                    adopted += 1;
                }
            }
        }
    }
    println!("leader-partition: {adopted} values adopted, {noops} gaps filled with no-ops");
    assert!(adopted > 0, "no value adopted in phase 1");
    assert!(noops > 0, "no gap filled with a no-op");
}

#[test]
fn leader_crash_elects_the_next_leader_each_time() {
    let scn = load("leader-crash.ron");
    let result = observe(&scn, scn.config.seed);
    // The comment's story at the shipped seed: n0 leads and crashes at 0.8 s, n1 is elected
    // and crashes at 2 s, and someone else is elected.
    assert_eq!(
        leader_before(&result, SimTime(800_000_000)),
        Some(NodeId(0))
    );
    assert_eq!(
        leader_before(&result, SimTime(2_000_000_000)),
        Some(NodeId(1))
    );
    let last = leaders(&result).last().copied().unwrap();
    assert!(
        last.0 > SimTime(2_000_000_000) && last.1 != NodeId(1),
        "{last:?}"
    );
}

#[test]
fn a_lagging_replica_catches_up_after_it_rejoins() {
    let scn = load("lagging-replica.ron");
    for seed in 0..SEEDS_CORRECT {
        let result = observe(&scn, seed);
        // At the heal (2.5 s) node 4 is far behind.
        let heal = SimTime(2_500_000_000);
        let mut at_heal = [0u64; 5];
        for o in result.observations.iter().take_while(|o| o.time < heal) {
            if let Observation::Learned { slot, .. } = o.value {
                at_heal[o.node.index()] = slot;
            }
        }
        let ahead = at_heal[..4].iter().max().copied().unwrap();
        assert!(
            at_heal[4] + 50 < ahead,
            "seed {seed}: node 4 not behind at the heal: {at_heal:?}"
        );
        // By the end it has applied every slot applied anywhere 100 ms before.
        let settled = settled_slots(&result);
        let end = applied(&result);
        assert!(end[4] >= settled, "seed {seed}: {end:?}, {settled} settled");
    }
}

#[test]
fn crashed_nodes_recover_their_state_and_nothing_chosen_is_lost() {
    for name in ["crash-all.ron", "leader-crash.ron"] {
        let scn = load(name);
        for seed in 0..SEEDS_CORRECT {
            let result = observe(&scn, seed);
            let recovered: Vec<(u64, u64)> = result
                .observations
                .iter()
                .filter_map(|o| match o.value {
                    Observation::Recovered {
                        accepted, decided, ..
                    } => Some((accepted, decided)),
                    _ => None,
                })
                .collect();
            assert!(!recovered.is_empty(), "{name} seed {seed}: no restart");
            assert!(
                recovered.iter().any(|&(a, d)| a > 0 && d > 0),
                "{name} seed {seed}: nothing recovered from storage: {recovered:?}"
            );
            // The agreement check includes: every slot any node applied before a crash is
            // applied with the same value after it.
            assert_eq!(
                paxos::check_agreement(&result).verdict,
                Verdict::Pass,
                "{name} seed {seed}"
            );
        }
    }
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
fn not_adopting_accepted_values_is_caught() {
    let seed = first_catching_seed("bug-no-adopt-accepted.ron", "agreement");
    assert_eq!(seed, 0, "see scenarios/paxos/README.md");
}

#[test]
fn forgetting_promises_is_caught() {
    let seed = first_catching_seed("bug-promise-without-persist.ron", "agreement");
    assert_eq!(seed, 73, "see scenarios/paxos/README.md");
}

#[test]
fn paxos_runs_are_deterministic() {
    let scn = load("lagging-replica.ron");
    let mut hashes = Vec::new();
    for seed in 0..3 {
        let a = run_seed(&scn, seed);
        let b = run_seed(&scn, seed);
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed}");
        assert_eq!(a.stats, b.stats, "seed {seed}");
        hashes.push(a.trace_hash);
    }
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), 3, "different seeds, different runs");
}

#[test]
fn default_params_are_a_valid_protocol_spec() {
    let text = std::fs::read_to_string(scenarios::shipped_dir().join("paxos/basic.ron")).unwrap();
    let scn = scenarios::parse(&text, "basic.ron", &protocols::builtin()).unwrap();
    assert_eq!(scn.protocol, ProtocolSpec::new::<Paxos>(Params::default()));
    // Bad parameters are clear errors, never panics.
    for (bad, field) in [
        (r#"Paxos(heartbeat: "500ms")"#, "heartbeat"),
        (
            r#"Paxos(election_timeout_min: "0ms")"#,
            "election_timeout_min",
        ),
        (
            r#"Paxos(election_timeout_min: "400ms", election_timeout_max: "300ms")"#,
            "election_timeout_max",
        ),
        ("Paxos(batch_max: 0)", "batch_max"),
        ("Paxos(bug: Forgetful)", "Forgetful"),
        ("Paxos(window: 3)", "window"),
    ] {
        let t = text.replace("Paxos()", bad);
        let e = scenarios::parse(&t, "bad.ron", &protocols::builtin()).unwrap_err();
        assert!(
            e.to_string().contains(field),
            "{bad}: {e} does not name `{field}`"
        );
    }
}

// ---- random fault schedules ------------------------------------------------------------------

/// Random clusters and fault schedules with key-value clients (appends and retries included).
fn config() -> impl Strategy<Value = SimConfig> {
    scenarios::testing::strategies::cluster(
        scenarios::testing::strategies::FAULTS,
        SimDuration::from_secs(2),
        ClientConfig {
            count: 3,
            target: TargetPolicy::Random,
            workload: Workload::KeyValue {
                keys: 2,
                get: 2,
                put: 2,
                cas: 1,
                append: 1,
                interval: ms(20),
                ops_per_client: 60,
            },
            timeout: ms(400),
            stop: None,
            rate: None,
            retries: 1,
        },
    )
}

proptest! {
    #![proptest_config(scenarios::testing::config(48))]

    #[test]
    fn paxos_agreement_and_linearizability_hold_under_random_fault_schedules(cfg in config()) {
        let params = Params::default();
        let result = run(cfg, move |id| Paxos::new(id, &params));
        let agreement = paxos::check_agreement(&result);
        prop_assert_eq!(agreement.verdict, Verdict::Pass, "{}", agreement.detail);
        let lin = sim_core::check::linearizable::linearizable(&result);
        prop_assert_eq!(lin.verdict, Verdict::Pass, "{}", lin.detail);
    }
}

/// Seeds of `storage-faults.ron` here (a debug build; `dsim sweep` runs 0..500 in release).
const SEEDS_STORAGE_FAULTS: u64 = 20;

#[test]
fn correct_paxos_passes_storage_faults_that_damage_accepted_values() {
    let scn = load("storage-faults.ron");
    let (mut accepted, mut decided) = (0, 0);
    for seed in 0..SEEDS_STORAGE_FAULTS {
        assert_all_pass(
            &run_seed(&scn, seed),
            &format!("storage-faults seed {seed}"),
        );
        for o in &observe(&scn, seed).observations {
            if let Observation::Damaged {
                accepted: a,
                decided: d,
            } = o.value
            {
                accepted += a;
                decided += d;
            }
        }
    }
    // The faults reach what matters: accepted values an acceptor may have helped choose.
    assert!(
        accepted > 0 && decided > 0,
        "{accepted} accepted, {decided} decided"
    );
}

#[test]
fn forgetting_damaged_accepted_values_is_caught() {
    let seed = first_catching_seed("bug-forget-damaged-accepted.ron", "agreement");
    assert_eq!(seed, 2, "see scenarios/paxos/README.md");
}
