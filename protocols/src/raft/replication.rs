//! Raft's replication (rules 5-6): `AppendEntries` and the consistency check on the follower,
//! `nextIndex` and fast backtracking and the commit rule on the leader, and applying
//! committed entries to the state machine.

use sim_core::trace::stable_hash;
use sim_core::{ClientId, Context, NodeId};

use crate::kit::durable;

use super::log::{commit_target, next_after_refusal};
use super::node::{Raft, Role};
use super::params::Bug;
use super::situations;
use super::types::{Command, Entry, Msg, Observation};

impl Raft {
    pub(super) fn broadcast_append(&mut self, ctx: &mut Context<'_, Self>) {
        for p in 0..ctx.node_count() {
            if p != self.id.0 {
                self.send_append(ctx, NodeId(p));
            }
        }
    }

    pub(super) fn send_append(&mut self, ctx: &mut Context<'_, Self>, to: NodeId) {
        let Role::Leader { next, .. } = &self.role else {
            return;
        };
        let next = next[to.index()];
        assert!(next >= 1 && next <= self.last_index() + 1);
        let prev_index = next - 1;
        if prev_index < self.snap_index {
            // §7: the follower needs entries this node has compacted.
            let msg = Msg::InstallSnapshot {
                term: self.term,
                snapshot: self.snapshot(),
            };
            durable::send(ctx, to, msg);
            return;
        }
        let end = (prev_index + u64::from(self.params.batch_max)).min(self.last_index());
        let base = self.snap_index;
        let entries = self.log[(prev_index - base) as usize..(end - base) as usize].to_vec();
        let msg = Msg::AppendEntries {
            term: self.term,
            prev_index,
            prev_term: self.term_at(prev_index),
            entries,
            leader_commit: self.commit,
        };
        durable::send(ctx, to, msg);
    }

    /// Rule 6: the highest index of the current term that a majority holds.
    pub(super) fn advance_commit(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::Leader { matched, .. } = &self.role else {
            return;
        };
        let need = Self::majority(ctx.node_count());
        let by_count_only = self.bug(Bug::CommitPreviousTermByCount);
        let before = self.commit;
        self.commit = commit_target(
            &self.log,
            self.snap_index,
            self.term,
            self.commit,
            matched,
            need,
            by_count_only,
        );
        if self.commit > before {
            let earlier = (before + 1).max(self.snap_index + 1);
            ctx.sometimes(
                (earlier..=self.commit).any(|i| self.term_at(i) < self.term),
                situations::PREVIOUS_TERM_COMMITTED,
            );
            ctx.observe(Observation::Committed {
                index: self.commit,
                leader_term: self.term,
            });
        }
        self.apply_committed(ctx);
    }

    pub(super) fn apply_committed(&mut self, ctx: &mut Context<'_, Self>) {
        let commit = self.commit.min(self.last_index());
        if self.applied > commit {
            // Only a broken variant truncates applied entries; the checks report it.
            self.applied = commit;
        }
        while self.applied < commit {
            self.applied += 1;
            let index = self.applied;
            let entry = self.entry_at(index).clone();
            ctx.observe(Observation::Applied {
                index,
                term: entry.term,
                command_hash: stable_hash(&entry.command),
            });
            if let Command::Client {
                client,
                request_id,
                request,
            } = entry.command
            {
                let response = self.execute(client, request_id, request);
                if self.waiting.get(&client) == Some(&request_id) {
                    self.waiting.remove(&client);
                    if let Some(r) = response {
                        durable::reply(ctx, ClientId(client), request_id, r);
                    }
                }
            }
        }
        self.maybe_compact(ctx);
        self.serve_reads(ctx);
    }

    // ---- follower --------------------------------------------------------------------------

    /// A message from the leader of the current term: follow it, and reset the election
    /// timer.
    pub(super) fn follow(&mut self, ctx: &mut Context<'_, Self>, leader: NodeId) {
        self.role = Role::Follower;
        self.leader = Some(leader);
        self.leader_contact = Some(ctx.local_time().0);
        self.reset_election_timer(ctx);
    }

    /// Follower side of `AppendEntries`; `prev` is the (index, term) of the entry before the
    /// new ones.
    pub(super) fn on_append(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        (prev_index, prev_term): (u64, u64),
        entries: Vec<Entry>,
        leader_commit: u64,
    ) {
        if term < self.term {
            ctx.annotate(|| format!("refused append of stale term {term}"));
            self.refuse_append(ctx, from, None, 0);
            return;
        }
        if term > self.term {
            self.step_down(ctx, term, true);
        }
        if self.is_leader() {
            // Two leaders in one term: only a bug gets here; the election-safety check reports it.
            ctx.annotate(|| format!("ignored append from n{}: I lead term {term}", from.0));
            return;
        }
        self.follow(ctx, from);
        let start = if self.bug(Bug::NoConsistencyCheck) {
            prev_index.min(self.last_index())
        } else if let Err((conflict_term, conflict_index)) = self.check_prev(prev_index, prev_term)
        {
            self.refuse_append(ctx, from, conflict_term, conflict_index);
            return;
        } else {
            prev_index
        };
        let match_index = self.merge_entries(ctx, start, entries);
        if leader_commit > self.commit {
            self.commit = self.commit.max(leader_commit.min(match_index));
        }
        let reply = Msg::AppendReply {
            term: self.term,
            success: true,
            match_index,
            conflict_term: None,
            conflict_index: 0,
        };
        durable::send(ctx, from, reply);
        self.apply_committed(ctx);
    }

    /// Refuses an `AppendEntries`, with the hint for fast backtracking.
    fn refuse_append(
        &mut self,
        ctx: &mut Context<'_, Self>,
        to: NodeId,
        conflict_term: Option<u64>,
        conflict_index: u64,
    ) {
        let reply = Msg::AppendReply {
            term: self.term,
            success: false,
            match_index: 0,
            conflict_term,
            conflict_index,
        };
        durable::send(ctx, to, reply);
    }

    /// Puts `entries` after index `start`: skips those compacted or already held, truncates
    /// at the first conflict, appends the rest. Returns the last index now matching the
    /// leader.
    fn merge_entries(
        &mut self,
        ctx: &mut Context<'_, Self>,
        start: u64,
        entries: Vec<Entry>,
    ) -> u64 {
        let count = entries.len() as u64;
        for (k, entry) in entries.into_iter().enumerate() {
            let index = start + 1 + k as u64;
            if index <= self.snap_index {
                continue; // Compacted: committed, so it agrees.
            }
            if index <= self.last_index() {
                if self.term_at(index) == entry.term {
                    continue; // Already held: never truncate entries that agree.
                }
                self.truncate(ctx, index);
                ctx.reached(situations::ENTRY_OVERWRITTEN);
            }
            self.append(ctx, entry);
        }
        // Entries up to the snapshot are committed: the leader holds the same ones.
        (start + count).max(self.snap_index)
    }

    // ---- leader ----------------------------------------------------------------------------

    /// Leader side of an `AppendReply` (`refusal`: the conflict term and index of a refusal).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_append_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        success: bool,
        match_index: u64,
        (conflict_term, conflict_index): (Option<u64>, u64),
    ) {
        if term > self.term {
            self.step_down(ctx, term, true);
            return;
        }
        if term < self.term {
            return;
        }
        let last = self.last_index();
        let my_next = {
            let Role::Leader { next, matched } = &mut self.role else {
                return;
            };
            let i = from.index();
            if success {
                if match_index > last {
                    // Only a follower without the consistency check can claim more than we hold.
                    return;
                }
                matched[i] = matched[i].max(match_index);
                next[i] = next[i].max(match_index + 1);
            } else {
                next[i] = next_after_refusal(
                    &self.log,
                    self.snap_index,
                    conflict_term,
                    conflict_index,
                    matched[i],
                );
            }
            next[i]
        };
        if success {
            self.advance_commit(ctx);
        }
        if !self.is_leader() {
            return;
        }
        if my_next <= self.last_index() || !success {
            self.send_append(ctx, from);
        }
    }
}
