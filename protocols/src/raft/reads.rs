//! Raft's reads off the log: ReadIndex (rule 9, thesis §6.4) — confirmation rounds of
//! `ReadProbe`/`ReadAck` — and leader leases (rule 10, thesis §6.4.1) built on the same
//! rounds.

use sim_core::{ClientId, Context, Key, NodeId, RequestId};

use crate::kit::durable;

use super::node::{PendingRead, Raft};
use super::situations;
use super::types::Msg;

/// Leases: how many recent rounds' send times a leader keeps.
const ROUNDS_KEPT: usize = 64;

impl Raft {
    /// Records the read at the current commit index and starts a confirmation round.
    pub(super) fn start_read(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        key: Key,
    ) {
        self.reads.push(PendingRead {
            client,
            request_id,
            key,
            read_index: self.commit,
            round: self.read_round + 1,
        });
        self.probe_round(ctx);
        self.serve_reads(ctx);
    }

    /// Starts a confirmation round: every other node is asked to acknowledge it.
    pub(super) fn probe_round(&mut self, ctx: &mut Context<'_, Self>) {
        self.read_round += 1;
        if self.params.lease().is_some() {
            self.round_sent
                .push_back((self.read_round, ctx.local_time().0));
            if self.round_sent.len() > ROUNDS_KEPT {
                self.round_sent.pop_front();
            }
        }
        let n = ctx.node_count() as usize;
        if self.read_acked.len() != n {
            self.read_acked = vec![0; n];
        }
        let msg = Msg::ReadProbe {
            term: self.term,
            round: self.read_round,
        };
        durable::broadcast(ctx, self.id, msg);
    }

    /// Is `round` acknowledged by a majority (this node included)?
    pub(super) fn round_confirmed(&self, round: u64, n: u32) -> bool {
        let acks = 1 + self
            .read_acked
            .iter()
            .enumerate()
            .filter(|&(p, &r)| p != self.id.index() && r >= round)
            .count();
        acks >= Self::majority(n)
    }

    /// Leases: until when (local clock) this leader may answer reads without a round — the
    /// send time of the latest round a majority acknowledged, plus the lease. `None`: no lease.
    pub(super) fn lease_until(&self, n: u32) -> Option<i64> {
        let lease = self.params.lease()?;
        let (_, sent) = self
            .round_sent
            .iter()
            .rev()
            .find(|(round, _)| self.round_confirmed(*round, n))?;
        Some(sent.saturating_add(lease.0 as i64))
    }

    /// Answers the reads whose round is confirmed and whose index is applied.
    pub(super) fn serve_reads(&mut self, ctx: &mut Context<'_, Self>) {
        if !self.is_leader() || self.reads.is_empty() {
            return;
        }
        let n = ctx.node_count();
        let mut rest = Vec::new();
        for read in std::mem::take(&mut self.reads) {
            if self.round_confirmed(read.round, n) && self.applied >= read.read_index {
                ctx.reached(situations::READ_INDEX_CONFIRMED);
                let value = self.store.read(read.key);
                durable::reply(ctx, read.client, read.request_id, value);
            } else {
                rest.push(read);
            }
        }
        self.reads = rest;
    }

    /// A `ReadProbe` from the leader of `term`: as good as a heartbeat; acknowledged.
    pub(super) fn on_read_probe(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        round: u64,
    ) {
        if term > self.term {
            self.step_down(ctx, term, true);
        }
        if term == self.term && !self.is_leader() {
            // The leader of this term: as good as a heartbeat.
            self.follow(ctx, from);
        }
        let ack = Msg::ReadAck {
            term: self.term,
            round,
        };
        durable::send(ctx, from, ack);
    }

    /// Leader side of a `ReadAck`: the round it acknowledges may confirm waiting reads.
    pub(super) fn on_read_ack(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        round: u64,
    ) {
        if term > self.term {
            self.step_down(ctx, term, true);
        } else if term == self.term && self.is_leader() {
            let i = from.index();
            if i < self.read_acked.len() {
                self.read_acked[i] = self.read_acked[i].max(round);
            }
            self.serve_reads(ctx);
        }
    }
}
