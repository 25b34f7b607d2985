//! Raft: a replicated key-value store kept consistent by a replicated log.
//!
//! # The service
//!
//! The same map of registers as [`crate::primary_backup`] (`Get`, `Put`, `Cas` behind the
//! key-value service), but with failover: any node can become the leader, and the service stays
//! linearizable under every fault dsim injects (partitions, crashes and restarts, pauses, clock
//! jumps, loss, duplication). The scenario checks `linearizable`, `election-safety` and
//! `state-machine-safety` verify it.
//!
//! # The algorithm
//!
//! Ongaro and Ousterhout, "In Search of an Understandable Consensus Algorithm" (USENIX ATC 2014),
//! and Ongaro's thesis ("Consensus: Bridging Theory and Practice", Stanford 2014). Figure 2 of
//! the paper is the specification; the numbered rules below follow it.
//!
//! Every node holds a *log* of commands, numbered from 1, each stamped with the *term* in which
//! a leader created it, and applies the log in order to its copy of the map. Time is divided
//! into terms; each term has at most one leader (**election safety**).
//!
//! 1. **Durable state.** `currentTerm`, `votedFor` and the log are written to storage and
//!    synced before any message or reply that depends on them leaves the node (every send goes
//!    through [`crate::kit::durable`], which syncs first). A restarted node rebuilds them in
//!    [`sim_core::Process::on_recover`]; its commit index and state machine are volatile and are rebuilt
//!    by re-applying the log as the leader tells it what is committed.
//! 2. **Terms.** A message with a higher term makes the receiver adopt it and become a
//!    follower; a message with a lower term is refused (requests) or ignored (replies).
//! 3. **Elections.** A follower that hears no leader for a randomized election timeout (uniform
//!    in `[election_timeout_min, election_timeout_max]`, on its local clock) becomes a
//!    candidate: it increments its term, votes for itself, and asks every node (`RequestVote`,
//!    re-sent every `heartbeat` to nodes that have not answered). A node grants at most one
//!    vote per term, and only to a candidate whose log is at least as up to date as its own
//!    (last term higher, or equal with a last index at least as high) — §5.4.1. A majority of
//!    votes makes the candidate leader.
//! 4. **No-op.** A new leader appends an empty entry of its own term at once (§8 of the paper),
//!    so that entries of earlier terms become committed through it.
//! 5. **Replication.** The leader sends each follower the entries after `nextIndex`
//!    (`AppendEntries`, at most `batch_max` per message), with the index and term of the entry
//!    before them. A follower accepts only if its log holds that entry (the *consistency check*,
//!    which gives **log matching**); it deletes a conflicting suffix — never entries that agree
//!    — appends, syncs, and answers with the last index it now matches. On a refusal it names
//!    the conflicting term and the first index it holds of that term (or its log length), so the
//!    leader backs `nextIndex` up by a term at a time, not an entry (§5.3, "fast backtracking").
//!    The leader sends each entry to each follower once, as etcd's raft does with its progress
//!    states: a follower whose match is unknown is *probed* with one `AppendEntries` at a
//!    time; once a reply confirms the match the leader *replicates*, sending each new entry as
//!    it is appended and advancing `nextIndex` past what is in flight. A heartbeat to a
//!    follower with entries in flight carries none; entries unacknowledged for `retransmit`
//!    are sent again from the follower's match. A follower holds an `AppendEntries` that
//!    arrives ahead of an earlier one from the same leader (the network reorders) until the
//!    gap fills, instead of refusing it. A committed command costs `2(n − 1)` messages
//!    besides heartbeats.
//! 6. **Commitment.** The leader commits the highest index held by a majority **whose entry is
//!    of the current term** (Figure 8, §5.4.2): counting replicas of an older term's entry is
//!    not enough, since a later leader may still overwrite it. Followers learn the commit index
//!    from `AppendEntries`, bounded by what they match. Everyone applies committed entries in
//!    order (**state-machine safety**).
//! 7. **Log compaction** (§7; `snapshot_threshold`, off by default). Once a node has applied
//!    `snapshot_threshold` entries beyond its last snapshot, it snapshots its state machine (the
//!    map and the retry-filtering table) with the index and term of the last entry applied,
//!    writes it and removes the entries it covers from storage (one sync makes both durable),
//!    and drops them from its log; indices keep counting from the snapshot. A restarted node
//!    loads the snapshot (its commit and applied indices start there), then the log suffix. An
//!    entry at or before the snapshot is committed, so the consistency check accepts it. A
//!    leader whose follower needs an entry it has compacted sends `InstallSnapshot` (the whole
//!    snapshot in one message); the follower, unless it has committed that far already, keeps
//!    the entries after the snapshot's last one if it holds that entry, discards its whole log
//!    otherwise, and takes the snapshot's state machine.
//! 8. **Pre-vote** (thesis §9.6; `pre_vote`, off by default). A node whose election timeout
//!    fires first becomes a *pre-candidate*: without changing its term or vote it asks every
//!    node (`PreVote`, re-sent every `heartbeat`) whether it would vote for it in the next
//!    term. A node says yes to a higher term and an up-to-date log, unless it leads or has heard
//!    from a leader within `election_timeout_min`; a pre-vote changes no state. Only a majority
//!    of yeses starts a real election, so a node cut off from the cluster does not inflate its
//!    term and depose the leader when it rejoins.
//! 9. **ReadIndex reads** (thesis §6.4; `reads: ReadIndex`, default `Log`). Once an entry of its
//!    term (its no-op) is committed, a leader serves a `Get` without a log entry: it records
//!    its commit index, starts a confirmation round (`ReadProbe`, answered by `ReadAck` from
//!    any node of its term, which also treats the probe as a heartbeat) and answers once a
//!    majority has acknowledged that round or a later one and it has applied up to the recorded
//!    index. Unconfirmed reads start a new round every `heartbeat`; a leader that steps down
//!    drops its pending reads unanswered. Before its no-op commits, a `Get` goes through the log.
//! 10. **Leader leases** (thesis §6.4.1; `reads: Lease(drift_ppm: N)`, opt-in). The leader
//!     starts a `ReadProbe` round every `heartbeat` and remembers when it sent each one (local
//!     clock). Once a majority has acknowledged a round, the leader holds a lease until that
//!     send time plus `election_timeout_min × (1 − ρ)/(1 + ρ)`, ρ = N/10⁶, and answers a `Get`
//!     at once from its state machine while the lease lasts (else as in rule 9). In exchange a
//!     node that heard from a leader less than `election_timeout_min` ago (its own clock)
//!     neither adopts a higher term from a `RequestVote` nor votes, and a restarted node waits
//!     that long before voting (it may have acknowledged a round just before it crashed). So no
//!     other leader can be elected while a lease granted by a majority lasts — provided every
//!     clock runs within ρ of true time and none jumps: scenario validation refuses leases with
//!     a larger `drift_ppm_max` or with clock jumps, and a test shows a backward jump on a
//!     partitioned leader producing stale reads the linearizability check catches.
//! 11. **Storage-aware recovery** (Alagappan et al., "Protocol-Aware Recovery for
//!     Consensus-Based Storage", FAST 2018: CTRL). A restarted node reads its log checksummed.
//!     *Crash or corruption?* Where the records stop forming a log — a missing index, two
//!     entries at one index, a term below the previous entry's or above `currentTerm` — a torn
//!     write kept some of the writes of an unfinished sync: nothing from there was ever
//!     acknowledged, and it is discarded as a crash would. An entry whose contents are damaged
//!     keeps its identity (index and term, the record's key, as CTRL stores identifiers
//!     redundantly) and may have been acknowledged, so it is corruption: the entry stays in
//!     the log, marked damaged. *Storage-aware behaviour*: it is never applied, and a reply's
//!     match stops before it (the node does not acknowledge what it lost); the node votes by
//!     the entries' identities — so it never helps elect a candidate without an entry it held
//!     — but does not stand for election while damaged. *Repair*: it asks every node for
//!     intact copies (`Repair`, again at each election timeout); by Log Matching any intact
//!     entry of the same index and term is the same entry (CTRL's leader-driven repair is the
//!     case where the leader answers; a leader's `AppendEntries` repairs it too). An entry
//!     nobody can supply is discarded, with everything after it, once `n − majority + 1` nodes
//!     in a term above the entry's answer that they hold no entry of that identity: then at
//!     most a minority ever held it, so it was never committed. `currentTerm`, `votedFor` and
//!     the snapshot are outside the fault atlas (CTRL keeps such metadata twice); a snapshot
//!     is synced before the entries it covers are removed, so no torn write loses both.
//!
//! **Clients.** By default every request — reads included — is a log entry, applied when
//! committed; that is the simplest way to make reads linearizable (rule 9 is the cheaper
//! ReadIndex; rule 10 leases, only when the scenario opts in). The leader answers a
//! request only once its entry is applied. The state machine filters retries: per client it
//! keeps the id of the last request applied and its response (clients have one request
//! outstanding at a time, with increasing ids), so a command applied once is never applied
//! again — a request resent after a redirect may sit in the log twice, and only the first copy
//! takes effect. A follower answers `Redirect { leader }` with the leader it knows of in its
//! term — unless the request sits, uncommitted, in its own log: it may still commit, and a
//! redirect promises that it did not take effect, so the node stays silent and the client times
//! out (an indeterminate outcome). A follower that knows no leader in its term (an election is
//! under way) stays silent too, rather than sending the client round the cluster with
//! `Redirect { leader: None }`: the client turns its eighth redirect into a definite failure,
//! which a duplicated copy of the request, applied later by the new leader, would contradict.
//! A leader that steps down forgets whom it owed replies to,
//! for the same reason, without answering them.
//!
//! # Code map
//!
//! `types` (messages, log entries, timers, durable records, observations) and `params` are
//! the bottom of the dependency order; `node` holds the node's state and dispatches each
//! event to one handler. The handlers are split by job: `log` (the log, its durable records
//! and recovery), `election` (rules 2-4 and 8), `replication` (rules 5-6 and applying),
//! `snapshot` (rule 7), `reads` (rules 9-10), `repair` (rule 11) and `client` (the client gate of
//! [`crate::kit::client_gate`], then proposing). `checks` holds the invariant checks (with `commit_quorum`: a
//! commit only of what a majority holds, and `apply_order`: each index applied once, in order;
//! `log_checks` runs the three checks over the replayed logs in one pass) and `protocol` the
//! registration. No module imports this one.
//!
//! # Bugs to inject
//!
//! - [`Bug::CommitPreviousTermByCount`]: the leader commits any entry a majority holds, of any
//!   term — the Figure 8 mistake. A later leader can overwrite a committed entry:
//!   `state-machine-safety` catches two nodes applying different commands at one index.
//! - [`Bug::VoteWithoutLogCheck`]: votes ignore whether the candidate's log is up to date, so a
//!   node missing committed entries can win and overwrite them (`state-machine-safety`).
//! - [`Bug::ForgetVote`]: `currentTerm` and `votedFor` are not persisted when a node votes; after
//!   a crash it votes again in the same term, and two leaders of one term can be elected
//!   (`election-safety`).
//! - [`Bug::NoConsistencyCheck`]: followers accept `AppendEntries` without checking the entry
//!   before the new ones, so logs diverge (`state-machine-safety`).
//! - [`Bug::TruncateAtCorruption`]: a restarted node treats its first damaged entry as the end
//!   of its log and carries on — what the FAST 2018 paper found LogCabin and etcd-style
//!   implementations do. Its log looks shorter than what it acknowledged, so it votes for a
//!   candidate without committed entries, which overwrites them (`linearizable`,
//!   `state-machine-safety`, `leader-completeness`).

mod apply_order;
mod by_index;
mod checks;
mod client;
mod commit_quorum;
mod election;
mod log;
mod log_checks;
mod node;
mod params;
mod protocol;
mod reads;
mod repair;
mod replication;
mod run_checks;
pub mod situations;
mod snapshot;
#[cfg(test)]
mod tests;
mod types;

pub use checks::check_liveness;
pub use log::{commit_target, next_after_refusal};
pub use log_checks::{
    check_commit_quorum, check_leader_completeness, check_log_matching, CommitQuorum,
    LeaderCompleteness, LogChecks, LogMatching,
};
pub use node::Raft;
pub use params::{Bug, Params, Reads};
pub use run_checks::{
    check_apply_order, check_election_safety, check_state_machine_safety, ApplyOrder,
    ElectionSafety, RunChecks, StateMachineSafety,
};
pub use types::{Command, Entry, Msg, Observation, Record, Slot, Snapshot, Timer, LOG_ENTRIES_MAX};
