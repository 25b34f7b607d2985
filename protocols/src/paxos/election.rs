//! The proposer's phase 1 (rules 3-4 and 7): election timeouts, `Prepare` for every open
//! slot, adopting the highest-ballot values reported and filling gaps with no-ops, becoming
//! leader, and stepping down on a higher ballot.

use std::collections::BTreeMap;

use sim_core::{Context, NodeId};

use crate::kit::durable;
use crate::kit::slots::SlotMap;

use super::node::{Paxos, Role};
use super::params::Bug;
use super::situations;
use super::types::{Ballot, Command, Msg, Observation, Timer};

impl Paxos {
    /// A new randomized election timeout, replacing the pending one (lazily, as Raft's: see
    /// [`crate::kit::timing`] — an acceptor restarts it on every `Accept` and heartbeat).
    pub(super) fn reset_election_timer(&mut self, ctx: &mut Context<'_, Self>) {
        let (min, max) = (
            self.params.election_timeout_min,
            self.params.election_timeout_max,
        );
        self.timers.restart_election(ctx, min, max, Timer::Election);
    }

    /// The heartbeat (or `Prepare` re-send) timer of `ballot`, replacing a pending one.
    pub(super) fn arm_heartbeat(&mut self, ctx: &mut Context<'_, Self>, ballot: Ballot) {
        let timer = Timer::Heartbeat { ballot };
        self.timers.arm_heartbeat(ctx, self.params.heartbeat, timer);
    }

    /// No leader heard from: phase 1, unless this node leads.
    pub(super) fn on_election_timeout(&mut self, ctx: &mut Context<'_, Self>) {
        let min = self.params.election_timeout_min;
        if !self.timers.election_expired(ctx, min, Timer::Election) {
            return; // Restarted since it was armed: armed again for the rest.
        }
        if !self.is_leader() {
            self.start_phase1(ctx);
        }
    }

    /// The heartbeat timer of this node's ballot: a leader heartbeats and re-sends `Accept`s,
    /// a candidate re-sends `Prepare`s.
    pub(super) fn on_heartbeat_timer(&mut self, ctx: &mut Context<'_, Self>, ballot: Ballot) {
        self.timers.heartbeat_fired();
        if self.is_leader() {
            self.leader_tick(ctx);
        } else {
            self.candidate_tick(ctx);
        }
        self.arm_heartbeat(ctx, ballot);
    }

    /// `ballot` was refused by an acceptor that promised `promised`: give it up if it is ours.
    pub(super) fn on_nack(
        &mut self,
        ctx: &mut Context<'_, Self>,
        ballot: Ballot,
        promised: Ballot,
    ) {
        self.round_seen = self.round_seen.max(promised.round);
        if self.own_ballot() == Some(ballot) && promised > ballot {
            self.step_down(ctx, promised);
        }
    }

    /// Gives up leading (or running phase 1) on seeing the higher ballot `seen`.
    pub(super) fn step_down(&mut self, ctx: &mut Context<'_, Self>, seen: Ballot) {
        if let Role::Leader { ballot, .. } = self.role {
            ctx.reached(situations::LEADER_DEPOSED);
            ctx.observe(Observation::SteppedDown { ballot, seen });
            // The requests it owed replies to may still be chosen: no answer.
            self.waiting.clear();
        }
        self.timers.cancel_heartbeat(ctx);
        self.role = Role::Follower;
        self.leader = None;
        self.reset_election_timer(ctx);
        ctx.annotate(|| format!("follower (saw ballot {seen})"));
    }

    pub(super) fn start_phase1(&mut self, ctx: &mut Context<'_, Self>) {
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
            unknown_by: BTreeMap::new(),
        };
        ctx.annotate(|| format!("phase 1 of ballot {ballot} from slot {from_slot}"));
        self.reset_election_timer(ctx);
        self.arm_heartbeat(ctx, ballot);
        durable::broadcast(ctx, self.id, Msg::Prepare { ballot, from_slot });
        let (decided, accepted) = self.promise_contents(from_slot);
        let unknown = self.unknown_from(from_slot);
        self.on_promise(ctx, self.id, ballot, decided, accepted, unknown);
    }

    /// A promise (`unknown`: the slots its acceptor cannot report, see
    /// [`Msg::PromisePartial`]). With a majority of promises — and, for every slot some
    /// promise could not report, a majority that could — this node leads.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_promise(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        decided: Vec<(u64, Command)>,
        accepted: Vec<(u64, Ballot, Command)>,
        unknown: Vec<u64>,
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
            unknown_by,
            ..
        } = &mut self.role
        else {
            return;
        };
        if promised_by[from.index()] {
            return; // A duplicate.
        }
        if accepted
            .iter()
            .any(|(slot, _, command)| adopted.get(slot).is_some_and(|(_, held)| held != command))
        {
            ctx.reached(situations::CONFLICTING_ACCEPTED);
        }
        top = top.max(adopt_highest(adopted, accepted));
        for slot in unknown {
            top = top.max(slot);
            *unknown_by.entry(slot).or_insert(0) += 1;
        }
        *max_slot = (*max_slot).max(top);
        promised_by[from.index()] = true;
        let count = promised_by.iter().filter(|&&p| p).count();
        let need = Self::majority(ctx.node_count());
        let known = unknown_by.values().all(|&u| count - u >= need);
        if count >= need && known {
            self.become_leader(ctx);
        }
    }

    pub(super) fn become_leader(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::Candidate {
            ballot,
            adopted,
            max_slot,
            ..
        } = std::mem::replace(&mut self.role, Role::Follower)
        else {
            return;
        };
        self.timers.cancel_election(ctx);
        let plan = phase2_plan(
            self.applied,
            &self.decided,
            &adopted,
            max_slot,
            !self.bug(Bug::NoAdoptAccepted),
        );
        let top = self.decided.last_key().unwrap_or(0);
        self.role = Role::Leader {
            ballot,
            next_slot: max_slot.max(top).max(self.applied) + 1,
            proposals: BTreeMap::new(),
        };
        self.leader = Some(self.id);
        ctx.observe(Observation::BecameLeader { ballot });
        ctx.annotate(|| format!("leader of ballot {ballot}: {} slots to recover", plan.len()));
        for (slot, command, noop) in plan {
            if noop {
                ctx.reached(situations::GAP_FILLED_NOOP);
            } else if adopted.contains_key(&slot) {
                ctx.reached(situations::ADOPTED_ACCEPTED);
            }
            ctx.observe(Observation::Filled { slot, ballot, noop });
            self.propose(ctx, slot, command);
        }
        self.send_heartbeats(ctx);
        self.arm_heartbeat(ctx, ballot);
    }

    /// Candidate: `Prepare` again to every node that has not promised.
    pub(super) fn candidate_tick(&mut self, ctx: &mut Context<'_, Self>) {
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
            durable::send(ctx, p, msg.clone());
        }
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
    decided: &SlotMap<Command>,
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
