//! One Multi-Paxos node — proposer, acceptor and learner — its state, and the dispatch of each
//! event (message, timer, client request, restart) to the handler that owns it.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{ClientId, Context, KvStore, NodeId, Process, Request, RequestId};

use crate::kit::slots::SlotMap;
use crate::kit::timing::Timers;

use super::params::{Bug, Params};
use super::situations;
use super::types::{Ballot, Command, Msg, Observation, Record, StoreKey, Timer};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Proposal {
    pub(super) command: Command,
    /// Per node: has it accepted this proposal?
    pub(super) acked: Vec<bool>,
    /// When (local clock, ns) the `Accept`s were last sent: not sent again within
    /// `retransmit`.
    pub(super) sent: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Follower,
    Candidate {
        ballot: Ballot,
        from_slot: u64,
        promised_by: Vec<bool>,
        /// Per slot: the highest-ballot value reported accepted.
        adopted: BTreeMap<u64, (Ballot, Command)>,
        /// The highest slot any promise reported.
        max_slot: u64,
        /// Per slot: how many promises could not report it (their acceptor's record of it is
        /// damaged). A slot needs a majority of promises that could.
        unknown_by: BTreeMap<u64, usize>,
    },
    Leader {
        ballot: Ballot,
        next_slot: u64,
        proposals: BTreeMap<u64, Proposal>,
    },
}

/// One Multi-Paxos node: proposer, acceptor and learner.
pub struct Paxos {
    pub(super) id: NodeId,
    pub(super) params: Params,
    // Acceptor (durable).
    pub(super) promised: Ballot,
    pub(super) accepted: SlotMap<(Ballot, Command)>,
    /// Slots whose accepted record the disk damaged: what this acceptor accepted there is
    /// unknown until it accepts or learns a value in the slot again.
    pub(super) unknown: BTreeSet<u64>,
    // Learner (durable, for a faster recovery) and the state machine (volatile).
    pub(super) decided: SlotMap<Command>,
    /// Slots `1..=applied` are applied to `store`.
    pub(super) applied: u64,
    pub(super) store: KvStore,
    // Proposer (volatile).
    pub(super) role: Role,
    /// The highest round seen in any ballot.
    pub(super) round_seen: u64,
    /// The leader of the promised ballot, when known.
    pub(super) leader: Option<NodeId>,
    /// The election timer and the one heartbeat (leader) or `Prepare` re-send (candidate)
    /// timer.
    pub(super) timers: Timers,
    /// Leader: per client, the request it owes a reply once applied.
    pub(super) waiting: BTreeMap<u32, RequestId>,
}

impl Paxos {
    pub fn new(id: NodeId, params: &Params) -> Paxos {
        assert!(
            params.validate().is_ok(),
            "invalid paxos params: {params:?}"
        );
        Paxos {
            id,
            params: params.clone(),
            promised: Ballot::NONE,
            accepted: SlotMap::new(),
            unknown: BTreeSet::new(),
            decided: SlotMap::new(),
            applied: 0,
            store: KvStore::new(),
            role: Role::Follower,
            round_seen: 0,
            leader: None,
            timers: Timers::default(),
            waiting: BTreeMap::new(),
        }
    }

    pub(super) fn bug(&self, b: Bug) -> bool {
        self.params.bug == Some(b)
    }

    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    /// The ballot this node leads or runs phase 1 for.
    pub(super) fn own_ballot(&self) -> Option<Ballot> {
        match self.role {
            Role::Follower => None,
            Role::Candidate { ballot, .. } | Role::Leader { ballot, .. } => Some(ballot),
        }
    }

    pub(super) fn majority(n: u32) -> usize {
        n as usize / 2 + 1
    }

    pub(super) fn assert_invariants(&self) {
        if self.params.bug.is_some() {
            return; // A broken variant may break these; the checks report what it does.
        }
        if let Some(b) = self.own_ballot() {
            assert!(
                b <= self.promised,
                "n{}: leads {b} below its promise",
                self.id.0
            );
        }
        assert!(
            !self.decided.contains_key(&(self.applied + 1)),
            "n{}: a decided slot left unapplied",
            self.id.0
        );
    }
}

impl Process for Paxos {
    type Msg = Msg;
    type Timer = Timer;
    type StoreKey = StoreKey;
    type StoreValue = Record;
    type Observation = Observation;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.reset_election_timer(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        if msg.ballot().is_some_and(|b| b < self.promised) {
            ctx.reached(situations::STALE_BALLOT_MESSAGE);
        }
        match msg {
            Msg::Prepare { ballot, from_slot } => self.on_prepare(ctx, from, ballot, from_slot),
            Msg::Promise {
                ballot,
                decided,
                accepted,
            } => self.on_promise(ctx, from, ballot, decided, accepted, Vec::new()),
            Msg::PromisePartial {
                ballot,
                decided,
                accepted,
                unknown,
            } => self.on_promise(ctx, from, ballot, decided, accepted, unknown),
            Msg::Accept {
                ballot,
                slot,
                command,
            } => self.on_accept(ctx, from, ballot, slot, command),
            Msg::Accepted { ballot, slot } => self.on_accepted(ctx, from, ballot, slot),
            Msg::Nack { ballot, promised } => self.on_nack(ctx, ballot, promised),
            Msg::Decide { slot, command } => self.learn(ctx, slot, command),
            Msg::Heartbeat { ballot, applied } => self.on_heartbeat(ctx, from, ballot, applied),
            Msg::CatchUp { from_slot } => self.on_catch_up(ctx, from, from_slot),
            Msg::Decisions { entries } => self.on_decisions(ctx, from, entries),
        }
        self.assert_invariants();
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Election => self.on_election_timeout(ctx),
            Timer::Heartbeat { ballot } if self.own_ballot() == Some(ballot) => {
                self.on_heartbeat_timer(ctx, ballot)
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
        self.on_request(ctx, client, request_id, request);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.recover(ctx);
        self.reset_election_timer(ctx);
        self.assert_invariants();
    }

    /// The fault atlas: accepted values and decisions may be damaged; the promise may not (a
    /// real acceptor keeps it in one atomically written sector, or twice).
    fn damageable(key: &StoreKey) -> bool {
        !matches!(key, StoreKey::Promised)
    }

    /// A minority of acceptors may hold a damaged copy of one slot's record.
    fn damaged_copies_max(node_count: u32) -> u32 {
        crate::kit::record::minority(node_count)
    }

    /// Silent corruption: an accepted or decided client command read back as a no-op.
    fn garble(value: &Record, _bits: u64) -> Option<Record> {
        match value {
            Record::Accepted {
                slot,
                ballot,
                command: Command::Client { .. },
            } => Some(Record::Accepted {
                slot: *slot,
                ballot: *ballot,
                command: Command::Noop,
            }),
            Record::Decided {
                slot,
                command: Command::Client { .. },
            } => Some(Record::Decided {
                slot: *slot,
                command: Command::Noop,
            }),
            _ => None,
        }
    }

    fn leads(&self) -> Option<bool> {
        Some(self.is_leader())
    }
}
