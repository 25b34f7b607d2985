//! The coordinator's handlers (node 0, the transaction manager): begin a client's
//! transaction, collect the votes, log and announce the decision, answer inquiries and
//! retries, and re-send what is unanswered on every tick.

use sim_core::{ClientId, Context, Key, LocalTime, NodeId, Response, Value};

use super::messages::{participant_of, Msg, Observation, TxnId};
use super::node::{after, Active, Decided, Part, TwoPhaseCommit, ASSERT_INVARIANTS};
use super::params::Bug;
use super::record::Record;
use super::situations;
use crate::kit::record;

impl TwoPhaseCommit {
    /// A client's transaction: answered again if decided, left alone if under way, begun if
    /// new.
    pub(super) fn client_txn(
        &mut self,
        ctx: &mut Context<'_, Self>,
        txn: TxnId,
        mut keys: Vec<Key>,
    ) {
        if self.lost.contains(&txn) {
            ctx.annotate(|| format!("{txn}: decision record damaged: no answer"));
            return;
        }
        if let Some(d) = self.decided.get(&txn) {
            // A retry of a decided transaction: the same answer again.
            let response = if d.commit {
                Response::Committed(d.writes.clone())
            } else {
                Response::Fail
            };
            ctx.reply(ClientId(txn.client), txn.request, response);
            return;
        }
        if self.active.contains_key(&txn) {
            return; // Under way; the answer will come.
        }
        // A key named twice is incremented once: the request asks for distinct keys.
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            ctx.reply(ClientId(txn.client), txn.request, Response::Fail);
            return;
        }
        self.begin(ctx, txn, keys);
    }

    fn begin(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId, keys: Vec<Key>) {
        let n = ctx.node_count();
        let mut parts: Vec<Part> = Vec::new();
        for &k in &keys {
            let node = participant_of(k, n);
            match parts.binary_search_by_key(&node, |p| p.node) {
                Ok(i) => parts[i].keys.push(k),
                Err(i) => parts.insert(
                    i,
                    Part {
                        node,
                        keys: vec![k],
                        yes: None,
                    },
                ),
            }
        }
        let now = ctx.local_time();
        for p in &parts {
            ctx.send(
                p.node,
                Msg::Prepare {
                    txn,
                    keys: p.keys.clone(),
                },
            );
        }
        ctx.annotate(|| format!("begin {txn} over {} participants", parts.len()));
        self.active.insert(
            txn,
            Active {
                keys,
                parts,
                yes_votes: 0,
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
        to: Vec<NodeId>,
    ) {
        if ASSERT_INVARIANTS {
            assert!(!self.decided.contains_key(&txn), "{txn} decided twice");
        }
        record::put(
            ctx,
            Record::Decision {
                txn,
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
        if !to.is_empty() {
            self.unacked.insert(txn);
        }
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
            a.parts
                .iter()
                .flat_map(|p| p.yes.iter().flatten())
                .copied()
                .collect()
        } else {
            Vec::new()
        };
        writes.sort_unstable();
        let to = a.parts.iter().map(|p| p.node).collect();
        self.decide(ctx, txn, commit, a.keys, writes, to);
    }

    /// A transaction this coordinator has no record of: presumed aborted. The abort is logged
    /// before anyone hears of it.
    fn presume_abort(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId, asker: NodeId) {
        ctx.annotate(|| format!("{txn} unknown: presumed abort"));
        ctx.reached(situations::PRESUMED_ABORT);
        self.decide(ctx, txn, false, Vec::new(), Vec::new(), vec![asker]);
    }

    pub(super) fn coordinator_message(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        msg: Msg,
    ) {
        match msg {
            Msg::Vote { txn, yes, writes } => self.on_vote(ctx, from, txn, yes, writes),
            Msg::Ack { txn } => {
                if let Some(d) = self.decided.get_mut(&txn) {
                    d.unacked.retain(|&p| p != from);
                    if d.unacked.is_empty() {
                        self.unacked.remove(&txn);
                    }
                }
            }
            Msg::Inquire { txn } => self.on_inquire(ctx, from, txn),
            Msg::Prepare { .. } | Msg::Decision { .. } => {
                ctx.annotate(|| format!("ignore a participant's message from n{}", from.0));
            }
        }
    }

    fn on_vote(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        txn: TxnId,
        yes: bool,
        writes: Vec<(Key, Value)>,
    ) {
        if self.lost.contains(&txn) {
            ctx.annotate(|| format!("{txn}: decision record damaged: no presumed abort"));
            return;
        }
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
        let Some(part) = a.part_mut(from) else {
            ctx.annotate(|| format!("ignore a vote on {txn} from n{}, not a participant", from.0));
            return;
        };
        if !yes {
            self.conclude(ctx, txn, false);
            return;
        }
        if part.yes.replace(writes).is_none() {
            a.yes_votes += 1;
        }
        if a.yes_votes == a.parts.len() {
            self.conclude(ctx, txn, true);
        }
    }

    fn on_inquire(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, txn: TxnId) {
        if self.lost.contains(&txn) {
            // The decision may have been a commit: presuming an abort could contradict it.
            ctx.annotate(|| format!("{txn}: decision record damaged: no presumed abort"));
        } else if let Some(d) = self.decided.get(&txn) {
            let commit = d.commit;
            ctx.send(from, Msg::Decision { txn, commit });
        } else if let Some(a) = self.active.get_mut(&txn) {
            // Still voting: its vote may have been lost; a prepared participant answers a
            // prepare with its vote again.
            if let Some(Part {
                keys, yes: None, ..
            }) = a.part_mut(from)
            {
                let keys = keys.clone();
                ctx.send(from, Msg::Prepare { txn, keys });
            }
        } else {
            self.presume_abort(ctx, txn, from);
        }
    }

    /// Times out votes and re-sends prepares, then re-sends unacknowledged decisions (a
    /// decision taken by this tick was just sent, so it waits for the next `retry`).
    pub(super) fn coordinator_tick(&mut self, ctx: &mut Context<'_, Self>) {
        let now = ctx.local_time();
        self.tick_active(ctx, now);
        self.tick_decided(ctx, now);
    }

    fn tick_active(&mut self, ctx: &mut Context<'_, Self>, now: LocalTime) {
        let ids: Vec<TxnId> = self.active.keys().copied().collect();
        for txn in ids {
            let a = &self.active[&txn];
            if now >= after(a.started, self.params.vote_timeout) {
                let commit = self.params.bug == Some(Bug::CommitWithoutAllVotes);
                ctx.annotate(|| format!("{txn}: vote timeout"));
                ctx.reached(situations::VOTE_TIMEOUT_ABORT);
                self.conclude(ctx, txn, commit);
            } else if now >= after(a.last_send, self.params.retry) {
                let missing: Vec<(NodeId, Vec<Key>)> = a
                    .parts
                    .iter()
                    .filter(|p| p.yes.is_none())
                    .map(|p| (p.node, p.keys.clone()))
                    .collect();
                for (p, keys) in missing {
                    ctx.send(p, Msg::Prepare { txn, keys });
                }
                self.active.get_mut(&txn).expect("active").last_send = now;
            }
        }
    }

    fn tick_decided(&mut self, ctx: &mut Context<'_, Self>, now: LocalTime) {
        let retry = self.params.retry;
        for &txn in &self.unacked {
            let d = self
                .decided
                .get_mut(&txn)
                .expect("an unacknowledged decision");
            debug_assert!(!d.unacked.is_empty(), "{txn} is listed as unacknowledged");
            if now < after(d.last_send, retry) {
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
}
