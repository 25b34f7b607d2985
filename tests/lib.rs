//! Shared helpers for dsim's integration tests (the tests themselves are in `tests/`).
//!
//! `Probe` is a tiny protocol whose nodes send messages on a fixed plan and report what they
//! receive, so that tests can measure the engine's network, crash, clock and pause semantics
//! from the outside, through observations, as any checker would.

use sim_core::{Context, NodeId, Process, SimDuration};

/// One planned burst: at local time `at`, node `from` sends `count` messages to `to`.
#[derive(Clone, Debug)]
pub struct Send {
    pub at: SimDuration,
    pub from: u32,
    pub to: u32,
    pub count: u32,
}

/// What a probe node reports.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seen {
    /// Received message `id` sent by `from`.
    Got { from: u32, id: u64 },
    /// A timer set for `after` of local time fired; `local` is the clock reading then.
    Timer { local: i64, set_at_local: i64 },
    /// After a restart: the keys found in storage.
    Recovered(Vec<u32>),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProbeTimer {
    Burst(usize),
    Tick { set_at_local: i64 },
}

/// A node of the probe protocol.
pub struct Probe {
    pub id: NodeId,
    pub plan: Vec<Send>,
    /// Timers of this length (local time) to set at start, reported when they fire.
    pub ticks: Vec<SimDuration>,
    /// Storage writes at start: (key, sync after writing?).
    pub writes: Vec<(u32, bool)>,
}

impl Probe {
    pub fn new(id: NodeId, plan: &[Send]) -> Probe {
        Probe {
            id,
            plan: plan.to_vec(),
            ticks: Vec::new(),
            writes: Vec::new(),
        }
    }
}

impl Process for Probe {
    type Msg = u64;
    type Timer = ProbeTimer;
    type StoreKey = u32;
    type StoreValue = u32;
    type Observation = Seen;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        for (i, s) in self.plan.iter().enumerate() {
            if s.from == self.id.0 {
                ctx.set_timer(s.at, ProbeTimer::Burst(i));
            }
        }
        let now = ctx.local_time().0;
        for t in self.ticks.clone() {
            ctx.set_timer(t, ProbeTimer::Tick { set_at_local: now });
        }
        for (k, sync) in self.writes.clone() {
            ctx.storage().put(k, k);
            if sync {
                ctx.sync();
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, id: u64) {
        ctx.observe(Seen::Got { from: from.0, id });
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: ProbeTimer) {
        match timer {
            ProbeTimer::Burst(i) => {
                let s = self.plan[i].clone();
                for k in 0..s.count {
                    ctx.send(NodeId(s.to), (i as u64) << 32 | u64::from(k));
                }
            }
            ProbeTimer::Tick { set_at_local } => {
                let local = ctx.local_time().0;
                ctx.observe(Seen::Timer {
                    local,
                    set_at_local,
                });
            }
        }
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        let keys = ctx.storage().range(..).map(|(k, _)| *k).collect();
        ctx.observe(Seen::Recovered(keys));
    }
}

/// Messages received, as (time ns, from, to, id).
pub fn received(r: &sim_core::RunResult<Seen>) -> Vec<(u64, u32, u32, u64)> {
    r.observations
        .iter()
        .filter_map(|o| match o.value {
            Seen::Got { from, id } => Some((o.time.0, from, o.node.0, id)),
            _ => None,
        })
        .collect()
}
