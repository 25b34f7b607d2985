//! One two-phase-commit node — the coordinator (node 0) or a participant — as a
//! `sim_core::Process`: its volatile state, and the event handlers that route each event to
//! the role's handlers in `coordinator.rs` and `participant.rs`.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{
    ClientId, Context, Key, LocalTime, NodeId, Process, Request, RequestId, Response, SimDuration,
    Value,
};

use super::messages::{Msg, Observation, Timer, TxnId, COORDINATOR};
use super::params::{Bug, Params};
use super::record::{Record, RecordKey};
use super::situations;
use super::txn_map::TxnMap;
use crate::kit::record::{self, Recovered};

/// Whether the protocol's own invariant `assert!`s run (a key prepared twice, a decision taken
/// twice, a lock not held at the decision, keys of another shard). `scripts/mutants.sh` turns
/// them off to measure what the checks catch on their own: a user's protocol has no such
/// asserts, so a mutation only they catch is a blind spot of the checks.
pub(super) const ASSERT_INVARIANTS: bool = true;

/// A transaction the coordinator is collecting votes for.
#[derive(Clone, Debug)]
pub(super) struct Active {
    pub(super) keys: Vec<Key>,
    /// The participants, ascending by node (a handful: searched, not kept in a tree).
    pub(super) parts: Vec<Part>,
    /// How many participants have voted yes.
    pub(super) yes_votes: usize,
    pub(super) started: LocalTime,
    pub(super) last_send: LocalTime,
}

/// A participant of an active transaction: its keys, and the writes of its yes vote.
#[derive(Clone, Debug)]
pub(super) struct Part {
    pub(super) node: NodeId,
    pub(super) keys: Vec<Key>,
    pub(super) yes: Option<Vec<(Key, Value)>>,
}

impl Active {
    /// The participant `node`, if it is one.
    pub(super) fn part_mut(&mut self, node: NodeId) -> Option<&mut Part> {
        let i = self.parts.binary_search_by_key(&node, |p| p.node).ok()?;
        Some(&mut self.parts[i])
    }
}

/// A transaction the coordinator has decided (and logged).
#[derive(Clone, Debug)]
pub(super) struct Decided {
    pub(super) commit: bool,
    pub(super) writes: Vec<(Key, Value)>,
    /// Participants that have not acknowledged the decision, ascending (empty after a
    /// recovery: the prepared ones ask). A vector: a transaction has a few participants, and
    /// one is kept per transaction ever decided.
    pub(super) unacked: Vec<NodeId>,
    pub(super) last_send: LocalTime,
}

/// A transaction a participant is prepared for.
#[derive(Clone, Debug)]
pub(super) struct Prepared {
    pub(super) writes: Vec<(Key, Value)>,
    pub(super) next_inquiry: LocalTime,
    /// Whether it asked the coordinator for the outcome (coverage only).
    pub(super) inquired: bool,
}

/// One node: the coordinator (node 0) or a participant.
pub struct TwoPhaseCommit {
    pub(super) id: NodeId,
    pub(super) params: Params,
    // Coordinator.
    pub(super) active: BTreeMap<TxnId, Active>,
    pub(super) decided: TxnMap<Decided>,
    /// The decided transactions some participant has not acknowledged yet: what a tick
    /// re-sends. Kept beside `decided` so that a tick visits these few, not every
    /// transaction ever decided (which made a long run's ticks quadratic).
    pub(super) unacked: BTreeSet<TxnId>,
    // Participant.
    pub(super) values: BTreeMap<Key, Value>,
    pub(super) locks: BTreeMap<Key, TxnId>,
    pub(super) prepared: BTreeMap<TxnId, Prepared>,
    pub(super) done: TxnMap<bool>,
    /// Transactions whose log record the disk damaged: the coordinator's decision, or a
    /// participant's prepared writes. Nothing is decided or applied from them (see `restore`).
    pub(super) lost: BTreeSet<TxnId>,
}

/// `d` after `t` on a local clock, saturating.
pub(super) fn after(t: LocalTime, d: SimDuration) -> LocalTime {
    LocalTime(t.0.saturating_add(i64::try_from(d.0).unwrap_or(i64::MAX)))
}

impl TwoPhaseCommit {
    pub fn new(id: NodeId, params: &Params) -> TwoPhaseCommit {
        TwoPhaseCommit {
            id,
            params: params.clone(),
            active: BTreeMap::new(),
            decided: TxnMap::new(),
            unacked: BTreeSet::new(),
            values: BTreeMap::new(),
            locks: BTreeMap::new(),
            prepared: BTreeMap::new(),
            done: TxnMap::new(),
            lost: BTreeSet::new(),
        }
    }

    pub(super) fn is_coordinator(&self) -> bool {
        self.id == COORDINATOR
    }

    /// A damaged record: its key says which transaction it was about, not what it said. The
    /// coordinator neither presumes an abort nor answers for that transaction (the decision
    /// might have been a commit that participants applied); a participant does not know the
    /// writes it prepared, so it cannot apply a commit: it asks for the outcome and settles an
    /// abort only, and meanwhile votes no to every transaction (it cannot name the keys the
    /// record locked). A damaged `Done` record was applied already: it stays done.
    fn restore_damaged(&mut self, ctx: &mut Context<'_, Self>, key: RecordKey) {
        match key {
            RecordKey::Decision(txn) | RecordKey::Prepared(txn) => {
                ctx.annotate(|| format!("{txn}: log record damaged, outcome unknown"));
                ctx.observe(Observation::RecordDamaged { txn });
                self.lost.insert(txn);
            }
            RecordKey::Done(txn) => {
                self.done.insert(txn, false);
            }
            RecordKey::Value(k) => panic!(
                "n{}: damaged value of key {k}, which the atlas keeps whole",
                self.id.0
            ),
        }
    }

    /// Rebuilds the state one synced record stands for.
    fn restore(&mut self, ctx: &mut Context<'_, Self>, record: Record) {
        let now = ctx.local_time();
        let forget = self.params.bug == Some(Bug::ForgetPreparedOnRestart);
        match record {
            Record::Decision {
                txn,
                commit,
                writes,
                ..
            } => {
                ctx.reached(situations::COORDINATOR_RECOVERED_DECISION);
                self.decided.insert(
                    txn,
                    Decided {
                        commit,
                        writes,
                        unacked: Vec::new(),
                        last_send: now,
                    },
                );
            }
            Record::Prepared { .. } if forget => {}
            Record::Prepared { txn, writes } => {
                ctx.reached(situations::PARTICIPANT_RECOVERED_PREPARED);
                self.restore_prepared(ctx, txn, writes);
            }
            Record::Done { txn, commit } => {
                self.done.insert(txn, commit);
            }
            Record::Value { key, value } => {
                self.values.insert(key, value);
            }
        }
    }
}

impl Process for TwoPhaseCommit {
    type Msg = Msg;
    type Timer = Timer;
    type StoreKey = RecordKey;
    type StoreValue = Record;
    type Observation = Observation;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        assert!(
            ctx.node_count() >= 2,
            "two-phase commit needs at least 2 nodes"
        );
        ctx.set_timer(self.params.retry, Timer::Tick);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        if self.is_coordinator() {
            self.coordinator_message(ctx, from, msg);
        } else {
            self.participant_message(ctx, from, msg);
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Tick => {
                if self.is_coordinator() {
                    self.coordinator_tick(ctx);
                } else {
                    self.participant_tick(ctx);
                }
                ctx.set_timer(self.params.retry, Timer::Tick);
            }
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        let Request::Txn { keys } = request else {
            ctx.reply(client, request_id, Response::Unsupported);
            return;
        };
        if !self.is_coordinator() {
            ctx.reply(
                client,
                request_id,
                Response::Redirect {
                    leader: Some(COORDINATOR),
                },
            );
            return;
        }
        let txn = TxnId {
            client: client.0,
            request: request_id,
        };
        self.client_txn(ctx, txn, keys);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        for r in record::read_all(ctx) {
            match r {
                Recovered::Intact(r) => self.restore(ctx, r),
                Recovered::Damaged(key) => self.restore_damaged(ctx, key),
            }
        }
        self.on_start(ctx);
    }

    /// The fault atlas: the commit log (decisions, prepared and done records) may be damaged
    /// on any number of nodes — two-phase commit keeps no second copy, so it claims safety, not
    /// progress: it decides nothing from a damaged record and blocks instead. The values are
    /// the data the log protects, kept whole.
    fn damageable(key: &RecordKey) -> bool {
        !matches!(key, RecordKey::Value(_))
    }

    fn damaged_copies_max(node_count: u32) -> u32 {
        node_count
    }

    /// The fixed coordinator leads, for coverage ("leader crashed" is the coordinator crashing).
    fn leads(&self) -> Option<bool> {
        Some(self.is_coordinator())
    }
}
