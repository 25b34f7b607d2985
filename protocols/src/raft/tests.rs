//! Unit tests of Raft's rules on single nodes: the up-to-date check, the consistency check
//! and its backtracking hint, the commit rule, compaction's indices, pre-votes, read rounds,
//! leases and votes.

use sim_core::{NodeId, Request, Response, SimDuration};

use super::log::{commit_target, next_after_refusal};
use super::node::Raft;
use super::params::{Bug, Params, Reads};
use super::types::{Command, Entry};

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn node(log_terms: &[u64], term: u64) -> Raft {
    let mut r = Raft::new(NodeId(0), &Params::new(ms(150), ms(300), ms(50)));
    r.term = term;
    r.log = log_terms
        .iter()
        .map(|&t| Entry {
            term: t,
            command: Command::Noop,
        })
        .collect();
    r
}

#[test]
fn params_validate_names_the_field() {
    let mut p = Params::new(ms(0), ms(300), ms(50));
    assert!(p.validate().unwrap_err().contains("`election_timeout_min`"));
    p.election_timeout_min = ms(400);
    assert!(p.validate().unwrap_err().contains("`election_timeout_max`"));
    p.election_timeout_min = ms(150);
    p.heartbeat = ms(150);
    assert!(p.validate().unwrap_err().contains("`heartbeat`"));
    p.heartbeat = ms(50);
    p.batch_max = 0;
    assert!(p.validate().unwrap_err().contains("`batch_max`"));
    p.batch_max = 1;
    assert!(p.validate().is_ok());
}

#[test]
fn vote_needs_a_log_at_least_as_up_to_date() {
    let r = node(&[1, 1, 2], 2);
    // Higher last term wins regardless of length.
    assert!(r.log_up_to_date(1, 3));
    // Same last term: length decides.
    assert!(r.log_up_to_date(3, 2));
    assert!(r.log_up_to_date(5, 2));
    assert!(!r.log_up_to_date(2, 2));
    // Lower last term loses even when longer.
    assert!(!r.log_up_to_date(10, 1));
    let empty = node(&[], 0);
    assert!(empty.log_up_to_date(0, 0));
}

#[test]
fn majority_counts() {
    assert_eq!(Raft::majority(1), 1);
    assert_eq!(Raft::majority(3), 2);
    assert_eq!(Raft::majority(4), 3);
    assert_eq!(Raft::majority(5), 3);
}

#[test]
fn retries_apply_once() {
    let mut r = node(&[], 1);
    let put = Request::Put { key: 1, value: 7 };
    assert_eq!(r.store.execute(0, 1, &put), Some(Response::Ok));
    let cas = Request::Cas {
        key: 1,
        expected: Some(7),
        new: 9,
    };
    assert_eq!(r.store.execute(0, 2, &cas), Some(Response::Ok));
    // The retry gets the recorded reply, not a second evaluation (which would fail now).
    r.store.apply(&Request::Put { key: 1, value: 3 });
    assert_eq!(r.store.execute(0, 2, &cas), Some(Response::Ok));
    // An older request is ignored.
    assert_eq!(r.store.execute(0, 1, &put), None);
    assert_eq!(r.store.read(1), Response::Value(Some(3)));
}

fn entries(terms: &[u64]) -> Vec<Entry> {
    terms
        .iter()
        .map(|&t| Entry {
            term: t,
            command: Command::Noop,
        })
        .collect()
}

#[test]
fn consistency_check_and_its_backtracking_hint() {
    let r = node(&[1, 1, 2, 2, 2], 3);
    assert_eq!(r.check_prev(0, 0), Ok(()));
    assert_eq!(r.check_prev(4, 2), Ok(()));
    assert_eq!(r.check_prev(5, 2), Ok(()));
    // Log too short: the follower's length + 1.
    assert_eq!(r.check_prev(7, 3), Err((None, 6)));
    // Term mismatch: the conflicting term and the first index holding it.
    assert_eq!(r.check_prev(5, 3), Err((Some(2), 3)));
    assert_eq!(r.check_prev(2, 2), Err((Some(1), 1)));
}

#[test]
fn backtracking_skips_a_term_at_a_time() {
    let leader = entries(&[1, 1, 1, 4, 4, 5, 5, 6, 6, 6]);
    // The follower holds term 2 from index 4, a term the leader never had: resume there.
    assert_eq!(next_after_refusal(&leader, 0, Some(2), 4, 0), 4);
    // The follower holds term 4 from index 4 on: resume after the leader's last term-4 entry.
    assert_eq!(next_after_refusal(&leader, 0, Some(4), 4, 0), 6);
    // The follower's log is short.
    assert_eq!(next_after_refusal(&leader, 0, None, 3, 0), 3);
    // Never at or below what the follower matches, never past the end.
    assert_eq!(next_after_refusal(&leader, 0, None, 1, 5), 6);
    assert_eq!(next_after_refusal(&leader, 0, None, 40, 0), 11);
}

#[test]
fn only_current_term_entries_commit_by_count() {
    // Figure 8 (c): the leader of term 4 holds index 2 of term 2 on a majority, and its own
    // index 3 only on itself.
    let log = entries(&[1, 2, 4]);
    let matched = [3, 2, 2, 1, 1];
    assert_eq!(commit_target(&log, 0, 4, 1, &matched, 3, false), 1);
    // The bug commits index 2 by counting.
    assert_eq!(commit_target(&log, 0, 4, 1, &matched, 3, true), 2);
    // Once index 3 (term 4) is on a majority, both commit.
    let matched = [3, 3, 3, 1, 1];
    assert_eq!(commit_target(&log, 0, 4, 1, &matched, 3, false), 3);
    // Never backwards.
    assert_eq!(commit_target(&log, 0, 4, 3, &[3, 0, 0, 0, 0], 3, false), 3);
}

#[test]
fn a_compacted_log_keeps_its_indices() {
    // Snapshot up to index 5 (term 2), then entries 6 (term 2), 7 and 8 (term 3).
    let mut r = node(&[2, 3, 3], 3);
    r.snap_index = 5;
    r.snap_term = 2;
    assert_eq!(r.last_index(), 8);
    assert_eq!(r.last_term(), 3);
    assert_eq!(r.term_at(5), 2);
    assert_eq!(r.term_at(7), 3);
    // At or before the snapshot: committed, so it matches whatever the leader says.
    assert_eq!(r.check_prev(3, 1), Ok(()));
    assert_eq!(r.check_prev(5, 2), Ok(()));
    assert_eq!(r.check_prev(8, 3), Ok(()));
    assert_eq!(r.check_prev(9, 3), Err((None, 9)));
    // The backtracking hint never reaches into the snapshot.
    assert_eq!(r.check_prev(8, 4), Err((Some(3), 7)));
    assert_eq!(r.check_prev(6, 1), Err((Some(2), 6)));
    // An empty suffix: the snapshot's last entry is the last one.
    let mut e = node(&[], 4);
    e.snap_index = 10;
    e.snap_term = 4;
    assert_eq!((e.last_index(), e.last_term()), (10, 4));
    assert!(!e.log_up_to_date(9, 4));
    assert!(e.log_up_to_date(10, 4));
}

#[test]
fn commit_and_backtracking_count_past_the_snapshot() {
    // Entries 11..=13 after a snapshot up to 10.
    let log = entries(&[3, 4, 4]);
    assert_eq!(commit_target(&log, 10, 4, 10, &[13, 12, 0], 2, false), 12);
    assert_eq!(commit_target(&log, 10, 4, 10, &[13, 0, 0], 2, false), 10);
    // The follower's term 3 ends at the leader's index 11: resume at 12.
    assert_eq!(next_after_refusal(&log, 10, Some(3), 11, 0), 12);
    // A term the leader no longer holds (compacted): at the follower's hint, which may
    // be inside the snapshot (the leader then sends `InstallSnapshot`).
    assert_eq!(next_after_refusal(&log, 10, Some(2), 4, 0), 4);
    assert_eq!(next_after_refusal(&log, 10, None, 40, 0), 14);
}

#[test]
fn pre_votes_need_a_higher_term_a_good_log_and_no_recent_leader() {
    let mut r = node(&[1, 2], 2);
    let min = r.params.election_timeout_min.0 as i64;
    assert!(r.grants_pre_vote(3, 2, 2, 0));
    // Not for our own term or lower, nor for a log behind ours.
    assert!(!r.grants_pre_vote(2, 2, 2, 0));
    assert!(!r.grants_pre_vote(3, 1, 2, 0));
    // Heard from a leader within the minimum election timeout: no.
    r.leader_contact = Some(1_000);
    assert!(!r.grants_pre_vote(3, 2, 2, 1_000 + min - 1));
    assert!(r.grants_pre_vote(3, 2, 2, 1_000 + min));
    // A pre-vote changes nothing.
    assert_eq!((r.term, r.voted_for), (2, None));
}

#[test]
fn a_read_round_needs_a_majority_of_acknowledgements_of_it_or_later() {
    let mut r = node(&[1], 1);
    r.read_acked = vec![0, 3, 1, 2, 0];
    // Round 2: the leader, n1 (3) and n3 (2).
    assert!(r.round_confirmed(2, 5));
    // Round 3: the leader and n1 only.
    assert!(!r.round_confirmed(3, 5));
    // The leader's own slot never counts twice.
    r.read_acked = vec![9, 3, 0, 0, 0];
    assert!(!r.round_confirmed(3, 5));
    assert!(r.round_confirmed(3, 3));
}

#[test]
fn a_lease_is_shorter_than_the_vote_refusal_by_the_drift_bound() {
    let mut p = Params::new(ms(150), ms(300), ms(50));
    assert_eq!(p.lease(), None);
    p.reads = Reads::Lease { drift_ppm: 0 };
    assert_eq!(p.lease(), Some(ms(150)));
    p.reads = Reads::Lease { drift_ppm: 1000 };
    // 150 ms × 0.999 / 1.001
    assert_eq!(p.lease(), Some(SimDuration(149_700_299)));
    assert!(p.validate().is_ok());
    p.reads = Reads::Lease { drift_ppm: 100_000 };
    assert!(p.validate().unwrap_err().contains("drift_ppm"));
    // A follower that heard from a leader refuses votes for election_timeout_min.
    let mut r = node(&[1], 1);
    r.params.reads = Reads::Lease { drift_ppm: 100 };
    r.leader_contact = Some(1_000);
    assert!(r.heard_from_leader(1_000 + 149_999_999));
    assert!(!r.heard_from_leader(1_000 + 150_000_000));
}

#[test]
fn snapshots_cannot_be_combined_with_a_bug() {
    let mut p = Params::new(ms(150), ms(300), ms(50));
    p.snapshot_threshold = 10;
    assert!(p.validate().is_ok());
    p.bug = Some(Bug::ForgetVote);
    assert!(p.validate().unwrap_err().contains("`snapshot_threshold`"));
}

#[test]
fn one_vote_per_term_to_an_up_to_date_candidate() {
    let mut r = node(&[1, 2], 2);
    // A stale term, or a log behind ours: no.
    assert!(!r.grants_vote(NodeId(1), 1, 5, 2));
    assert!(!r.grants_vote(NodeId(1), 2, 1, 2));
    assert!(r.grants_vote(NodeId(1), 2, 2, 2));
    r.voted_for = Some(NodeId(1));
    // Again to the same candidate (a re-sent request), never to another one.
    assert!(r.grants_vote(NodeId(1), 2, 2, 2));
    assert!(!r.grants_vote(NodeId(2), 2, 9, 2));
    // The bug skips only the log check.
    r.params.bug = Some(Bug::VoteWithoutLogCheck);
    r.voted_for = None;
    assert!(r.grants_vote(NodeId(2), 2, 0, 0));
    assert!(!r.grants_vote(NodeId(2), 1, 9, 9));
}
