//! Raft's elections (rules 2-4 and 8): terms, votes and the up-to-date check, pre-votes, a
//! new leader's no-op, and the election and heartbeat timers that drive them.

use sim_core::{Context, NodeId};

use crate::kit::durable;

use super::node::{Raft, Role};
use super::params::Bug;
use super::situations;
use super::types::{Command, Entry, Msg, Observation, Timer};

impl Raft {
    // ---- timers ----------------------------------------------------------------------------

    /// A new randomized election timeout, replacing the pending one (lazily: see
    /// [`crate::kit::timing`] — a follower restarts it on every `AppendEntries`).
    pub(super) fn reset_election_timer(&mut self, ctx: &mut Context<'_, Self>) {
        let (min, max) = (
            self.params.election_timeout_min,
            self.params.election_timeout_max,
        );
        self.timers.restart_election(ctx, min, max, Timer::Election);
    }

    /// Sets the heartbeat timer of this term, replacing a pending one (a candidate's vote
    /// re-send timer when it becomes leader): one chain of heartbeats at a time.
    pub(super) fn arm_heartbeat(&mut self, ctx: &mut Context<'_, Self>) {
        let timer = Timer::Heartbeat { term: self.term };
        self.timers.arm_heartbeat(ctx, self.params.heartbeat, timer);
    }

    /// No leader heard from: a (pre-)election, unless this node leads — or its disk damaged
    /// entries it has not repaired yet: it asks for them again and waits (it votes, by the
    /// entries' identities, but does not stand).
    pub(super) fn on_election_timeout(&mut self, ctx: &mut Context<'_, Self>) {
        let min = self.params.election_timeout_min;
        if !self.timers.election_expired(ctx, min, Timer::Election) {
            return; // Reset since it was armed: armed again for the rest.
        }
        if !self.damaged.is_empty() {
            self.reset_election_timer(ctx);
            self.request_repair(ctx);
        } else if self.params.pre_vote && !matches!(self.role, Role::Leader { .. }) {
            self.start_pre_vote(ctx);
        } else if !self.is_leader() {
            self.start_election(ctx);
        }
    }

    /// The heartbeat timer of this term: a leader replicates (and renews its lease or re-sends
    /// its read round), a candidate or pre-candidate asks again.
    pub(super) fn on_heartbeat(&mut self, ctx: &mut Context<'_, Self>) {
        self.timers.heartbeat_fired(); // This one fired.
        match self.role {
            Role::Leader { .. } => {
                // Leases are renewed by a round every heartbeat; ReadIndex re-sends its
                // round while reads wait (probes or acknowledgements were lost).
                if !self.reads.is_empty() || self.params.lease().is_some() {
                    self.probe_round(ctx);
                }
                for p in 0..ctx.node_count() {
                    if p != self.id.0 {
                        self.heartbeat_to(ctx, NodeId(p));
                    }
                }
                self.arm_heartbeat(ctx);
            }
            Role::Candidate { .. } => {
                self.request_votes(ctx);
                self.arm_heartbeat(ctx);
            }
            Role::PreCandidate { .. } => {
                self.request_pre_votes(ctx);
                self.arm_heartbeat(ctx);
            }
            Role::Follower => {}
        }
    }

    // ---- votes -----------------------------------------------------------------------------

    /// Rule 3, after adopting a higher `term`: a vote goes to at most one candidate per term,
    /// and only to one whose log is at least as up to date (skipped by the
    /// `VoteWithoutLogCheck` bug).
    pub fn grants_vote(
        &self,
        candidate: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    ) -> bool {
        let log_ok = self.log_up_to_date(last_log_index, last_log_term)
            || self.bug(Bug::VoteWithoutLogCheck);
        term == self.term
            && log_ok
            && (self.voted_for.is_none() || self.voted_for == Some(candidate))
    }

    /// Adopts a higher term as a follower (rule 2). Persists unless `persist` is false (the
    /// `ForgetVote` bug).
    pub(super) fn step_down(&mut self, ctx: &mut Context<'_, Self>, term: u64, persist: bool) {
        assert!(term > self.term);
        let was_leader = self.is_leader();
        self.timers.cancel_heartbeat(ctx);
        self.term = term;
        self.voted_for = None;
        self.leader = None;
        self.role = Role::Follower;
        self.accepted_from = None;
        self.held.clear();
        if persist {
            self.persist_term_vote(ctx);
        }
        if was_leader {
            ctx.sometimes(
                self.last_index() > self.commit,
                situations::STEPPED_DOWN_UNCOMMITTED,
            );
            ctx.observe(Observation::SteppedDown { term });
            // The requests it owed replies to may still commit: no answer (they time out).
            self.waiting.clear();
            self.reads.clear();
            self.reset_election_timer(ctx);
        }
        ctx.annotate(|| format!("term {term}: follower"));
    }

    /// Pre-vote (§9.6): asks every node whether it would vote for this one in the next term,
    /// without changing the term; only a majority of yeses starts a real election.
    pub(super) fn start_pre_vote(&mut self, ctx: &mut Context<'_, Self>) {
        let n = ctx.node_count();
        if Self::majority(n) == 1 {
            self.start_election(ctx);
            return;
        }
        let mut granted = vec![false; n as usize];
        granted[self.id.index()] = true;
        self.role = Role::PreCandidate { granted };
        self.leader_contact = None;
        self.reset_election_timer(ctx);
        ctx.annotate(|| format!("term {}: pre-candidate", self.term));
        self.request_pre_votes(ctx);
        self.arm_heartbeat(ctx);
    }

    pub(super) fn request_pre_votes(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::PreCandidate { granted } = &self.role else {
            return;
        };
        let ask: Vec<NodeId> = (0..ctx.node_count())
            .map(NodeId)
            .filter(|&p| p != self.id && !granted[p.index()])
            .collect();
        let msg = Msg::PreVote {
            term: self.term + 1,
            last_log_index: self.last_index(),
            last_log_term: self.last_term(),
        };
        for p in ask {
            durable::send(ctx, p, msg.clone());
        }
    }

    /// Pre-vote, voter side: a yes for a higher term and an up-to-date log, unless this node
    /// leads or has heard from a leader within the minimum election timeout (`now`, local ns).
    pub fn grants_pre_vote(
        &self,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        now: i64,
    ) -> bool {
        term > self.term
            && !self.heard_from_leader(now)
            && self.log_up_to_date(last_log_index, last_log_term)
    }

    /// Whether this node leads, or heard from a leader less than `election_timeout_min` ago
    /// (local clock `now`).
    pub fn heard_from_leader(&self, now: i64) -> bool {
        self.is_leader()
            || self
                .leader_contact
                .is_some_and(|t| now.saturating_sub(t) < self.params.election_timeout_min.0 as i64)
    }

    pub(super) fn start_election(&mut self, ctx: &mut Context<'_, Self>) {
        self.term += 1;
        self.voted_for = Some(self.id);
        self.leader = None;
        self.persist_term_vote(ctx);
        let n = ctx.node_count();
        let mut granted = vec![false; n as usize];
        granted[self.id.index()] = true;
        self.role = Role::Candidate { granted };
        self.reset_election_timer(ctx);
        ctx.annotate(|| format!("term {}: candidate", self.term));
        if Self::majority(n) == 1 {
            self.become_leader(ctx);
            return;
        }
        self.request_votes(ctx);
        self.arm_heartbeat(ctx);
    }

    pub(super) fn request_votes(&mut self, ctx: &mut Context<'_, Self>) {
        let Role::Candidate { granted } = &self.role else {
            return;
        };
        let ask: Vec<NodeId> = (0..ctx.node_count())
            .map(NodeId)
            .filter(|&p| p != self.id && !granted[p.index()])
            .collect();
        let msg = Msg::RequestVote {
            term: self.term,
            last_log_index: self.last_index(),
            last_log_term: self.last_term(),
        };
        for p in ask {
            durable::send(ctx, p, msg.clone());
        }
    }

    pub(super) fn become_leader(&mut self, ctx: &mut Context<'_, Self>) {
        let n = ctx.node_count() as usize;
        self.timers.cancel_election(ctx);
        self.leader = Some(self.id);
        self.read_acked = vec![0; n];
        self.round_sent.clear();
        ctx.observe(Observation::BecameLeader { term: self.term });
        ctx.annotate(|| format!("term {}: leader", self.term));
        self.append(
            ctx,
            Entry {
                term: self.term,
                command: Command::Noop,
            },
        );
        self.role = self.fresh_progress(n, self.last_index());
        durable::flush(ctx);
        self.advance_commit(ctx);
        self.broadcast_append(ctx);
        self.arm_heartbeat(ctx);
    }

    // ---- vote messages ---------------------------------------------------------------------

    /// Voter side of `RequestVote` (rule 3; leases: refused while a leader is recent).
    pub(super) fn on_request_vote(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    ) {
        if self.params.lease().is_some() && self.heard_from_leader(ctx.local_time().0) {
            // Leases (thesis §4.2.3, §6.4.1): within the minimum election timeout of
            // hearing from a leader, neither adopt the term nor vote: that leader may
            // be serving reads under a lease this node's acknowledgement granted.
            let refuse = Msg::Vote {
                term: self.term,
                granted: false,
            };
            durable::send(ctx, from, refuse);
            return;
        }
        let persist = !self.bug(Bug::ForgetVote);
        if term > self.term {
            self.step_down(ctx, term, persist);
        }
        let granted = self.grants_vote(from, term, last_log_index, last_log_term);
        if term == self.term && !self.log_up_to_date(last_log_index, last_log_term) {
            ctx.reached(situations::VOTE_DENIED_STALE_LOG);
        }
        if granted {
            self.voted_for = Some(from);
            if persist {
                self.persist_term_vote(ctx);
            }
            self.reset_election_timer(ctx);
        }
        let term = self.term;
        durable::send(ctx, from, Msg::Vote { term, granted });
    }

    /// Candidate side of a `Vote`: a majority makes it leader.
    pub(super) fn on_vote(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        granted: bool,
    ) {
        if term > self.term {
            self.step_down(ctx, term, true);
            return;
        }
        if term < self.term || !granted {
            return;
        }
        let Role::Candidate { granted: votes } = &mut self.role else {
            return;
        };
        votes[from.index()] = true;
        let count = votes.iter().filter(|&&g| g).count();
        if count >= Self::majority(ctx.node_count()) {
            self.become_leader(ctx);
        }
    }

    /// Voter side of a `PreVote`: an answer, no state change.
    pub(super) fn on_pre_vote(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    ) {
        let now = ctx.local_time().0;
        let granted = self.grants_pre_vote(term, last_log_index, last_log_term, now);
        durable::send(ctx, from, Msg::PreVoteReply { term, granted });
    }

    /// Pre-candidate side of a `PreVoteReply`: a majority of yeses starts the election.
    pub(super) fn on_pre_vote_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        granted: bool,
    ) {
        if !granted || term != self.term + 1 {
            return;
        }
        let Role::PreCandidate { granted: votes } = &mut self.role else {
            return;
        };
        votes[from.index()] = true;
        let count = votes.iter().filter(|&&g| g).count();
        if count >= Self::majority(ctx.node_count()) {
            self.start_election(ctx);
        }
    }
}
