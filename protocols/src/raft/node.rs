//! One Raft node: its durable and volatile state, its roles, and the dispatch of each event
//! (message, timer, client request, restart) to the handler that owns it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use sim_core::{ClientId, Context, Key, KvStore, NodeId, Process, Request, RequestId};

use crate::kit::timing::Timers;

use super::params::{Bug, Params};
use super::situations;
use super::types::{Command, Entry, Msg, Observation, Record, Slot, Timer};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Role {
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
        /// Per node: what is in flight to it (see `progress`).
        flight: Vec<Flight>,
    },
}

/// What the leader has in flight to one follower (etcd's progress states): while `probe`, it
/// does not know where the follower's log matches its own and sends one `AppendEntries` at a
/// time, waiting for the answer; once a reply confirms a match it *replicates*, sending each
/// new entry once, optimistically advancing `next` past what is in flight. `sent`: the local
/// time (ns) entries were last sent or acknowledged while some are unacknowledged — after
/// `retransmit` without progress, the leader sends them again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Flight {
    pub(super) probe: bool,
    pub(super) sent: Option<i64>,
}

/// One Raft node.
pub struct Raft {
    pub(super) id: NodeId,
    pub(super) params: Params,
    // Durable (mirrored in storage).
    pub(super) term: u64,
    pub(super) voted_for: Option<NodeId>,
    /// `log[i - snap_index - 1]` is the entry at index `i`.
    pub(super) log: Vec<Entry>,
    /// The last index and term the snapshot covers (0, 0: none).
    pub(super) snap_index: u64,
    pub(super) snap_term: u64,
    // Volatile.
    pub(super) role: Role,
    /// The leader of the current term, when known.
    pub(super) leader: Option<NodeId>,
    /// Local time (ns) a leader was last heard from (pre-vote: refuse while it is recent).
    pub(super) leader_contact: Option<i64>,
    pub(super) commit: u64,
    pub(super) applied: u64,
    /// The election timer and the one pending heartbeat (leader) or vote re-send (candidate)
    /// timer.
    pub(super) timers: Timers,
    /// The key-value state machine with its client sessions (deduplication).
    pub(super) store: KvStore,
    /// The state machine as of `snap_index` (sent in `InstallSnapshot`).
    pub(super) snap_store: KvStore,
    /// Leader: per client, the request it owes a reply once applied.
    pub(super) waiting: BTreeMap<u32, RequestId>,
    /// Leader, ReadIndex: reads waiting for confirmation and for the state machine.
    pub(super) reads: Vec<PendingRead>,
    /// Leader, ReadIndex: the last confirmation round started, and per node the highest round
    /// it acknowledged in this term.
    pub(super) read_round: u64,
    pub(super) read_acked: Vec<u64>,
    /// Leases: when (local clock) each recent round was sent, oldest first.
    pub(super) round_sent: VecDeque<(u64, i64)>,
    /// Storage-aware recovery: the indices of log entries whose contents the disk damaged
    /// (their identity, index and term, is intact); never applied, sent or acknowledged until
    /// repaired.
    pub(super) damaged: BTreeSet<u64>,
    /// Per damaged index: the nodes that answered they hold no copy of it, in a term above
    /// the entry's.
    pub(super) missing_at: BTreeMap<u64, Vec<bool>>,
    /// Follower: the leader and term it last accepted entries from (reset on a new term).
    pub(super) accepted_from: Option<(NodeId, u64)>,
    /// Follower: `AppendEntries` from that leader that arrived ahead of an earlier one (the
    /// network reorders), by the index before their entries: applied once the gap fills.
    pub(super) held: BTreeMap<u64, Held>,
}

/// An `AppendEntries` held by a follower until the entries before it arrive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Held {
    pub(super) prev_term: u64,
    pub(super) entries: Vec<Entry>,
    pub(super) leader_commit: u64,
}

/// A `Get` served by ReadIndex.
#[derive(Clone, Debug)]
pub(super) struct PendingRead {
    pub(super) client: ClientId,
    pub(super) request_id: RequestId,
    pub(super) key: Key,
    /// The commit index when the read arrived.
    pub(super) read_index: u64,
    /// Confirmed by acknowledgements of this round or a later one.
    pub(super) round: u64,
}

/// A dropped node (a crash, the run's end) leaves its log's capacity to the next node on the
/// thread (see `spare`).
impl Drop for Raft {
    fn drop(&mut self) {
        sim_core::spare::give_back(std::mem::take(&mut self.log));
    }
}

impl Raft {
    pub fn new(id: NodeId, params: &Params) -> Raft {
        assert!(params.validate().is_ok(), "invalid raft params: {params:?}");
        Raft {
            id,
            params: params.clone(),
            term: 0,
            voted_for: None,
            log: sim_core::spare::take(),
            snap_index: 0,
            snap_term: 0,
            role: Role::Follower,
            leader: None,
            leader_contact: None,
            commit: 0,
            applied: 0,
            timers: Timers::default(),
            store: KvStore::new(),
            snap_store: KvStore::new(),
            waiting: BTreeMap::new(),
            reads: Vec::new(),
            read_round: 0,
            read_acked: Vec::new(),
            round_sent: VecDeque::new(),
            damaged: BTreeSet::new(),
            missing_at: BTreeMap::new(),
            accepted_from: None,
            held: BTreeMap::new(),
        }
    }

    pub(super) fn bug(&self, b: Bug) -> bool {
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

    pub(super) fn majority(n: u32) -> usize {
        n as usize / 2 + 1
    }

    pub(super) fn assert_invariants(&self) {
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
    type StoreValue = Record;
    type Observation = Observation;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.reset_election_timer(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        if msg.term().is_some_and(|t| t < self.term) {
            ctx.reached(situations::STALE_TERM_MESSAGE);
        }
        match msg {
            Msg::RequestVote {
                term,
                last_log_index,
                last_log_term,
            } => self.on_request_vote(ctx, from, term, last_log_index, last_log_term),
            Msg::Vote { term, granted } => self.on_vote(ctx, from, term, granted),
            Msg::AppendEntries {
                term,
                prev_index,
                prev_term,
                entries,
                leader_commit,
            } => {
                let prev = (prev_index, prev_term);
                self.on_append(ctx, from, term, prev, entries, leader_commit)
            }
            Msg::PreVote {
                term,
                last_log_index,
                last_log_term,
            } => self.on_pre_vote(ctx, from, term, last_log_index, last_log_term),
            Msg::PreVoteReply { term, granted } => self.on_pre_vote_reply(ctx, from, term, granted),
            Msg::InstallSnapshot { term, snapshot } => {
                self.on_install_snapshot(ctx, from, term, snapshot)
            }
            Msg::ReadProbe { term, round } => self.on_read_probe(ctx, from, term, round),
            Msg::ReadAck { term, round } => self.on_read_ack(ctx, from, term, round),
            Msg::SnapshotReply { term, last_index } => {
                self.on_snapshot_reply(ctx, from, term, last_index)
            }
            Msg::Repair { term, wanted } => self.on_repair(ctx, from, term, wanted),
            Msg::RepairReply {
                term,
                found,
                missing,
            } => self.on_repair_reply(ctx, from, term, found, missing),
            Msg::AppendReply {
                term,
                success,
                match_index,
                conflict_term,
                conflict_index,
            } => {
                let refusal = (conflict_term, conflict_index);
                self.on_append_reply(ctx, from, term, success, match_index, refusal)
            }
        }
        self.assert_invariants();
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Election => self.on_election_timeout(ctx),
            Timer::Heartbeat { term } if term == self.term => self.on_heartbeat(ctx),
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
        self.on_request(ctx, client, request_id, request);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.recover(ctx);
        self.reset_election_timer(ctx);
        self.request_repair(ctx);
        self.assert_invariants();
    }

    /// The fault atlas: log entries may be damaged (their identity survives in their key);
    /// `currentTerm`, `votedFor` and the snapshot may not — a real node keeps them in one
    /// atomically written sector, or twice (the FAST 2018 paper keeps metadata redundantly).
    fn damageable(key: &Slot) -> bool {
        matches!(key, Slot::Entry(..))
    }

    /// A minority of nodes may hold a damaged copy of one entry.
    fn damaged_copies_max(node_count: u32) -> u32 {
        crate::kit::record::minority(node_count)
    }

    /// Silent corruption: a client command read back as a no-op.
    fn garble(value: &Record, _bits: u64) -> Option<Record> {
        match value {
            Record::Entry(i, e) if e.command != Command::Noop => Some(Record::Entry(
                *i,
                Entry {
                    term: e.term,
                    command: Command::Noop,
                },
            )),
            _ => None,
        }
    }

    fn leads(&self) -> Option<bool> {
        Some(self.is_leader())
    }

    fn holds_lease(&self, now: sim_core::LocalTime) -> Option<bool> {
        self.params.lease()?;
        let n = self.read_acked.len() as u32;
        Some(self.is_leader() && self.lease_until(n).is_some_and(|until| now.0 < until))
    }
}
