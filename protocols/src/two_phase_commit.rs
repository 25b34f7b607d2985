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

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sim_core::check::{CheckResult, Verdict};
use sim_core::protocol::{
    rules, Check, CheckContext, CheckInput, CheckKind, CheckList, FieldError, Protocol,
};
use sim_core::txn::shard_of;
use sim_core::{
    ClientId, Context, Key, LocalTime, NodeId, Outcome, Process, Request, RequestId, Response,
    RunResult, Service, SimConfig, SimDuration, SimTime, Value,
};

/// The coordinator (transaction manager).
pub const COORDINATOR: NodeId = NodeId(0);

/// Deliberately broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Bug {
    /// On a vote timeout, commit with the yes votes received instead of aborting.
    CommitWithoutAllVotes,
    /// A restarted participant does not reload its `Prepared` records.
    ForgetPreparedOnRestart,
}

/// The protocol's parameters; every field has a default, so `TwoPhaseCommit()` is valid.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// How often the coordinator re-sends unanswered prepares and unacknowledged decisions
    /// (and how often every node looks at its timeouts), on the node's local clock.
    pub retry: SimDuration,
    /// How long the coordinator waits for every vote before it aborts.
    pub vote_timeout: SimDuration,
    /// How long a participant stays prepared before it asks the coordinator for the outcome,
    /// and the time between two of its inquiries.
    pub inquiry: SimDuration,
    /// A deliberate bug to inject (`None`: the correct protocol).
    pub bug: Option<Bug>,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            retry: SimDuration::from_millis(50),
            vote_timeout: SimDuration::from_millis(500),
            inquiry: SimDuration::from_millis(200),
            bug: None,
        }
    }
}

impl Params {
    /// Checks the ranges a scenario must respect; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        for (name, d) in [
            ("retry", self.retry),
            ("vote_timeout", self.vote_timeout),
            ("inquiry", self.inquiry),
        ] {
            if d == SimDuration::ZERO {
                return Err(format!("two-phase commit `{name}` must be longer than 0"));
            }
        }
        if self.vote_timeout < self.retry {
            return Err(
                "two-phase commit `vote_timeout` must be at least `retry`: a lost prepare would abort its transaction before it is ever re-sent".into(),
            );
        }
        Ok(())
    }
}

/// A transaction: named by its client and the client's request id, so that a retried or
/// duplicated request is the same transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxnId {
    pub client: u32,
    pub request: RequestId,
}

impl std::fmt::Display for TxnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t{}.{}", self.client, self.request)
    }
}

/// Node-to-node messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Coordinator → participant: prepare to increment these keys (all on your shard).
    Prepare { txn: TxnId, keys: Vec<Key> },
    /// Participant → coordinator: the vote; a yes carries the new values it will write.
    Vote {
        txn: TxnId,
        yes: bool,
        writes: Vec<(Key, Value)>,
    },
    /// Coordinator → participant: the (logged) decision.
    Decision { txn: TxnId, commit: bool },
    /// Participant → coordinator: the decision is applied and logged.
    Ack { txn: TxnId },
    /// Participant → coordinator: what was decided? (sent while prepared)
    Inquire { txn: TxnId },
}

impl Msg {
    /// The message's kind, for counting.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Prepare { .. } => "prepare",
            Msg::Vote { .. } => "vote",
            Msg::Decision { .. } => "decision",
            Msg::Ack { .. } => "ack",
            Msg::Inquire { .. } => "inquire",
        }
    }
}

/// The one periodic timer: re-sends, vote timeouts and inquiries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    Tick,
}

/// Keys of a node's durable log.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreKey {
    /// Coordinator: the decision of a transaction.
    Decision(TxnId),
    /// Participant: prepared (voted yes) and not yet decided.
    Prepared(TxnId),
    /// Participant: the decision it applied.
    Done(TxnId),
    /// Participant: a key's committed value.
    Value(Key),
}

/// Values of a node's durable log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreValue {
    Decision {
        commit: bool,
        keys: Vec<Key>,
        writes: Vec<(Key, Value)>,
    },
    Prepared {
        writes: Vec<(Key, Value)>,
    },
    Done {
        commit: bool,
    },
    Value(Value),
}

/// Facts the checks read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// Coordinator: the decision is logged (it is announced right after). `keys` are the
    /// transaction's keys; empty for a presumed abort of a transaction it no longer knows.
    Decided {
        txn: TxnId,
        commit: bool,
        keys: Vec<Key>,
    },
    /// Participant: it voted (a yes vote only after its `Prepared` record was synced).
    Voted { txn: TxnId, yes: bool },
    /// Participant: it learned and applied the decision. On commit, `applied` lists each key
    /// it incremented as `(key, previous value, new value)`; a participant that learns a commit
    /// of a transaction it has no record of applies nothing.
    Learned {
        txn: TxnId,
        commit: bool,
        applied: Vec<(Key, Value, Value)>,
    },
}

/// The participant node holding `key` in a cluster of `node_count` nodes.
pub fn participant_of(key: Key, node_count: u32) -> NodeId {
    assert!(
        node_count >= 2,
        "two-phase commit needs a coordinator and a participant"
    );
    NodeId(1 + shard_of(key, node_count - 1))
}

/// A transaction the coordinator is collecting votes for.
#[derive(Clone, Debug)]
struct Active {
    keys: Vec<Key>,
    /// Participant → its keys.
    parts: BTreeMap<NodeId, Vec<Key>>,
    /// Participant → the writes of its yes vote.
    yes: BTreeMap<NodeId, Vec<(Key, Value)>>,
    started: LocalTime,
    last_send: LocalTime,
}

/// A transaction the coordinator has decided (and logged).
#[derive(Clone, Debug)]
struct Decided {
    commit: bool,
    writes: Vec<(Key, Value)>,
    /// Participants that have not acknowledged the decision (empty after a recovery: the
    /// prepared ones ask).
    unacked: BTreeSet<NodeId>,
    last_send: LocalTime,
}

/// A transaction a participant is prepared for.
#[derive(Clone, Debug)]
struct Prepared {
    writes: Vec<(Key, Value)>,
    next_inquiry: LocalTime,
}

/// One node: the coordinator (node 0) or a participant.
pub struct TwoPhaseCommit {
    id: NodeId,
    params: Params,
    // Coordinator.
    active: BTreeMap<TxnId, Active>,
    decided: BTreeMap<TxnId, Decided>,
    // Participant.
    values: BTreeMap<Key, Value>,
    locks: BTreeMap<Key, TxnId>,
    prepared: BTreeMap<TxnId, Prepared>,
    done: BTreeMap<TxnId, bool>,
}

fn after(t: LocalTime, d: SimDuration) -> LocalTime {
    LocalTime(t.0.saturating_add(i64::try_from(d.0).unwrap_or(i64::MAX)))
}

impl TwoPhaseCommit {
    pub fn new(id: NodeId, params: &Params) -> TwoPhaseCommit {
        TwoPhaseCommit {
            id,
            params: params.clone(),
            active: BTreeMap::new(),
            decided: BTreeMap::new(),
            values: BTreeMap::new(),
            locks: BTreeMap::new(),
            prepared: BTreeMap::new(),
            done: BTreeMap::new(),
        }
    }

    fn is_coordinator(&self) -> bool {
        self.id == COORDINATOR
    }

    // ---- coordinator --------------------------------------------------------------------

    fn begin(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId, keys: Vec<Key>) {
        let n = ctx.node_count();
        let mut parts: BTreeMap<NodeId, Vec<Key>> = BTreeMap::new();
        for &k in &keys {
            parts.entry(participant_of(k, n)).or_default().push(k);
        }
        let now = ctx.local_time();
        for (&p, ks) in &parts {
            ctx.send(
                p,
                Msg::Prepare {
                    txn,
                    keys: ks.clone(),
                },
            );
        }
        ctx.annotate(|| format!("begin {txn} over {} participants", parts.len()));
        self.active.insert(
            txn,
            Active {
                keys,
                parts,
                yes: BTreeMap::new(),
                started: now,
                last_send: now,
            },
        );
    }

    /// Logs the decision, then announces it to `to` and answers the client.
    fn decide(
        &mut self,
        ctx: &mut Context<'_, Self>,
        txn: TxnId,
        commit: bool,
        keys: Vec<Key>,
        writes: Vec<(Key, Value)>,
        to: BTreeSet<NodeId>,
    ) {
        assert!(!self.decided.contains_key(&txn), "{txn} decided twice");
        ctx.storage().put(
            StoreKey::Decision(txn),
            StoreValue::Decision {
                commit,
                keys: keys.clone(),
                writes: writes.clone(),
            },
        );
        ctx.sync();
        ctx.observe(Observation::Decided { txn, commit, keys });
        for &p in &to {
            ctx.send(p, Msg::Decision { txn, commit });
        }
        let response = if commit {
            Response::Committed(writes.clone())
        } else {
            Response::Fail
        };
        ctx.reply(ClientId(txn.client), txn.request, response);
        let now = ctx.local_time();
        self.decided.insert(
            txn,
            Decided {
                commit,
                writes,
                unacked: to,
                last_send: now,
            },
        );
    }

    /// Decides an active transaction.
    fn conclude(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId, commit: bool) {
        let a = self.active.remove(&txn).expect("an active transaction");
        let mut writes: Vec<(Key, Value)> = if commit {
            a.yes.values().flatten().copied().collect()
        } else {
            Vec::new()
        };
        writes.sort_unstable();
        let to = a.parts.keys().copied().collect();
        self.decide(ctx, txn, commit, a.keys, writes, to);
    }

    /// A transaction this coordinator has no record of: presumed aborted. The abort is logged
    /// before anyone hears of it.
    fn presume_abort(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId, asker: NodeId) {
        ctx.annotate(|| format!("{txn} unknown: presumed abort"));
        self.decide(ctx, txn, false, Vec::new(), Vec::new(), [asker].into());
    }

    fn coordinator_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Vote { txn, yes, writes } => {
                if let Some(d) = self.decided.get(&txn) {
                    // A late vote: the voter may be prepared and must learn the outcome.
                    if yes {
                        let commit = d.commit;
                        ctx.send(from, Msg::Decision { txn, commit });
                    }
                    return;
                }
                let Some(a) = self.active.get_mut(&txn) else {
                    if yes {
                        self.presume_abort(ctx, txn, from);
                    }
                    return;
                };
                if !a.parts.contains_key(&from) {
                    ctx.annotate(|| {
                        format!("ignore a vote on {txn} from n{}, not a participant", from.0)
                    });
                    return;
                }
                if !yes {
                    self.conclude(ctx, txn, false);
                    return;
                }
                a.yes.insert(from, writes);
                if a.yes.len() == a.parts.len() {
                    self.conclude(ctx, txn, true);
                }
            }
            Msg::Ack { txn } => {
                if let Some(d) = self.decided.get_mut(&txn) {
                    d.unacked.remove(&from);
                }
            }
            Msg::Inquire { txn } => {
                if let Some(d) = self.decided.get(&txn) {
                    let commit = d.commit;
                    ctx.send(from, Msg::Decision { txn, commit });
                } else if let Some(a) = self.active.get(&txn) {
                    // Still voting: its vote may have been lost; a prepared participant
                    // answers a prepare with its vote again.
                    if let (false, Some(keys)) = (a.yes.contains_key(&from), a.parts.get(&from)) {
                        let keys = keys.clone();
                        ctx.send(from, Msg::Prepare { txn, keys });
                    }
                } else {
                    self.presume_abort(ctx, txn, from);
                }
            }
            Msg::Prepare { .. } | Msg::Decision { .. } => {
                ctx.annotate(|| format!("ignore a participant's message from n{}", from.0));
            }
        }
    }

    fn coordinator_tick(&mut self, ctx: &mut Context<'_, Self>) {
        let now = ctx.local_time();
        let ids: Vec<TxnId> = self.active.keys().copied().collect();
        for txn in ids {
            let a = &self.active[&txn];
            if now >= after(a.started, self.params.vote_timeout) {
                let commit = self.params.bug == Some(Bug::CommitWithoutAllVotes);
                ctx.annotate(|| format!("{txn}: vote timeout"));
                self.conclude(ctx, txn, commit);
            } else if now >= after(a.last_send, self.params.retry) {
                let missing: Vec<(NodeId, Vec<Key>)> = a
                    .parts
                    .iter()
                    .filter(|(p, _)| !a.yes.contains_key(p))
                    .map(|(p, ks)| (*p, ks.clone()))
                    .collect();
                for (p, keys) in missing {
                    ctx.send(p, Msg::Prepare { txn, keys });
                }
                self.active.get_mut(&txn).expect("active").last_send = now;
            }
        }
        let retry = self.params.retry;
        for (&txn, d) in self.decided.iter_mut() {
            if d.unacked.is_empty() || now < after(d.last_send, retry) {
                continue;
            }
            for &p in &d.unacked {
                ctx.send(
                    p,
                    Msg::Decision {
                        txn,
                        commit: d.commit,
                    },
                );
            }
            d.last_send = now;
        }
    }

    // ---- participant --------------------------------------------------------------------

    fn participant_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        if from != COORDINATOR {
            ctx.annotate(|| format!("ignore a message from n{}, not the coordinator", from.0));
            return;
        }
        match msg {
            Msg::Prepare { txn, keys } => self.prepare(ctx, txn, keys),
            Msg::Decision { txn, commit } => self.learn(ctx, txn, commit),
            Msg::Vote { .. } | Msg::Ack { .. } | Msg::Inquire { .. } => {
                ctx.annotate(|| "ignore a coordinator's message".to_string());
            }
        }
    }

    fn prepare(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId, keys: Vec<Key>) {
        let n = ctx.node_count();
        assert!(
            keys.iter().all(|&k| participant_of(k, n) == self.id),
            "n{}: asked to prepare keys {keys:?} of other shards",
            self.id.0
        );
        if self.done.contains_key(&txn) {
            ctx.annotate(|| format!("{txn} already decided: ignore its prepare"));
            return;
        }
        if let Some(p) = self.prepared.get(&txn) {
            let writes = p.writes.clone();
            ctx.send(
                COORDINATOR,
                Msg::Vote {
                    txn,
                    yes: true,
                    writes,
                },
            );
            return;
        }
        if let Some(held) = keys.iter().find_map(|k| self.locks.get(k)) {
            let held = *held;
            ctx.annotate(|| format!("{txn}: a key is locked by {held}: vote no"));
            ctx.observe(Observation::Voted { txn, yes: false });
            ctx.send(
                COORDINATOR,
                Msg::Vote {
                    txn,
                    yes: false,
                    writes: Vec::new(),
                },
            );
            return;
        }
        let writes: Vec<(Key, Value)> = keys
            .iter()
            .map(|&k| (k, self.values.get(&k).copied().unwrap_or(0) + 1))
            .collect();
        for &k in &keys {
            self.locks.insert(k, txn);
        }
        ctx.storage().put(
            StoreKey::Prepared(txn),
            StoreValue::Prepared {
                writes: writes.clone(),
            },
        );
        ctx.sync();
        let now = ctx.local_time();
        self.prepared.insert(
            txn,
            Prepared {
                writes: writes.clone(),
                next_inquiry: after(now, self.params.inquiry),
            },
        );
        ctx.observe(Observation::Voted { txn, yes: true });
        ctx.send(
            COORDINATOR,
            Msg::Vote {
                txn,
                yes: true,
                writes,
            },
        );
    }

    fn learn(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId, commit: bool) {
        if self.done.contains_key(&txn) {
            ctx.send(COORDINATOR, Msg::Ack { txn });
            return;
        }
        let mut applied = Vec::new();
        match self.prepared.remove(&txn) {
            Some(p) => {
                for &(k, new) in &p.writes {
                    let held = self.locks.remove(&k);
                    assert_eq!(
                        held,
                        Some(txn),
                        "n{}: {txn} did not hold key {k}",
                        self.id.0
                    );
                    if commit {
                        let prev = self.values.insert(k, new).unwrap_or(0);
                        ctx.storage()
                            .put(StoreKey::Value(k), StoreValue::Value(new));
                        applied.push((k, prev, new));
                    }
                }
                ctx.storage().remove(&StoreKey::Prepared(txn));
                ctx.storage()
                    .put(StoreKey::Done(txn), StoreValue::Done { commit });
                ctx.sync();
                ctx.observe(Observation::Learned {
                    txn,
                    commit,
                    applied,
                });
            }
            None => {
                // Not prepared: it voted no, or never saw the prepare, so the outcome is an
                // abort. A commit here cannot happen in the correct protocol; it is reported
                // (with nothing applied) so that the checks see it.
                if commit {
                    ctx.observe(Observation::Learned {
                        txn,
                        commit,
                        applied,
                    });
                }
                ctx.storage()
                    .put(StoreKey::Done(txn), StoreValue::Done { commit });
            }
        }
        self.done.insert(txn, commit);
        ctx.send(COORDINATOR, Msg::Ack { txn });
    }

    fn participant_tick(&mut self, ctx: &mut Context<'_, Self>) {
        let now = ctx.local_time();
        let inquiry = self.params.inquiry;
        for (&txn, p) in self.prepared.iter_mut() {
            if now >= p.next_inquiry {
                ctx.send(COORDINATOR, Msg::Inquire { txn });
                p.next_inquiry = after(now, inquiry);
            }
        }
    }
}

impl Process for TwoPhaseCommit {
    type Msg = Msg;
    type Timer = Timer;
    type StoreKey = StoreKey;
    type StoreValue = StoreValue;
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
        let Request::Txn { mut keys } = request else {
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
        if let Some(d) = self.decided.get(&txn) {
            // A retry of a decided transaction: the same answer again.
            let response = if d.commit {
                Response::Committed(d.writes.clone())
            } else {
                Response::Fail
            };
            ctx.reply(client, request_id, response);
            return;
        }
        if self.active.contains_key(&txn) {
            return; // Under way; the answer will come.
        }
        // A key named twice is incremented once: the request asks for distinct keys.
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            ctx.reply(client, request_id, Response::Fail);
            return;
        }
        self.begin(ctx, txn, keys);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        let now = ctx.local_time();
        let forget = self.params.bug == Some(Bug::ForgetPreparedOnRestart);
        for (key, value) in ctx.storage().entries() {
            match (key, value) {
                (StoreKey::Decision(txn), StoreValue::Decision { commit, writes, .. }) => {
                    self.decided.insert(
                        txn,
                        Decided {
                            commit,
                            writes,
                            unacked: BTreeSet::new(),
                            last_send: now,
                        },
                    );
                }
                (StoreKey::Prepared(_), StoreValue::Prepared { .. }) if forget => {}
                (StoreKey::Prepared(txn), StoreValue::Prepared { writes }) => {
                    for &(k, _) in &writes {
                        let other = self.locks.insert(k, txn);
                        assert!(other.is_none(), "n{}: key {k} prepared twice", self.id.0);
                    }
                    // Ask at once: the coordinator may have decided while this node was down.
                    ctx.send(COORDINATOR, Msg::Inquire { txn });
                    self.prepared.insert(
                        txn,
                        Prepared {
                            writes,
                            next_inquiry: after(now, self.params.inquiry),
                        },
                    );
                }
                (StoreKey::Done(txn), StoreValue::Done { commit }) => {
                    self.done.insert(txn, commit);
                }
                (StoreKey::Value(k), StoreValue::Value(v)) => {
                    self.values.insert(k, v);
                }
                (k, v) => panic!("n{}: log entry {k:?} holds {v:?}", self.id.0),
            }
        }
        self.on_start(ctx);
    }
}

// ---- checks ---------------------------------------------------------------------------------

/// Decisions by transaction (the first of each), and a conflict if two disagree.
struct Decisions<'a> {
    by_txn: BTreeMap<TxnId, (bool, &'a [Key], SimTime)>,
}

fn decisions(result: &RunResult<Observation>) -> Result<Decisions<'_>, String> {
    let mut by_txn: BTreeMap<TxnId, (bool, &[Key], SimTime)> = BTreeMap::new();
    for o in &result.observations {
        if let Observation::Decided { txn, commit, keys } = &o.value {
            match by_txn.get(txn) {
                Some((c, _, at)) if c != commit => {
                    return Err(format!(
                        "the coordinator decided {txn} twice: {} at {at}, {} at {}",
                        word(*c),
                        word(*commit),
                        o.time
                    ));
                }
                Some(_) => {}
                None => {
                    by_txn.insert(*txn, (*commit, keys, o.time));
                }
            }
        }
    }
    Ok(Decisions { by_txn })
}

fn word(commit: bool) -> &'static str {
    if commit {
        "commit"
    } else {
        "abort"
    }
}

fn fail(name: &str, seed: u64, what: String) -> CheckResult {
    CheckResult::new(
        name,
        Verdict::Fail,
        format!("{what} (reproduce with seed {seed})"),
    )
}

/// `atomicity`: every participant of a transaction that learns its outcome learns the
/// coordinator's decision (none commits a transaction the coordinator aborted or never
/// decided, none aborts a committed one), and a participant that learns a commit applies its
/// whole part of it — exactly the transaction's keys on its shard.
pub fn check_atomicity(result: &RunResult<Observation>) -> CheckResult {
    const NAME: &str = "atomicity";
    let decided = match decisions(result) {
        Ok(d) => d,
        Err(e) => return fail(NAME, result.seed, e),
    };
    let mut learned: BTreeMap<(TxnId, NodeId), bool> = BTreeMap::new();
    let (mut commits, mut aborts) = (0u64, 0u64);
    for o in &result.observations {
        let Observation::Learned {
            txn,
            commit,
            applied,
        } = &o.value
        else {
            continue;
        };
        let p = o.node;
        if let Some(&before) = learned.get(&(*txn, p)) {
            if before != *commit {
                return fail(
                    NAME,
                    result.seed,
                    format!(
                        "n{} learned {txn} as {} and then as {} at {}",
                        p.0,
                        word(before),
                        word(*commit),
                        o.time
                    ),
                );
            }
            continue;
        }
        learned.insert((*txn, p), *commit);
        match decided.by_txn.get(txn) {
            None => {
                return fail(
                    NAME,
                    result.seed,
                    format!(
                        "n{} learned {} for {txn} at {}, which the coordinator never decided",
                        p.0,
                        word(*commit),
                        o.time
                    ),
                )
            }
            Some((c, _, at)) if c != commit => {
                return fail(
                    NAME,
                    result.seed,
                    format!(
                        "n{} learned {} for {txn} at {}, but the coordinator decided {} at {at}",
                        p.0,
                        word(*commit),
                        o.time,
                        word(*c)
                    ),
                )
            }
            Some((_, keys, _)) => {
                if *commit {
                    commits += 1;
                    let want: Vec<Key> = keys
                        .iter()
                        .copied()
                        .filter(|&k| participant_of(k, result.node_count) == p)
                        .collect();
                    let got: Vec<Key> = applied.iter().map(|a| a.0).collect();
                    if got != want {
                        return fail(
                            NAME,
                            result.seed,
                            format!(
                                "n{} learned commit of {txn} at {} but applied keys {got:?}, not its part {want:?}: the transaction is only partly applied",
                                p.0, o.time
                            ),
                        );
                    }
                } else {
                    aborts += 1;
                }
            }
        }
    }
    let committed = decided.by_txn.values().filter(|d| d.0).count();
    CheckResult::new(
        NAME,
        Verdict::Pass,
        format!(
            "{} transactions decided ({committed} committed); participants learned {commits} commits and {aborts} aborts, all matching",
            decided.by_txn.len()
        ),
    )
    .metric("decided", decided.by_txn.len() as f64)
    .metric("committed", committed as f64)
}

/// `validity`: a transaction commits only if every participant voted yes before the decision.
pub fn check_validity(result: &RunResult<Observation>) -> CheckResult {
    const NAME: &str = "validity";
    let mut yes: BTreeSet<(TxnId, NodeId)> = BTreeSet::new();
    let mut commits = 0u64;
    for o in &result.observations {
        match &o.value {
            Observation::Voted { txn, yes: true } => {
                yes.insert((*txn, o.node));
            }
            Observation::Decided {
                txn,
                commit: true,
                keys,
            } => {
                commits += 1;
                let parts: BTreeSet<NodeId> = keys
                    .iter()
                    .map(|&k| participant_of(k, result.node_count))
                    .collect();
                if parts.is_empty() {
                    return fail(
                        NAME,
                        result.seed,
                        format!("{txn} committed at {} with no participant", o.time),
                    );
                }
                let missing: Vec<String> = parts
                    .iter()
                    .filter(|p| !yes.contains(&(*txn, **p)))
                    .map(|p| format!("n{}", p.0))
                    .collect();
                if !missing.is_empty() {
                    return fail(
                        NAME,
                        result.seed,
                        format!(
                            "{txn} committed at {} without a yes vote from {}",
                            o.time,
                            missing.join(", ")
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    CheckResult::new(
        NAME,
        Verdict::Pass,
        format!("{commits} commits, each after a yes vote from every participant"),
    )
    .metric("commits", commits as f64)
}

/// `isolation` (no lost update): on each key, the committed increments are applied one after
/// another — the `i`-th sees the value `i` (so each sees a distinct previous value) and writes
/// `i + 1` — and the key ends at the number of committed transactions that touched it (those
/// whose commit its participant learned before the run stopped); and no two committed
/// transactions answer a client with the same new value of a key.
pub fn check_isolation(result: &RunResult<Observation>) -> CheckResult {
    const NAME: &str = "isolation";
    // Key → (increments applied, last value).
    let mut keys: BTreeMap<Key, (u64, Value)> = BTreeMap::new();
    let mut increments = 0u64;
    for o in &result.observations {
        let Observation::Learned {
            txn,
            commit: true,
            applied,
        } = &o.value
        else {
            continue;
        };
        for &(k, prev, new) in applied {
            let (count, last) = keys.entry(k).or_insert((0, 0));
            if prev != *last || new != prev + 1 {
                return fail(
                    NAME,
                    result.seed,
                    format!(
                        "lost update on key {k}: {txn} at {} (n{}) incremented {prev} to {new}, but the key held {last} after {count} committed increments",
                        o.time, o.node.0
                    ),
                );
            }
            *count += 1;
            *last = new;
            increments += 1;
        }
    }
    // Each key ends at the number of committed transactions that touched it and whose
    // participant learned the commit (a commit still on its way when the run stopped excepted).
    let learned: BTreeSet<(TxnId, NodeId)> = result
        .observations
        .iter()
        .filter_map(|o| match &o.value {
            Observation::Learned {
                txn, commit: true, ..
            } => Some((*txn, o.node)),
            _ => None,
        })
        .collect();
    let mut committed: BTreeMap<Key, u64> = BTreeMap::new();
    for o in &result.observations {
        if let Observation::Decided {
            txn,
            commit: true,
            keys: ks,
        } = &o.value
        {
            for &k in ks {
                if learned.contains(&(*txn, participant_of(k, result.node_count))) {
                    *committed.entry(k).or_default() += 1;
                }
            }
        }
    }
    for (k, n) in &committed {
        let last = keys.get(k).map_or(0, |v| v.1);
        if last != *n {
            return fail(
                NAME,
                result.seed,
                format!("lost update on key {k}: it ends at {last}, but {n} committed transactions that touched it were learned by its participant"),
            );
        }
    }
    // Every committed client answer names a distinct new value per key.
    let mut answered: BTreeMap<(Key, Value), RequestId> = BTreeMap::new();
    for op in &result.history.ops {
        let Some((at, Outcome::Ok(Response::Committed(kv)))) = &op.completion else {
            continue;
        };
        for &(k, v) in kv {
            if let Some(other) = answered.insert((k, v), op.request_id) {
                return fail(
                    NAME,
                    result.seed,
                    format!(
                        "two committed transactions answered key {k} = {v}: client {}'s request {} at {at} and an earlier one (request {other})",
                        op.client.0, op.request_id
                    ),
                );
            }
        }
    }
    let max = keys.values().map(|v| v.1).max().unwrap_or(0);
    CheckResult::new(
        NAME,
        Verdict::Pass,
        format!(
            "{increments} committed increments over {} keys, applied serially (largest value {max})",
            keys.len()
        ),
    )
    .metric("increments", increments as f64)
    .metric("keys", keys.len() as f64)
}

/// What `blocking` measured: per (participant, transaction), the time it stayed prepared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlockingFigures {
    /// Yes votes (prepared states entered).
    pub prepared: u64,
    /// Of those, still prepared when the run stopped.
    pub unresolved: u64,
    pub max: SimDuration,
    pub total: SimDuration,
    /// The participant and transaction of the longest.
    pub longest: Option<(NodeId, TxnId)>,
}

/// Measures how long participants stayed prepared: from the first yes vote of a participant
/// on a transaction to the decision it learned (or to the end of the run).
pub fn measure_blocking(result: &RunResult<Observation>) -> BlockingFigures {
    let mut since: BTreeMap<(TxnId, NodeId), SimTime> = BTreeMap::new();
    let mut ended: BTreeSet<(TxnId, NodeId)> = BTreeSet::new();
    let mut b = BlockingFigures::default();
    let add = |b: &mut BlockingFigures, d: SimDuration, who: (TxnId, NodeId)| {
        b.total = SimDuration(b.total.0 + d.0);
        if d > b.max || b.longest.is_none() {
            b.max = d;
            b.longest = Some((who.1, who.0));
        }
    };
    for o in &result.observations {
        match &o.value {
            Observation::Voted { txn, yes: true } => {
                let who = (*txn, o.node);
                if !ended.contains(&who) && !since.contains_key(&who) {
                    since.insert(who, o.time);
                    b.prepared += 1;
                }
            }
            Observation::Learned { txn, .. } => {
                let who = (*txn, o.node);
                if let Some(t) = since.remove(&who) {
                    add(&mut b, o.time.saturating_since(t), who);
                }
                ended.insert(who);
            }
            _ => {}
        }
    }
    for (who, t) in since {
        b.unresolved += 1;
        add(&mut b, result.end.saturating_since(t), who);
    }
    b
}

/// `blocking`: a measure, not hidden — how many participants were prepared, how many still
/// were at the end, and the longest and total time spent prepared. It fails only when `max`
/// is given and some participant stayed prepared longer.
pub fn check_blocking(result: &RunResult<Observation>, max: Option<SimDuration>) -> CheckResult {
    const NAME: &str = "blocking";
    let b = measure_blocking(result);
    let longest = match b.longest {
        Some((p, txn)) => format!(" (n{} on {txn})", p.0),
        None => String::new(),
    };
    let ms = |d: SimDuration| d.0 as f64 / 1e6;
    let detail = format!(
        "{} prepared states, {} unresolved at the end; longest {:.1}ms{longest}, total {:.1}ms",
        b.prepared,
        b.unresolved,
        ms(b.max),
        ms(b.total)
    );
    let verdict = match max {
        Some(m) if b.max > m => Verdict::Fail,
        _ => Verdict::Pass,
    };
    let detail = match (verdict, max) {
        (Verdict::Fail, Some(m)) => format!(
            "a participant stayed prepared {:.1}ms, above the bound {:.1}ms: {detail} (reproduce with seed {})",
            ms(b.max),
            ms(m),
            result.seed
        ),
        _ => detail,
    };
    CheckResult::new(NAME, verdict, detail)
        .metric("prepared", b.prepared as f64)
        .metric("unresolved", b.unresolved as f64)
        .metric("prepared_ms_max", ms(b.max))
        .metric("prepared_ms_total", ms(b.total))
}

// Registration: what scenarios name and check (see `sim_core::Protocol`).

impl Protocol for TwoPhaseCommit {
    const NAME: &'static str = "TwoPhaseCommit";
    const CLI_NAME: &'static str = "two-phase-commit";
    const SUMMARY: &'static str = "two-phase commit (presumed abort): a coordinator (node 0) commits multi-key transactions atomically across sharded participants";
    const SERVICES: &'static [Service] = &[Service::Transaction];
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> TwoPhaseCommit {
        TwoPhaseCommit::new(id, params)
    }

    fn validate(p: &Params, config: &SimConfig) -> Result<(), FieldError> {
        let n = config.node_count;
        if n < 2 {
            return Err(FieldError::in_scenario(
                "nodes",
                format!("two-phase commit needs at least `2` nodes, found `{n}`"),
            )
            .hint("node 0 is the coordinator and nodes `1..nodes` are the participants (shards)"));
        }
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
    }

    fn default_params() -> Option<Params> {
        Some(Params::default())
    }
}

sim_core::check_from_fn!(
    /// Atomicity: every participant that learns a transaction's outcome learns the
    /// coordinator's decision and applies all of its part.
    pub Atomicity, "atomicity",
    "every participant that learns a transaction's outcome learns the coordinator's decision and applies all of its part",
    TwoPhaseCommit, check_atomicity
);
sim_core::check_from_fn!(
    /// Validity: a transaction commits only if every participant voted yes.
    pub Validity, "validity", "a transaction commits only if every participant voted yes",
    TwoPhaseCommit, check_validity
);
sim_core::check_from_fn!(
    /// Isolation (no lost update): each key's committed increments apply serially.
    pub Isolation, "isolation",
    "no lost update: each key's committed increments apply serially",
    TwoPhaseCommit, check_isolation
);

/// `blocking`: how long participants stayed prepared (blocked); fails only above `max`, if
/// given.
pub struct Blocking;

/// [`Blocking`]'s parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<SimDuration>,
}

impl CheckKind for Blocking {
    const NAME: &'static str = "blocking";
    const SUMMARY: &'static str =
        "how long participants stayed prepared (blocked); fails only above `max`, if given";
    type Params = BlockingParams;

    fn validate(p: &BlockingParams, cx: &CheckContext<'_>) -> Result<(), FieldError> {
        match p.max {
            Some(m) => rules::positive(cx.path, "max", m),
            None => Ok(()),
        }
    }
}

impl Check<TwoPhaseCommit> for Blocking {
    fn run(p: &BlockingParams, input: &CheckInput<'_, TwoPhaseCommit>) -> CheckResult {
        check_blocking(input.result, p.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::config::{ClientConfig, TargetPolicy, Workload};
    use sim_core::{run, SimConfig};
    use sim_core::{NodeId, SimTime};

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

    /// A run that recorded only these observations: `(ms, node, observation)`.
    fn observed(node_count: u32, obs: Vec<(u64, u32, Observation)>) -> RunResult<Observation> {
        RunResult {
            seed: 9,
            trace_hash: 0,
            stats: sim_core::Stats::default(),
            end: SimTime(1_000_000_000),
            hit_events_max: false,
            history: sim_core::History::default(),
            observations: obs
                .into_iter()
                .map(|(t, n, value)| sim_core::process::Observed {
                    time: SimTime(t * 1_000_000),
                    node: NodeId(n),
                    value,
                })
                .collect(),
            fault_log: Vec::new(),
            final_status: Vec::new(),
            liveness_start: None,
            running_hashes: None,
            event_log: None,
            plan: Vec::new(),
            node_count,
            client_count: 1,
            captured: Vec::new(),
        }
    }

    const T: TxnId = TxnId {
        client: 0,
        request: 1,
    };

    /// Keys 0 and 2 of a 3-node cluster (2 shards): one on each participant.
    fn two_shard_keys() -> (Key, Key, NodeId, NodeId) {
        let (a, b) = (0, 2);
        let (pa, pb) = (participant_of(a, 3), participant_of(b, 3));
        assert_ne!(pa, pb, "pick keys on different shards");
        (a, b, pa, pb)
    }

    #[test]
    fn the_checks_catch_crafted_violations() {
        let (a, b, pa, pb) = two_shard_keys();
        let voted = |p: NodeId| (1, p.0, Observation::Voted { txn: T, yes: true });
        let decided = |commit| {
            (
                2,
                0,
                Observation::Decided {
                    txn: T,
                    commit,
                    keys: vec![a, b],
                },
            )
        };
        let learned = |t, p: NodeId, commit, applied: Vec<(Key, Value, Value)>| {
            (
                t,
                p.0,
                Observation::Learned {
                    txn: T,
                    commit,
                    applied,
                },
            )
        };
        let good = observed(
            3,
            vec![
                voted(pa),
                voted(pb),
                decided(true),
                learned(3, pa, true, vec![(a, 0, 1)]),
                learned(3, pb, true, vec![(b, 0, 1)]),
            ],
        );
        for c in [
            check_atomicity(&good),
            check_validity(&good),
            check_isolation(&good),
            check_blocking(&good, Some(SimDuration::from_millis(2))),
        ] {
            assert_eq!(c.verdict, Verdict::Pass, "{}: {}", c.name, c.detail);
        }
        // A participant aborts a committed transaction.
        let r = observed(
            3,
            vec![
                voted(pa),
                voted(pb),
                decided(true),
                learned(3, pa, false, vec![]),
            ],
        );
        let c = check_atomicity(&r);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(
            c.detail.contains("coordinator decided commit"),
            "{}",
            c.detail
        );
        // A participant applies only part of a commit.
        let r = observed(
            3,
            vec![
                voted(pa),
                voted(pb),
                decided(true),
                learned(3, pb, true, vec![]),
            ],
        );
        assert_eq!(check_atomicity(&r).verdict, Verdict::Fail);
        // A commit without a vote from one participant.
        let r = observed(3, vec![voted(pa), decided(true)]);
        let c = check_validity(&r);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.detail.contains(&format!("n{}", pb.0)), "{}", c.detail);
        // Two commits see the same previous value: a lost update.
        let r = observed(
            3,
            vec![
                learned(3, pa, true, vec![(a, 0, 1)]),
                (
                    4,
                    pa.0,
                    Observation::Learned {
                        txn: TxnId {
                            client: 1,
                            request: 1,
                        },
                        commit: true,
                        applied: vec![(a, 0, 1)],
                    },
                ),
            ],
        );
        let c = check_isolation(&r);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.detail.contains("lost update on key"), "{}", c.detail);
        // Prepared at 1 ms and never resolved: blocked until the end (1 s).
        let r = observed(3, vec![voted(pa)]);
        let c = check_blocking(&r, None);
        assert_eq!(c.verdict, Verdict::Pass);
        let b = measure_blocking(&r);
        assert_eq!((b.prepared, b.unresolved), (1, 1));
        assert_eq!(b.max, SimDuration::from_millis(999));
        assert_eq!(
            check_blocking(&r, Some(SimDuration::from_millis(500))).verdict,
            Verdict::Fail
        );
    }

    #[test]
    fn default_params_are_valid_and_zero_is_not() {
        assert_eq!(Params::default().validate(), Ok(()));
        let p = Params {
            retry: SimDuration::ZERO,
            ..Params::default()
        };
        assert!(p.validate().unwrap_err().contains("retry"));
        let p = Params {
            vote_timeout: SimDuration::from_millis(1),
            ..Params::default()
        };
        assert!(p.validate().unwrap_err().contains("vote_timeout"));
    }
}
