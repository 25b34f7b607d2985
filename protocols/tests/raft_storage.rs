//! Raft on disks that lie: a corrupted synced entry on one node does not lose a committed
//! write (the node keeps the entry's identity, refuses to vote for a candidate without it and
//! repairs it from an intact copy), while the `TruncateAtCorruption` bug — treating the
//! corrupted entry as the end of the log, the handling the FAST 2018 paper found in deployed
//! systems — elects a stale leader that overwrites committed entries. Also: the shipped
//! storage-fault scenario over seeds, and its bug scenario caught.

use protocols::raft::{self, Bug, Observation, Params, Raft};
use scenarios::harness::{self as runner};
use scenarios::{ProtocolSpec, Scenario};
use sim_core::check::Verdict;
use sim_core::config::{Fault, ScheduledFault};
use sim_core::{run, NodeId, RunResult, SimDuration, SimTime};

mod common;
use common::*;

/// Three nodes; one client reads, writes and compare-and-sets one key every 50 ms until 5.5 s,
/// each request resent twice after a timeout.
const BASE: &str = r#"Scenario(
    name: "raft-corrupt-committed-entry",
    seed: 3,
    duration: "6s",
    nodes: 3,
    network: (latency: Uniform(min: "1ms", max: "5ms")),
    protocol: Raft(election_timeout_min: "150ms", election_timeout_max: "300ms", heartbeat: "50ms", batch_max: 64),
    clients: (count: 1, target: Random, timeout: "200ms", retries: 2, stop: "5.5s",
        workload: KeyValue(keys: 1, get: 2, put: 1, cas: 1, interval: "50ms", ops_per_client: 200)),
    checks: [Linearizable(), StateMachineSafety(), LeaderCompleteness()],
)"#;

fn base() -> Scenario {
    scenarios::parse(BASE, "corrupt.ron", &protocols::builtin()).unwrap_or_else(|e| panic!("{e}"))
}

fn with_bug(scn: &Scenario, bug: Option<Bug>) -> Scenario {
    let mut s = scn.clone();
    let p = scn.protocol.params::<Raft>().expect("raft").clone();
    s.protocol = ProtocolSpec::new::<Raft>(Params { bug, ..p });
    s
}

fn observe(scn: &Scenario) -> RunResult<Observation> {
    let p = scn.protocol.params::<Raft>().expect("raft").clone();
    run(runner::config_for(scn, None), move |id| Raft::new(id, &p))
}

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn at(t: u64, fault: Fault) -> ScheduledFault {
    ScheduledFault { at: ms(t), fault }
}

/// The leader in office at `t`.
fn leader_at(r: &RunResult<Observation>, t: SimTime) -> NodeId {
    r.observations
        .iter()
        .rfind(|o| o.time <= t && matches!(o.value, Observation::BecameLeader { .. }))
        .map(|o| o.node)
        .expect("a leader")
}

/// The last index `node`'s log held at `t` (from its `Appended`/`Truncated` reports).
fn last_index_at(r: &RunResult<Observation>, node: NodeId, t: SimTime) -> u64 {
    let mut last = 0;
    for o in r
        .observations
        .iter()
        .filter(|o| o.node == node && o.time <= t)
    {
        match o.value {
            Observation::Appended { index, .. } => last = index,
            Observation::Truncated { from } => last = last.min(from - 1),
            _ => {}
        }
    }
    last
}

/// The schedule: the leader `l` and its follower `f1` hold every write; `f2` is down from
/// 0.5 s, so it misses the later ones. At 1.2 s `l` and `f1` crash, and while `f1` is down the
/// entry at the last index `f2` holds is corrupted on its disk: `f1` and `f2` restart at 1.3 s,
/// `l` only at 3 s. Between them, `f1` and `f2` are a majority.
fn schedule(scn: &Scenario) -> (Scenario, NodeId, NodeId, NodeId) {
    schedule_with(scn, false)
}

/// [`schedule`], with the corruption `silent` or detectable.
fn schedule_with(scn: &Scenario, silent: bool) -> (Scenario, NodeId, NodeId, NodeId) {
    let r = observe(scn);
    let l = leader_at(&r, SimTime(500_000_000));
    let others: Vec<NodeId> = (0..3).map(NodeId).filter(|&n| n != l).collect();
    let (f1, f2) = (others[1], others[0]);
    let mut s = scn.clone();
    s.config.faults = vec![at(500, Fault::Crash(f2))];
    let r = observe(&s);
    assert_eq!(
        leader_at(&r, SimTime(1_200_000_000)),
        l,
        "one leader until 1.2 s"
    );
    let f1_last = last_index_at(&r, f1, SimTime(1_200_000_000));
    let f2_last = last_index_at(&r, f2, SimTime(500_000_000));
    assert!(
        f1_last > f2_last + 2,
        "f2 misses committed writes: {f2_last} of {f1_last}"
    );
    s.config.faults.extend([
        at(1200, Fault::Crash(l)),
        at(1200, Fault::Crash(f1)),
        at(
            1200,
            Fault::Corrupt {
                node: f1,
                nth_from_end: (f1_last - f2_last) as u32,
                silent,
            },
        ),
        at(1300, Fault::Restart(f1)),
        at(1300, Fault::Restart(f2)),
        at(3000, Fault::Restart(l)),
    ]);
    (s, l, f1, f2)
}

#[test]
fn a_corrupted_committed_entry_on_one_node_loses_no_write() {
    let (scn, l, f1, f2) = schedule(&base());
    let r = observe(&scn);
    let corrupted = r
        .fault_log
        .iter()
        .any(|(_, f)| format!("{f:?}").contains("Corrupted"));
    assert!(corrupted, "{:?}", r.fault_log);
    for check in [
        raft::check_state_machine_safety(&r),
        raft::check_leader_completeness(&r),
        raft::check_log_matching(&r),
    ] {
        assert_eq!(check.verdict, Verdict::Pass, "{}", check.detail);
    }
    // The stale node never leads: the damaged one refuses it its vote, by the entry's identity.
    let stale_led = r.observations.iter().any(|o| {
        o.node == f2
            && matches!(o.value, Observation::BecameLeader { .. })
            && o.time.0 > 1_300_000_000
    });
    assert!(!stale_led, "n{} (stale) was elected", f2.0);
    // The damaged node repairs the entry from the stale node, which holds it intact.
    let repaired = r
        .observations
        .iter()
        .find(|o| o.node == f1 && matches!(o.value, Observation::Repaired { .. }));
    let repaired = repaired.expect("the damaged entry is repaired");
    assert!(repaired.time.0 > 1_300_000_000, "{repaired:?}");
    // Repaired, it holds every committed entry again and may lead; the stale node may not.
    let next = r
        .observations
        .iter()
        .find(|o| o.time.0 > 1_200_000_000 && matches!(o.value, Observation::BecameLeader { .. }))
        .expect("a leader after the restart");
    assert!(
        next.node == f1 && next.time > repaired.time,
        "{next:?} (n{} is down)",
        l.0
    );
    let report = runner::run(&scn, runner::RunOptions::default());
    assert_kv_pass(&report, "correct raft, corrupted entry", 3);
}

#[test]
fn truncating_at_the_corrupted_entry_loses_committed_writes() {
    let (scn, _, _, f2) = schedule(&base());
    let buggy = with_bug(&scn, Some(Bug::TruncateAtCorruption));
    let r = observe(&buggy);
    let stale_led = r.observations.iter().any(|o| {
        o.node == f2
            && matches!(o.value, Observation::BecameLeader { .. })
            && o.time.0 > 1_300_000_000
    });
    assert!(
        stale_led,
        "the stale node is elected with the truncating node's vote"
    );
    let completeness = raft::check_leader_completeness(&r);
    assert_eq!(
        completeness.verdict,
        Verdict::Fail,
        "{}",
        completeness.detail
    );
    let report = runner::run(&buggy, runner::RunOptions::default());
    let lin = check(&report, "linearizable");
    assert_eq!(lin.verdict, Verdict::Fail, "{}", lin.detail);
}

/// What the checksum buys: the same fault, silent — the entry reads back as a no-op the
/// checksum passes, so the damaged node neither knows nor repairs it — makes the replicas
/// apply different commands at one index, and the checks see it. (Raft, like the systems the
/// FAST 2018 paper studied, can only survive the damage it detects.)
#[test]
fn the_same_corruption_silent_is_caught_by_the_checks() {
    let (scn, _, f1, _) = schedule_with(&base(), true);
    let r = observe(&scn);
    let garbled = r
        .fault_log
        .iter()
        .filter(|(_, f)| format!("{f:?}").contains("Corrupted"))
        .map(|(_, f)| format!("{f:?}"))
        .collect::<Vec<_>>();
    assert!(
        garbled.len() == 1 && garbled[0].contains("silent: true"),
        "one silent corruption: {garbled:?}"
    );
    // Nothing was detected, so nothing was repaired.
    let noticed = r.observations.iter().any(|o| {
        o.node == f1
            && matches!(
                o.value,
                Observation::Damaged { .. } | Observation::Repaired { .. }
            )
    });
    assert!(!noticed, "a silent corruption went noticed");
    let safety = raft::check_state_machine_safety(&r);
    assert_eq!(safety.verdict, Verdict::Fail, "{}", safety.detail);
    assert!(
        safety.detail.contains("with a different command"),
        "{}",
        safety.detail
    );
}

/// Seeds of `storage-faults.ron` here (a debug build; `dsim sweep` runs 0..500 in release).
const SEEDS_STORAGE_FAULTS: u64 = 20;

#[test]
fn correct_raft_passes_storage_faults_and_repairs_what_they_damage() {
    let scn = load_shipped("raft", "storage-faults.ron");
    let (mut damaged, mut repaired) = (0, 0);
    for seed in 0..SEEDS_STORAGE_FAULTS {
        let report = run_seed(&scn, seed);
        assert_kv_pass(&report, &format!("storage-faults seed {seed}"), 6);
        let r = run(runner::config_for(&scn, Some(seed)), {
            let p = scn.protocol.params::<Raft>().unwrap().clone();
            move |id| Raft::new(id, &p)
        });
        for o in &r.observations {
            match o.value {
                Observation::Damaged { count, .. } => damaged += count,
                Observation::Repaired { .. } => repaired += 1,
                _ => {}
            }
        }
    }
    println!("storage-faults: {damaged} damaged entries found on restart, {repaired} repairs");
    assert!(
        damaged >= SEEDS_STORAGE_FAULTS,
        "the faults damaged only {damaged} entries"
    );
    assert!(repaired > 0);
}

#[test]
fn truncating_at_corruption_is_caught() {
    let scn = load_shipped("raft", "bug-truncate-at-corruption.ron");
    let fixed = with_bug(&scn, None);
    let seed = first_catching_seed(&scn, &fixed, "linearizable", 1000, |r, what| {
        assert_kv_pass(r, what, 5);
    });
    assert_eq!(seed, scn.config.seed, "see scenarios/raft/README.md");
}
