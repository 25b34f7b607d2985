//! Replay faults against the protocols: with already-delivered messages sent again, Raft's
//! and Multi-Paxos's "message from an older term/ballot delivered" situations are reached at
//! far more seeds than under crashes alone, and the correct protocols still pass every check.

mod common;

use common::{load_shipped, run_seed};
use scenarios::Scenario;
use sim_core::check::Verdict;
use sim_core::config::FaultKind;

/// `family`'s `random-faults.ron` with its nemesis only crashing (and replaying, 30 messages
/// a replay, with `replay`).
fn crashes(family: &str, replay: bool) -> Scenario {
    let mut scn = load_shipped(family, "random-faults.ron");
    let n = scn.config.nemesis.as_mut().expect("a nemesis");
    n.kinds = vec![FaultKind::Crash];
    if replay {
        n.kinds.push(FaultKind::Replay);
        n.replay = 30;
    }
    scn
}

/// How many of `seeds` reach `situation`; every check of every run passes.
fn seeds_reaching(scn: &Scenario, seeds: u64, situation: &str) -> u64 {
    let mut reached = 0;
    for seed in 0..seeds {
        let r = run_seed(scn, seed);
        for c in &r.checks {
            assert_ne!(
                c.verdict,
                Verdict::Fail,
                "seed {seed}: {}: {}",
                c.name,
                c.detail
            );
        }
        reached += u64::from(r.coverage.is_reached(situation));
    }
    reached
}

fn replay_reaches_the_past(family: &str, situation: &str) {
    let seeds = 12;
    let without = seeds_reaching(&crashes(family, false), seeds, situation);
    let with = seeds_reaching(&crashes(family, true), seeds, situation);
    println!("{family}: `{situation}` at {without} of {seeds} seeds without replay, {with} with");
    assert!(4 * with >= 3 * seeds, "{with} of {seeds}");
    assert!(with > without, "{with} with replay, {without} without");
}

#[test]
fn raft_sees_older_terms_under_replay() {
    replay_reaches_the_past("raft", "message from an older term delivered");
}

#[test]
fn paxos_sees_older_ballots_under_replay() {
    replay_reaches_the_past("paxos", "message from an older ballot delivered");
}
