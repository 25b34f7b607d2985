//! Raft's clients: the request passes the kit's client gate (unsupported kinds, retries,
//! stale duplicates, redirects — silence while the request sits unapplied in this node's own
//! log), then a leader serves a `Get` off the log when the scenario asks (rules 9-10) or
//! appends the request to its log and replicates it.

use sim_core::{ClientId, Context, Key, Request, RequestId};

use crate::kit::client_gate::{self, Standing};
use crate::kit::durable;

use super::node::{Raft, Role};
use super::situations;
use super::types::{Command, Entry};

impl Raft {
    /// A client request: through the gate, then served off the log or proposed.
    pub(super) fn on_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        let pending = self.pending_in_log(client.0, request_id);
        let standing = if self.is_leader() {
            Standing::Leader
        } else if pending {
            // It may still commit: a redirect would promise it did not take effect.
            Standing::Holding
        } else {
            // No leader known (an election is under way): silence rather than a
            // `Redirect { leader: None }`, which sends the client round the cluster until it
            // records a definite failure that a duplicated copy of the request, applied
            // later by the new leader, can contradict.
            Standing::Follower {
                leader: self.leader,
            }
        };
        if !client_gate::admit(ctx, &self.store, standing, client, request_id, &request) {
            return;
        }
        if let Request::Get { key } = request {
            if self.params.reads.off_log() {
                // Terms never decrease along the log: the entry after the commit index says.
                let commit = self.commit;
                ctx.sometimes(
                    commit < self.last_index() && self.term_at(commit + 1) < self.term,
                    situations::READ_BEFORE_PREDECESSOR_COMMIT,
                );
            }
            // Off the log once an entry of this term (the no-op) is committed; before that,
            // the read goes through the log.
            if self.params.reads.off_log() && self.term_at(self.commit) == self.term {
                self.read_off_log(ctx, client, request_id, key);
                return;
            }
        }
        self.waiting.insert(client.0, request_id);
        if !pending {
            self.propose(ctx, client, request_id, request);
        }
        self.assert_invariants();
    }

    /// A `Get` without a log entry: at once under a lease, else by ReadIndex.
    fn read_off_log(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        key: Key,
    ) {
        // A lease: answer now, from everything committed so far.
        let now = ctx.local_time().0;
        let lease = self.lease_until(ctx.node_count());
        if let Some(until) = lease {
            ctx.sometimes(now >= until, situations::LEASE_EXPIRED);
        }
        if self.applied >= self.commit && lease.is_some_and(|until| now < until) {
            ctx.reached(situations::LEASE_READ);
            let value = self.store.read(key);
            durable::reply(ctx, client, request_id, value);
            return;
        }
        self.start_read(ctx, client, request_id, key);
        self.assert_invariants();
    }

    /// Appends the request to the leader's log and replicates it.
    fn propose(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        let command = Command::Client {
            client: client.0,
            request_id,
            request,
        };
        let term = self.term;
        self.append(ctx, Entry { term, command });
        let last = self.last_index();
        if let Role::Leader { matched, .. } = &mut self.role {
            matched[self.id.index()] = last;
        }
        durable::flush(ctx);
        self.advance_commit(ctx);
        self.replicate_new(ctx);
    }
}
