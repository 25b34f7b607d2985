//! A chain server (nodes `1..nodes`): its state, booting, adopting the master's
//! configurations, and client requests. Chain traffic — forwarding, acknowledgements,
//! snapshots — is in [`crate::replication`].

use std::collections::VecDeque;

use sim_core::kv::Seen;
use sim_core::{ClientId, Context, KvStore, NodeId, Request, RequestId, Response};

use crate::msg::{Config, Logged, Msg, Observation, Slot, Timer, Update, WriteId, MASTER};
use crate::{Bug, Chain, Params};

/// Most updates a server keeps unacknowledged by the tail; beyond it the head refuses new
/// updates (they time out and are retried) until the tail catches up.
pub const LOG_ENTRIES_MAX: usize = 10_000;

/// One server's volatile state (a crash loses all of it; see the failure model).
pub struct Server {
    pub(crate) id: NodeId,
    pub(crate) params: Params,
    /// Boots so far, kept in storage: how the master tells a restarted server.
    pub(crate) incarnation: u64,
    pub(crate) config: Config,
    pub(crate) store: KvStore,
    /// Updates `1..=applied` are applied to `store`.
    pub(crate) applied: u64,
    /// Updates `1..=stable` are known to be at the tail.
    pub(crate) stable: u64,
    /// The Sent list: updates `stable + 1..=applied`.
    pub(crate) log: VecDeque<Logged>,
    /// The request of every applied update, in order (for the observations and snapshots).
    pub(crate) ids: Vec<WriteId>,
    /// Holds everything the chain acknowledged: may serve as tail.
    pub(crate) caught_up: bool,
    /// The highest update the successor acknowledged in this epoch (`None`: not heard yet).
    pub(crate) succ_held: Option<u64>,
    /// Whether the successor said it is caught up, in this epoch.
    pub(crate) succ_caught_up: bool,
    /// The highest update forwarded to the successor in this epoch.
    pub(crate) sent_upto: u64,
}

impl Server {
    pub fn new(id: NodeId, params: &Params) -> Server {
        assert!(id != MASTER, "node 0 is the master");
        Server {
            id,
            params: params.clone(),
            incarnation: 0,
            config: Config::default(),
            store: KvStore::new(),
            applied: 0,
            stable: 0,
            log: VecDeque::new(),
            ids: Vec::new(),
            caught_up: false,
            succ_held: None,
            succ_caught_up: false,
            sent_upto: 0,
        }
    }

    /// First boot: the servers of the initial chain know it already and hold its (empty) data.
    pub fn start(&mut self, ctx: &mut Context<'_, Chain>) {
        let initial = Config::initial(self.params.chain_length);
        if initial.position(self.id).is_some() {
            self.config = initial;
            self.caught_up = true;
            ctx.observe(Observation::CaughtUp { applied: 0 });
        }
        self.boot(ctx, 1);
    }

    /// A restart: only the incarnation survived; the server waits to be added to the chain.
    pub fn recover(&mut self, ctx: &mut Context<'_, Chain>) {
        let before = ctx.storage().get(&Slot::Incarnation).copied().unwrap_or(0);
        self.boot(ctx, before + 1);
    }

    fn boot(&mut self, ctx: &mut Context<'_, Chain>, incarnation: u64) {
        self.incarnation = incarnation;
        ctx.storage().put(Slot::Incarnation, incarnation);
        ctx.sync();
        self.heartbeat(ctx);
        ctx.set_timer(self.params.resend, Timer::Resend);
    }

    pub(crate) fn heartbeat(&mut self, ctx: &mut Context<'_, Chain>) {
        ctx.set_timer(self.params.heartbeat, Timer::Heartbeat);
        let msg = Msg::Heartbeat {
            incarnation: self.incarnation,
            epoch: self.config.epoch,
            caught_up: self.caught_up,
        };
        ctx.send(MASTER, msg);
    }

    pub(crate) fn is_head(&self) -> bool {
        self.config.head() == Some(self.id)
    }

    pub(crate) fn is_tail(&self) -> bool {
        self.config.tail() == Some(self.id)
    }

    pub(crate) fn predecessor(&self) -> Option<NodeId> {
        self.config.predecessor(self.id)
    }

    pub(crate) fn successor(&self) -> Option<NodeId> {
        self.config.successor(self.id)
    }

    /// The master's configuration of a newer epoch: take up this server's new place.
    pub fn on_config(&mut self, ctx: &mut Context<'_, Chain>, config: Config) {
        if config.epoch <= self.config.epoch {
            ctx.annotate(|| {
                format!(
                    "ignored config {}: at epoch {}",
                    config.epoch, self.config.epoch
                )
            });
            return;
        }
        let was_member = self.config.position(self.id).is_some();
        if !was_member && config.position(self.id).is_some() && config.tail() != Some(self.id) {
            // A chain from before this server crashed (delayed, or sent before the master
            // heard of the restart): a server only ever joins at the tail.
            ctx.annotate(|| {
                format!(
                    "ignored config {}: names me, but not as the tail",
                    config.epoch
                )
            });
            return;
        }
        self.config = config;
        let member = self.config.position(self.id).is_some();
        if member && !was_member {
            self.join(ctx);
        } else if !member {
            self.caught_up = false;
        }
        // The successor's position is learnt afresh in every epoch (it may have rejoined).
        self.succ_held = None;
        self.succ_caught_up = false;
        self.sent_upto = 0;
        // A new tail answers what it holds; then it tells its (new) predecessor where it is.
        self.complete(ctx);
        self.acknowledge(ctx);
        self.assert_invariants();
    }

    /// Joining at the tail: whatever this server held is dropped; its predecessor sends all.
    fn join(&mut self, ctx: &mut Context<'_, Chain>) {
        self.store = KvStore::new();
        self.applied = 0;
        self.stable = 0;
        self.log.clear();
        self.ids.clear();
        self.caught_up = false;
        ctx.observe(Observation::Joined {
            epoch: self.config.epoch,
        });
    }

    /// A client request: updates at the head, queries at the tail, the rest redirected.
    pub fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Chain>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        let tail_serves = self.caught_up || self.params.bug == Some(Bug::ServeBeforeCaughtUp);
        match request {
            Request::Get { key } if self.is_tail() && tail_serves => {
                ctx.reply(client, request_id, self.store.read(key));
            }
            Request::Get { .. } if self.is_tail() => {
                ctx.annotate(|| format!("{client} request {request_id}: not caught up yet"));
            }
            Request::Get { .. } => redirect(ctx, client, request_id, self.config.tail()),
            Request::Put { .. } | Request::Cas { .. } if self.is_head() && self.caught_up => {
                self.accept(ctx, client, request_id, request)
            }
            Request::Put { .. } | Request::Cas { .. } => {
                redirect(ctx, client, request_id, self.config.head())
            }
            Request::Append { .. }
            | Request::Broadcast { .. }
            | Request::ReadSet
            | Request::Txn { .. } => ctx.reply(client, request_id, Response::Unsupported),
        }
    }

    /// Head: an update. Retries are screened by the sessions; a new one is executed,
    /// numbered and sent down the chain.
    fn accept(
        &mut self,
        ctx: &mut Context<'_, Chain>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        match self.store.seen(client.0, request_id) {
            Seen::Stale => {
                ctx.annotate(|| format!("ignored {client} request {request_id}: stale"));
                return;
            }
            Seen::Answered(response) => {
                let in_flight = self
                    .log
                    .iter()
                    .any(|l| l.update.client == client && l.update.request_id == request_id);
                if in_flight {
                    ctx.annotate(|| format!("{client} request {request_id}: the tail will answer"));
                } else {
                    ctx.reply(client, request_id, response);
                }
                return;
            }
            Seen::New => {}
        }
        if self.log.len() >= LOG_ENTRIES_MAX {
            ctx.annotate(|| format!("refused {client} request {request_id}: Sent list full"));
            return;
        }
        let update = Update {
            client,
            request_id,
            request,
        };
        let response = self.apply(ctx, update);
        if self.params.bug == Some(Bug::AckAtHead) {
            ctx.reply(client, request_id, response);
        }
        self.forward_new(ctx);
        self.complete(ctx);
    }
}

/// Tells the client where to go: the node, or (not knowing it) the next node.
pub(crate) fn redirect(
    ctx: &mut Context<'_, Chain>,
    client: ClientId,
    request_id: RequestId,
    to: Option<NodeId>,
) {
    ctx.reply(client, request_id, Response::Redirect { leader: to });
}
