//! One Raft node: its durable and volatile state, its roles, and the dispatch of each event
//! (message, timer, client request, restart) to the handler that owns it.

use std::collections::{BTreeMap, VecDeque};

use sim_core::{ClientId, Context, Key, KvStore, NodeId, Process, Request, RequestId, Response};

use crate::kit::timing::Timers;

use super::params::{Bug, Params};
use super::situations;
use super::types::{Entry, Msg, Observation, Record, Slot, Timer};

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
    },
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
            timers: Timers::default(),
            store: KvStore::new(),
            snap_store: KvStore::new(),
            waiting: BTreeMap::new(),
            reads: Vec::new(),
            read_round: 0,
            read_acked: Vec::new(),
            round_sent: VecDeque::new(),
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

    /// Applies a client command once: a retry gets the recorded response, an older request
    /// nothing.
    pub(super) fn execute(
        &mut self,
        client: u32,
        request_id: RequestId,
        request: Request,
    ) -> Option<Response> {
        self.store.execute(client, request_id, &request)
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
        self.assert_invariants();
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
