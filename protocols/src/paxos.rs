//! Multi-Paxos: a replicated key-value store kept consistent by a sequence of Paxos instances.
//!
//! # The service
//!
//! The key-value service of [`crate::raft`] (`Get`, `Put`, `Cas`, `Append`, through
//! [`sim_core::KvStore`], which filters client retries), linearizable under every fault dsim
//! injects. Every request — reads included — is a command in the replicated log, answered by
//! the leader once the command is chosen and applied in log order. A node that does not lead
//! answers `Redirect { leader }` when it knows the leader and stays silent otherwise (the
//! client times out: an indeterminate outcome).
//!
//! # The algorithm
//!
//! Lamport, "Paxos Made Simple" (ACM SIGACT News, 2001), and van Renesse and Altinbuken,
//! "Paxos Made Moderately Complex" (ACM Computing Surveys, 2015). Every node plays the three
//! roles of the paper: proposer (only the leader proposes), acceptor and learner.
//!
//! 1. **Ballots** are pairs `(round, node)`, ordered by round and then node, so two proposers
//!    never share one. Round 0 is "no ballot".
//! 2. **Acceptor state** is durable: the highest ballot it promised and, per log slot, the
//!    ballot and value it last accepted. Both are written to storage and synced before any
//!    message that depends on them leaves the node (every send goes through one helper that
//!    syncs first). A restarted acceptor reads them back in [`Process::on_recover`].
//! 3. **Phase 1 (prepare/promise), once for all open slots.** A node that hears no leader for a
//!    randomized election timeout (uniform in `[election_timeout_min, election_timeout_max]`
//!    on its local clock) picks a ballot above every round it has seen and sends
//!    `Prepare { ballot, from_slot }`, where `from_slot` is the first slot it has not applied.
//!    An acceptor that has not promised a higher ballot promises this one and answers with
//!    every value it knows decided from `from_slot` on and every value it accepted in the
//!    other slots from there (with their ballots); otherwise it answers `Nack` with its
//!    promise, and the proposer gives up this ballot.
//! 4. **Adopting values and filling gaps.** With promises from a majority (itself included),
//!    the proposer leads. For every slot from `from_slot` up to the highest slot any promise
//!    reported it proposes, in phase 2 of its ballot, the value of the highest ballot reported
//!    accepted in that slot — the rule that makes a chosen value stay chosen — and a no-op
//!    where no value was reported (a *gap*, left by an earlier leader whose proposal reached
//!    no acceptor of this quorum). Slots reported decided are learned, not proposed.
//! 5. **Phase 2 (accept/accepted), per slot.** New client commands take the next free slots.
//!    An acceptor accepts `Accept { ballot, slot, value }` unless it promised a higher ballot
//!    (which it reports with `Nack`: the leader steps down). A value accepted by a majority in
//!    one ballot is *chosen*; the leader learns it from the `Accepted` replies and broadcasts
//!    `Decide`. It re-sends unanswered `Accept`s every `heartbeat`.
//! 6. **Learners.** Every node records decided values (also durably, to speed up its
//!    recovery) and applies them to its key-value store in slot order. The leader's heartbeat
//!    carries the number of slots it has applied; a node that is behind (a lost `Decide`, a
//!    partition, a restart) asks for the missing ones (`CatchUp`) and gets up to `batch_max`
//!    decisions per answer; after a full batch it asks for the next one at once.
//! 7. **Failure detection.** The leader sends `Heartbeat` every `heartbeat`; hearing from a
//!    leader of a ballot at least as high as its promise resets a node's election timer. A
//!    leader of a lower ballot that sends a heartbeat gets a `Nack` and steps down.
//!
//! **Clients.** The leader proposes a request once (an in-flight proposal of the same request,
//! e.g. one adopted in phase 1, is not proposed again) and answers when the slot holding it is
//! applied; a request already executed gets the response recorded in the client's session. A
//! leader that steps down forgets whom it owed replies to without answering them: the
//! requests may still be chosen.
//!
//! # Checks
//!
//! - `agreement` ([`check_agreement`]): from the acceptors' `Accepted` observations, a value is
//!   chosen in a slot when a majority of acceptors accepted it in the same ballot; no slot has
//!   two chosen values, and every value a node applies in a slot is the one chosen there.
//! - `linearizable` (the clients' history) and `liveness` ([`check_liveness`]).
//!
//! # Bugs to inject
//!
//! - [`Bug::NoAdoptAccepted`]: a new leader ignores the accepted values reported in phase 1
//!   and proposes no-ops in those slots: a value chosen by the previous leader is overwritten
//!   by a no-op chosen in the new ballot (`agreement`).
//! - [`Bug::PromiseWithoutPersist`]: promises are kept in memory only. A restarted acceptor
//!   has forgotten the ballots it promised and accepts a lower one; a restarted proposer may
//!   even reuse a ballot it led before. Two values get chosen in a slot (`agreement`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::check::{CheckResult, LeaderBased, Leadership, Linearizable, Liveness, Verdict};
use sim_core::kv::Seen;
use sim_core::protocol::{CheckList, FieldError, Protocol};
use sim_core::trace::stable_hash;
use sim_core::{
    ClientId, Context, KvStore, NodeId, Process, Request, RequestId, Response, RunResult, Service,
    SimConfig, SimDuration, SimTime, TimerId,
};

use crate::kit;

/// Most slots a node's log may hold: a named limit, far above what any shipped scenario uses.
pub const SLOTS_MAX: u64 = 10_000_000;

/// Deliberately broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Bug {
    /// A new leader proposes no-ops instead of the highest-ballot values reported in phase 1.
    NoAdoptAccepted,
    /// Acceptors keep their promise in memory only (a crash forgets it).
    PromiseWithoutPersist,
}

/// The parameters of `protocol: Paxos(...)`; every field has a default, so `Paxos()` is valid.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Shortest election timeout (local clock). Default 150 ms.
    pub election_timeout_min: SimDuration,
    /// Longest election timeout; each timeout is uniform in `[min, max]`. Default 300 ms.
    pub election_timeout_max: SimDuration,
    /// Time between two heartbeats of the leader (and re-sends of unanswered `Prepare` and
    /// `Accept` messages). Default 50 ms.
    pub heartbeat: SimDuration,
    /// Most decisions one `CatchUp` answer carries. Default 64.
    pub batch_max: u32,
    /// A deliberate bug to inject (`None`: the correct protocol).
    pub bug: Option<Bug>,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            election_timeout_min: SimDuration::from_millis(150),
            election_timeout_max: SimDuration::from_millis(300),
            heartbeat: SimDuration::from_millis(50),
            batch_max: 64,
            bug: None,
        }
    }
}

impl Params {
    /// Checks the ranges a scenario must respect; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.election_timeout_min == SimDuration::ZERO {
            return Err("paxos `election_timeout_min` must be longer than 0".into());
        }
        if self.election_timeout_min > self.election_timeout_max {
            return Err("paxos `election_timeout_min` is above `election_timeout_max`".into());
        }
        if self.heartbeat == SimDuration::ZERO {
            return Err("paxos `heartbeat` must be longer than 0".into());
        }
        if self.heartbeat >= self.election_timeout_min {
            return Err("paxos `heartbeat` must be shorter than `election_timeout_min`".into());
        }
        if self.batch_max == 0 {
            return Err("paxos `batch_max` must be at least 1".into());
        }
        Ok(())
    }
}

/// A ballot: ordered by round, then by the proposing node. Round 0 is "none".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ballot {
    pub round: u64,
    pub node: u32,
}

impl Ballot {
    pub const NONE: Ballot = Ballot { round: 0, node: 0 };

    /// One number ordered like the ballots (for the liveness check's "term").
    pub fn as_u64(self) -> u64 {
        (self.round << 20) | u64::from(self.node & 0xF_FFFF)
    }
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.round, self.node)
    }
}

/// What a slot asks the state machine to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// Fills a gap: changes nothing.
    Noop,
    /// A client's request, with its id for retry filtering.
    Client {
        client: u32,
        request_id: RequestId,
        request: Request,
    },
}

/// A decided slot and its value.
pub type Decision = (u64, Command);

/// A slot, the ballot a value was accepted in, and the value.
pub type AcceptedValue = (u64, Ballot, Command);

/// Node-to-node messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Phase 1a: promise `ballot`, and report what you know from `from_slot` on.
    Prepare { ballot: Ballot, from_slot: u64 },
    /// Phase 1b: the promise, with the values known decided and, in the other slots, the
    /// values accepted (slot, ballot, value), from `from_slot` on.
    Promise {
        ballot: Ballot,
        decided: Vec<(u64, Command)>,
        accepted: Vec<(u64, Ballot, Command)>,
    },
    /// Phase 2a.
    Accept {
        ballot: Ballot,
        slot: u64,
        command: Command,
    },
    /// Phase 2b.
    Accepted { ballot: Ballot, slot: u64 },
    /// `ballot` was refused: the acceptor promised `promised`.
    Nack { ballot: Ballot, promised: Ballot },
    /// The value chosen in `slot`.
    Decide { slot: u64, command: Command },
    /// The leader of `ballot` is alive and has applied slots `1..=applied`.
    Heartbeat { ballot: Ballot, applied: u64 },
    /// Send me the decisions from `from_slot` on.
    CatchUp { from_slot: u64 },
    /// Decisions, for a node catching up.
    Decisions { entries: Vec<(u64, Command)> },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// No leader heard from: start phase 1.
    Election,
    /// Leader: heartbeat and re-send `Accept`s; candidate: re-send `Prepare`s. Only for this
    /// ballot.
    Heartbeat { ballot: Ballot },
}

/// Keys of a node's durable store.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreKey {
    Promised,
    Accepted(u64),
    Decided(u64),
}

/// Values of a node's durable store (the variant matches the [`StoreKey`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    Ballot(Ballot),
    Accepted(Ballot, Command),
    Decided(Command),
}

/// What a node reports, for the checks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// Phase 1 of `ballot` succeeded: the node leads.
    BecameLeader { ballot: Ballot },
    /// The leader gave up its ballot on seeing the higher `seen`.
    SteppedDown { ballot: Ballot, seen: Ballot },
    /// The acceptor accepted the value with this hash in `slot` at `ballot`.
    Accepted {
        slot: u64,
        ballot: Ballot,
        value_hash: u64,
    },
    /// A new leader proposed in `slot` in its phase 2 of recovery: the adopted value, or a
    /// no-op filling a gap (`noop`).
    Filled {
        slot: u64,
        ballot: Ballot,
        noop: bool,
    },
    /// The node applied the value with this hash in `slot` (slots are applied in order).
    Learned { slot: u64, value_hash: u64 },
    /// The node restarted with this durable promise, accepted and decided slot counts.
    Recovered {
        promised: Ballot,
        accepted: u64,
        decided: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Proposal {
    command: Command,
    /// Per node: has it accepted this proposal?
    acked: Vec<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    Follower,
    Candidate {
        ballot: Ballot,
        from_slot: u64,
        promised_by: Vec<bool>,
        /// Per slot: the highest-ballot value reported accepted.
        adopted: BTreeMap<u64, (Ballot, Command)>,
        /// The highest slot any promise reported.
        max_slot: u64,
    },
    Leader {
        ballot: Ballot,
        next_slot: u64,
        proposals: BTreeMap<u64, Proposal>,
    },
}

/// One Multi-Paxos node: proposer, acceptor and learner.
pub struct Paxos {
    id: NodeId,
    params: Params,
    // Acceptor (durable).
    promised: Ballot,
    accepted: BTreeMap<u64, (Ballot, Command)>,
    // Learner (durable, for a faster recovery) and the state machine (volatile).
    decided: BTreeMap<u64, Command>,
    /// Slots `1..=applied` are applied to `store`.
    applied: u64,
    store: KvStore,
    // Proposer (volatile).
    role: Role,
    /// The highest round seen in any ballot.
    round_seen: u64,
    /// The leader of the promised ballot, when known.
    leader: Option<NodeId>,
    election_timer: Option<TimerId>,
    heartbeat_timer: Option<TimerId>,
    /// Leader: per client, the request it owes a reply once applied.
    waiting: BTreeMap<u32, RequestId>,
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
            accepted: BTreeMap::new(),
            decided: BTreeMap::new(),
            applied: 0,
            store: KvStore::new(),
            role: Role::Follower,
            round_seen: 0,
            leader: None,
            election_timer: None,
            heartbeat_timer: None,
            waiting: BTreeMap::new(),
        }
    }

    fn bug(&self, b: Bug) -> bool {
        self.params.bug == Some(b)
    }

    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    /// The ballot this node leads or runs phase 1 for.
    fn own_ballot(&self) -> Option<Ballot> {
        match self.role {
            Role::Follower => None,
            Role::Candidate { ballot, .. } | Role::Leader { ballot, .. } => Some(ballot),
        }
    }

    fn majority(n: u32) -> usize {
        n as usize / 2 + 1
    }

    // ---- effects -------------------------------------------------------------------------

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

    fn broadcast(&self, ctx: &mut Context<'_, Self>, msg: &Msg) {
        for p in 0..ctx.node_count() {
            if p != self.id.0 {
                Self::send(ctx, NodeId(p), msg.clone());
            }
        }
    }

    fn reply(ctx: &mut Context<'_, Self>, client: ClientId, request_id: RequestId, r: Response) {
        Self::flush(ctx);
        ctx.reply(client, request_id, r);
    }

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

    fn arm_heartbeat(&mut self, ctx: &mut Context<'_, Self>, ballot: Ballot) {
        if let Some(id) = self.heartbeat_timer.take() {
            ctx.cancel_timer(id);
        }
        self.heartbeat_timer =
            Some(ctx.set_timer(self.params.heartbeat, Timer::Heartbeat { ballot }));
    }

    // ---- acceptor ------------------------------------------------------------------------

    /// Promises `b` if it is higher than the current promise (persisted, except under the
    /// `PromiseWithoutPersist` bug), and gives up a lower ballot this node leads or runs.
    fn raise_promise(&mut self, ctx: &mut Context<'_, Self>, b: Ballot) {
        self.round_seen = self.round_seen.max(b.round);
        if b > self.promised {
            self.promised = b;
            if !self.bug(Bug::PromiseWithoutPersist) {
                ctx.storage().put(StoreKey::Promised, Stored::Ballot(b));
            }
        }
        if self.own_ballot().is_some_and(|own| own < b) {
            self.step_down(ctx, b);
        }
    }

    /// What this acceptor reports to a phase 1 from `from_slot` on.
    fn promise_contents(&self, from_slot: u64) -> (Vec<Decision>, Vec<AcceptedValue>) {
        let decided: Vec<(u64, Command)> = self
            .decided
            .range(from_slot..)
            .map(|(s, c)| (*s, c.clone()))
            .collect();
        let accepted = self
            .accepted
            .range(from_slot..)
            .filter(|(s, _)| !self.decided.contains_key(s))
            .map(|(s, (b, c))| (*s, *b, c.clone()))
            .collect();
        (decided, accepted)
    }

    fn on_prepare(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        from_slot: u64,
    ) {
        if ballot < self.promised {
            let promised = self.promised;
            Self::send(ctx, from, Msg::Nack { ballot, promised });
            return;
        }
        self.raise_promise(ctx, ballot);
        if self.leader != Some(from) {
            self.leader = None;
        }
        self.reset_election_timer(ctx);
        let (decided, accepted) = self.promise_contents(from_slot);
        Self::send(
            ctx,
            from,
            Msg::Promise {
                ballot,
                decided,
                accepted,
            },
        );
    }

    /// Accepts `command` in `slot` at `ballot` (memory, storage; observed).
    fn accept(&mut self, ctx: &mut Context<'_, Self>, slot: u64, ballot: Ballot, command: Command) {
        assert!(
            (1..SLOTS_MAX).contains(&slot),
            "paxos slot {slot} out of range"
        );
        assert!(
            ballot <= self.promised,
            "n{}: accepting ballot {ballot} above its promise {}",
            self.id.0,
            self.promised
        );
        ctx.observe(Observation::Accepted {
            slot,
            ballot,
            value_hash: stable_hash(&command),
        });
        ctx.storage().put(
            StoreKey::Accepted(slot),
            Stored::Accepted(ballot, command.clone()),
        );
        self.accepted.insert(slot, (ballot, command));
    }

    /// A message from the leader of `ballot` (an `Accept` or a heartbeat): `false` (and a
    /// `Nack`) if a higher ballot is promised; otherwise it is the leader to follow.
    fn hear_leader(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, ballot: Ballot) -> bool {
        if ballot < self.promised {
            let promised = self.promised;
            ctx.annotate(|| format!("refused ballot {ballot}: promised {promised}"));
            Self::send(ctx, from, Msg::Nack { ballot, promised });
            return false;
        }
        self.raise_promise(ctx, ballot);
        if self.own_ballot() == Some(ballot) {
            return false; // Our own ballot (only a reused ballot gets here).
        }
        self.leader = Some(from);
        self.reset_election_timer(ctx);
        true
    }

    // ---- learner -------------------------------------------------------------------------

    /// Records the value decided in `slot` and applies what is now contiguous.
    fn learn(&mut self, ctx: &mut Context<'_, Self>, slot: u64, command: Command) {
        if slot <= self.applied || self.decided.contains_key(&slot) {
            return;
        }
        ctx.storage()
            .put(StoreKey::Decided(slot), Stored::Decided(command.clone()));
        self.decided.insert(slot, command);
        self.apply_ready(ctx);
    }

    fn apply_ready(&mut self, ctx: &mut Context<'_, Self>) {
        while let Some(command) = self.decided.get(&(self.applied + 1)).cloned() {
            self.applied += 1;
            let slot = self.applied;
            ctx.observe(Observation::Learned {
                slot,
                value_hash: stable_hash(&command),
            });
            if let Command::Client {
                client,
                request_id,
                request,
            } = command
            {
                let response = self.store.execute(client, request_id, &request);
                if self.waiting.get(&client) == Some(&request_id) {
                    self.waiting.remove(&client);
                    if let Some(r) = response {
                        Self::reply(ctx, ClientId(client), request_id, r);
                    }
                }
            }
        }
    }

    // ---- proposer ------------------------------------------------------------------------

    /// Gives up leading (or running phase 1) on seeing the higher ballot `seen`.
    fn step_down(&mut self, ctx: &mut Context<'_, Self>, seen: Ballot) {
        if let Role::Leader { ballot, .. } = self.role {
            ctx.observe(Observation::SteppedDown { ballot, seen });
            // The requests it owed replies to may still be chosen: no answer.
            self.waiting.clear();
        }
        if let Some(id) = self.heartbeat_timer.take() {
            ctx.cancel_timer(id);
        }
        self.role = Role::Follower;
        self.leader = None;
        self.reset_election_timer(ctx);
        ctx.annotate(|| format!("follower (saw ballot {seen})"));
    }

    fn start_phase1(&mut self, ctx: &mut Context<'_, Self>) {
        let ballot = Ballot {
            round: self.round_seen.max(self.promised.round) + 1,
            node: self.id.0,
        };
        let from_slot = self.applied + 1;
        self.raise_promise(ctx, ballot);
        self.leader = None;
        let n = ctx.node_count() as usize;
        self.role = Role::Candidate {
            ballot,
            from_slot,
            promised_by: vec![false; n],
            adopted: BTreeMap::new(),
            max_slot: 0,
        };
        ctx.annotate(|| format!("phase 1 of ballot {ballot} from slot {from_slot}"));
        self.reset_election_timer(ctx);
        self.arm_heartbeat(ctx, ballot);
        self.broadcast(ctx, &Msg::Prepare { ballot, from_slot });
        let (decided, accepted) = self.promise_contents(from_slot);
        self.on_promise(ctx, self.id, ballot, decided, accepted);
    }

    fn on_promise(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        decided: Vec<(u64, Command)>,
        accepted: Vec<(u64, Ballot, Command)>,
    ) {
        if !matches!(self.role, Role::Candidate { ballot: b, .. } if b == ballot) {
            return;
        }
        // Decided values are chosen: learn them.
        let mut top = 0;
        for (slot, command) in decided {
            top = top.max(slot);
            self.learn(ctx, slot, command);
        }
        let Role::Candidate {
            promised_by,
            adopted,
            max_slot,
            ..
        } = &mut self.role
        else {
            return;
        };
        top = top.max(adopt_highest(adopted, accepted));
        *max_slot = (*max_slot).max(top);
        promised_by[from.index()] = true;
        let count = promised_by.iter().filter(|&&p| p).count();
        if count >= Self::majority(ctx.node_count()) {
            self.become_leader(ctx);
        }
    }

    fn become_leader(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::Candidate {
            ballot,
            adopted,
            max_slot,
            ..
        } = std::mem::replace(&mut self.role, Role::Follower)
        else {
            return;
        };
        if let Some(id) = self.election_timer.take() {
            ctx.cancel_timer(id);
        }
        let plan = phase2_plan(
            self.applied,
            &self.decided,
            &adopted,
            max_slot,
            !self.bug(Bug::NoAdoptAccepted),
        );
        let top = self.decided.keys().next_back().copied().unwrap_or(0);
        self.role = Role::Leader {
            ballot,
            next_slot: max_slot.max(top).max(self.applied) + 1,
            proposals: BTreeMap::new(),
        };
        self.leader = Some(self.id);
        ctx.observe(Observation::BecameLeader { ballot });
        ctx.annotate(|| format!("leader of ballot {ballot}: {} slots to recover", plan.len()));
        for (slot, command, noop) in plan {
            ctx.observe(Observation::Filled { slot, ballot, noop });
            self.propose(ctx, slot, command);
        }
        self.send_heartbeats(ctx);
        self.arm_heartbeat(ctx, ballot);
    }

    /// Phase 2 of the leader's ballot for `slot`: accept locally, ask everyone else.
    fn propose(&mut self, ctx: &mut Context<'_, Self>, slot: u64, command: Command) {
        let n = ctx.node_count();
        let Role::Leader { ballot, .. } = self.role else {
            return;
        };
        self.accept(ctx, slot, ballot, command.clone());
        let mut acked = vec![false; n as usize];
        acked[self.id.index()] = true;
        if let Role::Leader { proposals, .. } = &mut self.role {
            proposals.insert(
                slot,
                Proposal {
                    command: command.clone(),
                    acked,
                },
            );
        }
        if Self::majority(n) == 1 {
            self.decide(ctx, slot);
            return;
        }
        self.broadcast(
            ctx,
            &Msg::Accept {
                ballot,
                slot,
                command,
            },
        );
    }

    fn on_accepted(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        slot: u64,
    ) {
        let need = Self::majority(ctx.node_count());
        let Role::Leader {
            ballot: mine,
            proposals,
            ..
        } = &mut self.role
        else {
            return;
        };
        if *mine != ballot {
            return;
        }
        let Some(p) = proposals.get_mut(&slot) else {
            return; // Decided already.
        };
        p.acked[from.index()] = true;
        if p.acked.iter().filter(|&&a| a).count() >= need {
            self.decide(ctx, slot);
        }
    }

    /// The leader's proposal in `slot` is chosen: learn it and tell everyone.
    fn decide(&mut self, ctx: &mut Context<'_, Self>, slot: u64) {
        let Role::Leader { proposals, .. } = &mut self.role else {
            return;
        };
        let Some(p) = proposals.remove(&slot) else {
            return;
        };
        let command = p.command;
        self.broadcast(
            ctx,
            &Msg::Decide {
                slot,
                command: command.clone(),
            },
        );
        self.learn(ctx, slot, command);
    }

    fn send_heartbeats(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::Leader { ballot, .. } = self.role else {
            return;
        };
        let msg = Msg::Heartbeat {
            ballot,
            applied: self.applied,
        };
        self.broadcast(ctx, &msg);
    }

    /// Leader: heartbeats, and `Accept` again to every node that has not answered.
    fn leader_tick(&mut self, ctx: &mut Context<'_, Self>) {
        self.send_heartbeats(ctx);
        let Role::Leader {
            ballot, proposals, ..
        } = &self.role
        else {
            return;
        };
        let ballot = *ballot;
        let mut resend = Vec::new();
        for (slot, p) in proposals {
            for (i, acked) in p.acked.iter().enumerate() {
                if !acked {
                    resend.push((
                        NodeId(i as u32),
                        Msg::Accept {
                            ballot,
                            slot: *slot,
                            command: p.command.clone(),
                        },
                    ));
                }
            }
        }
        for (to, msg) in resend {
            Self::send(ctx, to, msg);
        }
    }

    /// Candidate: `Prepare` again to every node that has not promised.
    fn candidate_tick(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::Candidate {
            ballot,
            from_slot,
            promised_by,
            ..
        } = &self.role
        else {
            return;
        };
        let msg = Msg::Prepare {
            ballot: *ballot,
            from_slot: *from_slot,
        };
        let ask: Vec<NodeId> = promised_by
            .iter()
            .enumerate()
            .filter(|(_, p)| !**p)
            .map(|(i, _)| NodeId(i as u32))
            .collect();
        for p in ask {
            Self::send(ctx, p, msg.clone());
        }
    }

    /// Is the request proposed and not yet decided (leader)?
    fn in_flight(&self, client: u32, request_id: RequestId) -> bool {
        let Role::Leader { proposals, .. } = &self.role else {
            return false;
        };
        proposals.values().any(|p| {
            matches!(&p.command, Command::Client { client: c, request_id: r, .. }
                if *c == client && *r == request_id)
        })
    }

    fn assert_invariants(&self) {
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

/// Phase 1: merges one promise's accepted values into `adopted`, keeping per slot the value of
/// the highest ballot. Returns the highest slot reported (0: none).
pub fn adopt_highest(
    adopted: &mut BTreeMap<u64, (Ballot, Command)>,
    accepted: Vec<(u64, Ballot, Command)>,
) -> u64 {
    let mut top = 0;
    for (slot, b, command) in accepted {
        top = top.max(slot);
        match adopted.get(&slot) {
            Some((held, _)) if *held >= b => {}
            _ => {
                adopted.insert(slot, (b, command));
            }
        }
    }
    top
}

/// Phase 2 of recovery for a new leader that has applied `applied` slots: for every slot after
/// it up to `max_slot` that is not known decided, the highest-ballot value reported accepted
/// (`adopt`; the `NoAdoptAccepted` bug passes `false`) or else a no-op. Returns (slot, value,
/// is a no-op filling a gap).
pub fn phase2_plan(
    applied: u64,
    decided: &BTreeMap<u64, Command>,
    adopted: &BTreeMap<u64, (Ballot, Command)>,
    max_slot: u64,
    adopt: bool,
) -> Vec<(u64, Command, bool)> {
    let mut plan = Vec::new();
    for slot in applied + 1..=max_slot {
        if decided.contains_key(&slot) {
            continue;
        }
        match adopted.get(&slot) {
            Some((_, command)) if adopt => plan.push((slot, command.clone(), false)),
            _ => plan.push((slot, Command::Noop, true)),
        }
    }
    plan
}

impl Process for Paxos {
    type Msg = Msg;
    type Timer = Timer;
    type StoreKey = StoreKey;
    type StoreValue = Stored;
    type Observation = Observation;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.reset_election_timer(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Prepare { ballot, from_slot } => self.on_prepare(ctx, from, ballot, from_slot),
            Msg::Promise {
                ballot,
                decided,
                accepted,
            } => self.on_promise(ctx, from, ballot, decided, accepted),
            Msg::Accept {
                ballot,
                slot,
                command,
            } => {
                if self.hear_leader(ctx, from, ballot) {
                    self.accept(ctx, slot, ballot, command);
                    Self::send(ctx, from, Msg::Accepted { ballot, slot });
                }
            }
            Msg::Accepted { ballot, slot } => self.on_accepted(ctx, from, ballot, slot),
            Msg::Nack { ballot, promised } => {
                self.round_seen = self.round_seen.max(promised.round);
                if self.own_ballot() == Some(ballot) && promised > ballot {
                    self.step_down(ctx, promised);
                }
            }
            Msg::Decide { slot, command } => self.learn(ctx, slot, command),
            Msg::Heartbeat { ballot, applied } => {
                if self.hear_leader(ctx, from, ballot) && applied > self.applied {
                    let from_slot = self.applied + 1;
                    Self::send(ctx, from, Msg::CatchUp { from_slot });
                }
            }
            Msg::CatchUp { from_slot } => {
                let entries: Vec<(u64, Command)> = self
                    .decided
                    .range(from_slot..)
                    .take(self.params.batch_max as usize)
                    .map(|(s, c)| (*s, c.clone()))
                    .collect();
                if !entries.is_empty() {
                    Self::send(ctx, from, Msg::Decisions { entries });
                }
            }
            Msg::Decisions { entries } => {
                let full = entries.len() >= self.params.batch_max as usize;
                for (slot, command) in entries {
                    self.learn(ctx, slot, command);
                }
                if full {
                    // Probably more to come: ask for the next batch at once.
                    let from_slot = self.applied + 1;
                    Self::send(ctx, from, Msg::CatchUp { from_slot });
                }
            }
        }
        self.assert_invariants();
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Election => {
                self.election_timer = None;
                if !self.is_leader() {
                    self.start_phase1(ctx);
                }
            }
            Timer::Heartbeat { ballot } if self.own_ballot() == Some(ballot) => {
                self.heartbeat_timer = None;
                if self.is_leader() {
                    self.leader_tick(ctx);
                } else {
                    self.candidate_tick(ctx);
                }
                self.arm_heartbeat(ctx, ballot);
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
        if !self.is_leader() {
            match self.leader {
                Some(leader) if leader != self.id => Self::reply(
                    ctx,
                    client,
                    request_id,
                    Response::Redirect {
                        leader: Some(leader),
                    },
                ),
                _ => {
                    // No leader known (phase 1 under way): silence; the client times out.
                    ctx.annotate(|| format!("{client} request {request_id}: no leader known"));
                }
            }
            return;
        }
        self.waiting.insert(client.0, request_id);
        if !self.in_flight(client.0, request_id) {
            let slot = match &mut self.role {
                Role::Leader { next_slot, .. } => {
                    let s = *next_slot;
                    *next_slot += 1;
                    s
                }
                _ => unreachable!("checked above"),
            };
            self.propose(
                ctx,
                slot,
                Command::Client {
                    client: client.0,
                    request_id,
                    request,
                },
            );
        }
        self.assert_invariants();
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        for (key, stored) in ctx.storage().entries() {
            match (key, stored) {
                (StoreKey::Promised, Stored::Ballot(b)) => self.promised = b,
                (StoreKey::Accepted(slot), Stored::Accepted(b, c)) => {
                    // An accept is a promise too.
                    self.promised = self.promised.max(b);
                    self.accepted.insert(slot, (b, c));
                }
                (StoreKey::Decided(slot), Stored::Decided(c)) => {
                    self.decided.insert(slot, c);
                }
                (key, stored) => panic!("n{}: {key:?} holds {stored:?}", self.id.0),
            }
        }
        self.round_seen = self.promised.round;
        ctx.observe(Observation::Recovered {
            promised: self.promised,
            accepted: self.accepted.len() as u64,
            decided: self.decided.len() as u64,
        });
        self.apply_ready(ctx);
        self.reset_election_timer(ctx);
        self.assert_invariants();
    }
}

// ---- checks ---------------------------------------------------------------------------------

/// `agreement`: a value is chosen in a slot when a majority of acceptors accepted it in one
/// ballot; at most one value is chosen per slot, and every value a node applies in a slot is
/// the value chosen there.
pub fn check_agreement(result: &RunResult<Observation>) -> CheckResult {
    let need = Paxos::majority(result.node_count);
    // (slot, ballot, value) → the acceptors that accepted it.
    let mut votes: BTreeMap<(u64, Ballot, u64), Vec<NodeId>> = BTreeMap::new();
    // slot → (value, ballot, time) chosen.
    let mut chosen: BTreeMap<u64, (u64, Ballot, SimTime)> = BTreeMap::new();
    let mut learned: Vec<(u64, u64, NodeId, SimTime)> = Vec::new();
    for o in &result.observations {
        match o.value {
            Observation::Accepted {
                slot,
                ballot,
                value_hash,
            } => {
                let voters = votes.entry((slot, ballot, value_hash)).or_default();
                if voters.contains(&o.node) {
                    continue;
                }
                voters.push(o.node);
                if voters.len() != need {
                    continue;
                }
                match chosen.get(&slot) {
                    Some(&(v, b, t)) if v != value_hash => {
                        return CheckResult::new(
                            "agreement",
                            Verdict::Fail,
                            format!(
                                "slot {slot}: value {v:016x} chosen in ballot {b} at {t}, and value {value_hash:016x} chosen in ballot {ballot} at {} (accepted by {}) (reproduce with seed {})",
                                o.time,
                                voters.iter().map(|n| format!("n{}", n.0)).collect::<Vec<_>>().join(", "),
                                result.seed
                            ),
                        )
                        .metric("slot", slot as f64);
                    }
                    Some(_) => {}
                    None => {
                        chosen.insert(slot, (value_hash, ballot, o.time));
                    }
                }
            }
            Observation::Learned { slot, value_hash } => {
                learned.push((slot, value_hash, o.node, o.time));
            }
            _ => {}
        }
    }
    for &(slot, value, node, time) in &learned {
        match chosen.get(&slot) {
            Some(&(v, _, _)) if v == value => {}
            Some(&(v, b, t)) => {
                return CheckResult::new(
                    "agreement",
                    Verdict::Fail,
                    format!(
                        "slot {slot}: n{} applied value {value:016x} at {time}, but value {v:016x} was chosen in ballot {b} at {t} (reproduce with seed {})",
                        node.0, result.seed
                    ),
                )
                .metric("slot", slot as f64);
            }
            None => {
                return CheckResult::new(
                    "agreement",
                    Verdict::Fail,
                    format!(
                        "slot {slot}: n{} applied value {value:016x} at {time}, which no majority accepted in one ballot (reproduce with seed {})",
                        node.0, result.seed
                    ),
                )
                .metric("slot", slot as f64);
            }
        }
    }
    CheckResult::new(
        "agreement",
        Verdict::Pass,
        format!(
            "{} slots chosen, one value each; {} applications, each of the chosen value",
            chosen.len(),
            learned.len()
        ),
    )
    .metric("slots_chosen", chosen.len() as f64)
}

/// `liveness` (see [`sim_core::check::liveness`]): after the last heal a leader is in office within
/// `within`, and the operations invoked from then on complete.
pub fn check_liveness(
    result: &RunResult<Observation>,
    within: SimDuration,
    min_answered: f64,
) -> CheckResult {
    sim_core::check::liveness::check_liveness(
        result,
        within,
        min_answered,
        Paxos::TERM,
        Paxos::leadership,
    )
}

// Registration: what scenarios name and check (see `sim_core::Protocol`).

impl Protocol for Paxos {
    const NAME: &'static str = "Paxos";
    const CLI_NAME: &'static str = "paxos";
    const SUMMARY: &'static str = "Multi-Paxos (stable leader, phase 1 once for all open slots, no-op gap filling, catch-up) replicating a key-value store";
    const SERVICES: &'static [Service] = &[Service::KeyValue];
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> Paxos {
        Paxos::new(id, params)
    }

    fn validate(p: &Params, _: &SimConfig) -> Result<(), FieldError> {
        kit::timing::validate(
            "paxos",
            p.election_timeout_min,
            p.election_timeout_max,
            p.heartbeat,
        )?;
        if p.batch_max == 0 {
            return Err(FieldError::new(
                "batch_max",
                "paxos `batch_max` is `0`: a lagging node could never catch up",
            )
            .hint("leave it out for the default `64`, or give a positive count"));
        }
        p.validate().map_err(|e| FieldError::new("", e))
    }

    fn checks(list: &mut impl CheckList<Self>) {
        list.add::<Linearizable>();
        list.add::<Agreement>();
        list.add::<Liveness>();
    }

    fn default_params() -> Option<Params> {
        Some(Params::default())
    }
}

impl LeaderBased for Paxos {
    const TERM: &'static str = "ballot round";
    fn leadership(o: &Observation) -> Option<Leadership> {
        match o {
            Observation::BecameLeader { ballot } => Some(Leadership::Gained(ballot.round)),
            Observation::SteppedDown { .. } => Some(Leadership::Lost),
            _ => None,
        }
    }
}

sim_core::check_from_fn!(
    /// Agreement: at most one value is chosen per slot, and every node applies it.
    pub Agreement, "agreement",
    "at most one value is chosen per slot (a majority of acceptors accepting it in one ballot), and every node applies the chosen value",
    Paxos, check_agreement
);

#[cfg(test)]
mod tests {
    use super::*;

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
        let decided: BTreeMap<u64, Command> = [(3, put(30))].into_iter().collect();
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
        RunResult {
            seed: 7,
            trace_hash: 0,
            stats: Default::default(),
            end: SimTime(1_000),
            hit_events_max: false,
            history: Default::default(),
            observations: observations
                .into_iter()
                .enumerate()
                .map(|(i, (node, value))| sim_core::Observed {
                    time: SimTime(i as u64),
                    node: NodeId(node),
                    value,
                })
                .collect(),
            fault_log: Vec::new(),
            final_status: Vec::new(),
            liveness_start: None,
            running_hashes: None,
            event_log: None,
            plan: Vec::new(),
            node_count: 3,
            client_count: 0,
            captured: Vec::new(),
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
            c.detail.contains("slot 1") && c.detail.contains("seed 7"),
            "{}",
            c.detail
        );
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
}
