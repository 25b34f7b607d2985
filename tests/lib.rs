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

/// Proptest strategies shared by the property tests.
pub mod strategies {
    use proptest::prelude::*;
    use sim_core::config::{
        ClientConfig, ClockConfig, Fault, Group, Latency, LinkConfig, Partition, ScheduledFault,
    };
    use sim_core::{NodeId, SimConfig, SimDuration};

    /// The bounds the property tests of the replicated protocols share: faults in the first
    /// 3 s, pauses up to 600 ms, clock jumps within ±300 ms, loss up to 50 %, 10 % duplication.
    pub const FAULTS: FaultBounds = FaultBounds {
        horizon_ms: 3_000,
        pause_max_ms: 600,
        jump_max_ms: 300,
        loss_max: 0.5,
        duplicate: 0.1,
    };

    /// A random cluster of 3 or 5 nodes run for 3 s under up to 12 random faults drawn within
    /// `bounds`, then a liveness phase of `liveness`: a random seed, a jittery network (1 ms up
    /// to 1-20 ms, up to 10 % loss, 2 % duplication), skewed clocks (±20 ms, 200 ppm) and the
    /// given clients.
    pub fn cluster(
        bounds: FaultBounds,
        liveness: SimDuration,
        clients: ClientConfig,
    ) -> impl Strategy<Value = SimConfig> {
        let ms = SimDuration::from_millis;
        (prop_oneof![Just(3u32), Just(5u32)], any::<u64>()).prop_flat_map(move |(nodes, seed)| {
            let clients = clients.clone();
            (
                proptest::collection::vec(fault(nodes, bounds), 0..12),
                1u64..20,
                0.0f64..0.1,
            )
                .prop_map(move |(mut faults, latency_max, drop)| {
                    faults.sort_by_key(|f| f.at);
                    let mut c = SimConfig::basic(nodes, SimDuration::from_secs(3));
                    c.seed = seed;
                    c.liveness = Some(liveness);
                    c.network.default = LinkConfig {
                        latency: Latency::Uniform {
                            min: ms(1),
                            max: ms(latency_max),
                        },
                        drop,
                        duplicate: 0.02,
                    };
                    c.clocks = ClockConfig {
                        offset_max: ms(20),
                        drift_ppm_max: 200,
                    };
                    c.faults = faults;
                    c.clients = clients.clone();
                    c
                })
        })
    }

    /// Bounds of a random fault schedule.
    #[derive(Clone, Copy, Debug)]
    pub struct FaultBounds {
        /// Faults happen in `[0, horizon_ms)`.
        pub horizon_ms: u64,
        /// Pauses last up to this long.
        pub pause_max_ms: u64,
        /// Clock jumps are within `±jump_max_ms`.
        pub jump_max_ms: i64,
        /// `SetLink` loss is drawn in `[0, loss_max)`.
        pub loss_max: f64,
        /// Duplication probability of a `SetLink`.
        pub duplicate: f64,
    }

    /// One scheduled fault among crash, restart, pause, clock jump, isolate, a two-sided split,
    /// heal, a lossy link change and a link reset, on a cluster of `nodes` nodes.
    pub fn fault(nodes: u32, b: FaultBounds) -> impl Strategy<Value = ScheduledFault> {
        let node = 0..nodes;
        let ms = SimDuration::from_millis;
        let side = |r: std::ops::Range<u32>| Group {
            nodes: r.map(NodeId).collect(),
            clients: vec![],
        };
        let f = prop_oneof![
            node.clone().prop_map(|n| Fault::Crash(NodeId(n))),
            node.clone().prop_map(|n| Fault::Restart(NodeId(n))),
            (node.clone(), 1..b.pause_max_ms)
                .prop_map(move |(n, d)| Fault::Pause(NodeId(n), ms(d))),
            (node.clone(), -b.jump_max_ms..b.jump_max_ms)
                .prop_map(|(n, d)| Fault::ClockJump(NodeId(n), d * 1_000_000)),
            node.clone()
                .prop_map(|n| Fault::Partition(Partition::Isolate(NodeId(n)))),
            (1..nodes).prop_map(move |cut| Fault::Partition(Partition::Split(vec![
                side(0..cut),
                side(cut..nodes)
            ]))),
            Just(Fault::Heal),
            (0.0..b.loss_max).prop_map(move |p| Fault::SetLink {
                from: None,
                to: None,
                link: LinkConfig {
                    drop: p,
                    duplicate: b.duplicate,
                    ..Default::default()
                },
            }),
            Just(Fault::ResetLinks),
        ];
        (0..b.horizon_ms, f).prop_map(move |(t, fault)| ScheduledFault { at: ms(t), fault })
    }
}
