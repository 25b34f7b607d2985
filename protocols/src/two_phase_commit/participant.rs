//! A participant's handlers (nodes `1..nodes`, the resource managers, one shard each):
//! prepare and vote, learn and apply the decision, inquire while prepared, and re-take a
//! prepared transaction's locks after a restart.

use sim_core::{Context, Key, NodeId, Value};

use super::messages::{participant_of, Msg, Observation, TxnId, COORDINATOR};
use super::node::{after, Prepared, TwoPhaseCommit, ASSERT_INVARIANTS};
use super::params::Bug;
use super::record::{Record, RecordKey};
use super::situations;
use crate::kit::record;

impl TwoPhaseCommit {
    pub(super) fn participant_message(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        msg: Msg,
    ) {
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

    /// Refuses `txn` (nothing was prepared or written for it).
    fn vote_no(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId) {
        ctx.observe(Observation::Voted { txn, yes: false });
        let vote = Msg::Vote {
            txn,
            yes: false,
            writes: Vec::new(),
        };
        ctx.send(COORDINATOR, vote);
    }

    /// Phase 1: ignores a decided transaction, votes yes again for a prepared one, votes no
    /// when a key is locked, and otherwise prepares.
    fn prepare(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId, keys: Vec<Key>) {
        let n = ctx.node_count();
        if ASSERT_INVARIANTS {
            assert!(
                keys.iter().all(|&k| participant_of(k, n) == self.id),
                "n{}: asked to prepare keys {keys:?} of other shards",
                self.id.0
            );
        }
        if self.done.contains_key(&txn) {
            ctx.annotate(|| format!("{txn} already decided: ignore its prepare"));
            return;
        }
        if self.lost.contains(&txn) {
            ctx.annotate(|| format!("{txn}: prepared record damaged: no vote"));
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
        if let Some(&lost) = self.lost.first() {
            // A damaged prepared record held locks on keys this node can no longer name: any
            // of its keys may be locked, so it prepares nothing until that outcome is settled.
            ctx.annotate(|| format!("{txn}: {lost}'s prepared record is damaged: vote no"));
            return self.vote_no(ctx, txn);
        }
        if let Some(held) = keys.iter().find_map(|k| self.locks.get(k)) {
            let held = *held;
            ctx.annotate(|| format!("{txn}: a key is locked by {held}: vote no"));
            return self.vote_no(ctx, txn);
        }
        self.vote_yes(ctx, txn, keys);
    }

    /// Locks the keys, logs and syncs the `Prepared` record, and only then votes yes.
    fn vote_yes(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId, keys: Vec<Key>) {
        let writes: Vec<(Key, Value)> = keys
            .iter()
            .map(|&k| (k, self.values.get(&k).copied().unwrap_or(0) + 1))
            .collect();
        for &k in &keys {
            self.locks.insert(k, txn);
        }
        record::put(
            ctx,
            Record::Prepared {
                txn,
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
                inquired: false,
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

    /// Phase 2: applies the decision once (a duplicate is only acknowledged again), then
    /// acknowledges it.
    fn learn(&mut self, ctx: &mut Context<'_, Self>, txn: TxnId, commit: bool) {
        if self.done.contains_key(&txn) {
            ctx.send(COORDINATOR, Msg::Ack { txn });
            return;
        }
        if self.lost.contains(&txn) {
            if commit {
                // Its writes are gone with the record: applying nothing would lose them, so
                // it learns nothing and stays blocked (the coordinator keeps re-sending).
                ctx.annotate(|| format!("{txn}: commit, but its prepared writes are damaged"));
                return;
            }
            self.lost.remove(&txn);
            ctx.observe(Observation::Learned {
                txn,
                commit,
                applied: Vec::new(),
            });
            record::put(ctx, Record::Done { txn, commit });
            self.done.insert(txn, commit);
            ctx.storage().remove(&RecordKey::Prepared(txn));
            ctx.sync();
            ctx.send(COORDINATOR, Msg::Ack { txn });
            return;
        }
        match self.prepared.remove(&txn) {
            Some(p) => {
                if p.inquired {
                    ctx.reached(situations::RECOVERED_BY_INQUIRY);
                }
                self.apply_decision(ctx, txn, commit, p)
            }
            None => {
                // Not prepared: it voted no, or never saw the prepare, so the outcome is an
                // abort. A commit here cannot happen in the correct protocol; it is reported
                // (with nothing applied) so that the checks see it.
                if commit {
                    ctx.observe(Observation::Learned {
                        txn,
                        commit,
                        applied: Vec::new(),
                    });
                }
                record::put(ctx, Record::Done { txn, commit });
            }
        }
        self.done.insert(txn, commit);
        ctx.send(COORDINATOR, Msg::Ack { txn });
    }

    /// A prepared transaction's decision: releases its locks, writes its values on commit,
    /// and replaces its `Prepared` record by a `Done` one (synced).
    fn apply_decision(
        &mut self,
        ctx: &mut Context<'_, Self>,
        txn: TxnId,
        commit: bool,
        p: Prepared,
    ) {
        let mut applied = Vec::new();
        let keep = !commit && self.params.bug == Some(Bug::KeepAbortedLocks);
        for &(k, new) in &p.writes {
            let held = if keep {
                self.locks.get(&k).copied()
            } else {
                self.locks.remove(&k)
            };
            if ASSERT_INVARIANTS {
                assert_eq!(
                    held,
                    Some(txn),
                    "n{}: {txn} did not hold key {k}",
                    self.id.0
                );
            }
            if commit {
                let prev = self.values.insert(k, new).unwrap_or(0);
                record::put(ctx, Record::Value { key: k, value: new });
                applied.push((k, prev, new));
            }
        }
        ctx.storage().remove(&RecordKey::Prepared(txn));
        record::put(ctx, Record::Done { txn, commit });
        ctx.sync();
        ctx.observe(Observation::Learned {
            txn,
            commit,
            applied,
        });
    }

    /// Asks the coordinator about every transaction prepared for `inquiry` or longer.
    pub(super) fn participant_tick(&mut self, ctx: &mut Context<'_, Self>) {
        let now = ctx.local_time();
        let inquiry = self.params.inquiry;
        for (&txn, p) in self.prepared.iter_mut() {
            if now >= p.next_inquiry {
                ctx.reached(situations::BLOCKED_PREPARED);
                p.inquired = true;
                ctx.send(COORDINATOR, Msg::Inquire { txn });
                p.next_inquiry = after(now, inquiry);
            }
        }
        // In doubt since a damaged record: an abort can still be settled. (Every tick, as
        // these are rare.)
        for &txn in &self.lost {
            ctx.send(COORDINATOR, Msg::Inquire { txn });
        }
    }

    /// Recovery: re-takes a prepared transaction's locks and asks for its outcome at once
    /// (the coordinator may have decided while this node was down).
    pub(super) fn restore_prepared(
        &mut self,
        ctx: &mut Context<'_, Self>,
        txn: TxnId,
        writes: Vec<(Key, Value)>,
    ) {
        for &(k, _) in &writes {
            let other = self.locks.insert(k, txn);
            if ASSERT_INVARIANTS {
                assert!(other.is_none(), "n{}: key {k} prepared twice", self.id.0);
            }
        }
        ctx.send(COORDINATOR, Msg::Inquire { txn });
        let now = ctx.local_time();
        self.prepared.insert(
            txn,
            Prepared {
                writes,
                next_inquiry: after(now, self.params.inquiry),
                inquired: true,
            },
        );
    }
}
