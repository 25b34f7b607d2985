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
//!    through one helper that syncs first). A restarted node rebuilds them in
//!    [`Process::on_recover`]; its commit index and state machine are volatile and are rebuilt
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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::check::{CheckResult, LeaderBased, Leadership, Linearizable, Liveness, Verdict};
use sim_core::config::{Fault, FaultKind};
use sim_core::kv::Seen;
use sim_core::protocol::{CheckList, FieldError, Protocol};
use sim_core::trace::stable_hash;
use sim_core::{
    ClientId, Context, Key, KvStore, NodeId, Process, Request, RequestId, Response, RunResult,
    Service, SimConfig, SimDuration, TimerId,
};

use crate::kit;

/// Most entries a node keeps in its log after its snapshot: a named limit, far above what any
/// shipped scenario appends.
pub const LOG_ENTRIES_MAX: u64 = 10_000_000;

/// Deliberately broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Bug {
    /// Commit an entry of an earlier term once a majority holds it (Figure 8).
    CommitPreviousTermByCount,
    /// Grant votes without the "at least as up to date" log check.
    VoteWithoutLogCheck,
    /// Do not persist `currentTerm`/`votedFor` when voting.
    ForgetVote,
    /// Accept `AppendEntries` without checking the previous entry.
    NoConsistencyCheck,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Shortest election timeout (local clock).
    pub election_timeout_min: SimDuration,
    /// Longest election timeout; each timeout is uniform in `[min, max]`.
    pub election_timeout_max: SimDuration,
    /// Time between two rounds of `AppendEntries` from a leader (and of vote requests from a
    /// candidate).
    pub heartbeat: SimDuration,
    /// Most entries one `AppendEntries` carries.
    pub batch_max: u32,
    /// A deliberate bug to inject (`None`: the correct protocol).
    #[serde(default)]
    pub bug: Option<Bug>,
    /// Log compaction (§7): a node snapshots its state machine once it has applied this many
    /// entries beyond its last snapshot, and drops them from its log. 0: never.
    #[serde(default)]
    pub snapshot_threshold: u64,
    /// Pre-vote (thesis §9.6): a node whose election timeout fires first asks whether a
    /// majority would vote for it, without incrementing its term.
    #[serde(default)]
    pub pre_vote: bool,
    /// How the leader serves `Get` (default: through the log).
    #[serde(default)]
    pub reads: Reads,
}

/// How a leader serves reads.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Reads {
    /// A `Get` is a log entry like any other command, answered once applied.
    #[default]
    Log,
    /// ReadIndex (thesis §6.4): no log entry; the leader records its commit index, confirms
    /// it still leads with a round of acknowledgements from a majority, and answers once it
    /// has applied up to the recorded index.
    ReadIndex,
    /// Leader leases (thesis §6.4.1), opt-in: the leader answers a `Get` at once, from its
    /// state machine, while it holds a lease — for a while after a majority acknowledged a
    /// round it sent, shorter than the time those nodes refuse to vote for anyone else. Safe
    /// only while every clock's rate is within `drift_ppm` parts per million of true time and
    /// no clock jumps; scenario validation enforces both. Outside a lease, reads fall back to
    /// ReadIndex.
    Lease { drift_ppm: u32 },
}

impl Reads {
    /// Whether reads skip the log (ReadIndex or a lease).
    fn off_log(self) -> bool {
        !matches!(self, Reads::Log)
    }
}

impl Default for Params {
    /// The paper's timings: election timeouts of 150-300 ms, a heartbeat every 50 ms.
    fn default() -> Params {
        Params::new(
            SimDuration::from_millis(150),
            SimDuration::from_millis(300),
            SimDuration::from_millis(50),
        )
    }
}

impl Params {
    /// The correct protocol with these timings and a batch of 64 entries.
    pub fn new(
        election_timeout_min: SimDuration,
        election_timeout_max: SimDuration,
        heartbeat: SimDuration,
    ) -> Params {
        Params {
            election_timeout_min,
            election_timeout_max,
            heartbeat,
            batch_max: 64,
            bug: None,
            snapshot_threshold: 0,
            pre_vote: false,
            reads: Reads::Log,
        }
    }

    /// How long a lease lasts on the leader's clock after it sent the round a majority
    /// acknowledged: `election_timeout_min × (1 − ρ) / (1 + ρ)` for a drift bound ρ. A node that
    /// acknowledged refuses votes for `election_timeout_min` on its own clock, so for at least
    /// `election_timeout_min / (1 + ρ)` of true time after the round was sent; the leader's
    /// clock runs at least `1 − ρ` as fast as true time, so the lease ends on it within
    /// `lease / (1 − ρ) = election_timeout_min / (1 + ρ)` of true time. `None` without leases.
    pub fn lease(&self) -> Option<SimDuration> {
        match self.reads {
            Reads::Lease { drift_ppm } => {
                let ppm = u128::from(drift_ppm);
                let min = u128::from(self.election_timeout_min.0);
                Some(SimDuration(
                    (min * (1_000_000 - ppm.min(999_999)) / (1_000_000 + ppm)) as u64,
                ))
            }
            Reads::Log | Reads::ReadIndex => None,
        }
    }

    /// Checks the ranges a scenario must respect; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.election_timeout_min == SimDuration::ZERO {
            return Err("raft `election_timeout_min` must be longer than 0".into());
        }
        if self.election_timeout_min > self.election_timeout_max {
            return Err("raft `election_timeout_min` is above `election_timeout_max`".into());
        }
        if self.heartbeat == SimDuration::ZERO {
            return Err("raft `heartbeat` must be longer than 0".into());
        }
        if self.heartbeat >= self.election_timeout_min {
            return Err("raft `heartbeat` must be shorter than `election_timeout_min`".into());
        }
        if self.batch_max == 0 {
            return Err("raft `batch_max` must be at least 1".into());
        }
        if self.snapshot_threshold > 0 && self.bug.is_some() {
            return Err("raft `snapshot_threshold` cannot be combined with a `bug`".into());
        }
        if let Reads::Lease { drift_ppm } = self.reads {
            if drift_ppm >= 100_000 {
                return Err(format!(
                    "raft lease `drift_ppm` is `{drift_ppm}`: a drift bound of 10% or more leaves no useful lease"
                ));
            }
        }
        Ok(())
    }
}

/// Leases: how many recent rounds' send times a leader keeps.
const ROUNDS_KEPT: usize = 64;

/// What a log entry asks the state machine to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// The entry a new leader appends at the start of its term.
    Noop,
    /// A client's request, with its id for retry filtering.
    Client {
        client: u32,
        request_id: RequestId,
        request: Request,
    },
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub term: u64,
    pub command: Command,
}

/// Node-to-node messages (Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    RequestVote {
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    },
    Vote {
        term: u64,
        granted: bool,
    },
    AppendEntries {
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<Entry>,
        leader_commit: u64,
    },
    /// `match_index`: on success, the last index the follower now holds in agreement with the
    /// leader. On failure, `conflict_term` is the term of the follower's entry at `prev_index`
    /// (`None` if its log is shorter) and `conflict_index` the first index it holds of that term
    /// (or its log length + 1).
    AppendReply {
        term: u64,
        success: bool,
        match_index: u64,
        conflict_term: Option<u64>,
        conflict_index: u64,
    },
    /// Pre-vote (§9.6): would you vote for me in `term` (my term + 1)? Changes no state.
    PreVote {
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    },
    /// `term`: the term the pre-vote asked about.
    PreVoteReply {
        term: u64,
        granted: bool,
    },
    /// ReadIndex: the leader of `term` asks for an acknowledgement of round `round`.
    ReadProbe {
        term: u64,
        round: u64,
    },
    /// The acknowledgement (`term`: the follower's).
    ReadAck {
        term: u64,
        round: u64,
    },
    /// §7: the leader's snapshot, for a follower that needs entries it has compacted.
    InstallSnapshot {
        term: u64,
        snapshot: Snapshot,
    },
    /// The follower now holds everything up to `last_index`.
    SnapshotReply {
        term: u64,
        last_index: u64,
    },
}

/// A compacted log prefix: the state machine after applying it, and its last entry's position.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Snapshot {
    pub last_index: u64,
    pub last_term: u64,
    /// The state machine, with each client's last request applied and its response.
    pub store: KvStore,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// No leader heard from: start an election.
    Election,
    /// Leader: send `AppendEntries`; candidate: re-send vote requests. Only for this term.
    Heartbeat { term: u64 },
}

/// Keys of a node's durable store.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    Term,
    Vote,
    /// The latest snapshot (ordered before the entries: recovery reads it first).
    Snapshot,
    /// The log entry at this index.
    Entry(u64),
}

/// Values of a node's durable store (the variant matches the [`Slot`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    Term(u64),
    Vote(Option<NodeId>),
    Snapshot(Snapshot),
    Entry(Entry),
}

/// What a node reports, for the invariant checks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// The node won the election of `term`.
    BecameLeader { term: u64 },
    /// The node applied the entry at `index` (of `term`) to its state machine.
    Applied {
        index: u64,
        term: u64,
        command_hash: u64,
    },
    /// The node restarted with this durable term and log length.
    Recovered { term: u64, log_len: u64 },
    /// The node compacted its log up to `last_index` (of `last_term`) into a snapshot;
    /// `installed`: the snapshot came from the leader (`InstallSnapshot`), not its own log. A
    /// restart that loads a snapshot reports it too (`installed: false`), after its entries.
    /// The log checks take the entries up to `last_index` as held, contents unknown.
    Snapshotted {
        last_index: u64,
        last_term: u64,
        installed: bool,
    },
    /// The node's log now holds this entry at `index` (its last). With `Truncated`, these let
    /// the `log-matching` and `leader-completeness` checks rebuild every node's log.
    Appended {
        index: u64,
        term: u64,
        command_hash: u64,
    },
    /// The node deleted its entries from `from` on (a restart reports `from: 1` and then its
    /// durable entries as `Appended`).
    Truncated { from: u64 },
    /// The leader of `leader_term` advanced its commit index to `index`.
    Committed { index: u64, leader_term: u64 },
    /// The leader stopped leading on seeing the higher `term`.
    SteppedDown { term: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    Follower,
    /// Pre-vote: asking whether an election in the next term could win.
    PreCandidate {
        /// Per node: would it grant its vote?
        granted: Vec<bool>,
    },
    Candidate {
        /// Per node: has it granted its vote?
        granted: Vec<bool>,
    },
    Leader {
        /// Per node: the next index to send.
        next: Vec<u64>,
        /// Per node: the highest index known to match (own entry: the log length).
        matched: Vec<u64>,
    },
}

/// One Raft node.
pub struct Raft {
    id: NodeId,
    params: Params,
    // Durable (mirrored in storage).
    term: u64,
    voted_for: Option<NodeId>,
    /// `log[i - snap_index - 1]` is the entry at index `i`.
    log: Vec<Entry>,
    /// The last index and term the snapshot covers (0, 0: none).
    snap_index: u64,
    snap_term: u64,
    // Volatile.
    role: Role,
    /// The leader of the current term, when known.
    leader: Option<NodeId>,
    /// Local time (ns) a leader was last heard from (pre-vote: refuse while it is recent).
    leader_contact: Option<i64>,
    commit: u64,
    applied: u64,
    election_timer: Option<TimerId>,
    /// The one pending heartbeat (leader) or vote re-send (candidate) timer.
    heartbeat_timer: Option<TimerId>,
    /// The key-value state machine with its client sessions (deduplication).
    store: KvStore,
    /// The state machine as of `snap_index` (sent in `InstallSnapshot`).
    snap_store: KvStore,
    /// Leader: per client, the request it owes a reply once applied.
    waiting: BTreeMap<u32, RequestId>,
    /// Leader, ReadIndex: reads waiting for confirmation and for the state machine.
    reads: Vec<PendingRead>,
    /// Leader, ReadIndex: the last confirmation round started, and per node the highest round
    /// it acknowledged in this term.
    read_round: u64,
    read_acked: Vec<u64>,
    /// Leases: when (local clock) each recent round was sent, oldest first.
    round_sent: std::collections::VecDeque<(u64, i64)>,
}

/// A `Get` served by ReadIndex.
#[derive(Clone, Debug)]
struct PendingRead {
    client: ClientId,
    request_id: RequestId,
    key: Key,
    /// The commit index when the read arrived.
    read_index: u64,
    /// Confirmed by acknowledgements of this round or a later one.
    round: u64,
}

impl Raft {
    pub fn new(id: NodeId, params: &Params) -> Raft {
        assert!(params.validate().is_ok(), "invalid raft params: {params:?}");
        Raft {
            id,
            params: params.clone(),
            term: 0,
            voted_for: None,
            log: Vec::new(),
            snap_index: 0,
            snap_term: 0,
            role: Role::Follower,
            leader: None,
            leader_contact: None,
            commit: 0,
            applied: 0,
            election_timer: None,
            heartbeat_timer: None,
            store: KvStore::new(),
            snap_store: KvStore::new(),
            waiting: BTreeMap::new(),
            reads: Vec::new(),
            read_round: 0,
            read_acked: Vec::new(),
            round_sent: std::collections::VecDeque::new(),
        }
    }

    fn bug(&self, b: Bug) -> bool {
        self.params.bug == Some(b)
    }

    pub fn term(&self) -> u64 {
        self.term
    }

    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    /// The entries after the snapshot (the first is at index `snapshot_index() + 1`).
    pub fn log(&self) -> &[Entry] {
        &self.log
    }

    /// The last index the snapshot covers (0: none).
    pub fn snapshot_index(&self) -> u64 {
        self.snap_index
    }

    pub fn commit_index(&self) -> u64 {
        self.commit
    }

    fn last_index(&self) -> u64 {
        self.snap_index + self.log.len() as u64
    }

    /// The term of the entry at `index`, which must not be compacted (the snapshot's last
    /// index is fine).
    fn term_at(&self, index: u64) -> u64 {
        if index == self.snap_index {
            self.snap_term
        } else {
            assert!(
                index > self.snap_index,
                "n{}: entry {index} is compacted",
                self.id.0
            );
            self.log[(index - self.snap_index - 1) as usize].term
        }
    }

    fn entry_at(&self, index: u64) -> &Entry {
        assert!(
            index > self.snap_index,
            "n{}: entry {index} is compacted",
            self.id.0
        );
        &self.log[(index - self.snap_index - 1) as usize]
    }

    fn last_term(&self) -> u64 {
        self.term_at(self.last_index())
    }

    fn majority(n: u32) -> usize {
        n as usize / 2 + 1
    }

    /// §5.4.1: is a log ending at (`last_term`, `last_index`) at least as up to date as ours?
    pub fn log_up_to_date(&self, last_index: u64, last_term: u64) -> bool {
        last_term > self.last_term()
            || (last_term == self.last_term() && last_index >= self.last_index())
    }

    /// Rule 3, after adopting a higher `term`: a vote goes to at most one candidate per term,
    /// and only to one whose log is at least as up to date (skipped by the
    /// `VoteWithoutLogCheck` bug).
    pub fn grants_vote(
        &self,
        candidate: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    ) -> bool {
        let log_ok = self.log_up_to_date(last_log_index, last_log_term)
            || self.bug(Bug::VoteWithoutLogCheck);
        term == self.term
            && log_ok
            && (self.voted_for.is_none() || self.voted_for == Some(candidate))
    }

    // ---- durable state ---------------------------------------------------------------------

    fn persist_term_vote(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.storage().put(Slot::Term, Stored::Term(self.term));
        ctx.storage().put(Slot::Vote, Stored::Vote(self.voted_for));
    }

    /// Appends `entry` (memory and storage; synced before the next send).
    fn append(&mut self, ctx: &mut Context<'_, Self>, entry: Entry) {
        assert!(
            (self.log.len() as u64) < LOG_ENTRIES_MAX,
            "raft log is full"
        );
        self.log.push(entry.clone());
        ctx.observe(Observation::Appended {
            index: self.last_index(),
            term: entry.term,
            command_hash: stable_hash(&entry.command),
        });
        ctx.storage()
            .put(Slot::Entry(self.last_index()), Stored::Entry(entry));
    }

    /// Deletes the entries from `index` on.
    fn truncate(&mut self, ctx: &mut Context<'_, Self>, index: u64) {
        assert!(index >= 1);
        if self.params.bug.is_none() {
            assert!(
                index > self.commit,
                "n{}: truncating committed entry {index} (commit {})",
                self.id.0,
                self.commit
            );
        }
        assert!(
            index > self.snap_index,
            "n{}: truncating compacted entry {index}",
            self.id.0
        );
        self.log.truncate((index - self.snap_index - 1) as usize);
        ctx.observe(Observation::Truncated { from: index });
        ctx.storage().remove_from(&Slot::Entry(index));
    }

    /// Makes every write durable before anything leaves the node.
    fn flush(ctx: &mut Context<'_, Self>) {
        if ctx.storage().unsynced_count() > 0 {
            ctx.sync();
        }
    }

    fn send(ctx: &mut Context<'_, Self>, to: NodeId, msg: Msg) {
        Self::flush(ctx);
        ctx.send(to, msg);
    }

    fn reply(ctx: &mut Context<'_, Self>, client: ClientId, request_id: RequestId, r: Response) {
        Self::flush(ctx);
        ctx.reply(client, request_id, r);
    }

    // ---- roles -----------------------------------------------------------------------------

    fn reset_election_timer(&mut self, ctx: &mut Context<'_, Self>) {
        if let Some(id) = self.election_timer.take() {
            ctx.cancel_timer(id);
        }
        let (lo, hi) = (
            self.params.election_timeout_min.0,
            self.params.election_timeout_max.0,
        );
        let delay = SimDuration(ctx.rng().range_inclusive(lo, hi));
        self.election_timer = Some(ctx.set_timer(delay, Timer::Election));
    }

    /// Sets the heartbeat timer of this term, replacing a pending one (a candidate's vote
    /// re-send timer when it becomes leader): one chain of heartbeats at a time.
    fn arm_heartbeat(&mut self, ctx: &mut Context<'_, Self>) {
        if let Some(id) = self.heartbeat_timer.take() {
            ctx.cancel_timer(id);
        }
        let id = ctx.set_timer(self.params.heartbeat, Timer::Heartbeat { term: self.term });
        self.heartbeat_timer = Some(id);
    }

    /// Adopts a higher term as a follower (rule 2). Persists unless `persist` is false (the
    /// `ForgetVote` bug).
    fn step_down(&mut self, ctx: &mut Context<'_, Self>, term: u64, persist: bool) {
        assert!(term > self.term);
        let was_leader = self.is_leader();
        if let Some(id) = self.heartbeat_timer.take() {
            ctx.cancel_timer(id);
        }
        self.term = term;
        self.voted_for = None;
        self.leader = None;
        self.role = Role::Follower;
        if persist {
            self.persist_term_vote(ctx);
        }
        if was_leader {
            ctx.observe(Observation::SteppedDown { term });
            // The requests it owed replies to may still commit: no answer (they time out).
            self.waiting.clear();
            self.reads.clear();
            self.reset_election_timer(ctx);
        }
        ctx.annotate(|| format!("term {term}: follower"));
    }

    /// Pre-vote (§9.6): asks every node whether it would vote for this one in the next term,
    /// without changing the term; only a majority of yeses starts a real election.
    fn start_pre_vote(&mut self, ctx: &mut Context<'_, Self>) {
        let n = ctx.node_count();
        if Self::majority(n) == 1 {
            self.start_election(ctx);
            return;
        }
        let mut granted = vec![false; n as usize];
        granted[self.id.index()] = true;
        self.role = Role::PreCandidate { granted };
        self.leader_contact = None;
        self.reset_election_timer(ctx);
        ctx.annotate(|| format!("term {}: pre-candidate", self.term));
        self.request_pre_votes(ctx);
        self.arm_heartbeat(ctx);
    }

    fn request_pre_votes(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::PreCandidate { granted } = &self.role else {
            return;
        };
        let ask: Vec<NodeId> = (0..ctx.node_count())
            .map(NodeId)
            .filter(|&p| p != self.id && !granted[p.index()])
            .collect();
        let msg = Msg::PreVote {
            term: self.term + 1,
            last_log_index: self.last_index(),
            last_log_term: self.last_term(),
        };
        for p in ask {
            Self::send(ctx, p, msg.clone());
        }
    }

    /// Pre-vote, voter side: a yes for a higher term and an up-to-date log, unless this node
    /// leads or has heard from a leader within the minimum election timeout (`now`, local ns).
    pub fn grants_pre_vote(
        &self,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        now: i64,
    ) -> bool {
        term > self.term
            && !self.heard_from_leader(now)
            && self.log_up_to_date(last_log_index, last_log_term)
    }

    /// Whether this node leads, or heard from a leader less than `election_timeout_min` ago
    /// (local clock `now`).
    pub fn heard_from_leader(&self, now: i64) -> bool {
        self.is_leader()
            || self
                .leader_contact
                .is_some_and(|t| now.saturating_sub(t) < self.params.election_timeout_min.0 as i64)
    }

    fn start_election(&mut self, ctx: &mut Context<'_, Self>) {
        self.term += 1;
        self.voted_for = Some(self.id);
        self.leader = None;
        self.persist_term_vote(ctx);
        let n = ctx.node_count();
        let mut granted = vec![false; n as usize];
        granted[self.id.index()] = true;
        self.role = Role::Candidate { granted };
        self.reset_election_timer(ctx);
        ctx.annotate(|| format!("term {}: candidate", self.term));
        if Self::majority(n) == 1 {
            self.become_leader(ctx);
            return;
        }
        self.request_votes(ctx);
        self.arm_heartbeat(ctx);
    }

    fn request_votes(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::Candidate { granted } = &self.role else {
            return;
        };
        let ask: Vec<NodeId> = (0..ctx.node_count())
            .map(NodeId)
            .filter(|&p| p != self.id && !granted[p.index()])
            .collect();
        let msg = Msg::RequestVote {
            term: self.term,
            last_log_index: self.last_index(),
            last_log_term: self.last_term(),
        };
        for p in ask {
            Self::send(ctx, p, msg.clone());
        }
    }

    fn become_leader(&mut self, ctx: &mut Context<'_, Self>) {
        let n = ctx.node_count() as usize;
        if let Some(id) = self.election_timer.take() {
            ctx.cancel_timer(id);
        }
        self.leader = Some(self.id);
        self.read_acked = vec![0; n];
        self.round_sent.clear();
        ctx.observe(Observation::BecameLeader { term: self.term });
        ctx.annotate(|| format!("term {}: leader", self.term));
        self.append(
            ctx,
            Entry {
                term: self.term,
                command: Command::Noop,
            },
        );
        let last = self.last_index();
        let mut matched = vec![0; n];
        matched[self.id.index()] = last;
        self.role = Role::Leader {
            next: vec![last; n],
            matched,
        };
        Self::flush(ctx);
        self.advance_commit(ctx);
        self.broadcast_append(ctx);
        self.arm_heartbeat(ctx);
    }

    // ---- replication -----------------------------------------------------------------------

    fn broadcast_append(&mut self, ctx: &mut Context<'_, Self>) {
        for p in 0..ctx.node_count() {
            if p != self.id.0 {
                self.send_append(ctx, NodeId(p));
            }
        }
    }

    fn send_append(&mut self, ctx: &mut Context<'_, Self>, to: NodeId) {
        let Role::Leader { next, .. } = &self.role else {
            return;
        };
        let next = next[to.index()];
        assert!(next >= 1 && next <= self.last_index() + 1);
        let prev_index = next - 1;
        if prev_index < self.snap_index {
            // §7: the follower needs entries this node has compacted.
            let msg = Msg::InstallSnapshot {
                term: self.term,
                snapshot: self.snapshot(),
            };
            Self::send(ctx, to, msg);
            return;
        }
        let end = (prev_index + u64::from(self.params.batch_max)).min(self.last_index());
        let base = self.snap_index;
        let entries = self.log[(prev_index - base) as usize..(end - base) as usize].to_vec();
        let msg = Msg::AppendEntries {
            term: self.term,
            prev_index,
            prev_term: self.term_at(prev_index),
            entries,
            leader_commit: self.commit,
        };
        Self::send(ctx, to, msg);
    }

    /// Rule 6: the highest index of the current term that a majority holds.
    fn advance_commit(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::Leader { matched, .. } = &self.role else {
            return;
        };
        let need = Self::majority(ctx.node_count());
        let by_count_only = self.bug(Bug::CommitPreviousTermByCount);
        let before = self.commit;
        self.commit = commit_target(
            &self.log,
            self.snap_index,
            self.term,
            self.commit,
            matched,
            need,
            by_count_only,
        );
        if self.commit > before {
            ctx.observe(Observation::Committed {
                index: self.commit,
                leader_term: self.term,
            });
        }
        self.apply_committed(ctx);
    }

    /// The consistency check (§5.3): `Ok` when the log holds the entry (`prev_index`,
    /// `prev_term`); otherwise the hint for fast backtracking — the term of the entry at
    /// `prev_index` and the first index holding that term, or `None` and the log length + 1 when
    /// the log is shorter.
    /// An entry at or before the snapshot's last index is committed, so it matches: `Ok`.
    pub fn check_prev(&self, prev_index: u64, prev_term: u64) -> Result<(), (Option<u64>, u64)> {
        if prev_index > self.last_index() {
            return Err((None, self.last_index() + 1));
        }
        if prev_index <= self.snap_index {
            return Ok(());
        }
        let term = self.term_at(prev_index);
        if term == prev_term {
            return Ok(());
        }
        let mut first = prev_index;
        while first > self.snap_index + 1 && self.term_at(first - 1) == term {
            first -= 1;
        }
        Err((Some(term), first))
    }

    /// Follower side of `AppendEntries`.
    #[allow(clippy::too_many_arguments)]
    fn on_append(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<Entry>,
        leader_commit: u64,
    ) {
        if term < self.term {
            ctx.annotate(|| format!("refused append of stale term {term}"));
            let reply = Msg::AppendReply {
                term: self.term,
                success: false,
                match_index: 0,
                conflict_term: None,
                conflict_index: 0,
            };
            Self::send(ctx, from, reply);
            return;
        }
        if term > self.term {
            self.step_down(ctx, term, true);
        }
        if self.is_leader() {
            // Two leaders in one term: only a bug gets here; the election-safety check reports it.
            ctx.annotate(|| format!("ignored append from n{}: I lead term {term}", from.0));
            return;
        }
        self.role = Role::Follower;
        self.leader = Some(from);
        self.leader_contact = Some(ctx.local_time().0);
        self.reset_election_timer(ctx);
        let start = if self.bug(Bug::NoConsistencyCheck) {
            prev_index.min(self.last_index())
        } else if let Err((conflict_term, conflict_index)) = self.check_prev(prev_index, prev_term)
        {
            let reply = Msg::AppendReply {
                term: self.term,
                success: false,
                match_index: 0,
                conflict_term,
                conflict_index,
            };
            Self::send(ctx, from, reply);
            return;
        } else {
            prev_index
        };
        let count = entries.len() as u64;
        for (k, entry) in entries.into_iter().enumerate() {
            let index = start + 1 + k as u64;
            if index <= self.snap_index {
                continue; // Compacted: committed, so it agrees.
            }
            if index <= self.last_index() {
                if self.term_at(index) == entry.term {
                    continue; // Already held: never truncate entries that agree.
                }
                self.truncate(ctx, index);
            }
            self.append(ctx, entry);
        }
        // Entries up to the snapshot are committed: the leader holds the same ones.
        let match_index = (start + count).max(self.snap_index);
        if leader_commit > self.commit {
            self.commit = self.commit.max(leader_commit.min(match_index));
        }
        let reply = Msg::AppendReply {
            term: self.term,
            success: true,
            match_index,
            conflict_term: None,
            conflict_index: 0,
        };
        Self::send(ctx, from, reply);
        self.apply_committed(ctx);
    }

    /// Leader side of an `AppendReply`.
    fn on_append_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        success: bool,
        match_index: u64,
        conflict_term: Option<u64>,
        conflict_index: u64,
    ) {
        let last = self.last_index();
        let my_next = {
            let Role::Leader { next, matched } = &mut self.role else {
                return;
            };
            let i = from.index();
            if success {
                if match_index > last {
                    // Only a follower without the consistency check can claim more than we hold.
                    return;
                }
                matched[i] = matched[i].max(match_index);
                next[i] = next[i].max(match_index + 1);
            } else {
                next[i] = next_after_refusal(
                    &self.log,
                    self.snap_index,
                    conflict_term,
                    conflict_index,
                    matched[i],
                );
            }
            next[i]
        };
        if success {
            self.advance_commit(ctx);
        }
        if !self.is_leader() {
            return;
        }
        if my_next <= self.last_index() || !success {
            self.send_append(ctx, from);
        }
    }

    // ---- state machine ---------------------------------------------------------------------

    fn apply_committed(&mut self, ctx: &mut Context<'_, Self>) {
        let commit = self.commit.min(self.last_index());
        if self.applied > commit {
            // Only a broken variant truncates applied entries; the checks report it.
            self.applied = commit;
        }
        while self.applied < commit {
            self.applied += 1;
            let index = self.applied;
            let entry = self.entry_at(index).clone();
            ctx.observe(Observation::Applied {
                index,
                term: entry.term,
                command_hash: stable_hash(&entry.command),
            });
            if let Command::Client {
                client,
                request_id,
                request,
            } = entry.command
            {
                let response = self.execute(client, request_id, request);
                if self.waiting.get(&client) == Some(&request_id) {
                    self.waiting.remove(&client);
                    if let Some(r) = response {
                        Self::reply(ctx, ClientId(client), request_id, r);
                    }
                }
            }
        }
        self.maybe_compact(ctx);
        self.serve_reads(ctx);
    }

    // ---- ReadIndex (thesis §6.4) -------------------------------------------------------------

    /// Records the read at the current commit index and starts a confirmation round.
    fn start_read(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        key: Key,
    ) {
        self.reads.push(PendingRead {
            client,
            request_id,
            key,
            read_index: self.commit,
            round: self.read_round + 1,
        });
        self.probe_round(ctx);
        self.serve_reads(ctx);
    }

    /// Starts a confirmation round: every other node is asked to acknowledge it.
    fn probe_round(&mut self, ctx: &mut Context<'_, Self>) {
        self.read_round += 1;
        if self.params.lease().is_some() {
            self.round_sent
                .push_back((self.read_round, ctx.local_time().0));
            if self.round_sent.len() > ROUNDS_KEPT {
                self.round_sent.pop_front();
            }
        }
        let n = ctx.node_count() as usize;
        if self.read_acked.len() != n {
            self.read_acked = vec![0; n];
        }
        let msg = Msg::ReadProbe {
            term: self.term,
            round: self.read_round,
        };
        for p in 0..ctx.node_count() {
            if p != self.id.0 {
                Self::send(ctx, NodeId(p), msg.clone());
            }
        }
    }

    /// Is `round` acknowledged by a majority (this node included)?
    fn round_confirmed(&self, round: u64, n: u32) -> bool {
        let acks = 1 + self
            .read_acked
            .iter()
            .enumerate()
            .filter(|&(p, &r)| p != self.id.index() && r >= round)
            .count();
        acks >= Self::majority(n)
    }

    /// Leases: until when (local clock) this leader may answer reads without a round — the
    /// send time of the latest round a majority acknowledged, plus the lease. `None`: no lease.
    fn lease_until(&self, n: u32) -> Option<i64> {
        let lease = self.params.lease()?;
        let (_, sent) = self
            .round_sent
            .iter()
            .rev()
            .find(|(round, _)| self.round_confirmed(*round, n))?;
        Some(sent.saturating_add(lease.0 as i64))
    }

    /// Answers the reads whose round is confirmed and whose index is applied.
    fn serve_reads(&mut self, ctx: &mut Context<'_, Self>) {
        if !self.is_leader() || self.reads.is_empty() {
            return;
        }
        let n = ctx.node_count();
        let mut rest = Vec::new();
        for read in std::mem::take(&mut self.reads) {
            if self.round_confirmed(read.round, n) && self.applied >= read.read_index {
                let value = self.store.read(read.key);
                Self::reply(ctx, read.client, read.request_id, value);
            } else {
                rest.push(read);
            }
        }
        self.reads = rest;
    }

    // ---- log compaction (§7) -----------------------------------------------------------------

    /// The state machine as of `applied`, which must be the snapshot's last index.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            last_index: self.snap_index,
            last_term: self.snap_term,
            store: self.snap_store.clone(),
        }
    }

    /// Snapshots the state machine once `snapshot_threshold` entries are applied beyond the
    /// last snapshot, and drops them from the log.
    fn maybe_compact(&mut self, ctx: &mut Context<'_, Self>) {
        let threshold = self.params.snapshot_threshold;
        if threshold == 0 || self.applied - self.snap_index < threshold {
            return;
        }
        let last_index = self.applied;
        let last_term = self.term_at(last_index);
        let from = self.snap_index + 1;
        self.log.drain(..(last_index - self.snap_index) as usize);
        self.snap_index = last_index;
        self.snap_term = last_term;
        self.snap_store = self.store.clone();
        self.persist_snapshot(ctx, from, last_index);
        ctx.observe(Observation::Snapshotted {
            last_index,
            last_term,
            installed: false,
        });
        ctx.annotate(|| format!("snapshot up to {last_index} (term {last_term})"));
    }

    /// Writes the snapshot and removes the entries `from..=to` it covers (synced before the next
    /// send; one sync makes both durable at once).
    fn persist_snapshot(&mut self, ctx: &mut Context<'_, Self>, from: u64, to: u64) {
        let snapshot = self.snapshot();
        ctx.storage()
            .put(Slot::Snapshot, Stored::Snapshot(snapshot));
        for i in from..=to {
            ctx.storage().remove(&Slot::Entry(i));
        }
    }

    /// Follower side of `InstallSnapshot` (§7): keeps the log suffix that follows the
    /// snapshot's last entry if it holds that entry, otherwise discards the whole log; the
    /// state machine becomes the snapshot's.
    fn on_install_snapshot(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        snapshot: Snapshot,
    ) {
        if term < self.term {
            Self::send(
                ctx,
                from,
                Msg::SnapshotReply {
                    term: self.term,
                    last_index: 0,
                },
            );
            return;
        }
        if term > self.term {
            self.step_down(ctx, term, true);
        }
        if self.is_leader() {
            return;
        }
        self.role = Role::Follower;
        self.leader = Some(from);
        self.leader_contact = Some(ctx.local_time().0);
        self.reset_election_timer(ctx);
        let last_index = snapshot.last_index;
        if last_index > self.commit {
            let old_first = self.snap_index + 1;
            let old_last = self.last_index();
            let keep = last_index < old_last && self.term_at(last_index) == snapshot.last_term;
            if keep {
                self.log.drain(..(last_index - self.snap_index) as usize);
            } else {
                self.log.clear();
                // The whole old log goes: entries past the snapshot too.
                ctx.storage().remove_from(&Slot::Entry(last_index + 1));
            }
            self.snap_index = last_index;
            self.snap_term = snapshot.last_term;
            self.store = snapshot.store.clone();
            self.snap_store = snapshot.store;
            self.commit = last_index;
            self.applied = last_index;
            self.persist_snapshot(ctx, old_first, last_index.min(old_last));
            // For the log checks: the log is now the kept suffix after the snapshot's prefix.
            ctx.observe(Observation::Truncated { from: 1 });
            for (k, e) in self.log.iter().enumerate() {
                ctx.observe(Observation::Appended {
                    index: self.snap_index + k as u64 + 1,
                    term: e.term,
                    command_hash: stable_hash(&e.command),
                });
            }
            ctx.observe(Observation::Snapshotted {
                last_index,
                last_term: self.snap_term,
                installed: true,
            });
            ctx.annotate(|| format!("installed snapshot up to {last_index}"));
        }
        Self::send(
            ctx,
            from,
            Msg::SnapshotReply {
                term: self.term,
                last_index,
            },
        );
    }

    /// Applies a client command once: a retry gets the recorded response, an older request
    /// nothing.
    fn execute(
        &mut self,
        client: u32,
        request_id: RequestId,
        request: Request,
    ) -> Option<Response> {
        self.store.execute(client, request_id, &request)
    }

    /// Is the request in the part of the log not applied yet?
    fn pending_in_log(&self, client: u32, request_id: RequestId) -> bool {
        self.log[(self.applied - self.snap_index) as usize..]
            .iter()
            .any(|e| {
                matches!(&e.command, Command::Client { client: c, request_id: r, .. }
                if *c == client && *r == request_id)
            })
    }

    fn assert_invariants(&self) {
        if self.params.bug.is_some() {
            // A broken variant may break these; the checks report what it does.
            return;
        }
        assert!(self.applied <= self.commit);
        assert!(self.applied <= self.last_index());
        assert!(
            self.last_term() <= self.term,
            "n{}: log ahead of term",
            self.id.0
        );
        // Terms never decrease along the log (checked on the tail only: cheap).
        let n = self.log.len();
        if n >= 2 {
            assert!(
                self.log[n - 2].term <= self.log[n - 1].term,
                "n{}: log terms decrease",
                self.id.0
            );
        }
    }
}

impl Process for Raft {
    type Msg = Msg;
    type Timer = Timer;
    type StoreKey = Slot;
    type StoreValue = Stored;
    type Observation = Observation;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.reset_election_timer(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::RequestVote {
                term,
                last_log_index,
                last_log_term,
            } => {
                if self.params.lease().is_some() && self.heard_from_leader(ctx.local_time().0) {
                    // Leases (thesis §4.2.3, §6.4.1): within the minimum election timeout of
                    // hearing from a leader, neither adopt the term nor vote: that leader may
                    // be serving reads under a lease this node's acknowledgement granted.
                    let refuse = Msg::Vote {
                        term: self.term,
                        granted: false,
                    };
                    Self::send(ctx, from, refuse);
                    return;
                }
                let persist = !self.bug(Bug::ForgetVote);
                if term > self.term {
                    self.step_down(ctx, term, persist);
                }
                let granted = self.grants_vote(from, term, last_log_index, last_log_term);
                if granted {
                    self.voted_for = Some(from);
                    if persist {
                        self.persist_term_vote(ctx);
                    }
                    self.reset_election_timer(ctx);
                }
                Self::send(
                    ctx,
                    from,
                    Msg::Vote {
                        term: self.term,
                        granted,
                    },
                );
            }
            Msg::Vote { term, granted } => {
                if term > self.term {
                    self.step_down(ctx, term, true);
                    return;
                }
                if term < self.term || !granted {
                    return;
                }
                let Role::Candidate { granted: votes } = &mut self.role else {
                    return;
                };
                votes[from.index()] = true;
                let count = votes.iter().filter(|&&g| g).count();
                if count >= Self::majority(ctx.node_count()) {
                    self.become_leader(ctx);
                }
            }
            Msg::AppendEntries {
                term,
                prev_index,
                prev_term,
                entries,
                leader_commit,
            } => self.on_append(
                ctx,
                from,
                term,
                prev_index,
                prev_term,
                entries,
                leader_commit,
            ),
            Msg::PreVote {
                term,
                last_log_index,
                last_log_term,
            } => {
                let now = ctx.local_time().0;
                let granted = self.grants_pre_vote(term, last_log_index, last_log_term, now);
                Self::send(ctx, from, Msg::PreVoteReply { term, granted });
            }
            Msg::PreVoteReply { term, granted } => {
                if !granted || term != self.term + 1 {
                    return;
                }
                let Role::PreCandidate { granted: votes } = &mut self.role else {
                    return;
                };
                votes[from.index()] = true;
                let count = votes.iter().filter(|&&g| g).count();
                if count >= Self::majority(ctx.node_count()) {
                    self.start_election(ctx);
                }
            }
            Msg::InstallSnapshot { term, snapshot } => {
                self.on_install_snapshot(ctx, from, term, snapshot)
            }
            Msg::ReadProbe { term, round } => {
                if term > self.term {
                    self.step_down(ctx, term, true);
                }
                if term == self.term && !self.is_leader() {
                    // The leader of this term: as good as a heartbeat.
                    self.role = Role::Follower;
                    self.leader = Some(from);
                    self.leader_contact = Some(ctx.local_time().0);
                    self.reset_election_timer(ctx);
                }
                let ack = Msg::ReadAck {
                    term: self.term,
                    round,
                };
                Self::send(ctx, from, ack);
            }
            Msg::ReadAck { term, round } => {
                if term > self.term {
                    self.step_down(ctx, term, true);
                } else if term == self.term && self.is_leader() {
                    let i = from.index();
                    if i < self.read_acked.len() {
                        self.read_acked[i] = self.read_acked[i].max(round);
                    }
                    self.serve_reads(ctx);
                }
            }
            Msg::SnapshotReply { term, last_index } => {
                if term > self.term {
                    self.step_down(ctx, term, true);
                } else if term == self.term && last_index <= self.last_index() {
                    if let Role::Leader { next, matched } = &mut self.role {
                        let i = from.index();
                        matched[i] = matched[i].max(last_index);
                        next[i] = next[i].max(last_index + 1);
                    }
                    if self.is_leader() {
                        self.advance_commit(ctx);
                        self.send_append(ctx, from);
                    }
                }
            }
            Msg::AppendReply {
                term,
                success,
                match_index,
                conflict_term,
                conflict_index,
            } => {
                if term > self.term {
                    self.step_down(ctx, term, true);
                } else if term == self.term {
                    self.on_append_reply(
                        ctx,
                        from,
                        success,
                        match_index,
                        conflict_term,
                        conflict_index,
                    );
                }
            }
        }
        self.assert_invariants();
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Election => {
                self.election_timer = None;
                if self.params.pre_vote && !matches!(self.role, Role::Leader { .. }) {
                    self.start_pre_vote(ctx);
                } else if !self.is_leader() {
                    self.start_election(ctx);
                }
            }
            Timer::Heartbeat { term } if term == self.term => {
                self.heartbeat_timer = None; // This one fired.
                match self.role {
                    Role::Leader { .. } => {
                        // Leases are renewed by a round every heartbeat; ReadIndex re-sends its
                        // round while reads wait (probes or acknowledgements were lost).
                        if !self.reads.is_empty() || self.params.lease().is_some() {
                            self.probe_round(ctx);
                        }
                        self.broadcast_append(ctx);
                        self.arm_heartbeat(ctx);
                    }
                    Role::Candidate { .. } => {
                        self.request_votes(ctx);
                        self.arm_heartbeat(ctx);
                    }
                    Role::PreCandidate { .. } => {
                        self.request_pre_votes(ctx);
                        self.arm_heartbeat(ctx);
                    }
                    Role::Follower => {}
                }
            }
            Timer::Heartbeat { .. } => {}
        }
        self.assert_invariants();
    }

    fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        if matches!(request, Request::Broadcast { .. } | Request::ReadSet) {
            ctx.reply(client, request_id, Response::Unsupported);
            return;
        }
        match self.store.seen(client.0, request_id) {
            // Applied already: the recorded response.
            Seen::Answered(response) => return Self::reply(ctx, client, request_id, response),
            Seen::Stale => {
                ctx.annotate(|| format!("ignored {client} request {request_id}: superseded"));
                return;
            }
            Seen::New => {}
        }
        let pending = self.pending_in_log(client.0, request_id);
        if !self.is_leader() {
            match self.leader {
                _ if pending => {
                    // It may still commit: a redirect would promise it did not take effect.
                    ctx.annotate(|| {
                        format!("{client} request {request_id} is in my log: no answer")
                    });
                }
                Some(leader) => Self::reply(
                    ctx,
                    client,
                    request_id,
                    Response::Redirect {
                        leader: Some(leader),
                    },
                ),
                None => {
                    // No leader known (an election is under way). A `Redirect { leader: None }`
                    // sends the client round the cluster, and after `REDIRECTS_MAX` of them it
                    // records a definite failure — which a duplicated copy of the request,
                    // delivered later to the new leader, can contradict. Silence instead: the
                    // client times out and the outcome stays indeterminate.
                    ctx.annotate(|| format!("{client} request {request_id}: no leader known"));
                }
            }
            return;
        }
        if let Request::Get { key } = request {
            // Off the log once an entry of this term (the no-op) is committed; before that,
            // the read goes through the log.
            if self.params.reads.off_log() && self.term_at(self.commit) == self.term {
                // A lease: answer now, from everything committed so far.
                let now = ctx.local_time().0;
                if self.applied >= self.commit
                    && self
                        .lease_until(ctx.node_count())
                        .is_some_and(|until| now < until)
                {
                    let value = self.store.read(key);
                    Self::reply(ctx, client, request_id, value);
                    return;
                }
                self.start_read(ctx, client, request_id, key);
                self.assert_invariants();
                return;
            }
        }
        self.waiting.insert(client.0, request_id);
        if !pending {
            self.append(
                ctx,
                Entry {
                    term: self.term,
                    command: Command::Client {
                        client: client.0,
                        request_id,
                        request,
                    },
                },
            );
            let last = self.last_index();
            if let Role::Leader { matched, .. } = &mut self.role {
                matched[self.id.index()] = last;
            }
            Self::flush(ctx);
            self.advance_commit(ctx);
            self.broadcast_append(ctx);
        }
        self.assert_invariants();
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        let durable = ctx.storage().entries();
        for (slot, stored) in durable {
            match (slot, stored) {
                (Slot::Term, Stored::Term(t)) => self.term = t,
                (Slot::Vote, Stored::Vote(v)) => self.voted_for = v,
                (Slot::Snapshot, Stored::Snapshot(snap)) => {
                    self.snap_index = snap.last_index;
                    self.snap_term = snap.last_term;
                    self.store = snap.store.clone();
                    self.snap_store = snap.store;
                    self.commit = self.snap_index;
                    self.applied = self.snap_index;
                }
                (Slot::Entry(i), Stored::Entry(_)) if i <= self.snap_index => {
                    panic!("n{}: entry {i} survived its snapshot", self.id.0)
                }
                (Slot::Entry(i), Stored::Entry(e)) => {
                    assert_eq!(
                        i,
                        self.last_index() + 1,
                        "n{}: a hole in the log",
                        self.id.0
                    );
                    self.log.push(e);
                }
                (slot, stored) => panic!("n{}: {slot:?} holds {stored:?}", self.id.0),
            }
        }
        ctx.observe(Observation::Recovered {
            term: self.term,
            log_len: self.last_index(),
        });
        ctx.observe(Observation::Truncated { from: 1 });
        for (k, e) in self.log.iter().enumerate() {
            ctx.observe(Observation::Appended {
                index: self.snap_index + k as u64 + 1,
                term: e.term,
                command_hash: stable_hash(&e.command),
            });
        }
        if self.snap_index > 0 {
            ctx.observe(Observation::Snapshotted {
                last_index: self.snap_index,
                last_term: self.snap_term,
                installed: false,
            });
        }
        if self.params.lease().is_some() {
            // It may have acknowledged a leader's round just before it crashed, granting a
            // lease it no longer remembers: wait out a whole lease before voting.
            self.leader_contact = Some(ctx.local_time().0);
        }
        self.reset_election_timer(ctx);
        self.assert_invariants();
    }
}

/// Leader, rule 6: the new commit index — the highest index above `commit` that at least
/// `need` nodes hold (`matched`, the leader's own log length included) and whose entry is of
/// the current `term` (Figure 8). `by_count_only` drops the term condition (the
/// `CommitPreviousTermByCount` bug).
pub fn commit_target(
    log: &[Entry],
    base: u64,
    term: u64,
    commit: u64,
    matched: &[u64],
    need: usize,
    by_count_only: bool,
) -> u64 {
    let mut n = base + log.len() as u64;
    while n > commit.max(base) {
        let entry_term = log[(n - base - 1) as usize].term;
        if entry_term != term && !by_count_only {
            // Entries of earlier terms are committed only through one of this term; the
            // terms along the log never decrease, so no lower index is of this term either.
            break;
        }
        if matched.iter().filter(|&&m| m >= n).count() >= need {
            return n;
        }
        n -= 1;
    }
    commit
}

/// Leader, fast backtracking (§5.3): the next index to try after a follower refused with the
/// hint (`conflict_term`, `conflict_index`). If the leader holds entries of the conflicting term,
/// it resumes after its last one; otherwise at the first index the follower holds of that term
/// (or its log length + 1). Never at or below what the follower is known to match, never past
/// the end of the log.
pub fn next_after_refusal(
    log: &[Entry],
    base: u64,
    conflict_term: Option<u64>,
    conflict_index: u64,
    matched: u64,
) -> u64 {
    let mut n = conflict_index;
    if let Some(ct) = conflict_term {
        if let Some(pos) = log.iter().rposition(|e| e.term == ct) {
            n = base + pos as u64 + 2;
        }
    }
    n.clamp(matched + 1, base + log.len() as u64 + 1)
}

// ---- checks ---------------------------------------------------------------------------------

/// `election-safety`: at most one node becomes leader in any term.
pub fn check_election_safety(result: &RunResult<Observation>) -> CheckResult {
    let mut leaders: BTreeMap<u64, (NodeId, sim_core::SimTime)> = BTreeMap::new();
    for o in &result.observations {
        let Observation::BecameLeader { term } = o.value else {
            continue;
        };
        match leaders.get(&term) {
            Some(&(node, time)) if node != o.node => {
                return CheckResult::new(
                    "election-safety",
                    Verdict::Fail,
                    format!(
                        "two leaders in term {term}: n{} at {time} and n{} at {} (reproduce with seed {})",
                        node.0, o.node.0, o.time, result.seed
                    ),
                )
                .metric("term", term as f64);
            }
            Some(_) => {}
            None => {
                leaders.insert(term, (o.node, o.time));
            }
        }
    }
    CheckResult::new(
        "election-safety",
        Verdict::Pass,
        format!("{} terms had a leader, one each", leaders.len()),
    )
    .metric("terms_with_leader", leaders.len() as f64)
}

/// `state-machine-safety`: no two nodes apply different entries at the same index.
pub fn check_state_machine_safety(result: &RunResult<Observation>) -> CheckResult {
    let mut at: BTreeMap<u64, (u64, u64, NodeId, sim_core::SimTime)> = BTreeMap::new();
    let mut applies = 0u64;
    for o in &result.observations {
        let Observation::Applied {
            index,
            term,
            command_hash,
        } = o.value
        else {
            continue;
        };
        applies += 1;
        match at.get(&index) {
            Some(&(t, h, node, time)) if (t, h) != (term, command_hash) => {
                return CheckResult::new(
                    "state-machine-safety",
                    Verdict::Fail,
                    format!(
                        "index {index}: n{} applied an entry of term {t} at {time}, n{} one of term {term} at {}{} (reproduce with seed {})",
                        node.0,
                        o.node.0,
                        o.time,
                        if t == term { " with a different command" } else { "" },
                        result.seed
                    ),
                )
                .metric("index", index as f64);
            }
            Some(_) => {}
            None => {
                at.insert(index, (term, command_hash, o.node, o.time));
            }
        }
    }
    CheckResult::new(
        "state-machine-safety",
        Verdict::Pass,
        format!(
            "{} indices applied ({applies} applications), every node applied the same entry at each",
            at.len()
        ),
    )
    .metric("indices_applied", at.len() as f64)
}

// ---- log-matching, leader-completeness, liveness ---------------------------------------------

/// A node's log as the checks rebuild it: per index, a hash chained over the whole prefix
/// (equal chains: equal logs up to that index); `None` where the prefix is unknown (an entry
/// reported past the end of the rebuilt log, e.g. after a snapshot was installed).
type ReplayedLog = Vec<Option<u64>>;

/// Every node's log rebuilt from the `Appended`/`Truncated` observations.
struct LogReplay {
    logs: Vec<ReplayedLog>,
}

impl LogReplay {
    fn new(nodes: u32) -> LogReplay {
        LogReplay {
            logs: vec![Vec::new(); nodes as usize],
        }
    }

    fn log(&self, node: NodeId) -> &[Option<u64>] {
        self.logs.get(node.index()).map_or(&[], |l| l.as_slice())
    }

    /// Applies one observation; returns the (index, term, chain) of an appended entry.
    fn step(&mut self, node: NodeId, o: &Observation) -> Option<(u64, u64, Option<u64>)> {
        let i = node.index();
        if i >= self.logs.len() {
            self.logs.resize(i + 1, Vec::new());
        }
        let log = &mut self.logs[i];
        match *o {
            Observation::Appended {
                index,
                term,
                command_hash,
            } => {
                let at = index.saturating_sub(1) as usize;
                let prev = if log.len() >= at {
                    log.truncate(at);
                    log.last().copied().unwrap_or(Some(0))
                } else {
                    log.resize(at, None);
                    None
                };
                let chain = prev.map(|p| stable_hash(&(p, at, term, command_hash)));
                log.push(chain);
                Some((index, term, chain))
            }
            Observation::Truncated { from } => {
                log.truncate(from.saturating_sub(1) as usize);
                None
            }
            Observation::Snapshotted { last_index, .. } => {
                if (log.len() as u64) < last_index {
                    log.resize(last_index as usize, None);
                }
                None
            }
            _ => None,
        }
    }
}

/// `log-matching`: whenever two nodes' logs hold an entry with the same index and term, the
/// logs are identical up to that index (checked on a hash chained over each log's prefix, each
/// time an entry is appended).
pub fn check_log_matching(result: &RunResult<Observation>) -> CheckResult {
    let mut replay = LogReplay::new(result.node_count);
    let mut seen: BTreeMap<(u64, u64), (u64, NodeId, sim_core::SimTime)> = BTreeMap::new();
    let mut appends = 0u64;
    for o in &result.observations {
        let Some((index, term, Some(chain))) = replay.step(o.node, &o.value) else {
            continue;
        };
        appends += 1;
        match seen.get(&(index, term)) {
            Some(&(c, node, time)) if c != chain => {
                return CheckResult::new(
                    "log-matching",
                    Verdict::Fail,
                    format!(
                        "index {index}, term {term}: n{} held such an entry at {time} and n{} at {}, but their logs differ before it (reproduce with seed {})",
                        node.0, o.node.0, o.time, result.seed
                    ),
                )
                .metric("index", index as f64);
            }
            Some(_) => {}
            None => {
                seen.insert((index, term), (chain, o.node, o.time));
            }
        }
    }
    CheckResult::new(
        "log-matching",
        Verdict::Pass,
        format!(
            "{} distinct (index, term) entries over {appends} appends; logs agree before each",
            seen.len()
        ),
    )
    .metric("entries", seen.len() as f64)
}

/// `leader-completeness`: every entry committed by the leader of a term is in the log of the
/// leader of every later term when it takes office.
pub fn check_leader_completeness(result: &RunResult<Observation>) -> CheckResult {
    let mut replay = LogReplay::new(result.node_count);
    // Per leader term: the highest index committed, its prefix chain, who and when.
    let mut committed: BTreeMap<u64, (u64, u64, NodeId, sim_core::SimTime)> = BTreeMap::new();
    let mut leaders: Vec<(u64, NodeId, sim_core::SimTime, ReplayedLog)> = Vec::new();
    for o in &result.observations {
        replay.step(o.node, &o.value);
        match o.value {
            Observation::Committed { index, leader_term } => {
                let log = replay.log(o.node);
                let Some(&held) = log.get(index.saturating_sub(1) as usize) else {
                    return CheckResult::new(
                        "leader-completeness",
                        Verdict::Fail,
                        format!(
                            "n{} committed index {index} in term {leader_term} at {} but holds only {} entries (reproduce with seed {})",
                            o.node.0,
                            o.time,
                            log.len(),
                            result.seed
                        ),
                    );
                };
                let Some(chain) = held else {
                    continue; // The committing leader's prefix is unknown.
                };
                let e = committed
                    .entry(leader_term)
                    .or_insert((index, chain, o.node, o.time));
                if index > e.0 {
                    *e = (index, chain, o.node, o.time);
                }
            }
            Observation::BecameLeader { term } => {
                leaders.push((term, o.node, o.time, replay.log(o.node).to_vec()));
            }
            _ => {}
        }
    }
    for (term, node, time, log) in &leaders {
        for (&lt, &(index, chain, cnode, ctime)) in committed.range(..*term) {
            let held = log.get(index.saturating_sub(1) as usize).copied();
            if held == Some(None) {
                continue; // Unknown prefix: cannot tell.
            }
            if held != Some(Some(chain)) {
                return CheckResult::new(
                    "leader-completeness",
                    Verdict::Fail,
                    format!(
                        "n{} committed up to index {index} in term {lt} at {ctime}, but n{} took office in term {term} at {time} {} (reproduce with seed {})",
                        cnode.0,
                        node.0,
                        if log.len() < index as usize {
                            format!("with only {} entries", log.len())
                        } else {
                            "with a different log up to that index".to_string()
                        },
                        result.seed
                    ),
                )
                .metric("term", *term as f64)
                .metric("index", index as f64);
            }
        }
    }
    CheckResult::new(
        "leader-completeness",
        Verdict::Pass,
        format!(
            "{} leaders took office holding every entry committed in earlier terms ({} terms committed)",
            leaders.len(),
            committed.len()
        ),
    )
    .metric("leaders", leaders.len() as f64)
}

/// `liveness` (see [`sim_core::check::liveness`]): after the last heal a leader is in office within
/// `within` — elected in the window, or elected earlier and neither stepped down nor crashed —
/// and the operations invoked from then on complete.
pub fn check_liveness(
    result: &RunResult<Observation>,
    within: SimDuration,
    min_answered: f64,
) -> CheckResult {
    sim_core::check::liveness::check_liveness(
        result,
        within,
        min_answered,
        Raft::TERM,
        Raft::leadership,
    )
}

// Registration: what scenarios name and check (see `sim_core::Protocol`).

impl Protocol for Raft {
    const NAME: &'static str = "Raft";
    const CLI_NAME: &'static str = "raft";
    const SUMMARY: &'static str = "Raft consensus (leader election, log replication, Figure 8 commit rule) replicating a key-value store";
    const SERVICES: &'static [Service] = &[Service::KeyValue];
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> Raft {
        Raft::new(id, params)
    }

    fn validate(p: &Params, config: &SimConfig) -> Result<(), FieldError> {
        kit::timing::validate(
            "raft",
            p.election_timeout_min,
            p.election_timeout_max,
            p.heartbeat,
        )?;
        if p.batch_max == 0 {
            return Err(FieldError::new(
                "batch_max",
                "raft `batch_max` is `0`: no entry would ever be replicated",
            )
            .hint("write e.g. `batch_max: 64`"));
        }
        let lease_ok = !matches!(p.reads, Reads::Lease { drift_ppm } if drift_ppm >= 100_000);
        if let Err(e) = p.validate() {
            // The checks above leave two rules: snapshots with bug switches, and the lease bound.
            return Err(if lease_ok {
                FieldError::new("", e).hint("a bug scenario keeps whole logs (the checks replay them): leave `snapshot_threshold` out")
            } else {
                FieldError::new("reads", e).hint(
                    "the bound is in parts per million: real clocks drift by tens to hundreds",
                )
            });
        }
        lease_bounds(p, config)
    }

    fn checks(list: &mut impl CheckList<Self>) {
        list.add::<Linearizable>();
        list.add::<ElectionSafety>();
        list.add::<StateMachineSafety>();
        list.add::<LogMatching>();
        list.add::<LeaderCompleteness>();
        list.add::<Liveness>();
    }

    fn default_params() -> Option<Params> {
        Some(Params::default())
    }
}

/// Lease reads are safe only within their clock bound: every node's drift at most the lease's
/// `drift_ppm`, and no clock jumps (scheduled or from the nemesis).
fn lease_bounds(p: &Params, config: &SimConfig) -> Result<(), FieldError> {
    let Reads::Lease { drift_ppm } = p.reads else {
        return Ok(());
    };
    let drift = config.clocks.drift_ppm_max;
    if drift > drift_ppm {
        return Err(FieldError::in_scenario(
            "clocks.drift_ppm_max",
            format!("`clocks.drift_ppm_max` is `{drift}`, above the lease's bound `drift_ppm: {drift_ppm}`"),
        )
        .hint("a lease is only safe if every clock keeps within its drift bound: raise `drift_ppm` or lower the drift"));
    }
    let jumps =
        "lease reads need clocks that only drift; use `reads: ReadIndex` to test clock jumps";
    if let Some(j) = config
        .nemesis
        .as_ref()
        .and_then(|n| n.kinds.iter().position(|k| *k == FaultKind::ClockJump))
    {
        return Err(FieldError::in_scenario(
            format!("nemesis.kinds[{j}]"),
            "the nemesis jumps clocks, which breaks the lease's clock bound",
        )
        .hint(jumps));
    }
    if let Some(i) = config
        .faults
        .iter()
        .position(|f| matches!(f.fault, Fault::ClockJump(..)))
    {
        return Err(FieldError::in_scenario(
            format!("faults[{i}].fault"),
            "a clock jump breaks the lease's clock bound",
        )
        .hint(jumps));
    }
    Ok(())
}

impl LeaderBased for Raft {
    const TERM: &'static str = "term";
    fn leadership(o: &Observation) -> Option<Leadership> {
        match o {
            Observation::BecameLeader { term } => Some(Leadership::Gained(*term)),
            Observation::SteppedDown { .. } => Some(Leadership::Lost),
            _ => None,
        }
    }
}

sim_core::check_from_fn!(
    /// Election safety (Figure 3): at most one leader per term.
    pub ElectionSafety, "election-safety", "at most one leader per term",
    Raft, check_election_safety
);
sim_core::check_from_fn!(
    /// State-machine safety: no two nodes apply different entries at the same log index.
    pub StateMachineSafety, "state-machine-safety",
    "no two nodes apply different entries at the same log index",
    Raft, check_state_machine_safety
);
sim_core::check_from_fn!(
    /// Log matching: two logs holding an entry with the same index and term agree up to it.
    pub LogMatching, "log-matching",
    "two logs holding an entry with the same index and term agree up to it",
    Raft, check_log_matching
);
sim_core::check_from_fn!(
    /// Leader completeness: every entry committed in a term is in the log of every later
    /// term's leader.
    pub LeaderCompleteness, "leader-completeness",
    "every entry committed in a term is in the log of every later term's leader",
    Raft, check_leader_completeness
);

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(r.execute(0, 1, put.clone()), Some(Response::Ok));
        let cas = Request::Cas {
            key: 1,
            expected: Some(7),
            new: 9,
        };
        assert_eq!(r.execute(0, 2, cas.clone()), Some(Response::Ok));
        // The retry gets the recorded reply, not a second evaluation (which would fail now).
        r.store.apply(&Request::Put { key: 1, value: 3 });
        assert_eq!(r.execute(0, 2, cas), Some(Response::Ok));
        // An older request is ignored.
        assert_eq!(r.execute(0, 1, put), None);
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
}
