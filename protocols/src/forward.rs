//! The benchmark forwarder: the tiny protocol behind workloads W1–W3
//! (`../shared/bench/WORKLOADS.md`).
//!
//! Every node that receives a token forwards it at once: in `PingPong` mode back to the sender,
//! in `HotPotato` mode to a uniformly random other node (drawn from the receiver's own stream).
//! At start each node in `starters` sends `tokens_per_node` tokens. The token id is the 8-byte
//! payload. The run's `events_max` ends it at the N-th delivery.

use serde::Deserialize;
use sim_core::{Context, NodeId, Process};

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum Mode {
    /// Send every token back to whoever sent it (W1).
    PingPong,
    /// Send every token to a uniformly random other node (W2, W3).
    HotPotato,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub mode: Mode,
    /// Tokens each starting node sends at time zero.
    pub tokens_per_node: u32,
    /// Which nodes start tokens: all of them (`None`) or only node 0 (`Some(1)`: the first k).
    #[serde(default)]
    pub starters: Option<u32>,
}

pub struct Forward {
    id: NodeId,
    params: Params,
    received: u64,
}

impl Forward {
    pub fn new(id: NodeId, params: &Params) -> Forward {
        Forward {
            id,
            params: params.clone(),
            received: 0,
        }
    }

    fn pick(&self, ctx: &mut Context<'_, Self>, from: NodeId) -> NodeId {
        match self.params.mode {
            Mode::PingPong => from,
            Mode::HotPotato => {
                let n = u64::from(ctx.node_count());
                let k = ctx.rng().below(n - 1) as u32;
                NodeId(if k >= self.id.0 { k + 1 } else { k })
            }
        }
    }
}

impl Process for Forward {
    type Msg = u64;
    type Timer = ();
    type StoreKey = ();
    type StoreValue = ();
    type Observation = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        let starters = self.params.starters.unwrap_or(ctx.node_count());
        if self.id.0 >= starters || ctx.node_count() < 2 {
            return;
        }
        for t in 0..self.params.tokens_per_node {
            let token = u64::from(self.id.0) << 32 | u64::from(t);
            let to = match self.params.mode {
                // The ping-pong partner of node i is node i^1 (0 <-> 1).
                Mode::PingPong => NodeId(self.id.0 ^ 1),
                Mode::HotPotato => self.pick(ctx, self.id),
            };
            ctx.send(to, token);
        }
    }

    #[inline]
    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, token: u64) {
        self.received += 1;
        let to = self.pick(ctx, from);
        ctx.send(to, token);
    }

    fn on_timer(&mut self, _ctx: &mut Context<'_, Self>, _timer: ()) {}
}
