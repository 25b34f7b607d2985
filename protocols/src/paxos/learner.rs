//! The learner (rule 6): decided values, durable and applied in slot order to the key-value
//! store (answering the clients the leader owes), and catching up with a leader that has
//! applied more.

use sim_core::trace::stable_hash;
use sim_core::{ClientId, Context, NodeId};

use crate::kit::{durable, record};

use super::node::Paxos;
use super::situations;
use super::types::{Ballot, Command, Msg, Observation, Record};

impl Paxos {
    /// Records the value decided in `slot` and applies what is now contiguous.
    pub(super) fn learn(&mut self, ctx: &mut Context<'_, Self>, slot: u64, command: Command) {
        if slot <= self.applied || self.decided.contains_key(&slot) {
            return;
        }
        let record = Record::Decided {
            slot,
            command: command.clone(),
        };
        record::put(ctx, record);
        self.decided.insert(slot, command);
        self.unknown.remove(&slot);
        self.apply_ready(ctx);
    }

    pub(super) fn apply_ready(&mut self, ctx: &mut Context<'_, Self>) {
        // The command is read in place (no clone): only `store` and `waiting` change below.
        while let Some(command) = self.decided.get(&(self.applied + 1)) {
            self.applied += 1;
            let slot = self.applied;
            ctx.observe(Observation::Learned {
                slot,
                value_hash: stable_hash(command),
            });
            if let Command::Client {
                client,
                request_id,
                request,
            } = command
            {
                let (client, request_id) = (*client, *request_id);
                let response = self.store.execute(client, request_id, request);
                if self.waiting.get(&client) == Some(&request_id) {
                    self.waiting.remove(&client);
                    if let Some(r) = response {
                        durable::reply(ctx, ClientId(client), request_id, r);
                    }
                }
            }
        }
    }

    /// A leader's heartbeat: follow it, and ask for the decisions it has applied and this
    /// node has not.
    pub(super) fn on_heartbeat(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        applied: u64,
    ) {
        if self.hear_leader(ctx, from, ballot) && applied > self.applied {
            let from_slot = self.applied + 1;
            durable::send(ctx, from, Msg::CatchUp { from_slot });
        }
    }

    /// A node catching up: up to `batch_max` decisions from `from_slot` on.
    pub(super) fn on_catch_up(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        from_slot: u64,
    ) {
        let entries: Vec<(u64, Command)> = self
            .decided
            .range(from_slot..)
            .take(self.params.batch_max as usize)
            .map(|(s, c)| (s, c.clone()))
            .collect();
        if !entries.is_empty() {
            durable::send(ctx, from, Msg::Decisions { entries });
        }
    }

    /// Decisions for this node: learned; after a full batch, the next one is asked for.
    pub(super) fn on_decisions(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        entries: Vec<(u64, Command)>,
    ) {
        let full = entries.len() >= self.params.batch_max as usize;
        ctx.sometimes(
            entries.iter().any(|(s, _)| !self.decided.contains_key(s)),
            situations::CAUGHT_UP,
        );
        for (slot, command) in entries {
            self.learn(ctx, slot, command);
        }
        if full {
            // Probably more to come: ask for the next batch at once.
            let from_slot = self.applied + 1;
            durable::send(ctx, from, Msg::CatchUp { from_slot });
        }
    }
}
