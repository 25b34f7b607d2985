//! Multi-Paxos's clients: the request passes the kit's client gate (unsupported kinds,
//! retries, stale duplicates, redirects — silence when no leader is known), then the leader
//! proposes it in the next free slot unless it is in flight already.

use sim_core::{ClientId, Context, Request, RequestId};

use crate::kit::client_gate::{self, Standing};

use super::node::{Paxos, Role};
use super::types::Command;

impl Paxos {
    /// A client request: through the gate, then proposed once.
    pub(super) fn on_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        let standing = if self.is_leader() {
            Standing::Leader
        } else {
            // No leader known (phase 1 under way): silence; the client times out.
            Standing::Follower {
                leader: self.leader.filter(|&leader| leader != self.id),
            }
        };
        if !client_gate::admit(ctx, &self.store, standing, client, request_id, &request) {
            return;
        }
        self.waiting.insert(client.0, request_id);
        if !self.in_flight(client.0, request_id) {
            let slot = match &mut self.role {
                Role::Leader { next_slot, .. } => {
                    let s = *next_slot;
                    *next_slot += 1;
                    s
                }
                _ => unreachable!("checked above"),
            };
            let command = Command::Client {
                client: client.0,
                request_id,
                request,
            };
            self.propose(ctx, slot, command);
        }
        self.assert_invariants();
    }
}
