//! The acceptor (rules 2, 3 and 5): its durable promise and accepted values, phase 1b
//! (`Prepare` → `Promise` or `Nack`), phase 2b (`Accept` → `Accepted`), hearing from a leader,
//! and recovery from storage.

use sim_core::trace::stable_hash;
use sim_core::{Context, NodeId};

use crate::kit::durable;
use crate::kit::record::{self, Recovered};

use super::node::Paxos;
use super::params::Bug;
use super::situations;
use super::types::{
    AcceptedValue, Ballot, Command, Decision, Msg, Observation, Record, StoreKey, SLOTS_MAX,
};

impl Paxos {
    /// Promises `b` if it is higher than the current promise (persisted, except under the
    /// `PromiseWithoutPersist` bug), and gives up a lower ballot this node leads or runs.
    pub(super) fn raise_promise(&mut self, ctx: &mut Context<'_, Self>, b: Ballot) {
        self.round_seen = self.round_seen.max(b.round);
        if b > self.promised {
            self.promised = b;
            if !self.bug(Bug::PromiseWithoutPersist) {
                record::put(ctx, Record::Promised(b));
            }
        }
        if self.own_ballot().is_some_and(|own| own < b) {
            self.step_down(ctx, b);
        }
    }

    /// The slots from `from_slot` on whose accepted value this acceptor cannot report (its
    /// record is damaged and no decision is known there).
    pub(super) fn unknown_from(&self, from_slot: u64) -> Vec<u64> {
        self.unknown
            .range(from_slot..)
            .filter(|s| !self.decided.contains_key(s))
            .copied()
            .collect()
    }

    /// What this acceptor reports to a phase 1 from `from_slot` on.
    pub(super) fn promise_contents(&self, from_slot: u64) -> (Vec<Decision>, Vec<AcceptedValue>) {
        let decided: Vec<(u64, Command)> = self
            .decided
            .range(from_slot..)
            .map(|(s, c)| (s, c.clone()))
            .collect();
        let accepted = self
            .accepted
            .range(from_slot..)
            .filter(|(s, _)| !self.decided.contains_key(s))
            .map(|(s, (b, c))| (s, *b, c.clone()))
            .collect();
        (decided, accepted)
    }

    pub(super) fn on_prepare(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        from_slot: u64,
    ) {
        if ballot < self.promised {
            ctx.reached(situations::BALLOT_REFUSED);
            let promised = self.promised;
            durable::send(ctx, from, Msg::Nack { ballot, promised });
            return;
        }
        self.raise_promise(ctx, ballot);
        if self.leader != Some(from) {
            self.leader = None;
        }
        self.reset_election_timer(ctx);
        let (decided, accepted) = self.promise_contents(from_slot);
        let unknown = self.unknown_from(from_slot);
        let msg = if unknown.is_empty() {
            Msg::Promise {
                ballot,
                decided,
                accepted,
            }
        } else {
            Msg::PromisePartial {
                ballot,
                decided,
                accepted,
                unknown,
            }
        };
        durable::send(ctx, from, msg);
    }

    /// Accepts `command` in `slot` at `ballot` (memory, storage; observed).
    pub(super) fn accept(
        &mut self,
        ctx: &mut Context<'_, Self>,
        slot: u64,
        ballot: Ballot,
        command: Command,
    ) {
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
        let value_hash = stable_hash(&command);
        let record = Record::Accepted {
            slot,
            ballot,
            command: command.clone(),
        };
        record::put(ctx, record);
        // Accepted once durable: the observation waits for the sync, as the answer does.
        durable::flush(ctx);
        ctx.observe(Observation::Accepted {
            slot,
            ballot,
            value_hash,
        });
        self.accepted.insert(slot, (ballot, command));
        self.unknown.remove(&slot);
    }

    /// A message from the leader of `ballot` (an `Accept` or a heartbeat): `false` (and a
    /// `Nack`) if a higher ballot is promised; otherwise it is the leader to follow.
    pub(super) fn hear_leader(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
    ) -> bool {
        if ballot < self.promised {
            let promised = self.promised;
            ctx.annotate(|| format!("refused ballot {ballot}: promised {promised}"));
            ctx.reached(situations::BALLOT_REFUSED);
            durable::send(ctx, from, Msg::Nack { ballot, promised });
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

    /// Phase 2b: accepts unless a higher ballot is promised.
    pub(super) fn on_accept(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        slot: u64,
        command: Command,
    ) {
        if self.hear_leader(ctx, from, ballot) {
            self.accept(ctx, slot, ballot, command);
            durable::send(ctx, from, Msg::Accepted { ballot, slot });
        }
    }

    /// A restart: the promise, the accepted values and the decisions come back from storage;
    /// the decided prefix is applied again.
    ///
    /// Storage-aware recovery (Alagappan et al., FAST 2018): records are read checksummed. A
    /// damaged decision is forgotten — it is learned again from the leader (`CatchUp`). A
    /// damaged accepted record may hide a chosen value: the acceptor does not know what it
    /// accepted in that slot, so until it accepts or learns a value there again its promises
    /// say so ([`Msg::PromisePartial`]) and a proposer does not count them for that slot.
    /// The `ForgetDamagedAccepted` bug instead promises as if nothing had been accepted.
    pub(super) fn recover(&mut self, ctx: &mut Context<'_, Self>) {
        let (mut lost_accepted, mut lost_decided) = (0, 0);
        let reads = record::read_all(ctx);
        // Keys are in slot order: the last record names the highest slot held.
        // (An intact record names the key it sits under; a damaged one is reported by it.)
        let top = reads.last_key().and_then(|key| key.slot());
        if let Some(top) = top {
            self.accepted.reserve_to(top);
            self.decided.reserve_to(top);
        }
        for read in reads {
            match read {
                Recovered::Intact(Record::Promised(b)) => self.promised = b,
                Recovered::Intact(Record::Accepted {
                    slot,
                    ballot,
                    command,
                }) => {
                    // An accept is a promise too.
                    self.promised = self.promised.max(ballot);
                    self.accepted.insert(slot, (ballot, command));
                }
                Recovered::Intact(Record::Decided { slot, command }) => {
                    self.decided.insert(slot, command);
                }
                Recovered::Damaged(StoreKey::Accepted(slot)) => {
                    lost_accepted += 1;
                    if !self.bug(Bug::ForgetDamagedAccepted) {
                        self.unknown.insert(slot);
                    }
                }
                Recovered::Damaged(StoreKey::Decided(_)) => lost_decided += 1,
                Recovered::Damaged(StoreKey::Promised) => {
                    panic!(
                        "n{}: damaged promise, which the atlas keeps safe",
                        self.id.0
                    )
                }
            }
        }
        self.round_seen = self.promised.round;
        ctx.observe(Observation::Recovered {
            promised: self.promised,
            accepted: self.accepted.len() as u64,
            decided: self.decided.len() as u64,
        });
        if lost_accepted + lost_decided > 0 {
            ctx.observe(Observation::Damaged {
                accepted: lost_accepted,
                decided: lost_decided,
            });
        }
        self.apply_ready(ctx);
    }
}
