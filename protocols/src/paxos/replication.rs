//! The leader's phase 2 (rule 5): proposing a value in a slot, counting `Accepted` replies,
//! deciding and broadcasting `Decide`, heartbeats and re-sent `Accept`s.

use sim_core::{Context, NodeId, RequestId};

use crate::kit::durable;

use super::node::{Paxos, Proposal, Role};
use super::situations;
use super::types::{Ballot, Command, Msg};

impl Paxos {
    /// Phase 2 of the leader's ballot for `slot`: accept locally, ask everyone else.
    pub(super) fn propose(&mut self, ctx: &mut Context<'_, Self>, slot: u64, command: Command) {
        let n = ctx.node_count();
        let Role::Leader { ballot, .. } = self.role else {
            return;
        };
        self.accept(ctx, slot, ballot, command.clone());
        let mut acked = vec![false; n as usize];
        acked[self.id.index()] = true;
        let sent = ctx.local_time().0;
        if let Role::Leader { proposals, .. } = &mut self.role {
            proposals.insert(
                slot,
                Proposal {
                    command: command.clone(),
                    acked,
                    sent,
                },
            );
        }
        if Self::majority(n) == 1 {
            self.decide(ctx, slot);
            return;
        }
        durable::broadcast(
            ctx,
            self.id,
            Msg::Accept {
                ballot,
                slot,
                command,
            },
        );
    }

    pub(super) fn on_accepted(
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
            ctx.sometimes(
                proposals.contains_key(&slot),
                situations::STALE_ACCEPTED_OPEN_SLOT,
            );
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
    pub(super) fn decide(&mut self, ctx: &mut Context<'_, Self>, slot: u64) {
        let Role::Leader { proposals, .. } = &mut self.role else {
            return;
        };
        let Some(p) = proposals.remove(&slot) else {
            return;
        };
        let command = p.command;
        durable::broadcast(
            ctx,
            self.id,
            Msg::Decide {
                slot,
                command: command.clone(),
            },
        );
        self.learn(ctx, slot, command);
    }

    pub(super) fn send_heartbeats(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::Leader { ballot, .. } = self.role else {
            return;
        };
        let msg = Msg::Heartbeat {
            ballot,
            applied: self.applied,
        };
        durable::broadcast(ctx, self.id, msg);
    }

    /// Leader: heartbeats, and `Accept` again to every node that has not answered one sent
    /// `retransmit` ago or longer (one still within it is in flight: not sent twice).
    pub(super) fn leader_tick(&mut self, ctx: &mut Context<'_, Self>) {
        self.send_heartbeats(ctx);
        let now = ctx.local_time().0;
        let retransmit = self.params.retransmit().0 as i64;
        let Role::Leader {
            ballot, proposals, ..
        } = &mut self.role
        else {
            return;
        };
        let ballot = *ballot;
        let mut resend = Vec::new();
        for (slot, p) in proposals.iter_mut() {
            if now.saturating_sub(p.sent) < retransmit {
                continue;
            }
            p.sent = now;
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
            durable::send(ctx, to, msg);
        }
    }

    /// Is the request proposed and not yet decided (leader)?
    pub(super) fn in_flight(&self, client: u32, request_id: RequestId) -> bool {
        let Role::Leader { proposals, .. } = &self.role else {
            return false;
        };
        proposals.values().any(|p| {
            matches!(&p.command, Command::Client { client: c, request_id: r, .. }
                if *c == client && *r == request_id)
        })
    }
}
