//! The coordinator's handlers: take a client's request on (stamping a put's version), ask
//! the preference list, answer after `w` acknowledgements or `r` replies, read-repair, re-send
//! to silent replicas and ask fallbacks (sloppy quorum), and give up at `request_timeout`.

use sim_core::{ClientId, Context, Key, NodeId, Request, RequestId, Response, SimDuration};

use super::messages::{Msg, Observation, Timer, Version};
use super::node::Leaderless;
use super::params::{Bug, PENDING_MAX};
use super::pending::{Kind, Pending};

impl Leaderless {
    /// A client's request: refused if not a get or put, ignored if a duplicate of one already
    /// taken on, else coordinated (a put stamped with its version first).
    pub(super) fn take_on(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        let key = match request {
            Request::Get { key } | Request::Put { key, .. } => key,
            _ => {
                ctx.reply(client, request_id, Response::Unsupported);
                return;
            }
        };
        if self
            .seen
            .get(&client)
            .is_some_and(|last| *last >= request_id)
        {
            return; // A duplicate of a request already taken on.
        }
        let kind = match request {
            Request::Put { value, .. } => {
                let ts = ctx.local_time().0.max(self.last_ts.saturating_add(1));
                self.last_ts = ts;
                let version = Version {
                    ts,
                    node: self.id.0,
                    value,
                };
                ctx.observe(Observation::Coordinated { key, version });
                Kind::Put(version)
            }
            _ => Kind::Get,
        };
        self.seen.insert(client, request_id);
        self.coordinate(ctx, client, request_id, key, kind);
    }

    /// A replica acknowledged a write or answered a read of request `op`.
    pub(super) fn on_answer(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        op: u64,
        version: Option<Version>,
    ) {
        let Some(p) = self.pending.get_mut(&op) else {
            return; // Stale: the request was answered and dropped, or timed out.
        };
        if !p.asked.iter().any(|(node, _)| *node == from) {
            return; // Not asked (a duplicate of an old op id cannot match; defensive).
        }
        p.answers.insert(from, version);
        match p.kind {
            Kind::Put(_) => self.on_put_answer(ctx, op),
            Kind::Get => self.on_get_answer(ctx, op),
        }
    }

    /// A put answers `Ok` after `w` acknowledgements, and is dropped once every replica (or
    /// a stand-in) holds it.
    fn on_put_answer(&mut self, ctx: &mut Context<'_, Self>, op: u64) {
        let n = self.n();
        let ack_first = self.params.bug == Some(Bug::AckBeforeQuorum);
        let needed = if ack_first { 1 } else { self.params.w as usize };
        let p = self.pending.get_mut(&op).expect("a pending put");
        if !p.answered && p.answers.len() >= needed {
            p.answered = true;
            ctx.reply(p.client, p.request_id, Response::Ok);
        }
        // The write goes on to every replica (or a stand-in) after the answer.
        if p.answered && p.all_covered(n) {
            self.pending.remove(&op);
        }
    }

    /// A get answers the newest version after `r` replies, then read-repairs the replicas
    /// that answered older ones.
    fn on_get_answer(&mut self, ctx: &mut Context<'_, Self>, op: u64) {
        let r = self.params.r as usize;
        let read_repair = self.params.read_repair;
        let p = self.pending.get_mut(&op).expect("a pending get");
        let newest = p.answers.values().flatten().max().copied();
        if !p.answered && p.answers.len() >= r {
            p.answered = true;
            ctx.reply(
                p.client,
                p.request_id,
                Response::Value(newest.map(|v| v.value)),
            );
        }
        // Every node asked has answered: no answer is left to come (a duplicate repeats one
        // already counted), so nothing is left to repair after this round.
        let done = p.answered && p.answers.len() == p.asked.len();
        if p.answered && read_repair {
            if let Some(newest) = newest {
                self.read_repair(ctx, op, newest);
            }
        }
        if done {
            self.pending.remove(&op);
        }
    }

    /// Sends `newest` to the replicas of the preference list that answered read `op` with
    /// an older version (or none), each at most once per version.
    fn read_repair(&mut self, ctx: &mut Context<'_, Self>, op: u64, newest: Version) {
        let n = self.n();
        let p = self.pending.get_mut(&op).expect("a pending get");
        let key = p.key;
        // In ascending order (the answers'); usually none, which allocates nothing.
        let mut stale: Vec<NodeId> = Vec::new();
        for (node, v) in p.answers.iter() {
            if p.in_first(n, *node)
                && v.is_none_or(|v| v < newest)
                && !p.repaired.contains(&(*node, newest))
            {
                stale.push(*node);
            }
        }
        for node in &stale {
            p.repaired.push((*node, newest));
        }
        for node in stale {
            let msg = Msg::Write {
                op: 0,
                key,
                version: newest,
                hint: None,
            };
            self.send(ctx, node, msg);
        }
    }

    /// The timer of `op`: at its deadline, gives it up; before, re-sends to the silent, and,
    /// with sloppy quorums, asks one more fallback for each silent replica not yet stood in
    /// for by an answering node, and arms itself again (at most until the deadline).
    pub(super) fn on_replica_timeout(&mut self, ctx: &mut Context<'_, Self>, op: u64) {
        let n = self.n();
        let sloppy = self.params.sloppy;
        let now = ctx.local_time().0;
        let Some(p) = self.pending.get_mut(&op) else {
            return;
        };
        if now >= p.deadline {
            self.on_request_timeout(ctx, op);
            return;
        }
        let rest = SimDuration(p.deadline.saturating_sub(now) as u64);
        match p.kind {
            // An answered read needs nothing more (read repair goes on as replies arrive)
            // until its deadline.
            Kind::Get if p.answered => {
                ctx.set_timer(rest, Timer::Replica { op });
                return;
            }
            Kind::Get => {}
            // A put goes on until every replica, or a stand-in, holds it.
            Kind::Put(_) if p.all_covered(n) => {
                self.pending.remove(&op);
                return;
            }
            Kind::Put(_) => {}
        }
        let mut sends: Vec<(NodeId, Msg)> = Vec::new();
        for (node, hint) in &p.asked {
            if !p.answers.contains_key(node) {
                sends.push((*node, p.request(op, *hint)));
            }
        }
        if sloppy {
            for i in 0..n {
                let replica = p.ring(i);
                if p.covered(replica) || n + p.fallbacks >= p.ring_len() {
                    continue;
                }
                let fallback = p.ring(n + p.fallbacks);
                p.fallbacks += 1;
                p.asked.push((fallback, Some(replica)));
                sends.push((fallback, p.request(op, Some(replica))));
            }
        }
        let next = self.params.replica_timeout.min(rest);
        ctx.set_timer(next, Timer::Replica { op });
        for (to, msg) in sends {
            self.send(ctx, to, msg);
        }
    }

    /// The deadline of `op`: it is dropped, and a read not answered yet fails.
    fn on_request_timeout(&mut self, ctx: &mut Context<'_, Self>, op: u64) {
        let Some(p) = self.pending.remove(&op) else {
            return;
        };
        if !p.answered {
            if let Kind::Get = p.kind {
                // A read changes nothing: failing it is definite. A put stays silent.
                ctx.reply(p.client, p.request_id, Response::Fail);
            }
        }
    }

    fn coordinate(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        key: Key,
        kind: Kind,
    ) {
        if self.pending.len() >= PENDING_MAX {
            return;
        }
        let op = self.next_op;
        self.next_op += 1;
        let n = self.n();
        let deadline = ctx
            .local_time()
            .0
            .saturating_add(self.params.request_timeout.0.min(i64::MAX as u64) as i64);
        let mut p = Pending::new(client, request_id, key, kind, self.node_count, deadline);
        let asked = (0..n).map(|i| (p.ring(i), None)).collect();
        p.asked = asked;
        let msg = p.request(op, None);
        let first = p.start;
        self.pending.insert(op, p);
        // One timer a request: `replica_timeout` is below `request_timeout` (validated).
        ctx.set_timer(self.params.replica_timeout, Timer::Replica { op });
        // Every replica gets the request, even when the local answer (if this node is one)
        // completes it at once.
        for i in 0..n as u32 {
            let node = NodeId((first + i) % self.node_count);
            self.send(ctx, node, msg.clone());
        }
    }
}
