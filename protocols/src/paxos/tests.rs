//! Unit tests of Multi-Paxos: ballot order, parameters, phase 1's adoption and gap filling,
//! and the agreement check on hand-made observations.

use std::collections::BTreeMap;

use sim_core::check::Verdict;
use sim_core::{NodeId, Request, RunResult, SimDuration, SimTime};

use super::checks::check_agreement;
use super::election::{adopt_highest, phase2_plan};
use super::node::Paxos;
use super::params::Params;
use super::types::{Ballot, Command, Observation};
use crate::kit::slots::SlotMap;

fn b(round: u64, node: u32) -> Ballot {
    Ballot { round, node }
}

fn put(v: u64) -> Command {
    Command::Client {
        client: 0,
        request_id: v,
        request: Request::Put { key: 1, value: v },
    }
}

#[test]
fn ballots_order_by_round_then_node() {
    assert!(b(1, 4) < b(2, 0));
    assert!(b(2, 0) < b(2, 1));
    assert!(Ballot::NONE < b(1, 0));
    assert_eq!(b(3, 2).max(b(3, 1)), b(3, 2));
    // The liveness "term" keeps the order.
    assert!(b(1, 4).as_u64() < b(2, 0).as_u64());
    assert!(b(2, 0).as_u64() < b(2, 1).as_u64());
    assert_eq!(b(3, 2).to_string(), "3.2");
}

#[test]
fn params_default_and_validate_names_the_field() {
    let mut p = Params::default();
    assert!(p.validate().is_ok());
    p.election_timeout_min = SimDuration::ZERO;
    assert!(p.validate().unwrap_err().contains("`election_timeout_min`"));
    p.election_timeout_min = SimDuration::from_millis(400);
    assert!(p.validate().unwrap_err().contains("`election_timeout_max`"));
    p.election_timeout_min = SimDuration::from_millis(150);
    p.heartbeat = SimDuration::from_millis(150);
    assert!(p.validate().unwrap_err().contains("`heartbeat`"));
    p.heartbeat = SimDuration::from_millis(50);
    p.batch_max = 0;
    assert!(p.validate().unwrap_err().contains("`batch_max`"));
}

#[test]
fn a_new_leader_adopts_the_highest_ballot_value_and_fills_gaps_with_noops() {
    // Slot 3 decided already; slot 4 reported twice (the higher ballot wins); slot 5 a gap;
    // slot 6 reported once.
    let decided: SlotMap<Command> = [(3, put(30))].into_iter().collect();
    let mut adopted = BTreeMap::new();
    adopted.insert(4, (b(2, 1), put(41)));
    adopted.insert(6, (b(1, 0), put(60)));
    let plan = phase2_plan(2, &decided, &adopted, 6, true);
    assert_eq!(
        plan,
        vec![
            (4, put(41), false),
            (5, Command::Noop, true),
            (6, put(60), false)
        ]
    );
    // The bug proposes no-ops everywhere.
    let buggy = phase2_plan(2, &decided, &adopted, 6, false);
    assert!(buggy
        .iter()
        .all(|(_, c, noop)| *c == Command::Noop && *noop));
    assert_eq!(buggy.len(), 3);
    // Nothing reported past what is applied: nothing to recover.
    assert!(phase2_plan(6, &decided, &adopted, 6, true).is_empty());
}

#[test]
fn phase1_keeps_the_highest_ballot_per_slot() {
    let mut adopted = BTreeMap::new();
    let top = adopt_highest(
        &mut adopted,
        vec![(1, b(2, 1), put(1)), (2, b(1, 1), put(2))],
    );
    assert_eq!(top, 2);
    let top = adopt_highest(
        &mut adopted,
        vec![
            (1, b(3, 2), put(11)),
            (2, b(1, 0), put(22)),
            (7, b(1, 0), put(7)),
        ],
    );
    assert_eq!(top, 7);
    assert_eq!(
        adopted[&1],
        (b(3, 2), put(11)),
        "the higher ballot replaces"
    );
    assert_eq!(adopted[&2], (b(1, 1), put(2)), "a lower ballot does not");
    assert_eq!(adopted[&7], (b(1, 0), put(7)));
    assert_eq!(adopt_highest(&mut adopted, vec![]), 0);
}

fn result(observations: Vec<(u32, Observation)>) -> RunResult<Observation> {
    let observations = observations
        .into_iter()
        .enumerate()
        .map(|(i, (node, value))| (SimTime(i as u64), NodeId(node), value));
    RunResult {
        seed: 7,
        ..RunResult::observed(3, SimTime(1_000), observations)
    }
}

fn accepted(slot: u64, ballot: Ballot, value_hash: u64) -> Observation {
    Observation::Accepted {
        slot,
        ballot,
        value_hash,
    }
}

#[test]
fn agreement_needs_a_majority_in_one_ballot_and_one_value_per_slot() {
    // Value 1 chosen in ballot 1.0 by n0 and n1; n2 accepts value 2 in 2.2, then n1 too:
    // a second value chosen in slot 1.
    let two = result(vec![
        (0, accepted(1, b(1, 0), 1)),
        (1, accepted(1, b(1, 0), 1)),
        (2, accepted(1, b(2, 2), 2)),
        (1, accepted(1, b(2, 2), 2)),
    ]);
    let c = check_agreement(&two);
    assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
    assert!(
        c.detail.contains("slot 1")
            && c.detail.contains("(accepted by n2, n1)")
            && c.detail.contains("seed 7"),
        "{}",
        c.detail
    );
    // Acceptors numbered past 63 (kept in a list beside the bits): counted once each, and
    // named in the order they accepted.
    let wide = result(vec![
        (70, accepted(2, b(1, 0), 1)),
        (71, accepted(2, b(1, 0), 1)),
        (72, accepted(2, b(2, 2), 2)),
        (72, accepted(2, b(2, 2), 2)),
        (0, accepted(2, b(2, 2), 2)),
    ]);
    let c = check_agreement(&wide);
    assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
    assert!(c.detail.contains("(accepted by n72, n0)"), "{}", c.detail);
    let once = result(vec![
        (70, accepted(2, b(1, 0), 1)),
        (70, accepted(2, b(1, 0), 1)),
        (1, accepted(2, b(2, 2), 2)),
        (0, accepted(2, b(2, 2), 2)),
    ]);
    assert_eq!(check_agreement(&once).verdict, Verdict::Pass);
    // Value 2 accepted by a majority, but across two ballots: not chosen, no failure.
    let split = result(vec![
        (0, accepted(1, b(1, 0), 1)),
        (1, accepted(1, b(1, 0), 1)),
        (2, accepted(1, b(2, 2), 2)),
        (1, accepted(1, b(3, 1), 2)),
        (
            0,
            Observation::Learned {
                slot: 1,
                value_hash: 1,
            },
        ),
    ]);
    assert_eq!(check_agreement(&split).verdict, Verdict::Pass);
    // A re-sent accept by the same acceptor does not count twice.
    let dup = result(vec![
        (0, accepted(1, b(1, 0), 1)),
        (0, accepted(1, b(1, 0), 1)),
        (
            1,
            Observation::Learned {
                slot: 1,
                value_hash: 1,
            },
        ),
    ]);
    let c = check_agreement(&dup);
    assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
    assert!(c.detail.contains("no majority accepted"), "{}", c.detail);
    // Applying a value other than the chosen one.
    let wrong = result(vec![
        (0, accepted(1, b(1, 0), 1)),
        (1, accepted(1, b(1, 0), 1)),
        (
            2,
            Observation::Learned {
                slot: 1,
                value_hash: 9,
            },
        ),
    ]);
    let c = check_agreement(&wrong);
    assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
    assert!(c.detail.contains("n2 applied"), "{}", c.detail);
}

#[test]
fn majority_counts() {
    assert_eq!(Paxos::majority(1), 1);
    assert_eq!(Paxos::majority(3), 2);
    assert_eq!(Paxos::majority(4), 3);
    assert_eq!(Paxos::majority(5), 3);
}

/// Storage keys order by slot, the promise first, and in a slot the accepted value before the
/// decision — the order recovery reads records in.
#[test]
fn store_keys_order_by_slot_then_kind() {
    use super::types::StoreKey;
    let keys = [
        StoreKey::Promised,
        StoreKey::Accepted(0),
        StoreKey::Decided(0),
        StoreKey::Accepted(1),
        StoreKey::Decided(1),
        StoreKey::Accepted(7),
        StoreKey::Decided(7),
        StoreKey::Accepted(u64::MAX),
        StoreKey::Decided(u64::MAX),
    ];
    for (i, a) in keys.iter().enumerate() {
        for (j, b) in keys.iter().enumerate() {
            assert_eq!(a.cmp(b), i.cmp(&j), "{a:?} against {b:?}");
        }
    }
}
