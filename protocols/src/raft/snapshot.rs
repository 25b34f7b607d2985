//! Raft's log compaction (rule 7, §7): snapshotting the state machine once enough entries
//! are applied, and `InstallSnapshot` for a follower that needs entries the leader has
//! compacted.

use sim_core::{Context, NodeId};

use crate::kit::{durable, record};

use super::node::{Raft, Role};
use super::situations;
use super::types::{Msg, Observation, Record, Slot, Snapshot};

impl Raft {
    /// The state machine as of `applied`, which must be the snapshot's last index.
    pub(super) fn snapshot(&self) -> Snapshot {
        Snapshot {
            last_index: self.snap_index,
            last_term: self.snap_term,
            store: self.snap_store.clone(),
        }
    }

    /// Snapshots the state machine once `snapshot_threshold` entries are applied beyond the
    /// last snapshot, and drops them from the log.
    pub(super) fn maybe_compact(&mut self, ctx: &mut Context<'_, Self>) {
        let threshold = self.params.snapshot_threshold;
        if threshold == 0 || self.applied - self.snap_index < threshold {
            return;
        }
        let last_index = self.applied;
        let last_term = self.term_at(last_index);
        let covered = self.entry_slots(last_index);
        self.log.drain(..(last_index - self.snap_index) as usize);
        self.snap_index = last_index;
        self.snap_term = last_term;
        self.snap_store = self.store.clone();
        self.persist_snapshot(ctx, covered);
        ctx.observe(Observation::Snapshotted {
            last_index,
            last_term,
            installed: false,
        });
        ctx.annotate(|| format!("snapshot up to {last_index} (term {last_term})"));
    }

    /// The storage keys of the entries after the snapshot up to `to`.
    fn entry_slots(&self, to: u64) -> Vec<Slot> {
        (self.snap_index + 1..=to.min(self.last_index()))
            .map(|i| Slot::Entry(i, self.term_at(i)))
            .collect()
    }

    /// Writes the snapshot and removes the entries it covers, `covered`. The snapshot is
    /// synced first: a torn write may keep any subset of one sync's writes, and the removals
    /// without the snapshot would lose committed entries.
    pub(super) fn persist_snapshot(&mut self, ctx: &mut Context<'_, Self>, covered: Vec<Slot>) {
        let snapshot = self.snapshot();
        record::put(ctx, Record::Snapshot(snapshot));
        ctx.sync();
        for slot in covered {
            ctx.storage().remove(&slot);
        }
    }

    /// Follower side of `InstallSnapshot` (§7): keeps the log suffix that follows the
    /// snapshot's last entry if it holds that entry, otherwise discards the whole log; the
    /// state machine becomes the snapshot's.
    pub(super) fn on_install_snapshot(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        snapshot: Snapshot,
    ) {
        if term < self.term {
            let reply = Msg::SnapshotReply {
                term: self.term,
                last_index: 0,
            };
            durable::send(ctx, from, reply);
            return;
        }
        if term > self.term {
            self.step_down(ctx, term, true);
        }
        if self.is_leader() {
            return;
        }
        self.follow(ctx, from);
        let last_index = snapshot.last_index;
        if last_index > self.commit {
            self.install(ctx, snapshot);
        }
        let reply = Msg::SnapshotReply {
            term: self.term,
            last_index,
        };
        durable::send(ctx, from, reply);
    }

    /// Takes the leader's snapshot, which goes beyond what this node has committed.
    fn install(&mut self, ctx: &mut Context<'_, Self>, snapshot: Snapshot) {
        let last_index = snapshot.last_index;
        let old_last = self.last_index();
        let covered = self.entry_slots(last_index);
        let keep = last_index < old_last && self.term_at(last_index) == snapshot.last_term;
        if keep {
            self.log.drain(..(last_index - self.snap_index) as usize);
            self.damaged = self.damaged.split_off(&(last_index + 1));
            self.missing_at = self.missing_at.split_off(&(last_index + 1));
        } else {
            self.log.clear();
            self.damaged.clear();
            self.missing_at.clear();
            // The whole old log goes: entries past the snapshot too.
            ctx.storage()
                .remove_from(&Slot::entries_from(last_index + 1));
        }
        self.snap_index = last_index;
        self.snap_term = snapshot.last_term;
        self.store = snapshot.store.clone();
        self.snap_store = snapshot.store;
        self.commit = last_index;
        self.applied = last_index;
        self.persist_snapshot(ctx, covered);
        // For the log checks: the log is now the kept suffix after the snapshot's prefix.
        self.observe_whole_log(ctx);
        ctx.observe(Observation::Snapshotted {
            last_index,
            last_term: self.snap_term,
            installed: true,
        });
        ctx.annotate(|| format!("installed snapshot up to {last_index}"));
        ctx.reached(situations::SNAPSHOT_INSTALLED);
    }

    /// Leader side of a `SnapshotReply`: the follower holds everything up to `last_index`.
    pub(super) fn on_snapshot_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        last_index: u64,
    ) {
        if term > self.term {
            self.step_down(ctx, term, true);
        } else if term == self.term && last_index <= self.last_index() {
            if let Role::Leader {
                next,
                matched,
                flight,
            } = &mut self.role
            {
                let i = from.index();
                matched[i] = matched[i].max(last_index);
                next[i] = next[i].max(last_index + 1);
                flight[i].probe = false;
                flight[i].sent = None;
            }
            if self.is_leader() {
                self.advance_commit(ctx);
                self.send_append(ctx, from);
            }
        }
    }
}
