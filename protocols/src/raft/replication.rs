//! Raft's replication (rules 5-6): `AppendEntries` and the consistency check on the follower,
//! `nextIndex` and fast backtracking and the commit rule on the leader, and applying
//! committed entries to the state machine.
//!
//! The leader sends each entry to each follower once (etcd's progress states, see
//! [`Flight`]): a follower whose match is unknown is *probed* with one `AppendEntries` at a
//! time; once a reply confirms a match the leader *replicates*, sending each new entry as it
//! is appended and advancing `nextIndex` past what is in flight. A heartbeat to a follower
//! with entries in flight carries none (it confirms the leader and the commit index); a reply
//! to it, or a late reply to an older message, sends only entries never sent. Entries
//! unacknowledged for `retransmit` are sent again, from the follower's match on: that is how
//! loss is survived. A committed command costs `2(n − 1)` messages besides heartbeats.

use sim_core::trace::stable_hash;
use sim_core::{ClientId, Context, NodeId};

use crate::kit::durable;

use super::log::{commit_target, next_after_refusal};
use super::node::{Flight, Held, Raft, Role};

/// Most `AppendEntries` a follower holds back waiting for earlier ones.
const HELD_MAX: usize = 64;
use super::params::Bug;
use super::situations;
use super::types::{Command, Entry, Msg, Observation};

impl Raft {
    /// A new leader probes every follower (its no-op, or a refusal to back up from).
    pub(super) fn broadcast_append(&mut self, ctx: &mut Context<'_, Self>) {
        for p in 0..ctx.node_count() {
            if p != self.id.0 {
                self.send_append(ctx, NodeId(p));
            }
        }
    }

    /// The leader's log grew: each follower being replicated to gets the new entries now; a
    /// probed one waits for its probe's answer (or gets them as its probe, if none is out).
    pub(super) fn replicate_new(&mut self, ctx: &mut Context<'_, Self>) {
        for p in 0..ctx.node_count() {
            let to = NodeId(p);
            if to == self.id {
                continue;
            }
            let Role::Leader { next, flight, .. } = &self.role else {
                return;
            };
            let f = flight[to.index()];
            if next[to.index()] <= self.last_index() && (!f.probe || f.sent.is_none()) {
                self.send_append(ctx, to);
            }
        }
    }

    /// The heartbeat to one follower: the entries it still lacks if none are in flight (or
    /// they have gone unacknowledged for `retransmit`), else an `AppendEntries` without
    /// entries that confirms what it is known to hold.
    pub(super) fn heartbeat_to(&mut self, ctx: &mut Context<'_, Self>, to: NodeId) {
        let now = ctx.local_time().0;
        let retransmit = self.params.retransmit().0 as i64;
        let Role::Leader {
            next,
            matched,
            flight,
        } = &mut self.role
        else {
            return;
        };
        let i = to.index();
        let f = &mut flight[i];
        let overdue = f.sent.is_some_and(|t| now.saturating_sub(t) >= retransmit);
        if overdue {
            // Lost, or the follower lost them: send again from what it is known to hold.
            next[i] = matched[i] + 1;
            f.probe = true;
            f.sent = None;
        }
        if f.sent.is_none() {
            self.send_append(ctx, to);
            return;
        }
        let prev_index = matched[i].max(self.snap_index);
        let msg = Msg::AppendEntries {
            term: self.term,
            prev_index,
            prev_term: self.term_at(prev_index),
            entries: Vec::new(),
            leader_commit: self.commit,
        };
        durable::send(ctx, to, msg);
    }

    /// Sends `to` the entries from its `nextIndex` (at most `batch_max`), or the snapshot if
    /// it needs compacted entries; a follower being replicated to has `nextIndex` advanced
    /// past them.
    pub(super) fn send_append(&mut self, ctx: &mut Context<'_, Self>, to: NodeId) {
        let now = ctx.local_time().0;
        let (last, base) = (self.last_index(), self.snap_index);
        let Role::Leader { next, flight, .. } = &mut self.role else {
            return;
        };
        let i = to.index();
        assert!(next[i] >= 1 && next[i] <= last + 1);
        let prev_index = next[i] - 1;
        if prev_index < base {
            // §7: the follower needs entries this node has compacted.
            flight[i].probe = true;
            flight[i].sent = Some(now);
            let msg = Msg::InstallSnapshot {
                term: self.term,
                snapshot: self.snapshot(),
            };
            durable::send(ctx, to, msg);
            return;
        }
        let end = (prev_index + u64::from(self.params.batch_max)).min(last);
        let f = &mut flight[i];
        if f.probe {
            // A probe is in flight even when it carries nothing: the same refusal of it again
            // (a duplicate, or a follower behind what it once acknowledged) waits for the
            // retransmit timeout instead of bouncing a new probe back at once.
            f.sent = Some(now);
        } else if end > prev_index {
            f.sent = f.sent.or(Some(now));
            next[i] = end + 1;
        }
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

    /// Applies the committed entries in order — up to the first damaged one, which waits for
    /// its repair.
    pub(super) fn apply_committed(&mut self, ctx: &mut Context<'_, Self>) {
        let commit = self.commit.min(self.readable_end());
        if self.applied > self.commit.min(self.last_index()) {
            // Only a broken variant truncates applied entries; the checks report it.
            self.applied = self.commit.min(self.last_index());
        }
        while self.applied < commit {
            self.applied += 1;
            let index = self.applied;
            // Borrowed, not cloned: the log and the state machine are separate fields.
            let entry = self.entry_at(index);
            ctx.observe(Observation::Applied {
                index,
                term: entry.term,
                command_hash: stable_hash(&entry.command),
            });
            // A client command is executed once: a retry gets the recorded response, an
            // older request nothing.
            let at = (index - self.snap_index - 1) as usize;
            if let Command::Client {
                client,
                request_id,
                ref request,
            } = self.log[at].command
            {
                let response = self.store.execute(client, request_id, request);
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
        if self.accepted_from != Some((leader, self.term)) {
            self.accepted_from = None;
            self.held.clear();
        }
        self.role = Role::Follower;
        self.leader = Some(leader);
        self.leader_contact = Some(ctx.local_time().0);
        self.reset_election_timer(ctx);
    }

    /// Follower side of `AppendEntries`; `prev` is the (index, term) of the entry before the
    /// new ones. A damaged entry is acknowledged only once repaired: the reply's match stops
    /// before it.
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
        let mut next = Some((prev_index, prev_term, entries, leader_commit));
        while let Some((prev_index, prev_term, entries, leader_commit)) = next.take() {
            let ahead = prev_index > self.last_index() && !entries.is_empty();
            if ahead && self.accepted_from == Some((from, term)) && self.held.len() < HELD_MAX {
                // Entries after ones still in flight from this leader: wait for those.
                let held = Held {
                    prev_term,
                    entries,
                    leader_commit,
                };
                self.held.insert(prev_index, held);
                return;
            }
            self.accept_append(ctx, from, (prev_index, prev_term), entries, leader_commit);
            // An `AppendEntries` held back may fit now.
            let last = self.last_index();
            if let Some((&p, _)) = self.held.range(..=last).next() {
                let h = self.held.remove(&p).expect("present");
                next = Some((p, h.prev_term, h.entries, h.leader_commit));
            }
        }
    }

    /// The consistency check, merging and the reply, for one `AppendEntries` of the current
    /// leader.
    fn accept_append(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        (prev_index, prev_term): (u64, u64),
        entries: Vec<Entry>,
        leader_commit: u64,
    ) {
        let start = if self.bug(Bug::NoConsistencyCheck) {
            prev_index.min(self.last_index())
        } else if let Err((conflict_term, conflict_index)) = self.check_prev(prev_index, prev_term)
        {
            self.refuse_append(ctx, from, conflict_term, conflict_index);
            return;
        } else {
            prev_index
        };
        self.accepted_from = Some((from, self.term));
        let match_index = self
            .merge_entries(ctx, start, entries)
            .min(self.readable_end());
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

    /// Puts `entries` after index `start`: skips those compacted or already held, repairs a
    /// damaged one from the leader's copy of the same identity, truncates at the first
    /// conflict, appends the rest. Returns the last index now matching the leader.
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
                    if self.damaged.contains(&index) {
                        self.repair(ctx, index, entry);
                    }
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
            if success && self.is_leader() {
                let start = self.first_index_of_term(self.term);
                ctx.sometimes(
                    start.is_some_and(|s| match_index >= s),
                    situations::STALE_REPLY_PAST_TERM_START,
                );
            }
            return;
        }
        let now = ctx.local_time().0;
        let retransmit = self.params.retransmit().0 as i64;
        let (last, base) = (self.last_index(), self.snap_index);
        let send = {
            let Role::Leader {
                next,
                matched,
                flight,
            } = &mut self.role
            else {
                return;
            };
            let i = from.index();
            let f = &mut flight[i];
            if success {
                if match_index > last {
                    // Only a follower without the consistency check can claim more than we hold.
                    return;
                }
                let progress = match_index > matched[i];
                matched[i] = matched[i].max(match_index);
                next[i] = next[i].max(match_index + 1);
                if f.probe && match_index + 1 >= next[i] {
                    f.probe = false; // The match is known: replicate.
                }
                if matched[i] + 1 >= next[i] {
                    f.sent = None; // Everything sent is acknowledged.
                } else if progress {
                    f.sent = Some(now); // Some acknowledged: the rest gets a fresh timeout.
                }
                next[i] <= last && !f.probe
            } else {
                let to =
                    next_after_refusal(&self.log, base, conflict_term, conflict_index, matched[i]);
                let recent = f.sent.is_some_and(|t| now.saturating_sub(t) < retransmit);
                if f.probe && to == next[i] && recent {
                    false // The same refusal again (of entries pipelined before it): in hand.
                } else {
                    next[i] = to;
                    f.probe = true;
                    f.sent = None;
                    true
                }
            }
        };
        if success {
            self.advance_commit(ctx);
        }
        if send && self.is_leader() {
            self.send_append(ctx, from);
        }
    }

    /// The leader's per-follower state for a new term: every follower probed from `next`.
    pub(super) fn fresh_progress(&self, n: usize, next: u64) -> Role {
        let mut matched = vec![0; n];
        matched[self.id.index()] = self.last_index();
        Role::Leader {
            next: vec![next; n],
            matched,
            flight: vec![
                Flight {
                    probe: true,
                    sent: None
                };
                n
            ],
        }
    }
}
