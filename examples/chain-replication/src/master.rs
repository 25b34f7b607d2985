//! The master (node 0): the failure detector and the keeper of the chain's configuration.
//!
//! It knows each server from its heartbeats: when it last heard from it, its incarnation and
//! whether it is caught up. Every `heartbeat` it builds the next chain: the members it heard
//! from within `failure_timeout` and that did not restart since joining (a restarted server
//! lost its state), in their order, then — while the chain is shorter than `chain_length` —
//! live non-members in id order, appended at the tail. A changed chain becomes the next epoch,
//! sent to every server (and again to any server whose heartbeat shows an older epoch).
//!
//! When no remaining member is caught up, every copy of the acknowledged data is gone (more
//! failures than the failure model allows): the master installs an empty chain and stops.

use sim_core::{ClientId, Context, LocalTime, NodeId, Request, RequestId, Response};

use crate::msg::{Config, Msg, Observation, Timer};
use crate::server::redirect;
use crate::{Chain, Params};

/// Coverage: the master removed a failed (or restarted) member from the chain.
pub const MEMBER_REMOVED: &str = "failed member removed from the chain";
/// Coverage: the master recruited a spare at the tail after the first configuration.
pub const MEMBER_RECRUITED: &str = "spare recruited at the tail";
/// Coverage: every member that held the data failed; the chain is lost.
pub const CHAIN_LOST: &str = "chain lost";

/// What the master knows of one server.
#[derive(Clone, Debug, Default)]
struct View {
    /// Its last heartbeat (the master's local clock).
    heard: Option<LocalTime>,
    /// The highest incarnation heard of.
    incarnation: u64,
    /// The incarnation that is a member of the chain (`0`: none).
    member_incarnation: u64,
    /// The epoch it joined in: its caught-up reports count from then on.
    joined: u64,
    caught_up: bool,
}

pub struct Master {
    params: Params,
    config: Config,
    /// Per node (index 0, the master, unused).
    views: Vec<View>,
    /// Every copy of the data is gone: the chain stays empty.
    lost: bool,
}

impl Master {
    pub fn new(params: &Params) -> Master {
        Master {
            params: params.clone(),
            config: Config::default(),
            views: Vec::new(),
            lost: false,
        }
    }

    /// The initial chain: nodes `1..=chain_length`, caught up (the store starts empty).
    pub fn start(&mut self, ctx: &mut Context<'_, Chain>) {
        self.config = Config::initial(self.params.chain_length);
        self.views = vec![View::default(); ctx.node_count() as usize];
        let now = ctx.local_time();
        for n in &self.config.chain {
            self.views[n.index()] = View {
                heard: Some(now),
                incarnation: 1,
                member_incarnation: 1,
                joined: 1,
                caught_up: true,
            };
        }
        ctx.observe(Observation::Config(self.config.clone()));
        ctx.set_timer(self.params.heartbeat, Timer::Detect);
    }

    pub fn on_heartbeat(
        &mut self,
        ctx: &mut Context<'_, Chain>,
        from: NodeId,
        (incarnation, epoch, caught_up): (u64, u64, bool),
    ) {
        let now = ctx.local_time();
        let v = &mut self.views[from.index()];
        if incarnation < v.incarnation {
            ctx.annotate(|| format!("ignored heartbeat of {from}'s incarnation {incarnation}"));
            return;
        }
        let restarted = v.member_incarnation != 0 && incarnation > v.member_incarnation;
        v.incarnation = incarnation;
        v.heard = Some(now);
        if incarnation == v.member_incarnation && epoch >= v.joined {
            v.caught_up = caught_up;
        }
        if restarted && self.config.position(from).is_some() {
            // A member came back empty: replace it now rather than at the next tick.
            self.reconfigure(ctx);
        }
        if epoch < self.config.epoch {
            ctx.send(from, Msg::Config(self.config.clone()));
        }
    }

    /// Every `heartbeat`: looks for failed members.
    pub fn on_detect_timer(&mut self, ctx: &mut Context<'_, Chain>) {
        ctx.set_timer(self.params.heartbeat, Timer::Detect);
        self.reconfigure(ctx);
    }

    /// Removes failed and restarted members, recruits, installs a changed chain.
    fn reconfigure(&mut self, ctx: &mut Context<'_, Chain>) {
        if self.lost {
            return;
        }
        let now = ctx.local_time();
        let mut chain: Vec<NodeId> = self.config.chain.clone();
        chain.retain(|n| self.serving(*n, now));
        let removed = chain.len() < self.config.chain.len();
        if removed {
            ctx.reached(MEMBER_REMOVED);
        }
        if removed
            && !chain
                .first()
                .is_some_and(|h| self.views[h.index()].caught_up)
        {
            return self.lose(ctx);
        }
        // A restarted member may come straight back at the tail: the node list can be the
        // same while the chain is not, so any removal or recruit is a new epoch.
        let recruited = self.recruit(&mut chain, now);
        if recruited && self.config.epoch > 0 {
            ctx.reached(MEMBER_RECRUITED);
        }
        if recruited || removed {
            self.install(ctx, chain);
        }
    }

    fn alive(&self, n: NodeId, now: LocalTime) -> bool {
        let timeout = self.params.failure_timeout.0 as i64;
        self.views[n.index()]
            .heard
            .is_some_and(|t| now.0.saturating_sub(t.0) <= timeout)
    }

    /// Alive, and the same incarnation that joined.
    fn serving(&self, n: NodeId, now: LocalTime) -> bool {
        let v = &self.views[n.index()];
        self.alive(n, now) && v.incarnation == v.member_incarnation
    }

    /// Appends live non-members, in id order, while the chain is short; whether it did.
    fn recruit(&mut self, chain: &mut Vec<NodeId>, now: LocalTime) -> bool {
        let wanted = self.params.chain_length as usize;
        let before = chain.len();
        for i in 1..self.views.len() {
            let n = NodeId(i as u32);
            if chain.len() >= wanted {
                break;
            }
            if chain.contains(&n) || !self.alive(n, now) {
                continue;
            }
            chain.push(n);
            let v = &mut self.views[i];
            v.member_incarnation = v.incarnation;
            v.joined = self.config.epoch + 1;
            v.caught_up = false;
        }
        chain.len() > before
    }

    fn install(&mut self, ctx: &mut Context<'_, Chain>, chain: Vec<NodeId>) {
        self.config = Config {
            epoch: self.config.epoch + 1,
            chain,
        };
        ctx.annotate(|| format!("epoch {}: chain {:?}", self.config.epoch, self.config.chain));
        ctx.observe(Observation::Config(self.config.clone()));
        for i in 1..ctx.node_count() {
            ctx.send(NodeId(i), Msg::Config(self.config.clone()));
        }
    }

    fn lose(&mut self, ctx: &mut Context<'_, Chain>) {
        ctx.reached(CHAIN_LOST);
        self.lost = true;
        ctx.observe(Observation::ChainLost {
            epoch: self.config.epoch,
        });
        self.install(ctx, Vec::new());
    }

    /// The master serves nothing itself: updates go to the head, queries to the tail.
    pub fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Chain>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        match request {
            Request::Get { .. } => redirect(ctx, client, request_id, self.config.tail()),
            Request::Put { .. } | Request::Cas { .. } => {
                redirect(ctx, client, request_id, self.config.head())
            }
            _ => ctx.reply(client, request_id, Response::Unsupported),
        }
    }
}
