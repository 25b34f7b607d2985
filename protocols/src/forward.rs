//! The benchmark forwarder: the tiny protocol behind workloads W1–W3
//! (`../shared/bench/WORKLOADS.md`).
//!
//! Every node that receives a token forwards it at once: in `PingPong` mode back to the sender,
//! in `HotPotato` mode to a uniformly random other node (drawn from the receiver's own stream).
//! At start each node in `starters` sends `tokens_per_node` tokens. The token id is the 8-byte
//! payload. The run's `events_max` ends it at the N-th delivery.

use serde::{Deserialize, Serialize};
use sim_core::protocol::{CheckList, FieldError, Protocol};
use sim_core::{Context, NodeId, Process, Service, SimConfig};

/// Most tokens the forwarder may start with, in total.
pub const TOKENS_MAX: u64 = 10_000_000;

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum Mode {
    /// Send every token back to whoever sent it (W1).
    PingPong,
    /// Send every token to a uniformly random other node (W2, W3).
    HotPotato,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
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

// Registration: what scenarios name (see `sim_core::Protocol`).

impl Protocol for Forward {
    const NAME: &'static str = "Forward";
    const CLI_NAME: &'static str = "forward";
    const SUMMARY: &'static str = "benchmark token forwarder (workloads W1-W3)";
    const SERVICES: &'static [Service] = &[];
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> Forward {
        Forward::new(id, params)
    }

    fn validate(p: &Params, config: &SimConfig) -> Result<(), FieldError> {
        let n = config.node_count;
        if p.tokens_per_node == 0 {
            return Err(FieldError::new(
                "tokens_per_node",
                "`tokens_per_node` is `0`: no token would ever move",
            )
            .hint("give each starting node at least one token"));
        }
        let starters = match p.starters {
            Some(s) if s == 0 || s > n => {
                return Err(FieldError::new(
                    "starters",
                    format!("`starters` is `{s}`, outside `1..={n}`"),
                )
                .hint("nodes `0..starters` start tokens; `None` means every node"));
            }
            Some(s) => s,
            None => n,
        };
        let tokens = u64::from(p.tokens_per_node) * u64::from(starters);
        if tokens > TOKENS_MAX {
            return Err(FieldError::new(
                "tokens_per_node",
                format!("`{tokens}` tokens in flight is above the limit `{TOKENS_MAX}`"),
            )
            .hint("lower `tokens_per_node` or `starters`"));
        }
        if p.mode == Mode::PingPong && n % 2 == 1 && starters == n {
            return Err(FieldError::new(
                "mode",
                format!(
                    "in `PingPong` node `{}` has no partner: `nodes` is odd (`{n}`)",
                    n - 1
                ),
            )
            .hint("node `i` plays with node `i ^ 1`; use an even `nodes` or fewer `starters`"));
        }
        Ok(())
    }

    fn checks(_: &mut impl CheckList<Self>) {}
}
