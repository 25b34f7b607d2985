//! The gate a client request passes before a replicated protocol acts on it.
//!
//! Raft and Multi-Paxos (and any leader-based key-value protocol on [`sim_core::KvStore`])
//! repeat the same four answers before a request may reach the log:
//!
//! 1. a request kind the key-value service does not serve is answered `Unsupported`;
//! 2. a retry of the client's last executed request is answered again with the response its
//!    session recorded (Raft thesis §6.3), without executing it twice;
//! 3. a stale duplicate (a request id older than the session's last) is ignored: the client
//!    has moved on and waits for nobody's answer to it;
//! 4. a node that does not lead redirects the client to the leader it knows of — or stays
//!    silent when it knows none, or when it must not promise that the request did not take
//!    effect (Raft: the request sits uncommitted in its own log). Silence lets the client time
//!    out with an indeterminate outcome, where a redirect would be a definite failure after
//!    too many hops.
//!
//! [`decide`] is the pure decision; [`admit`] carries it out (the replies are durable: see
//! [`super::durable`]) and says whether the leader should go on with the request.

use sim_core::kv::Seen;
use sim_core::{ClientId, Context, KvStore, NodeId, Process, Request, RequestId, Response};

use super::durable;

/// Where the node stands when the request arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// It leads: a new request is its to handle.
    Leader,
    /// It does not lead; `leader` is the node it would redirect to (`None`: none known).
    Follower { leader: Option<NodeId> },
    /// It does not lead but holds the request, not yet applied, in its own log: it may still
    /// take effect, so no redirect.
    Holding,
}

/// What the gate does with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Not a key-value request: answer `Unsupported`.
    Unsupported,
    /// Executed already: answer again with the recorded response.
    Answered(Response),
    /// Older than the client's last executed request: ignore it.
    Stale,
    /// Not the leader: redirect to it.
    Redirect(NodeId),
    /// Not the leader, and no redirect is safe or possible: stay silent.
    Silent,
    /// New, and this node leads: go on.
    Admit,
}

/// The gate's decision for `client`'s request `request_id`.
pub fn decide(
    store: &KvStore,
    standing: Standing,
    client: ClientId,
    request_id: RequestId,
    request: &Request,
) -> Gate {
    if matches!(request, Request::Broadcast { .. } | Request::ReadSet) {
        return Gate::Unsupported;
    }
    match store.seen(client.0, request_id) {
        Seen::Answered(response) => return Gate::Answered(response),
        Seen::Stale => return Gate::Stale,
        Seen::New => {}
    }
    match standing {
        Standing::Leader => Gate::Admit,
        Standing::Follower {
            leader: Some(leader),
        } => Gate::Redirect(leader),
        Standing::Follower { leader: None } | Standing::Holding => Gate::Silent,
    }
}

/// Carries out the gate's decision; `true` when the request is admitted (new, at the leader).
pub fn admit<P: Process>(
    ctx: &mut Context<'_, P>,
    store: &KvStore,
    standing: Standing,
    client: ClientId,
    request_id: RequestId,
    request: &Request,
) -> bool {
    match decide(store, standing, client, request_id, request) {
        // Nothing the node wrote bears on this answer: no sync.
        Gate::Unsupported => ctx.reply(client, request_id, Response::Unsupported),
        Gate::Answered(response) => durable::reply(ctx, client, request_id, response),
        Gate::Stale => {
            ctx.annotate(|| format!("ignored {client} request {request_id}: superseded"));
        }
        Gate::Redirect(leader) => durable::reply(
            ctx,
            client,
            request_id,
            Response::Redirect {
                leader: Some(leader),
            },
        ),
        Gate::Silent if standing == Standing::Holding => {
            ctx.annotate(|| format!("{client} request {request_id} is in my log: no answer"));
        }
        Gate::Silent => {
            ctx.annotate(|| format!("{client} request {request_id}: no leader known"));
        }
        Gate::Admit => return true,
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: ClientId = ClientId(4);

    fn store_with_session() -> KvStore {
        let mut s = KvStore::new();
        s.execute(C.0, 5, &Request::Put { key: 1, value: 9 });
        s
    }

    #[test]
    fn unsupported_kinds_are_refused_before_anything_else() {
        let s = store_with_session();
        for standing in [Standing::Leader, Standing::Holding] {
            assert_eq!(
                decide(&s, standing, C, 5, &Request::ReadSet),
                Gate::Unsupported
            );
        }
    }

    #[test]
    fn retries_are_answered_and_stale_duplicates_ignored_wherever_they_land() {
        let s = store_with_session();
        let get = Request::Get { key: 1 };
        for standing in [
            Standing::Leader,
            Standing::Follower { leader: None },
            Standing::Holding,
        ] {
            assert_eq!(
                decide(&s, standing, C, 5, &get),
                Gate::Answered(Response::Ok)
            );
            assert_eq!(decide(&s, standing, C, 4, &get), Gate::Stale);
        }
    }

    #[test]
    fn new_requests_go_on_at_the_leader_and_are_redirected_elsewhere() {
        let s = store_with_session();
        let get = Request::Get { key: 1 };
        assert_eq!(decide(&s, Standing::Leader, C, 6, &get), Gate::Admit);
        assert_eq!(
            decide(
                &s,
                Standing::Follower {
                    leader: Some(NodeId(2))
                },
                C,
                6,
                &get
            ),
            Gate::Redirect(NodeId(2))
        );
        assert_eq!(
            decide(&s, Standing::Follower { leader: None }, C, 6, &get),
            Gate::Silent
        );
        assert_eq!(decide(&s, Standing::Holding, C, 6, &get), Gate::Silent);
        // Another client has no session yet.
        assert_eq!(
            decide(&s, Standing::Leader, ClientId(0), 1, &get),
            Gate::Admit
        );
    }
}
