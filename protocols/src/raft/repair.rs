//! Raft's storage-aware recovery (rule 11; Alagappan et al., "Protocol-Aware Recovery for
//! Consensus-Based Storage", FAST 2018, the CTRL design): repairing log entries whose contents
//! the disk damaged, from intact copies held by other nodes, or discarding them once a
//! majority is known to hold none.
//!
//! A damaged entry keeps its identity — index and term, the record's key — so the node knows
//! what it lost. Log Matching makes any intact entry of the same index and term the same
//! entry, so a copy from any node repairs it (the paper's leader-driven repair is this with
//! the leader as the source; here every node answers, which also repairs a node that would
//! lead). An entry that no copy can repair was never committed if enough nodes answer that
//! they hold no entry of that identity: with `n − majority + 1` such answers, from nodes whose
//! term is above the entry's (so no leader of the entry's term can still replicate it to
//! them), at most `majority − 1` nodes ever held it. The node then discards its log from
//! there, as a crash-torn tail would be discarded.

use sim_core::{Context, NodeId};

use crate::kit::{durable, record};

use super::node::Raft;
use super::types::{Entry, Msg, Observation, Record};

impl Raft {
    /// Asks every other node for intact copies of the damaged entries.
    pub(super) fn request_repair(&mut self, ctx: &mut Context<'_, Self>) {
        if self.damaged.is_empty() {
            return;
        }
        let wanted: Vec<(u64, u64)> = self.damaged.iter().map(|&i| (i, self.term_at(i))).collect();
        let msg = Msg::Repair {
            term: self.term,
            wanted,
        };
        durable::broadcast(ctx, self.id, msg);
    }

    /// Answers a repair request: what this node holds intact, and what it holds no copy of.
    pub(super) fn on_repair(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        wanted: Vec<(u64, u64)>,
    ) {
        if term > self.term {
            self.step_down(ctx, term, true);
        }
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for (index, entry_term) in wanted {
            if index <= self.snap_index {
                continue; // Compacted here: this node cannot say.
            }
            if index > self.last_index() || self.term_at(index) != entry_term {
                missing.push((index, entry_term));
            } else if !self.damaged.contains(&index) {
                found.push((index, self.entry_at(index).clone()));
            }
        }
        let reply = Msg::RepairReply {
            term: self.term,
            found,
            missing,
        };
        durable::send(ctx, from, reply);
    }

    /// Takes the intact copies found, and counts the answers of nodes that hold none.
    pub(super) fn on_repair_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        found: Vec<(u64, Entry)>,
        missing: Vec<(u64, u64)>,
    ) {
        if term > self.term {
            self.step_down(ctx, term, true);
        }
        for (index, entry) in found {
            let ours = index > self.snap_index && index <= self.last_index();
            if ours && self.damaged.contains(&index) && self.term_at(index) == entry.term {
                self.repair(ctx, index, entry);
            }
        }
        let n = ctx.node_count() as usize;
        let need = n - Self::majority(ctx.node_count()) + 1;
        let mut discard = None;
        for (index, entry_term) in missing {
            let ours = index > self.snap_index && index <= self.last_index();
            if !ours || !self.damaged.contains(&index) || self.term_at(index) != entry_term {
                continue;
            }
            if term <= entry_term {
                continue; // A leader of the entry's term may still replicate it to `from`.
            }
            let seen = self
                .missing_at
                .entry(index)
                .or_insert_with(|| vec![false; n]);
            seen[from.index()] = true;
            if seen.iter().filter(|&&m| m).count() >= need {
                discard = Some(discard.map_or(index, |d: u64| d.min(index)));
            }
        }
        if let Some(from_index) = discard {
            ctx.annotate(|| format!("no majority holds entry {from_index}: discarded"));
            self.truncate(ctx, from_index);
            ctx.observe(Observation::Discarded { from: from_index });
        }
        self.apply_committed(ctx);
    }

    /// Replaces the damaged entry at `index` by an intact copy of it (the same index and
    /// term), on disk too, and reports the log from there again for the checks.
    pub(super) fn repair(&mut self, ctx: &mut Context<'_, Self>, index: u64, entry: Entry) {
        self.damaged.remove(&index);
        self.missing_at.remove(&index);
        self.log[(index - self.snap_index - 1) as usize] = entry.clone();
        record::put(ctx, Record::Entry(index, entry));
        ctx.observe(Observation::Repaired { index });
        self.observe_from(ctx, index);
    }
}
