//! Two-phase commit: a sharded transaction service whose multi-key transactions commit
//! atomically across participants, coordinated by one transaction manager.
//!
//! # The service
//!
//! The transaction service of [`sim_core::txn`]: a client asks for `Txn { keys }` — increment
//! each of these distinct keys by one, atomically — and gets `Committed` with each key's new
//! value, or `Fail` when the transaction aborted. Keys are sharded: key `k` lives on
//! participant node `1 + shard_of(k, nodes - 1)` ([`sim_core::txn::shard_of`], a fixed portable
//! hash). Node 0 is the coordinator (the *transaction manager*, TM); nodes `1..nodes` are the
//! participants (the *resource managers*, RMs), one shard each. Clients send transactions to
//! the coordinator; a participant answers a transaction with `Redirect` to node 0.
//!
//! # The algorithm
//!
//! Gray and Lamport, "Consensus on Transaction Commit", ACM TODS 31(1), 2006, §3 (the
//! Two-Phase Commit protocol, after Gray 1978; §2 states the requirements). No two RMs reach
//! different decisions, commit and abort (**atomicity**), and a transaction commits only if
//! every RM is prepared to commit it (**validity**).
//!
//! 1. **Begin.** The coordinator receives `Txn { keys }`, groups the keys by shard, and sends
//!    `Prepare { txn, keys }` to each participant holding some of them. A transaction is named
//!    by its client and request id, so a resent or duplicated client request is the same
//!    transaction, never a second one.
//! 2. **Prepare (phase 1).** A participant that holds no lock on any of the keys locks them,
//!    reads each key's current value `v` and computes its write `v + 1`, **writes a `Prepared`
//!    record with those writes to its log and syncs it**, and only then votes yes
//!    (`Vote { yes, writes }`). If another transaction holds a lock on one of the keys it votes
//!    no at once and keeps nothing — no waiting, hence no deadlock. A prepared participant can
//!    no longer abort on its own: it holds its locks until it learns the decision.
//! 3. **Decide (phase 2).** When every participant has voted yes, the coordinator decides
//!    commit; on any no vote, or when `vote_timeout` passes without every vote (a participant
//!    down or cut off), it decides abort. It **writes the decision to its log and syncs it
//!    before announcing it** — `Decision { txn, commit }` to every participant — and answers
//!    the client (`Committed` with the new values, or `Fail`).
//! 4. **Apply.** A prepared participant that learns commit writes its new values, releases the
//!    locks, replaces its `Prepared` record by a `Done` record (synced) and acknowledges
//!    (`Ack`); on abort it releases the locks without writing. The acknowledgements let the
//!    coordinator stop re-sending the decision.
//! 5. **Retries.** Every `retry` the coordinator re-sends `Prepare` to participants that have
//!    not voted and the decision to participants that have not acknowledged it. A participant
//!    that has stayed prepared for `inquiry` asks the coordinator for the outcome
//!    (`Inquire`), and again every `inquiry`; duplicates of every message are harmless (a
//!    prepared participant re-sends its vote, a finished one re-sends its acknowledgement).
//! 6. **Recovery.** A restarted participant reloads its values, its `Done` records and its
//!    `Prepared` records — re-taking their locks — and asks the coordinator at once for the
//!    outcome of each transaction it is prepared for. A restarted coordinator reloads its
//!    decisions.
//! 7. **Presumed abort** (the variant used here). A transaction with no decision in the
//!    coordinator's log is aborted: a recovered coordinator knows nothing of the transactions
//!    it was running, and the first vote or inquiry about one of them is answered abort —
//!    after that abort is itself logged and synced, so that a late duplicate of the client's
//!    request cannot start it again. Aborts decided while running (a no vote, a timeout) are
//!    logged too, before the client hears `Fail`, for the same reason. The coordinator keeps
//!    its decisions (a real transaction manager would forget a transaction once every
//!    participant acknowledged it and filter client retries by session instead).
//!
//! **Blocking.** Between its yes vote and the decision a participant can do nothing but wait:
//! if the coordinator crashes after the prepares, the participants stay prepared, their keys
//! locked, until it recovers (§3 of the paper: "the failure of that coordinator can cause the
//! protocol to block"). The `blocking` check measures it; `coordinator-crash-blocks.ron`
//! shows it. Paxos Commit (§4) removes it with 2F + 1 coordinators.
//!
//! **Cost in the normal case.** With `k` participants: `k` `Prepare`, `k` votes, `k` decisions
//! and `k` acknowledgements — `4k` node-to-node messages, of which `3k` are on the commit path.
//! The paper counts `3N − 1` messages for `N` RMs because there the first RM to prepare sends
//! its `Prepared` message unasked, in place of the request the client sends here, and does not
//! count acknowledgements (they are off the critical path); the message delays match its count
//! of four: client → TM, `Prepare`, vote, then the decision to the participants and the answer
//! to the client in parallel. Synced writes before the outcome is known: one prepared record
//! per participant plus the coordinator's decision (the paper's `N + 1` forced writes), two on
//! the critical path; each participant syncs its commit record afterwards (off the critical
//! path, `k` more). `tests/tests/two_phase_commit.rs` asserts these counts.
//!
//! # Bugs to inject
//!
//! - [`Bug::CommitWithoutAllVotes`]: when `vote_timeout` passes, the coordinator commits with
//!   the yes votes it has instead of aborting — `validity` catches a commit without every yes
//!   vote, and `atomicity` a participant that learns a commit for a transaction it never
//!   prepared (its part of the transaction is lost).
//! - [`Bug::ForgetPreparedOnRestart`]: a restarted participant does not reload its `Prepared`
//!   records. It has lost its locks and its writes, so a commit it learns afterwards applies
//!   nothing (`atomicity`), and another transaction may read the old value of a key the
//!   forgotten one is committing (`isolation`).
//! - [`Bug::KeepAbortedLocks`]: a participant that learns an abort keeps the transaction's
//!   locks. Every outcome stays atomic, valid and isolated, but every later transaction on those
//!   keys is refused there: `progress` catches a no vote on keys no other transaction holds
//!   once the faults have healed.
//!
//! # Where things are
//!
//! `params.rs` (parameters, bugs) and `messages.rs` (transaction ids, messages, timer,
//! observations, sharding) are at the bottom; `record.rs` is the durable log; `node.rs` is the
//! `Process` and its volatile state, routing each event to the handlers of `coordinator.rs`
//! or `participant.rs`; `checks.rs` holds the safety checks and `blocking`, `progress.rs` the
//! liveness check (`progress`). Handlers import the types, never the other way round.

mod checks;
mod coordinator;
mod messages;
mod node;
mod params;
mod participant;
mod progress;
mod record;
pub mod situations;
mod txn_map;

use sim_core::protocol::{rules, CheckList, FieldError, Protocol};
use sim_core::{NodeId, Service, SimConfig};

pub use checks::{
    check_atomicity, check_blocking, check_isolation, check_validity, measure_blocking, Atomicity,
    Blocking, BlockingFigures, BlockingParams, Isolation, Validity,
};
pub use messages::{participant_of, Msg, Observation, Timer, TxnId, COORDINATOR};
pub use node::TwoPhaseCommit;
pub use params::{Bug, Params};
pub use progress::{check_progress, Progress, ProgressParams};
pub use record::{Record, RecordKey};

// Registration: what scenarios name and check (see `sim_core::Protocol`).

impl Protocol for TwoPhaseCommit {
    const NAME: &'static str = "TwoPhaseCommit";
    const CLI_NAME: &'static str = "two-phase-commit";
    const SUMMARY: &'static str = "two-phase commit (presumed abort): a coordinator (node 0) commits multi-key transactions atomically across sharded participants";
    const SERVICES: &'static [Service] = &[Service::Transaction];
    /// Node 0 is the coordinator; at least one participant.
    const NODE_COUNT: std::ops::RangeInclusive<u32> = 2..=u32::MAX;
    const SITUATIONS: &'static [&'static str] = situations::ALL;
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> TwoPhaseCommit {
        TwoPhaseCommit::new(id, params)
    }

    fn validate(p: &Params, _: &SimConfig) -> Result<(), FieldError> {
        rules::positive("protocol", "retry", p.retry)?;
        rules::positive("protocol", "vote_timeout", p.vote_timeout)?;
        rules::positive("protocol", "inquiry", p.inquiry)?;
        p.validate().map_err(|e| {
            FieldError::new("vote_timeout", e).hint(
                "the coordinator re-sends prepares every `retry` and aborts after `vote_timeout`",
            )
        })
    }

    fn checks(list: &mut impl CheckList<Self>) {
        list.add::<Atomicity>();
        list.add::<Validity>();
        list.add::<Isolation>();
        list.add::<Blocking>();
        list.add::<Progress>();
    }

    fn default_params() -> Option<Params> {
        Some(Params::default())
    }

    fn marker(o: &messages::Observation) -> Option<String> {
        let word = |c: bool| if c { "commit" } else { "abort" };
        match o {
            messages::Observation::Decided { txn, commit, .. } => {
                Some(format!("decides {} {txn}", word(*commit)))
            }
            messages::Observation::Learned { txn, commit, .. } => {
                Some(format!("learns {} {txn}", word(*commit)))
            }
            messages::Observation::RecordDamaged { txn } => {
                Some(format!("lost its record of {txn}"))
            }
            messages::Observation::Voted { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::check::Verdict;
    use sim_core::config::{ClientConfig, TargetPolicy, Workload};
    use sim_core::{run, Outcome, SimDuration};

    fn config(nodes: u32, clients: u32, seed: u64) -> SimConfig {
        let mut c = SimConfig::basic(nodes, SimDuration::from_secs(2));
        c.seed = seed;
        c.clients = ClientConfig {
            count: clients,
            target: TargetPolicy::Random,
            workload: Workload::Transactions {
                keys: 6,
                keys_per_txn: 2,
                interval: SimDuration::from_millis(2),
                ops_per_client: 50,
            },
            timeout: SimDuration::from_secs(1),
            stop: None,
            ..ClientConfig::default()
        };
        c
    }

    #[test]
    fn contended_fault_free_runs_commit_and_abort_and_pass_every_check() {
        for seed in 0..3 {
            let p = Params::default();
            let r = run(config(4, 4, seed), move |id| TwoPhaseCommit::new(id, &p));
            for c in [
                check_atomicity(&r),
                check_validity(&r),
                check_isolation(&r),
                check_blocking(&r, Some(SimDuration::from_millis(10))),
            ] {
                assert_eq!(
                    c.verdict,
                    Verdict::Pass,
                    "seed {seed}: {}: {}",
                    c.name,
                    c.detail
                );
            }
            let ok = r
                .history
                .ops
                .iter()
                .filter(|o| matches!(o.completion, Some((_, Outcome::Ok(_)))))
                .count();
            let failed = r
                .history
                .ops
                .iter()
                .filter(|o| matches!(o.completion, Some((_, Outcome::Fail))))
                .count();
            assert_eq!(ok + failed, 200, "every transaction answered");
            assert!(ok > 50 && failed > 5, "ok {ok}, aborted {failed}");
        }
    }
}
